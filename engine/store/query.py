"""Reading helpers for the record service: ordering, simple filters, batched child rows."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Table, select
from sqlalchemy.engine import Connection

from engine.errors import ValidationError, error_entry
from engine.forms.entity import SYSTEM_FIELDS, EntityModel
from engine.store.values import record_from_row


def _column(model: EntityModel, table: Table, key: str, what: str) -> Any:
    if key in SYSTEM_FIELDS:
        return table.c[key]
    f = model.fields.get(key)
    if f is None or f.removed or not f.stored:
        raise ValidationError(
            f"cannot {what} by {key!r}",
            [error_entry(f"{key} is not a stored field of {model.name}", field=what)],
        )
    return table.c[f.column]


def order_clauses(
    model: EntityModel, table: Table, order_by: str | Iterable[str] | None
) -> list[Any]:
    """``"-score,company"`` → ORDER BY score DESC, company; ties are broken by id."""
    if order_by is None:
        keys: list[str] = []
    elif isinstance(order_by, str):
        keys = [k.strip() for k in order_by.split(",") if k.strip()]
    else:
        keys = list(order_by)
    clauses = []
    for key in keys:
        desc = key.startswith("-")
        col = _column(model, table, key.lstrip("-+"), "order_by")
        clauses.append(col.desc() if desc else col.asc())
    if not any(k.lstrip("-+") == "id" for k in keys):
        clauses.append(table.c.id.asc())
    return clauses


def simple_filters(model: EntityModel, table: Table, filters: dict[str, Any]) -> list[Any]:
    """``{field: value}`` equality filters (None means "is null")."""
    out = []
    for key, value in filters.items():
        col = _column(model, table, key, "filter")
        out.append(col.is_(None) if value is None else col == value)
    return out


def child_rows(
    conn: Connection, live: Any, parent_ids: list[int]
) -> dict[str, dict[int, list[dict[str, Any]]]]:
    """For each child table: parent id → its rows in order; one query per child table."""
    out: dict[str, dict[int, list[dict[str, Any]]]] = {}
    for key, table in live.child_tables.items():
        child = live.model.fields[key].child
        if live.model.fields[key].removed:
            continue
        by_parent: dict[int, list[dict[str, Any]]] = {}
        rows = conn.execute(
            select(table)
            .where(table.c.parent_id.in_(parent_ids))
            .order_by(table.c.parent_id, table.c.idx)
        ).mappings()
        for r in rows:
            record = {"id": r["id"], **record_from_row(child, r, system=False)}
            by_parent.setdefault(r["parent_id"], []).append(record)
        out[key] = by_parent
    return out
