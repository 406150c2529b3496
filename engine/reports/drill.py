"""The records behind one entry of a funnel (a stage) or a leaderboard (an owner).

A pivot drills through its own dimensions (``ReportService.drill``); the special
types have one dimension each: the funnel's ``stage`` field, whose ``count``
column is the records at that stage now, and the leaderboard's ``by`` field.
The records are selected with the report's filter, the viewer's filter and the
viewer's row scope (``ReportService._where``), so a drill never shows a row the
figure it came from did not count.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from engine.errors import ValidationError, error_entry
from engine.i18n import t

#: The report types that drill, and the field their one key is a value of.
DRILL_FIELDS = {"funnel": "stage", "leaderboard": "by"}

#: Most records a drill-down returns at once.
DRILL_LIMIT = 200


def drill_special(
    service: Any, spec: dict[str, Any], key: list[Any], where: list[Any], limit: int, user: Any
) -> dict[str, Any]:
    """``{count, records}`` for ``key`` = [a stage] or [a ranked value]; raises
    ``ValidationError`` naming ``key`` or the report type when it cannot drill."""
    from engine.reports.history import created_within
    from engine.reports.pivot import PivotQuery
    from engine.reports.spec import PivotSpec

    kind = spec.get("type", "pivot")
    if kind not in DRILL_FIELDS:
        raise ValidationError(
            t("a {kind} report does not drill down to records", kind=kind),
            [error_entry(t("{kind} has no cells of records", kind=kind), field="report")],
        )
    if not isinstance(key, list) or len(key) != 1 or key[0] is None:
        raise ValidationError(
            t("a funnel or leaderboard entry is one value"),
            [error_entry(t("expected [value], got {key!r}", key=key), field="key")],
        )
    source = spec["source"]
    query = PivotQuery(
        PivotSpec(spec.get("name") or "", source, [], [], []),
        tables=service.p.rules.tables,
        catalog=service.p.rules.catalog,
        zone=service.p.clock.timezone.key,
        dialect=service.p.db.dialect,
        where=where,
    )
    column = query.column(spec[DRILL_FIELDS[kind]])
    table = query.source.table
    conditions = [*where, column == str(key[0])]
    if kind == "funnel" and spec.get("window"):
        conditions += created_within(service, source, table, spec["window"])
    base = select(table.c.id).select_from(query.source.joined).where(*conditions)
    with service.p.db.transaction(write=False) as conn:
        ids = list(conn.execute(base.order_by(table.c.id).limit(min(limit, DRILL_LIMIT))).scalars())
        count = conn.execute(select(func.count()).select_from(base.subquery())).scalar_one()
    # read as the viewer, so fields hidden from them stay hidden
    records = service.p.records(source, user if isinstance(user, str) else None)
    return {"count": int(count), "records": [records.get(i) for i in ids]}


__all__ = ["DRILL_FIELDS", "DRILL_LIMIT", "drill_special"]
