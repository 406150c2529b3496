"""Entity definitions the floor tests share, and a helper that saves them through the metadata API."""

from __future__ import annotations

import copy
from typing import Any

ACCOUNT: dict[str, Any] = {
    "name": "account",
    "label": {"en": "Account", "zh-CN": "客户"},
    "title_field": "name",
    "schema": {
        "type": "object",
        "required": ["name"],
        "properties": {
            "name": {
                "type": "string",
                "maxLength": 100,
                "x-unique": True,
                "x-label": {"en": "Name", "zh-CN": "名称"},
            },
            "industry": {"type": "string", "enum": ["tech", "retail", "finance"]},
            "revenue": {"type": "number", "x-type": "currency"},
        },
    },
}

CONTACT: dict[str, Any] = {
    "name": "contact",
    "label": {"en": "Contact", "zh-CN": "联系人"},
    "schema": {
        "type": "object",
        "required": ["full_name"],
        "properties": {
            "full_name": {"type": "string", "maxLength": 80},
            "email": {"type": "string", "format": "email", "x-index": True},
            "account": {"type": "integer", "x-ref": "account"},
            "code": {"type": "string", "x-type": "autonumber", "x-pattern": "CON-{YYYY}-{#####}"},
            "birthday": {"type": "string", "format": "date"},
            "met_at": {"type": "string", "format": "date-time", "x-default": "now()"},
            "vip": {"type": "boolean", "default": False},
            "phones": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["number"],
                    "properties": {
                        "kind": {"type": "string", "enum": ["mobile", "office"]},
                        "number": {"type": "string", "maxLength": 30},
                    },
                },
            },
        },
    },
}


def definition(base: dict[str, Any], **props: Any) -> dict[str, Any]:
    """A copy of ``base`` with properties replaced (a value of None removes the property)."""
    out = copy.deepcopy(base)
    for key, prop in props.items():
        if prop is None:
            out["schema"]["properties"].pop(key, None)
        else:
            out["schema"]["properties"][key] = prop
    return out


def save(p: Any, *definitions: dict[str, Any]) -> None:
    """Save each definition through ``p.meta`` (creating or migrating its table)."""
    for d in definitions:
        p.meta.save("entity", d["name"], copy.deepcopy(d), user="admin")
