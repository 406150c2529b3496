"""Who a task goes to: the assignee block that approval, human task and notify share.

Written in a flow as one of ``{user: bob}``, ``{users: [bob, carol]}``,
``{role: sales_director}``, ``{field: owner}`` (a user held by the record) or
``{initiator: true}`` (whoever started the instance). A role becomes one
task any holder of the role may take; the security layer answers who holds it.
"""

from __future__ import annotations

from typing import Any

ASSIGNEE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "minProperties": 1,
    "maxProperties": 1,
    "additionalProperties": False,
    "properties": {
        "user": {"type": "string", "minLength": 1},
        "users": {"type": "array", "minItems": 1, "items": {"type": "string", "minLength": 1}},
        "role": {"type": "string", "minLength": 1},
        "field": {"type": "string", "minLength": 1},
        "initiator": {"const": True},
    },
}


def resolve(
    spec: dict[str, Any], record: dict[str, Any] | None, initiator: str | None
) -> tuple[list[str], list[str]]:
    """(users, roles) an assignee block names for this record; either may be empty."""
    if "user" in spec:
        return [spec["user"]], []
    if "users" in spec:
        return list(dict.fromkeys(spec["users"])), []
    if "role" in spec:
        return [], [spec["role"]]
    if "field" in spec:
        value = (record or {}).get(spec["field"])
        return ([str(value)] if value else []), []
    if spec.get("initiator"):
        return ([initiator] if initiator else []), []
    return [], []


def field_problems(spec: Any, fields: set[str]) -> list[str]:
    """A ``{field: ...}`` block must name a field of the flow's entity."""
    if isinstance(spec, dict) and "field" in spec and fields and spec["field"] not in fields:
        return [f"field {spec['field']!r} is not a field of the flow's entity"]
    return []
