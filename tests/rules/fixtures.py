"""Small lead / account / opportunity definitions the rule tests share."""

from __future__ import annotations

from typing import Any

ACCOUNT: dict[str, Any] = {
    "name": "account",
    "schema": {
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "industry": {"type": "string", "enum": ["manufacturing", "retail", "software"]},
            "owner_user": {"type": "string", "x-type": "user"},
        },
    },
}

LEAD: dict[str, Any] = {
    "name": "lead",
    "schema": {
        "type": "object",
        "properties": {
            "company": {"type": "string", "x-label": {"en": "Company", "zh-CN": "公司"}},
            "title": {"type": "string"},
            "source": {"type": "string", "enum": ["website", "expo", "referral", "ads", "social"]},
            "industry": {"type": "string", "enum": ["manufacturing", "retail", "software"]},
            "region": {"type": "string", "enum": ["east", "north", "south", "west"]},
            "status": {"type": "string", "enum": ["new", "working", "closed"]},
            "company_size": {"type": "integer", "minimum": 0},
            "page_visits": {"type": "integer"},
            "downloaded_pricing": {"type": "boolean"},
            "budget": {"type": "number", "x-type": "currency"},
            "tags": {
                "type": "array",
                "items": {"type": "string", "enum": ["vip", "new", "partner"]},
                "uniqueItems": True,
            },
            "created_at": {"type": "string", "format": "date-time"},
            "close_date": {"type": "string", "format": "date"},
            "account": {"type": "integer", "x-ref": "account"},
            "score": {"type": "integer", "readOnly": True},
            "grade": {"type": "string", "enum": ["hot", "warm", "cold"]},
            "escalated": {"type": "boolean"},
            "size_band": {
                "type": "string",
                "x-computed": 'if company_size > 100 then "big" else "small"',
            },
            "items": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "product": {"type": "string"},
                        "qty": {"type": "integer"},
                        "amount": {"type": "number"},
                    },
                },
            },
        },
    },
}

OPPORTUNITY: dict[str, Any] = {
    "name": "opportunity",
    "schema": {
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "amount": {"type": "number", "x-type": "currency"},
            "discount": {"type": "number"},
            "stage": {"type": "string", "enum": ["new", "negotiation", "won", "lost"]},
            "close_date": {"type": "string", "format": "date"},
            "approver": {"type": "string"},
            "account": {"type": "integer", "x-ref": "account"},
        },
    },
}

DEFINITIONS: dict[str, dict[str, Any]] = {
    "lead": LEAD,
    "account": ACCOUNT,
    "opportunity": OPPORTUNITY,
}


def definitions(name: str) -> dict[str, Any] | None:
    """The lookup a RuleService takes."""
    return DEFINITIONS.get(name)
