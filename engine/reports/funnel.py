"""The funnel report type: records per ordered stage, and how many got from one stage to the next.

::

    type: funnel
    source: opportunity
    stage: stage                      # a select field
    stages: [lead, qualified, proposal, won]   # optional; default: the field's options in order
    amount: amount                    # optional number field
    filters: 'region == "EU"'         # optional
    window: {from: 2025-01-01, to: 2025-12-31}   # optional: records created in these days

Per stage the result gives

* ``count`` / ``amount``: records whose stage is that stage now;
* ``entered``: records that were ever in that stage (their audit trail says so);
* ``reached``: records that entered that stage *or any later one*. A deal that
  went from ``qualified`` straight to ``won`` skipped ``proposal`` but counts
  as having reached it: it got past it. ``reached`` never grows down the funnel;
* ``conversion``: reached(next stage) / reached(this stage), in percent, and
  ``of_first``: reached(this stage) / reached(first stage).

Stages missing from ``stages`` (``lost`` in the example) are ignored in the
history, so a lost deal counts up to the last listed stage it entered. All
figures come from three SQL statements (GROUP BY over the records, and over
their audit rows joined to the records under the same conditions).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import case, func, select

from engine.i18n import t
from engine.reports.history import (
    check_field,
    check_filters,
    check_window,
    column_of,
    created_within,
    ratio,
    stage_entries,
    stage_index,
)

Path = tuple[Any, ...]


def read_funnel(
    definition: dict[str, Any], catalog: Any, check_filter: Any = None
) -> tuple[dict[str, Any] | None, list[tuple[Path, str]]]:
    problems: list[tuple[Path, str]] = []
    source = definition.get("source")
    if not isinstance(source, str) or not catalog.exists(source):
        return None, [(("source",), t("{source!r} is not an entity", source=source))]
    stage = check_field(catalog, source, definition, "stage", ("string",), t("a select"), problems)
    stages = definition.get("stages")
    if stages is None and stage is not None:
        if not stage.type.options:
            problems.append(
                (("stage",), t("{key!r} has no options; list the stages", key=stage.key))
            )
        stages = list(stage.type.options or ())
    elif stages is not None:
        if not isinstance(stages, list) or not stages:
            problems.append((("stages",), t("stages is a list of stage values, in order")))
            stages = []
        else:
            seen: set[str] = set()
            for i, s in enumerate(stages):
                if not isinstance(s, str):
                    problems.append((("stages", i), t("{s!r} is not a stage value", s=s)))
                elif stage is not None and stage.type.options and s not in stage.type.options:
                    problems.append(
                        (("stages", i), t("{s!r} is not an option of {key}", s=s, key=stage.key))
                    )
                elif s in seen:
                    problems.append((("stages", i), t("{s!r} is listed twice", s=s)))
                seen.add(str(s))
    check_field(catalog, source, definition, "amount", ("number",), t("a number"), problems,
                required=False)  # fmt: skip
    check_window(definition.get("window"), problems)
    check_filters(definition, source, check_filter, problems)
    spec = {
        "type": "funnel",
        "name": definition.get("name"),
        "source": source,
        "stage": definition.get("stage"),
        "stages": [str(s) for s in stages or []],
        "amount": definition.get("amount"),
        "filters": definition.get("filters"),
        "window": definition.get("window"),
        "label": definition.get("label"),
    }
    return spec, problems


def run_funnel(service: Any, spec: dict[str, Any], where: list[Any]) -> dict[str, Any]:
    source, stages = spec["source"], spec["stages"]
    _, table = service.p.rules.tables(source)
    stage_col = column_of(service, source, spec["stage"])
    amount = column_of(service, source, spec["amount"]) if spec["amount"] else None
    window = spec.get("window")
    conditions = [*where, *(created_within(service, source, table, window) if window else [])]
    now = (
        select(stage_col, func.count(), func.sum(amount) if amount is not None else func.count())
        .where(*conditions, stage_col.in_(stages))
        .group_by(stage_col)
    )
    entries = stage_entries(service, source, spec["stage"], where, window)
    index = stage_index(entries.c.stage, stages)
    entered = select(entries.c.stage, func.count()).group_by(entries.c.stage)
    furthest = (
        select(func.max(index).label("top"))
        .group_by(entries.c.rid)
        .having(func.max(index).is_not(None))
        .subquery("furthest")
    )
    reached = select(
        *[func.count(case((furthest.c.top >= k, 1))).label(f"r{k}") for k in range(len(stages))]
    )
    with service.p.db.transaction(write=False) as conn:
        current = {s: (n, total) for s, n, total in conn.execute(now)}
        ever = dict(conn.execute(entered).all())
        got = list(conn.execute(reached).one()) if stages else []
    rows = []
    for k, s in enumerate(stages):
        n, total = current.get(s, (0, None))
        rows.append(
            {
                "stage": s,
                "count": n,
                "amount": total if amount is not None else None,
                "entered": ever.get(s, 0),
                "reached": got[k],
                "conversion": ratio(got[k + 1], got[k]) if k + 1 < len(stages) else None,
                "of_first": ratio(got[k], got[0]),
            }
        )
    return {
        "report": spec["name"],
        "type": "funnel",
        "rows": rows,
        "chart": {
            "type": "funnel",
            "categories": stages,
            "series": [
                {"name": "reached", "data": [r["reached"] for r in rows]},
                {"name": "count", "data": [r["count"] for r in rows]},
            ],
        },
    }


__all__ = ["read_funnel", "run_funnel"]
