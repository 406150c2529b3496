"""Entities the SQL agreement tests filter: every field kind the rule language reads."""

from __future__ import annotations

from typing import Any

ACCOUNT: dict[str, Any] = {
    "name": "account",
    "schema": {
        "type": "object",
        "properties": {
            "name": {"type": "string", "maxLength": 100},
            "industry": {"type": "string", "enum": ["tech", "retail", "制造"]},
            "size": {"type": "integer"},
        },
    },
}

DEAL: dict[str, Any] = {
    "name": "deal",
    "schema": {
        "type": "object",
        "properties": {
            "title": {"type": "string", "maxLength": 200},
            "region": {"type": "string", "enum": ["east", "west", "北方"]},
            "amount": {"type": "number", "x-type": "currency"},
            "qty": {"type": "integer"},
            "closes_on": {"type": "string", "format": "date"},
            "seen_at": {"type": "string", "format": "date-time"},
            "vip": {"type": "boolean"},
            "tags": {
                "type": "array",
                "items": {"type": "string", "enum": ["a", "b", "重要"]},
                "uniqueItems": True,
            },
            "account": {"type": "integer", "x-ref": "account"},
            "items": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "sku": {"type": "string", "maxLength": 40},
                        "price": {"type": "number"},
                        "n": {"type": "integer"},
                    },
                },
            },
        },
    },
}
