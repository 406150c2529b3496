"""Stage history from the audit trail, as SQL: the helpers funnel and forecast share.

Every create and update writes a ``ts_audit`` row whose ``changes`` JSON holds
the changed fields ``after`` the write (a create holds them all). A record
*entered* stage ``s`` when one of its audit rows has ``after.<stage> == s``.
The entries are read with the database's JSON functions (``json_extract`` on
SQLite, ``jsonb_extract_path_text`` on PostgreSQL), joined to the source table
under the report's conditions (filters, the viewer's row scope), so nothing
outside the viewer's rows is read and nothing is loaded into Python.

A batch of creations (``create_many``) may hold its entries in ``create_batch``
rows (see :func:`engine.store.audit.write_created_batches`): ``after`` is then a
list of entries and ``ids`` the matching record ids. Those rows are expanded
in SQL (``json_each`` on SQLite, ``jsonb_array_elements`` on PostgreSQL) and
unioned with the per-record rows, so a report sees the same (record, stage)
pairs whichever way the creations were written.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import BigInteger, case, cast, func, literal, null, select, union, union_all
from sqlalchemy.dialects.postgresql import JSONB

from engine.i18n import t
from engine.store.audit import BATCH_ACTION
from engine.store.system import audit_log

Path = tuple[Any, ...]


def after_value(dialect: str, key: str) -> Any:
    """The text of ``after.<key>`` in an audit row's changes (NULL when the write left it)."""
    if dialect == "postgresql":
        return func.jsonb_extract_path_text(cast(audit_log.c.changes, JSONB), "after", key)
    return func.json_extract(audit_log.c.changes, f"$.after.{key}")


def stage_entries(
    service: Any, source: str, stage_key: str, where: list[Any], window: Any = None
) -> Any:
    """A subquery ``(rid, stage)``: each stage each record in scope entered (distinct)."""
    _, table = service.p.rules.tables(source)
    dialect = service.p.db.dialect
    value = after_value(dialect, stage_key)
    conditions = [*where]
    if window is not None:
        conditions += created_within(service, source, table, window)
    own = (
        select(audit_log.c.record_id.label("rid"), value.label("stage"))
        .select_from(table.join(audit_log, audit_log.c.record_id == table.c.id))
        .where(
            *conditions,
            audit_log.c.entity == source,
            audit_log.c.action != BATCH_ACTION,
            value.is_not(None),
        )
    )
    batched = batch_entries(dialect, source, stage_key)
    from_batches = (
        select(batched.c.rid, batched.c.stage)
        .select_from(table.join(batched, batched.c.rid == table.c.id))
        .where(*conditions, batched.c.stage.is_not(None))
    )
    return union(own, from_batches).subquery("entries")


def batch_entries(dialect: str, source: str, key: str) -> Any:
    """A subquery ``(rid, stage)``: ``after.<key>`` of every creation entry that a
    ``create_batch`` row of ``source`` holds, with the id of its record.

    Each row's JSON is parsed once or twice, never once per entry: on PostgreSQL
    the ids and the entries are two set-returning functions of the same select
    (they advance together), on SQLite two ``json_each`` scans joined on the
    position by a GROUP BY.
    """
    batch = [audit_log.c.entity == source, audit_log.c.action == BATCH_ACTION]
    if dialect == "postgresql":
        doc = cast(audit_log.c.changes, JSONB)
        zipped = (
            select(
                func.jsonb_array_elements_text(doc["ids"]).label("rid"),
                func.jsonb_array_elements(doc["after"]).label("entry"),
            )
            .where(*batch)
            .subquery("batch_zip")
        )
        return select(
            cast(zipped.c.rid, BigInteger).label("rid"),
            func.jsonb_extract_path_text(zipped.c.entry, key).label("stage"),
        ).subquery("batch_entries")
    ids = func.json_each(audit_log.c.changes, "$.ids").table_valued(
        "key", "value", joins_implicitly=True
    )
    entries = func.json_each(audit_log.c.changes, "$.after").table_valued(
        "key", "value", joins_implicitly=True
    )
    parts = union_all(
        select(
            audit_log.c.id.label("aid"),
            ids.c.key.label("n"),
            ids.c.value.label("rid"),
            null().label("stage"),
        )
        .select_from(audit_log, ids)
        .where(*batch),
        select(
            audit_log.c.id.label("aid"),
            entries.c.key.label("n"),
            null().label("rid"),
            func.json_extract(entries.c.value, f"$.{key}").label("stage"),
        )
        .select_from(audit_log, entries)
        .where(*batch),
    ).subquery("batch_parts")
    return (
        select(func.max(parts.c.rid).label("rid"), func.max(parts.c.stage).label("stage"))
        .group_by(parts.c.aid, parts.c.n)
        .subquery("batch_entries")
    )


