"""Two-stage grouping of an additive pivot with a date bucket: bucket per group, not per row.

The one-stage statement computes the bucket of every row::

    SELECT region, date_trunc('quarter', close_date), sum(amount), count(*)
    FROM opportunity GROUP BY 1, 2

On ten million rows that is ten million ``date_trunc`` calls (on SQLite a
``substr``/``CASE`` per row, or a Python call for a week). A date column has
few distinct values (three years are 1,096 days), so grouping by the raw date
first and bucketing the groups gives the same answer with the bucket computed
a few thousand times::

    SELECT region, date_trunc('quarter', d), sum(s), CAST(sum(c) AS BIGINT)
    FROM (SELECT close_date AS d, region, sum(amount) AS s, count(*) AS c
          FROM opportunity GROUP BY close_date, region) AS g
    GROUP BY 1, 2

It is exact where re-aggregating groups is: count (a sum of counts), sum, min,
max, and avg (kept as a sum and a count). Count distinct and every other
non-additive measure never come here. A datetime is grouped first by its date
in the platform's zone, which every bucket is a function of, so that is exact
too (PostgreSQL only: SQLite has no zones, its bucket of a datetime is a
Python call per row either way).

Types stay those of the one-stage answer: PostgreSQL's ``sum`` of a bigint
count is numeric, so counts are cast back to bigint; a sum over a 4-byte
integer column (``version``) is cast to bigint as its one-stage sum is; a
measure on any other column type (a plug-in's float) keeps the one-stage
statement. On SQLite a sum of REAL values (a number column holding decimals)
is added in another order, so it may differ from the one-stage sum in the
last binary digit, as it does whenever SQLite visits the rows in another
order; integers and counts are exact.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import cast, func, select
from sqlalchemy.types import BigInteger, Date, Float, Integer, Numeric

from engine.reports.spec import Dimension, resolve_path

if TYPE_CHECKING:
    from engine.reports.spec import Measure, PivotSpec

#: Dialects where two stages were measured faster. SQLite groups by sorting, and the
#: sort costs about the same for 39,000 keys as for 432: 41% less CPU on a million rows
#: (bench/bench_pivot.py). PostgreSQL groups by hashing, and a 39,000-group hash table
#: (22 MB per worker) misses the CPU caches on every row: twice the server CPU on ten
#: million rows (bench/pivot_pg_cpu.py), so it keeps one stage. Both are exact: the
#: tests force the form on each database.
DIALECTS = ("sqlite",)


class StagedQuery(Protocol):
    """What the two stages use of the pivot's query (``engine.reports.pivot.PivotQuery``).

    Declared here rather than imported: the pivot calls :func:`two_stage`, so
    naming its class would make the two modules import each other."""

    spec: PivotSpec
    catalog: Any
    dialect: str
    source: Any
    where: list[Any]
    dims: list[Any]

    def column(self, path: str) -> Any: ...

    def date_bucket(self, column: Any, unit: str) -> Any: ...

    def zone_literal(self) -> Any: ...

    def stored_measures(self) -> list[Measure]: ...

    def _aggregates(self, m: Measure) -> list[Any]: ...


def two_stage(query: StagedQuery) -> Any | None:
    """The pivot's leaf ``GROUP BY`` in two stages, or None where one stage is kept.

    None when the dialect is not in :data:`DIALECTS`, when no dimension is a
    date bucket coarser than a day (a day is its own raw date: nothing to
    save), or when a measure's column type is not one whose sum of sums is
    exactly its sum.
    """
    if query.dialect not in DIALECTS:
        return None
    staged = [_staged_dimension(query, d) for d in query.spec.dimensions]
    if not any(s is not None and d.bucket != "day" for s, d in zip(staged, query.spec.dimensions)):
        return None
    rollups = _rollups(query)
    if rollups is None:
        return None

    inner_keys: list[Any] = []
    for i, (s, dim_expr) in enumerate(zip(staged, query.dims)):
        expr = s[0] if s is not None else dim_expr
        inner_keys.append(expr.label(f"k{i}"))
    inner_aggs = [agg.label(f"a{i}") for i, (agg, _) in enumerate(rollups)]
    # Raw dates first: SQLite's sorter tells rows apart sooner (measured ~20% less CPU).
    order = sorted(range(len(inner_keys)), key=lambda i: staged[i] is None)
    inner = (
        select(*inner_keys, *inner_aggs)
        .select_from(query.source.joined)
        .where(*query.where)
        .group_by(*[inner_keys[i].element for i in order])
        .subquery("g")
    )
    outer_keys = [
        s[1](inner.c[f"k{i}"]) if s is not None else inner.c[f"k{i}"] for i, s in enumerate(staged)
    ]
    outer_aggs = [roll(inner.c[f"a{i}"]) for i, (_, roll) in enumerate(rollups)]
    return select(*outer_keys, *outer_aggs).group_by(*outer_keys)


def _staged_dimension(
    query: StagedQuery, dim: Dimension
) -> tuple[Any, Callable[[Any], Any]] | None:
    """(what the inner stage groups by, the bucket the outer stage applies to it), or None."""
    if dim.bucket is None or dim.top is not None:
        return None
    steps, _ = resolve_path(query.catalog, query.spec.source, dim.path)
    kind = steps[-1].type.kind
    column = query.column(dim.path)
    if kind == "date":
        raw = column
    elif kind == "datetime" and query.dialect == "postgresql":
        # The local date: every bucket (day, week, ..., day_of_week) depends on it alone.
        zone = query.zone_literal()
        raw = cast(column.op("AT TIME ZONE")(zone), Date())
    else:
        return None
    unit = dim.bucket
    return raw, lambda inner: query.date_bucket(inner, unit)


def _rollups(query: StagedQuery) -> list[tuple[Any, Callable[[Any], Any]]] | None:
    """Per stored aggregate: (the inner aggregate, how the outer stage rolls it up)."""
    out: list[tuple[Any, Callable[[Any], Any]]] = []
    for m in query.stored_measures():
        aggregates = query._aggregates(m)
        column = None if m.field is None else query.column(m.field)
        if m.agg == "count":
            out.append((aggregates[0], _sum_count))
        elif m.agg in ("sum", "avg"):
            roll = _sum_rollup(column)
            if roll is None:
                return None
            out.append((aggregates[0], roll))
            if m.agg == "avg":
                out.append((aggregates[1], _sum_count))
        elif m.agg in ("min", "max"):
            out.append((aggregates[0], func.min if m.agg == "min" else func.max))
        else:
            return None
    return out


def _sum_count(inner: Any) -> Any:
    """A count's roll-up: the sum of the counts, back to the bigint a count is."""
    return cast(func.sum(inner), BigInteger())


def _sum_rollup(column: Any) -> Callable[[Any], Any] | None:
    """A sum's roll-up when the sum of sums has the sum's type and value, else None."""
    kind = column.type
    if isinstance(kind, Float):
        return None  # a double's sum depends on the order it is added in
    if isinstance(kind, BigInteger | Numeric):
        return func.sum  # bigint and numeric sums are numeric at both stages
    if isinstance(kind, Integer):
        return lambda inner: cast(func.sum(inner), BigInteger())  # sum(int) is bigint
    return None


__all__ = ["DIALECTS", "StagedQuery", "two_stage"]
