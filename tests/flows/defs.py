"""Entity and flow definitions the flow tests share."""

from __future__ import annotations

import copy
from typing import Any

DEAL: dict[str, Any] = {
    "name": "deal",
    "label": {"en": "Deal", "zh-CN": "商机"},
    "schema": {
        "type": "object",
        "required": ["title"],
        "properties": {
            "title": {"type": "string", "maxLength": 100},
            "amount": {"type": "number"},
            "region": {"type": "string", "enum": ["east", "west"]},
            "approval_status": {"type": "string", "enum": ["pending", "approved", "rejected"]},
            "reviewer": {"type": "string"},
        },
    },
}

#: start → approval → exclusive on amount → (director approval | set approved) → end
APPROVAL: dict[str, Any] = {
    "name": "deal_approval",
    "label": {"en": "Deal approval", "zh-CN": "商机审批"},
    "entity": "deal",
    "nodes": {
        "start": {"type": "start"},
        "manager": {"type": "approval", "config": {"approvers": {"user": "bob"}}},
        "check": {"type": "exclusive"},
        "director": {"type": "approval@1", "config": {"approvers": {"role": "director"}}},
        "approved": {"type": "action", "config": {"set": {"approval_status": '"approved"'}}},
        "rejected": {"type": "action", "config": {"set": {"approval_status": '"rejected"'}}},
        "end": {"type": "end", "config": {"outcome": "approved"}},
        "end_rejected": {"type": "end", "config": {"outcome": "rejected"}},
    },
    "edges": [
        ["start", "manager"],
        ["manager", "check"],
        {"from": "manager", "to": "rejected", "outcome": "reject"},
        {"from": "check", "to": "director", "when": "amount > 500000"},
        {"from": "check", "to": "approved", "default": True},
        ["director", "approved"],
        {"from": "director", "to": "rejected", "outcome": "reject"},
        ["approved", "end"],
        ["rejected", "end_rejected"],
    ],
}

#: start → split → (legal task, finance task) → join → notify → end
PARALLEL: dict[str, Any] = {
    "name": "deal_review",
    "label": "Deal review",
    "entity": "deal",
    "nodes": {
        "start": {"type": "start"},
        "split": {"type": "parallel"},
        "legal": {"type": "task", "config": {"assignee": {"user": "lee"}}},
        "finance": {
            "type": "task",
            "config": {"assignee": {"user": "fay"}, "outcomes": ["ok", "redo"]},
        },
        "join": {"type": "parallel"},
        "tell": {"type": "notify", "config": {"to": {"initiator": True}, "message": "reviewed"}},
        "end": {"type": "end"},
    },
    "edges": [
        ["start", "split"],
        ["split", "legal"],
        ["split", "finance"],
        ["legal", "join"],
        ["finance", "join"],
        ["join", "tell"],
        ["tell", "end"],
    ],
}

#: start → timer 48h → set reviewer → end
TIMED: dict[str, Any] = {
    "name": "deal_reminder",
    "label": "Reminder",
    "entity": "deal",
    "nodes": {
        "start": {"type": "start"},
        "wait": {"type": "timer", "config": {"after": "2d"}},
        "mark": {"type": "action", "config": {"set": {"reviewer": '"timed out"'}}},
        "end": {"type": "end"},
    },
    "edges": [["start", "wait"], ["wait", "mark"], ["mark", "end"]],
}


def flow(base: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """A deep copy of ``base`` with top-level keys replaced."""
    out = copy.deepcopy(base)
    out.update(copy.deepcopy(changes))
    return out


def general_rows(fixed: Any, conn: Any, values: dict[str, Any]) -> list[dict[str, Any]]:
    """``fixed.rows`` by a plain loop over the columns: the reference the generated row
    functions (``engine.flows.fastsql._layout``) are held to."""
    compiled = fixed._compiled(conn, values)
    cursor = fixed._cursor(conn)
    cursor.execute(compiled.sql, compiled.params(values))
    names, readers = compiled.columns, compiled.readers
    out = []
    for raw in cursor.fetchall():
        row = dict(zip(names, raw, strict=True))
        for i, name, reader in readers:
            if raw[i] is not None:
                row[name] = reader(raw[i])
        out.append(row)
    return out
