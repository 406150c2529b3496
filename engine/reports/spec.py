"""A pivot report definition, read and checked against the entities before it is saved.

The definition is plain data (``reports/*.yaml``, or the metadata API)::

    name: pipeline_by_region
    type: pivot
    source: opportunity
    filters: 'stage not in ["won", "lost"]'
    rows: [region, stage]
    columns: [{field: close_date, bucket: quarter}]
    measures:
      - {name: amount, agg: sum, field: amount}
      - {name: deals, agg: count}
      - {name: avg_deal, expr: "amount / deals"}
    totals: {rows: true, columns: true, subtotals: false}
    order_by: -amount      # optional: rows sorted by a measure, "-" for largest first

:func:`read_pivot` returns the :class:`PivotSpec` and a list of problems,
each ``(path, message)`` with the path into the definition (``("measures",
1, "field")``), so a bundle error points at the line and the API names the
field. Every problem is reported, not only the first.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from engine.i18n import t
from engine.reports.buckets import BUCKETS, CYCLES
from engine.rules.catalog import Catalog, closest

AGGREGATES = ("count", "count_distinct", "sum", "avg", "min", "max")
#: Aggregates whose totals can be folded from the leaf groups (avg as Σsum / Σcount).
ADDITIVE = ("count", "sum", "avg", "min", "max")
NUMERIC_AGGREGATES = ("sum", "avg")
PERCENT_OF = ("row", "column", "total")
#: The most leaf groups a pivot returns before it is marked truncated.
MAX_CELLS = 10_000

Path = tuple[Any, ...]


@dataclass(frozen=True)
class Dimension:
    """A row or column dimension: a field or a path through references, maybe bucketed."""

    path: str
    bucket: str | None = None
    label: str | None = None
    #: keep the ``top`` values by measure ``by``; the rest are grouped as "Others"
    top: int | None = None
    by: str | None = None

    @property
    def name(self) -> str:
        return f"{self.path}_{self.bucket}" if self.bucket else self.path


@dataclass(frozen=True)
class Measure:
    """``agg`` over ``field`` (``count`` needs none), or ``expr`` over other measures."""

    name: str
    agg: str | None = None
    field: str | None = None
    expr: str | None = None
    label: str | None = None
    #: a percent measure: this measure's share (0-100) of the row's, column's or grand total
    percent_of: str | None = None
    of: str | None = None

    @property
    def additive(self) -> bool:
        return self.agg in ADDITIVE


@dataclass
class PivotSpec:
    name: str
    source: str
    rows: list[Dimension]
    columns: list[Dimension]
    measures: list[Measure]
    filters: str | None = None
    totals_rows: bool = True
    totals_columns: bool = True
    subtotals: bool = False
    fill_empty: bool = True
    max_cells: int = MAX_CELLS
    chart: str | None = None
    label: Any = None
    #: sort the rows by a measure's row total: ``"amount"`` ascending, ``"-amount"`` descending
    order_by: str | None = None
    definition: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def dimensions(self) -> list[Dimension]:
        return [*self.rows, *self.columns]


def _dimension(raw: Any, path: Path, problems: list[tuple[Path, str]]) -> Dimension | None:
    if isinstance(raw, str):
        return Dimension(raw)
    if isinstance(raw, dict) and isinstance(raw.get("field"), str):
        bucket = raw.get("bucket")
        if bucket is not None and bucket not in BUCKETS:
            problems.append(
                (
                    (*path, "bucket"),
                    t(
                        "{bucket!r} is not a bucket; use one of {buckets}",
                        bucket=bucket,
                        buckets=", ".join(BUCKETS),
                    ),
                )
            )
            bucket = None
        label = raw.get("label") if isinstance(raw.get("label"), str) else None
        top = raw.get("top")
        if top is not None and (not isinstance(top, int) or isinstance(top, bool) or top < 1):
            problems.append(((*path, "top"), t("top is a whole number of values to keep, like 10")))
            top = None
        by = raw.get("by") if isinstance(raw.get("by"), str) else None
        return Dimension(raw["field"], bucket, label, top, by)
    problems.append((path, t("a dimension is a field name or {field: ..., bucket: ...}")))
    return None


def _measure(raw: Any, path: Path, problems: list[tuple[Path, str]]) -> Measure | None:
    if not isinstance(raw, dict) or not isinstance(raw.get("name"), str):
        problems.append((path, t("a measure is {name: ..., agg: ..., field: ...} or {name, expr}")))
        return None
    name = raw["name"]
    if raw.get("percent_of") is not None:
        of = raw.get("of", "total")
        if of not in PERCENT_OF:
            problems.append(
                ((*path, "of"), t("{of!r}: a percent is of the row, column or total", of=of))
            )
        return Measure(name, percent_of=str(raw["percent_of"]), of=of, label=raw.get("label"))
    if raw.get("expr") is not None:
        return Measure(name, expr=str(raw["expr"]), label=raw.get("label"))
    agg = raw.get("agg", "count")
    if agg not in AGGREGATES:
        hint = closest(str(agg), AGGREGATES)
        problems.append(
            (
                (*path, "agg"),
                t("{agg!r} is not an aggregate", agg=agg)
                + (
                    t("; did you mean {hint!r}?", hint=hint)
                    if hint
                    else t("; use one of {aggregates}", aggregates=", ".join(AGGREGATES))
                ),
            )
        )
        return None
    if agg != "count" and not isinstance(raw.get("field"), str):
        problems.append(((*path, "field"), t("{agg} needs a field", agg=agg)))
        return None
    return Measure(name, agg, raw.get("field"), label=raw.get("label"))


def read_pivot(
    definition: dict[str, Any], catalog: Catalog, check_filter: Any = None
) -> tuple[PivotSpec | None, list[tuple[Path, str]]]:
    """The spec of a pivot definition and every problem with it (empty when it is sound).

    ``check_filter(text, entity)`` returns rule-language diagnostics for the
    filter (``p.rules.check``); without it the filter is not checked here.
    """
    problems: list[tuple[Path, str]] = []
    source = definition.get("source")
    if not isinstance(source, str) or not catalog.exists(source):
        hint = closest(str(source), catalog.entity_names()) if isinstance(source, str) else None
        problems.append(
            (
                ("source",),
                t("{source!r} is not an entity", source=source)
                + (t("; did you mean {hint!r}?", hint=hint) if hint else ""),
            )
        )
        return None, problems
    rows = [
        _dimension(r, ("rows", i), problems) for i, r in enumerate(definition.get("rows") or [])
    ]
    cols = [
        _dimension(c, ("columns", i), problems)
        for i, c in enumerate(definition.get("columns") or [])
    ]
    measures = [
        _measure(m, ("measures", i), problems)
        for i, m in enumerate(definition.get("measures") or [{"name": "count", "agg": "count"}])
    ]
    dims = [(("rows", i), d) for i, d in enumerate(rows)] + [
        (("columns", i), d) for i, d in enumerate(cols)
    ]
    for path, dim in dims:
        if dim is not None:
            _check_dimension(catalog, source, dim, path, problems)
    stored_additive = [m.name for m in measures if m is not None and m.agg in ADDITIVE]
    for path, dim in dims:
        if dim is None or dim.top is None:
            continue
        if dim.by is not None and dim.by not in stored_additive:
            problems.append(
                (
                    (*path, "by"),
                    t("{by!r} is not a count, sum, avg, min or max measure here", by=dim.by),
                )
            )
        elif dim.by is None and not stored_additive:
            problems.append(((*path, "by"), t("top needs a measure to rank by (by: ...)")))
    names: set[str] = set()
    for i, m in enumerate(measures):
        if m is None:
            continue
        if m.name in names:
            problems.append(
                (("measures", i, "name"), t("two measures are called {name!r}", name=m.name))
            )
        names.add(m.name)
        if m.field is not None:
            _check_measure_field(catalog, source, m, ("measures", i, "field"), problems)
    additive = {m.name for m in measures if m is not None and m.agg in ADDITIVE}
    for i, m in enumerate(measures):
        if m is not None and m.percent_of is not None and m.percent_of not in additive:
            problems.append(
                (
                    ("measures", i, "percent_of"),
                    t(
                        "{percent_of!r} is not a count, sum, avg, min or max measure of this report",
                        percent_of=m.percent_of,
                    ),
                )
            )
    for i, m in enumerate(measures):
        if m is not None and m.expr is not None:
            _check_expression(
                m, [n for n in names if n != m.name], ("measures", i, "expr"), problems
            )
    order_by = definition.get("order_by")
    if order_by is not None and (
        not isinstance(order_by, str) or order_by.removeprefix("-") not in names
    ):
        problems.append(
            (
                ("order_by",),
                t(
                    "{order_by!r} is not a measure of this report; sort by one of ",
                    order_by=order_by,
                )
                + ", ".join(sorted(names)),
            )
        )
        order_by = None
    filters = definition.get("filters")
    if filters is not None and check_filter is not None:
        for d in check_filter(str(filters), source):
            if d.get("severity", "error") == "error":
                problems.append(
                    (
                        ("filters",),
                        t(
                            "{message} (at {line}:{column})",
                            message=d["message"],
                            line=d.get("line", 1),
                            column=d.get("column", 1),
                        ),
                    )
                )
    totals = definition.get("totals") or {}
    options = definition.get("options") or {}
    spec = PivotSpec(
        name=str(definition.get("name", "")),
        source=source,
        rows=[d for d in rows if d is not None],
        columns=[d for d in cols if d is not None],
        measures=[m for m in measures if m is not None],
        filters=str(filters) if filters is not None else None,
        totals_rows=bool(totals.get("rows", True)),
        totals_columns=bool(totals.get("columns", True)),
        subtotals=bool(totals.get("subtotals", False)),
        fill_empty=bool(options.get("fill_empty", True)),
        max_cells=int(options.get("max_cells", MAX_CELLS)),
        chart=definition.get("chart") if isinstance(definition.get("chart"), str) else None,
        label=definition.get("label"),
        order_by=order_by,
        definition=definition,
    )
    return spec, problems


def resolve_path(catalog: Catalog, entity: str, path: str) -> tuple[list[Any], str | None]:
    """The fields a dotted path walks (``account.industry``), or the reason it cannot."""
    steps = []
    current = entity
    parts = path.split(".")
    for n, part in enumerate(parts):
        info = catalog.lookup(current, part)
        if info is None:
            hint = catalog.suggest(current, part)
            return [], t("{part!r} is not a field of {current}", part=part, current=current) + (
                t("; did you mean {hint!r}?", hint=hint) if hint else ""
            )
        steps.append(info)
        if n < len(parts) - 1:
            if info.type.kind != "record" or not info.type.entity or info.type.entity == "@user":
                return [], t(
                    "{part!r} is not a reference, so '.{next}' cannot follow it",
                    part=part,
                    next=parts[n + 1],
                )
            current = info.type.entity
    return steps, None


def _check_dimension(
    catalog: Catalog, entity: str, dim: Dimension, path: Path, problems: list[tuple[Path, str]]
) -> None:
    steps, reason = resolve_path(catalog, entity, dim.path)
    if reason:
        problems.append((path, reason))
        return
    kind = steps[-1].type.kind
    if kind in ("rows", "list"):
        problems.append(
            (path, t("{path!r} holds several values; a dimension needs one", path=dim.path))
        )
    if dim.top is not None and (dim.bucket is not None or kind != "string"):
        problems.append(
            (path, t("top applies to text values, and {path!r} is not text", path=dim.path))
        )
    if dim.bucket is not None and kind not in ("date", "datetime"):
        problems.append(
            (
                path,
                t(
                    "{path!r} is not a date, so it cannot be grouped by {bucket}",
                    path=dim.path,
                    bucket=dim.bucket,
                ),
            )
        )
    if dim.bucket in CYCLES and kind not in ("date", "datetime"):
        return


def _check_measure_field(
    catalog: Catalog, entity: str, m: Measure, path: Path, problems: list[tuple[Path, str]]
) -> None:
    steps, reason = resolve_path(catalog, entity, m.field or "")
    if reason:
        problems.append((path, reason))
        return
    kind = steps[-1].type.kind
    if m.agg in NUMERIC_AGGREGATES and kind not in ("number", "duration"):
        problems.append(
            (
                path,
                t(
                    "{agg} adds numbers, but {field!r} is a {describe}",
                    agg=m.agg,
                    field=m.field,
                    describe=steps[-1].type.describe(),
                ),
            )
        )
    if m.agg in ("min", "max") and kind not in ("number", "duration", "date", "datetime", "string"):
        problems.append(
            (path, t("{agg} needs a number, date or text, not {field!r}", agg=m.agg, field=m.field))
        )


def measure_catalog(names: list[str]) -> Catalog:
    """A catalog where every measure is a number field, so ``expr`` is checked like a rule."""
    schema = {
        "name": "_measures",
        "schema": {"type": "object", "properties": {n: {"type": "number"} for n in names}},
    }
    return Catalog(lambda e: schema if e == "_measures" else None, ["_measures"])


def _check_expression(
    m: Measure, others: list[str], path: Path, problems: list[tuple[Path, str]]
) -> None:
    from engine.errors import RuleSyntaxError
    from engine.rules.check import Checker
    from engine.rules.parse import parse_expression

    try:
        node = parse_expression(m.expr or "")
    except RuleSyntaxError as exc:
        problems.append((path, str(exc).splitlines()[0]))
        return
    checked = Checker(measure_catalog(others)).check_expression(node, "_measures")
    for d in checked.diagnostics:
        if d["severity"] == "error":
            problems.append((path, d["message"].replace("_measures", "the measures")))


__all__ = [
    "ADDITIVE",
    "AGGREGATES",
    "MAX_CELLS",
    "Dimension",
    "Measure",
    "PivotSpec",
    "measure_catalog",
    "read_pivot",
    "resolve_path",
]
