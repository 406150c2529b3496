"""A pivot report's one statement and its run: the ``run`` of the ``pivot`` report type.

Kept apart from :mod:`engine.reports.service` so the report-type registry can name
the pivot's runner without importing the service that reads the registry.
"""

from __future__ import annotations

from typing import Any

from engine.reports.pivot import PivotQuery, shape
from engine.reports.spec import PivotSpec


def pivot_statement(service: Any, spec: PivotSpec, where: list[Any]) -> tuple[Any, ...]:
    """The pivot's query builder, its one statement, and whether it carries every level."""
    query = PivotQuery(
        spec,
        tables=service.p.rules.tables,
        catalog=service.p.rules.catalog,
        zone=service.p.clock.timezone.key,
        dialect=service.p.db.dialect,
        where=where,
    )
    stmt, all_levels = query.statement()
    return query, stmt, all_levels


def run_pivot(
    service: Any,
    spec: PivotSpec,
    where: list[Any],
    prepared: tuple[Any, ...] | None = None,
) -> dict[str, Any]:
    """One pivot statement, then the shaped result (see :mod:`engine.reports.pivot`)."""
    query, stmt, all_levels = prepared or pivot_statement(service, spec, where)
    with service.p.db.transaction(write=False) as conn:
        rows = conn.execute(stmt).all()
    leaves = [r for r in rows if r[-1] == 0] if all_levels else []
    if all_levels and len(leaves) > spec.max_cells:
        rows = [r for r in rows if r[-1] != 0] + leaves[: spec.max_cells]
    result = shape(query, rows, all_levels, service.p.clock.timezone)
    if all_levels and len(leaves) >= spec.max_cells:
        result["truncated"] = True
    return result


__all__ = ["pivot_statement", "run_pivot"]
