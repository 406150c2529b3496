"""The leaderboard report type: owners (or teams, or any text field) ranked by a measure.

::

    type: leaderboard
    source: opportunity
    filters: 'stage == "won"'
    by: owner
    measure: {agg: sum, field: amount}
    limit: 10
    targets: {entity: sales_target, key: user, value: amount}   # or {alice: 500000, ...}

The ranking is one SQL statement (``GROUP BY by`` with ``RANK() OVER``, so
ties share a rank); targets come from a map in the definition or from an
entity of targets, summed per key, and each row gets its attainment.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import func, select

from engine.i18n import t
from engine.reports.spec import AGGREGATES, Measure, resolve_path

Path = tuple[Any, ...]


def read_leaderboard(
    definition: dict[str, Any], catalog: Any, check_filter: Any = None
) -> tuple[dict[str, Any] | None, list[tuple[Path, str]]]:
    """The checked parts of a leaderboard definition and every problem with it."""
    problems: list[tuple[Path, str]] = []
    source = definition.get("source")
    if not isinstance(source, str) or not catalog.exists(source):
        return None, [(("source",), t("{source!r} is not an entity", source=source))]
    by = definition.get("by")
    if not isinstance(by, str):
        problems.append((("by",), t("by names the field to rank, like owner")))
    else:
        steps, reason = resolve_path(catalog, source, by)
        if reason:
            problems.append((("by",), reason))
        elif steps[-1].type.kind not in ("string",):
            problems.append((("by",), t("{by!r} is not a text, user or option field", by=by)))
    raw = definition.get("measure") or {"agg": "count"}
    agg = raw.get("agg", "count") if isinstance(raw, dict) else None
    if agg not in AGGREGATES:
        problems.append((("measure", "agg"), t("{agg!r} is not an aggregate", agg=agg)))
    field = raw.get("field") if isinstance(raw, dict) else None
    if agg not in (None, "count") and not isinstance(field, str):
        problems.append((("measure", "field"), t("{agg} needs a field", agg=agg)))
    elif isinstance(field, str):
        steps, reason = resolve_path(catalog, source, field)
        if reason:
            problems.append((("measure", "field"), reason))
        elif agg in ("sum", "avg") and steps[-1].type.kind != "number":
            problems.append(
                (
                    ("measure", "field"),
                    t("{agg} adds numbers, but {field!r} is not one", agg=agg, field=field),
                )
            )
    targets = definition.get("targets")
    if isinstance(targets, dict) and "entity" in targets:
        entity = targets.get("entity")
        if not catalog.exists(str(entity)):
            problems.append(
                (("targets", "entity"), t("{entity!r} is not an entity", entity=entity))
            )
        else:
            for part in ("key", "value"):
                if catalog.lookup(entity, str(targets.get(part))) is None:
                    problems.append(
                        (
                            ("targets", part),
                            t(
                                "{field!r} is not a field of {entity}",
                                field=targets.get(part),
                                entity=entity,
                            ),
                        )
                    )
    filters = definition.get("filters")
    if filters is not None and check_filter is not None:
        for d in check_filter(str(filters), source):
            if d.get("severity", "error") == "error":
                problems.append((("filters",), d["message"]))
    limit = definition.get("limit", 10)
    if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= 1000:
        problems.append((("limit",), t("limit is a whole number from 1 to 1,000")))
    spec = {
        "type": "leaderboard",
        "name": definition.get("name"),
        "source": source,
        "by": by,
        "measure": Measure("value", agg, field),
        "filters": filters,
        "targets": targets,
        "limit": limit,
        "label": definition.get("label"),
    }
    return spec, problems


def run_leaderboard(service: Any, spec: dict[str, Any], where: list[Any]) -> dict[str, Any]:
    """Rank in SQL, attach targets, shape rows and a bar chart."""
    from engine.reports.pivot import PivotQuery
    from engine.reports.spec import PivotSpec

    pivot = PivotSpec(spec["name"] or "", spec["source"], [], [], [spec["measure"]])
    query = PivotQuery(
        pivot,
        tables=service.p.rules.tables,
        catalog=service.p.rules.catalog,
        zone=service.p.clock.timezone.key,
        dialect=service.p.db.dialect,
        where=where,
    )
    key = query.column(spec["by"])
    aggregates = query._aggregates(spec["measure"])
    value = aggregates[0] if spec["measure"].agg != "avg" else aggregates[0] / aggregates[1]
    ranked = (
        select(
            key,
            value.label("value"),
            func.rank().over(order_by=value.desc().nulls_last()).label("rank"),
        )
        .select_from(query.source.joined)
        .where(*where, key.is_not(None))
        .group_by(key)
        .order_by(value.desc().nulls_last(), key)
        .limit(spec["limit"])
    )
    with service.p.db.transaction(write=False) as conn:
        rows = conn.execute(ranked).all()
    targets = _targets(service, spec.get("targets"))
    out = []
    for who, amount, rank in rows:
        target = targets.get(who)
        attainment = None
        if target and amount is not None:
            attainment = (Decimal(str(amount)) * 100 / Decimal(str(target))).quantize(
                Decimal("0.1")
            )
        out.append(
            {"rank": rank, "key": who, "value": amount, "target": target, "attainment": attainment}
        )
    return {
        "report": spec["name"],
        "type": "leaderboard",
        "rows": out,
        "chart": {
            "type": "bar",
            "categories": [r["key"] for r in out],
            "series": [
                {"name": "value", "data": [r["value"] for r in out]},
                *([{"name": "target", "data": [r["target"] for r in out]}] if targets else []),
            ],
        },
    }


def _targets(service: Any, targets: Any) -> dict[Any, Any]:
    """Target per key: a literal map, or the sum of an entity's value field per key field."""
    if not targets:
        return {}
    if "entity" not in targets:
        return {k: Decimal(str(v)) for k, v in targets.items()}
    entity = targets["entity"]
    model, table = service.p.rules.tables(entity)
    key_col = table.c[model.fields[targets["key"]].column]
    value_col = table.c[model.fields[targets["value"]].column]
    with service.p.db.transaction(write=False) as conn:
        rows = conn.execute(select(key_col, func.sum(value_col)).group_by(key_col)).all()
    return {k: v for k, v in rows if k is not None}


__all__ = ["read_leaderboard", "run_leaderboard"]
