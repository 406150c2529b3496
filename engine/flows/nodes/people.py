"""Who a task goes to: the assignee block that approval, human task and notify share.

Written in a flow as one of ``{user: bob}``, ``{users: [bob, carol]}``,
``{role: sales_director}``, ``{roles: [finance, sales_director]}`` (one task
per role; with ``mode: all`` every role must approve, a countersign),
``{field: owner}`` (a user held by the record) or ``{initiator: true}``
(whoever started the instance), or a manager chain: ``{manager_of:
initiator}`` or ``{manager_of: owner, levels: 2}`` (the manager's manager of
the user the record's ``owner`` field holds). A role becomes one task any
holder of the role may take; the security layer answers who holds it, and
who manages whom.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from engine.i18n import t

ASSIGNEE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "minProperties": 1,
    "additionalProperties": False,
    "dependentRequired": {"levels": ["manager_of"]},
    "if": {"required": ["levels"]},
    "then": {"maxProperties": 2},
    "else": {"maxProperties": 1},
    "properties": {
        "manager_of": {"type": "string", "minLength": 1},
        "levels": {"type": "integer", "minimum": 1, "maximum": 10},
        "user": {"type": "string", "minLength": 1},
        "users": {"type": "array", "minItems": 1, "items": {"type": "string", "minLength": 1}},
        "role": {"type": "string", "minLength": 1},
        "roles": {"type": "array", "minItems": 1, "items": {"type": "string", "minLength": 1}},
        "field": {"type": "string", "minLength": 1},
        "initiator": {"const": True},
    },
}


def resolve(
    spec: dict[str, Any],
    record: dict[str, Any] | Callable[[], dict[str, Any] | None] | None,
    initiator: str | None,
    manager: Callable[[str], str | None] | None = None,
) -> tuple[list[str], list[str]]:
    """(users, roles) an assignee block names for this record; either may be empty.

    ``record`` may be a function that reads it (``ctx.record``): it is called
    only for blocks that look into the record (``field``, ``manager_of`` a
    field), so a step that names a user or a role reads no record.
    ``manager(user)`` answers who manages a user (the user store); a chain
    that runs out (no manager at some level) names nobody.
    """
    if "manager_of" in spec:
        who = spec["manager_of"]
        subject = initiator if who == "initiator" else (_read(record) or {}).get(who)
        for _ in range(int(spec.get("levels", 1))):
            subject = manager(str(subject)) if (subject and manager) else None
        return ([str(subject)] if subject else []), []
    if "user" in spec:
        return [spec["user"]], []
    if "users" in spec:
        return list(dict.fromkeys(spec["users"])), []
    if "role" in spec:
        return [], [spec["role"]]
    if "roles" in spec:
        return [], list(dict.fromkeys(spec["roles"]))
    if "field" in spec:
        value = (_read(record) or {}).get(spec["field"])
        return ([str(value)] if value else []), []
    if spec.get("initiator"):
        return ([initiator] if initiator else []), []
    return [], []


#: blocks whose people follow from the flow's text alone (a role's holders are asked
#: when the task is read, not here): resolving them needs no record, initiator or user store
STATIC_KEYS = frozenset({"user", "users", "role", "roles"})


def static(spec: dict[str, Any]) -> tuple[list[str], list[str]] | None:
    """What :func:`resolve` gives for ``spec`` whatever the step, or None when it depends on one.

    A flow version never changes, so a step plan may keep this for the version.
    A block that names nobody is None too: the general path then applies the
    node's empty-approver policy (fallback, or the error naming the node).
    """
    if not spec or not spec.keys() <= STATIC_KEYS:
        return None
    users, roles = resolve(spec, None, None)
    return (users, roles) if users or roles else None


def _read(
    record: dict[str, Any] | Callable[[], dict[str, Any] | None] | None,
) -> dict[str, Any] | None:
    return record() if callable(record) else record


def field_problems(spec: Any, fields: set[str]) -> list[str]:
    """A ``{field: ...}`` block must name a field of the flow's entity."""
    if isinstance(spec, dict) and "field" in spec and fields and spec["field"] not in fields:
        return [t("field {field!r} is not a field of the flow's entity", field=spec["field"])]
    who = spec.get("manager_of") if isinstance(spec, dict) else None
    if who not in (None, "initiator") and fields and who not in fields:
        return [
            t("manager_of {who!r} is neither initiator nor a field of the flow's entity", who=who)
        ]
    return []
