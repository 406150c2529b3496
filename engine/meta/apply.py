"""Apply entity definitions to the live tables: plan, check the stored rows, run the DDL.

Install and the metadata API share this path, so a definition arriving from a
bundle and one saved in the browser migrate the same way. It runs inside the
caller's transaction: a refusal anywhere leaves every table as it was.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import Connection

from engine.errors import MigrationError
from engine.i18n import t
from engine.store.migrate import Plan, apply_plans, check_field_cap, offending_rows, plan_entity
from engine.store.registry import LiveEntity, physical_map

if TYPE_CHECKING:
    from engine.ports import PlatformPort


def plan_entities(
    conn: Connection, definitions: list[dict[str, Any]], live: dict[str, LiveEntity]
) -> tuple[list[Plan], list[dict[str, Any]]]:
    """Plans for ``definitions`` against the ``live`` entities, and the rows that would not fit."""
    plans, errors = [], []
    for definition in definitions:
        name = definition["name"]
        current = live.get(name)
        plan = plan_entity(current.model if current else None, definition, physical_map(conn, name))
        problems = check_field_cap(plan.new) + offending_rows(conn, plan, current)
        for entry in problems:
            entry["entity"] = name
        errors += problems
        plans.append(plan)
    return plans, errors


def apply_entities(
    platform: PlatformPort, conn: Connection, definitions: list[dict[str, Any]]
) -> list[Plan]:
    """Plan, check and apply; raises MigrationError (naming the rows) before any DDL runs."""
    live = platform.entities.all()
    plans, errors = plan_entities(conn, definitions, live)
    if errors:
        raise MigrationError(
            t("{n_errors} change(s) cannot be applied to the stored records", n_errors=len(errors)),
            errors,
        )
    run_plans(platform, conn, plans, live)
    return plans


def run_plans(
    platform: PlatformPort, conn: Connection, plans: list[Plan], live: dict[str, LiveEntity]
) -> None:
    """Run plans already checked by ``plan_entities`` (the install path plans once)."""
    apply_plans(conn, plans, platform.ids, {name: e.table for name, e in live.items()})
