"""The forecast report type: open pipeline weighted by each stage's historical win rate.

::

    type: forecast
    source: opportunity
    stage: stage
    won: won                 # the stage value of a won record
    lost: [lost]             # the stage values of lost records
    amount: amount
    close: expected_close    # a date (or date-time) field; grouped per month
    filters: ...             # optional

The win rate of stage ``s`` is computed from closed records (stage now ``won``
or one of ``lost``): of those whose audit trail shows they were ever in ``s``,
the share that are won. An open record in stage ``s`` contributes
``amount × rate(s)``; a stage no closed record ever passed through has no rate
and contributes nothing (its rate is shown as ``null``). Open records are
grouped by the month of their close date in the platform's time zone (records
without a close date fall in a ``null`` month). Rates and pipeline are two
GROUP BY statements; the viewer's row scope applies to both, so a rep's rates
come from their own history.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import TIMESTAMP, case, cast, func, select

from engine.i18n import t
from engine.reports.buckets import DateBucket, bucket_label
from engine.reports.history import (
    check_field,
    check_filters,
    column_of,
    ratio,
    stage_entries,
)

Path = tuple[Any, ...]


def read_forecast(
    definition: dict[str, Any], catalog: Any, check_filter: Any = None
) -> tuple[dict[str, Any] | None, list[tuple[Path, str]]]:
    problems: list[tuple[Path, str]] = []
    source = definition.get("source")
    if not isinstance(source, str) or not catalog.exists(source):
        return None, [(("source",), t("{source!r} is not an entity", source=source))]
    stage = check_field(catalog, source, definition, "stage", ("string",), t("a select"), problems)
    options = tuple(stage.type.options or ()) if stage is not None else ()
    won = definition.get("won")
    lost = definition.get("lost", [])
    if isinstance(lost, str):
        lost = [lost]
    if not isinstance(won, str):
        problems.append((("won",), t("won is the stage value of a won record")))
    elif options and won not in options:
        problems.append((("won",), t("{won!r} is not an option of {key}", won=won, key=stage.key)))  # type: ignore[union-attr]
    if not isinstance(lost, list) or not lost:
        problems.append((("lost",), t("lost lists the stage values of lost records")))
        lost = []
    else:
        for i, s in enumerate(lost):
            if not isinstance(s, str) or (options and s not in options):
                problems.append(
                    (
                        ("lost", i),
                        t("{s!r} is not an option of {field}", s=s, field=definition.get("stage")),
                    )
                )
            elif s == won:
                problems.append((("lost", i), t("{s!r} cannot be both won and lost", s=s)))
    check_field(catalog, source, definition, "amount", ("number",), t("a number"), problems)
    close = check_field(
        catalog, source, definition, "close", ("date", "datetime"), t("a date"), problems
    )
    check_filters(definition, source, check_filter, problems)
    spec = {
        "type": "forecast",
        "name": definition.get("name"),
        "source": source,
        "stage": definition.get("stage"),
        "won": won,
        "lost": [str(s) for s in lost],
        "amount": definition.get("amount"),
        "close": definition.get("close"),
        "close_kind": close.type.kind if close is not None else None,
        "stages": [s for s in options if s != won and s not in lost],
        "filters": definition.get("filters"),
        "label": definition.get("label"),
    }
    return spec, problems


def run_forecast(service: Any, spec: dict[str, Any], where: list[Any]) -> dict[str, Any]:
    source = spec["source"]
    _, table = service.p.rules.tables(source)
    stage_col = column_of(service, source, spec["stage"])
    amount = column_of(service, source, spec["amount"])
    close = column_of(service, source, spec["close"])
    closed = [spec["won"], *spec["lost"]]
    entries = stage_entries(service, source, spec["stage"], where)
    rates_q = (
        select(
            entries.c.stage,
            func.count(),
            func.count(case((stage_col == spec["won"], 1))),
        )
        .select_from(entries.join(table, table.c.id == entries.c.rid))
        .where(stage_col.in_(closed), entries.c.stage.not_in(closed))
        .group_by(entries.c.stage)
    )
    zone = service.p.clock.timezone.key if spec["close_kind"] == "datetime" else None
    if zone is None and service.p.db.dialect == "postgresql":
        close = cast(close, TIMESTAMP(timezone=False))
    month = DateBucket(close, "month", zone)
    pipeline_q = (
        select(month, stage_col, func.count(), func.sum(amount))
        .where(*where, stage_col.is_not(None), stage_col.not_in(closed))
        .group_by(month, stage_col)
    )
    with service.p.db.transaction(write=False) as conn:
        history = {s: (n, w) for s, n, w in conn.execute(rates_q)}
        pipeline = conn.execute(pipeline_q).all()
    rates = {s: Decimal(w) / Decimal(n) for s, (n, w) in history.items() if n}
    months: dict[Any, dict[str, Any]] = {}
    for bucket, stage, n, total in pipeline:
        key = bucket_label(bucket, "month") if bucket is not None else None
        row = months.setdefault(
            key, {"month": key, "count": 0, "amount": Decimal(0), "weighted": Decimal(0)}
        )
        value = Decimal(str(total)) if total is not None else Decimal(0)
        row["count"] += n
        row["amount"] += value
        row["weighted"] += value * rates.get(stage, Decimal(0))
    rows = sorted(months.values(), key=lambda r: (r["month"] is None, r["month"] or ""))
    for row in rows:
        row["weighted"] = row["weighted"].quantize(Decimal("0.01"))
    stages = list(spec["stages"]) + sorted(set(history) - set(spec["stages"]) - set(closed))
    return {
        "report": spec["name"],
        "type": "forecast",
        "rows": rows,
        "rates": [
            {
                "stage": s,
                "closed": history.get(s, (0, 0))[0],
                "won": history.get(s, (0, 0))[1],
                "rate": ratio(history[s][1], history[s][0]) if s in history else None,
            }
            for s in stages
        ],
        "totals": {
            "count": sum(r["count"] for r in rows),
            "amount": sum((r["amount"] for r in rows), Decimal(0)),
            "weighted": sum((r["weighted"] for r in rows), Decimal(0)),
        },
        "chart": {
            "type": "bar",
            "categories": [r["month"] for r in rows],
            "series": [
                {"name": "pipeline", "data": [r["amount"] for r in rows]},
                {"name": "weighted", "data": [r["weighted"] for r in rows]},
            ],
        },
    }


__all__ = ["read_forecast", "run_forecast"]
