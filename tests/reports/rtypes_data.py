"""Deals moved through their stages by real updates (so the audit trail is real), shared by
the funnel and forecast tests, and the users whose row scope those tests check."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from tests.floor_defs import save

STAGES = ["lead", "qualified", "proposal", "negotiation", "won", "lost"]
DEAL = {
    "name": "deal",
    "schema": {
        "type": "object",
        "properties": {
            "title": {"type": "string"},
            "stage": {"type": "string", "enum": STAGES},
            "amount": {"type": "number"},
            "close": {"type": "string", "format": "date"},
        },
    },
}
PERMISSIONS = {
    "roles": {"rep": {"label": "Rep"}},
    "permissions": [
        {"role": "rep", "entity": "deal", "create": True, "read": "own", "update": "own",
         "delete": "none"},
    ],
}  # fmt: skip

# (owner, amount, close, path of stages the deal went through, first is the create)
PATHS: list[tuple[str, int, str | None, list[str]]] = [
    ("ann", 100, "2026-01-15", ["lead", "qualified", "proposal", "won"]),
    ("ann", 200, "2026-01-20", ["lead", "qualified", "lost"]),
    ("ann", 300, "2026-02-03", ["lead", "proposal"]),            # skipped qualified
    ("ann", 50, "2026-02-28", ["qualified", "negotiation"]),     # created past lead
    ("ann", 70, "2026-03-01", ["lead", "won"]),                  # straight to won
    ("bob", 400, "2026-01-31", ["lead", "qualified", "proposal", "negotiation", "won"]),
    ("bob", 150, "2026-02-01", ["lead", "qualified", "proposal", "lost"]),
    ("bob", 80, None, ["lead"]),
    ("bob", 60, "2026-03-10", ["lead", "proposal", "qualified"]),  # moved back
    ("bob", 90, "2026-01-05", ["qualified", "lost"]),
    ("bob", 120, "2026-02-14", ["lead", "qualified", "proposal", "won", "lost"]),  # reopened
]  # fmt: skip


def seed(platform: Any) -> list[dict[str, Any]]:
    save(platform, DEAL)
    platform.meta.save("permissions", "sales", PERMISSIONS)
    platform.users.add("root", password="correct horse", roles=["admin"])
    platform.users.add("ann", password="ann-secret-1", roles=["rep"], team="east")
    platform.users.add("bob", password="bob-secret-1", roles=["rep"], team="east")
    out = []
    for owner, amount, close, path in PATHS:
        deals = platform.records("deal", owner)
        rec = deals.create({"title": "d", "stage": path[0], "amount": amount, "close": close})
        for stage in path[1:]:
            deals.update(rec["id"], {"stage": stage})
        out.append({"owner": owner, "amount": Decimal(amount), "close": close, "path": path})
    return out


def month(close: str | None) -> str | None:
    return None if close is None else dt.date.fromisoformat(close).strftime("%Y-%m")