def created_within(service: Any, source: str, table: Any, window: dict[str, Any]) -> list[Any]:
    """Conditions keeping records created in ``[from, to]`` (whole days in the platform zone)."""
    zone = service.p.clock.timezone
    out = []
    created = table.c.created_on if "created_on" in table.c else None
    if created is None:  # pragma: no cover - every live table has created_on
        return out
    start, end = window.get("from"), window.get("to")
    if start is not None:
        out.append(created >= _utc(dt.date.fromisoformat(str(start)), zone))
    if end is not None:
        out.append(created < _utc(dt.date.fromisoformat(str(end)) + dt.timedelta(days=1), zone))
    return out


def _utc(day: dt.date, zone: Any) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), zone).astimezone(dt.UTC)


def stage_index(column: Any, stages: list[str]) -> Any:
    """The position of a stage in the ordered list (NULL for a stage not in it)."""
    return case({s: literal(i) for i, s in enumerate(stages)}, value=column, else_=None)


def check_window(window: Any, problems: list[tuple[Path, str]]) -> None:
    if window is None:
        return
    if not isinstance(window, dict) or not set(window) <= {"from", "to"}:
        problems.append((("window",), t("window is {from: YYYY-MM-DD, to: YYYY-MM-DD}")))
        return
    for part in ("from", "to"):
        raw = window.get(part)
        if raw is None:
            continue
        try:
            dt.date.fromisoformat(str(raw))
        except ValueError:
            problems.append((("window", part), t("{raw!r} is not a date (YYYY-MM-DD)", raw=raw)))


def check_field(
    catalog: Any,
    source: str,
    definition: dict[str, Any],
    part: str,
    kinds: tuple[str, ...],
    what: str,
    problems: list[tuple[Path, str]],
    *,
    required: bool = True,
) -> Any:
    """The field info of ``definition[part]`` (a field of ``source``), or a located problem."""
    name = definition.get(part)
    if name is None and not required:
        return None
    if not isinstance(name, str):
        problems.append(
            (
                (part,),
                t("{part} names {what} field of {source}", part=part, what=what, source=source),
            )
        )
        return None
    info = catalog.lookup(source, name)
    if info is None:
        hint = catalog.suggest(source, name)
        problems.append(
            (
                (part,),
                t("{name!r} is not a field of {source}", name=name, source=source)
                + (t("; did you mean {hint!r}?", hint=hint) if hint else ""),
            )
        )
        return None
    if info.type.kind not in kinds:
        problems.append(
            (
                (part,),
                t(
                    "{name!r} is a {describe}, not {what} field",
                    name=name,
                    describe=info.type.describe(),
                    what=what,
                ),
            )
        )
        return None
    return info


def check_filters(
    definition: dict[str, Any], source: str, check_filter: Any, problems: list[tuple[Path, str]]
) -> None:
    filters = definition.get("filters")
    if filters is not None and check_filter is not None:
        for d in check_filter(str(filters), source):
            if d.get("severity", "error") == "error":
                problems.append((("filters",), d["message"]))


def column_of(service: Any, source: str, key: str) -> Any:
    model, table = service.p.rules.tables(source)
    field = model.fields.get(key)
    return table.c[field.column] if field is not None else table.c[key]


def ratio(part: Any, whole: Any) -> Any:
    """A percentage with one decimal, or None when there is nothing to divide by."""
    from decimal import Decimal

    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"))


__all__ = [
    "after_value",
    "batch_entries",
    "check_field",
    "check_filters",
    "check_window",
    "column_of",
    "created_within",
    "ratio",
    "stage_entries",
    "stage_index",
]
