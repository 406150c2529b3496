"""Dashboards: a grid of report charts and KPI numbers under global filters.

A dashboard is metadata (kind ``dashboard``, ``dashboards/*.yaml`` in a bundle)::

    name: sales_cockpit
    label: {en: Sales cockpit, zh-CN: 销售驾驶舱}
    filters:
      - {name: period, type: period, field: created_on,
         fields: {opportunity: expected_close}, label: {en: Period, zh-CN: 期间}}
      - {name: region, type: select, field: region, label: {en: Region, zh-CN: 区域}}
      - {name: owner, type: user, field: owner, label: {en: Owner, zh-CN: 负责人}}
    widgets:
      - {kpi: open_pipeline, source: opportunity, agg: sum, field: amount,
         filters: 'stage not in ["won", "lost"]', label: {en: Open pipeline, zh-CN: 在途金额}}
      - {report: pipeline_by_region, chart: stacked_bar, width: 2}

A global filter applies to every widget whose source has its field (``fields``
names another field per source entity); a widget whose source lacks it is shown
unfiltered and says so. Each widget runs through ``p.reports`` as the viewer, so
permissions, row scope and hidden fields apply per widget: a widget on an entity
the viewer may not read is left out, not an error for the whole page.
"""

from __future__ import annotations

from typing import Any

from engine.errors import PermissionDenied, ValidationError
from engine.reports.params import combine, condition, parameter

FILTER_TYPES = ("period", "select", "user", "text")
CHARTS = ("bar", "stacked_bar", "line", "pie", "funnel", "table")
MAX_WIDTH = 3

Path = tuple[Any, ...]


def kpi_definition(widget: dict[str, Any]) -> dict[str, Any]:
    """The one-cell pivot a KPI widget runs: no rows, no columns, one measure."""
    measure: dict[str, Any] = {"name": "value", "agg": widget.get("agg", "count")}
    if widget.get("field"):
        measure["field"] = widget["field"]
    out: dict[str, Any] = {
        "name": f"kpi_{widget.get('kpi', 'value')}",
        "type": "pivot",
        "source": widget.get("source"),
        "measures": [measure],
    }
    if widget.get("filters"):
        out["filters"] = widget["filters"]
    return out


def read_dashboard(
    definition: dict[str, Any],
    catalog: Any,
    reports: dict[str, str],
    check_filter: Any = None,
) -> list[tuple[Path, str]]:
    """Every problem of a dashboard definition as ``(path, message)``.

    ``reports`` maps the report names the dashboard may use to their source entity.
    """
    from engine.reports.spec import read_pivot

    problems: list[tuple[Path, str]] = []
    filters = definition.get("filters") or []
    if not isinstance(filters, list):
        return [(("filters",), "filters is a list of {name, type, field}")]
    names: set[str] = set()
    for i, f in enumerate(filters):
        if not isinstance(f, dict) or not isinstance(f.get("name"), str):
            problems.append((("filters", i), "a filter is {name: ..., type: ..., field: ...}"))
            continue
        if f["name"] in names:
            problems.append((("filters", i, "name"), f"two filters are called {f['name']!r}"))
        names.add(f["name"])
        if f.get("type", "select") not in FILTER_TYPES:
            problems.append(
                (("filters", i, "type"), f"{f.get('type')!r}: use one of {', '.join(FILTER_TYPES)}")
            )
        if not isinstance(f.get("field"), str):
            problems.append((("filters", i, "field"), "a filter needs the field it compares"))
        for entity, field in (f.get("fields") or {}).items():
            if not catalog.exists(entity):
                problems.append((("filters", i, "fields", entity), f"{entity!r} is not an entity"))
            elif (reason := _path_problem(catalog, entity, str(field))) is not None:
                problems.append((("filters", i, "fields", entity), reason))
    widgets = definition.get("widgets") or []
    if not isinstance(widgets, list) or not widgets:
        problems.append((("widgets",), "a dashboard needs widgets: reports or KPI numbers"))
        return problems
    for i, w in enumerate(widgets):
        path: Path = ("widgets", i)
        if not isinstance(w, dict) or ("report" in w) == ("kpi" in w):
            problems.append((path, "a widget is {report: <name>} or {kpi: <name>, source: ...}"))
            continue
        width = w.get("width", 1)
        if not isinstance(width, int) or isinstance(width, bool) or not 1 <= width <= MAX_WIDTH:
            problems.append(((*path, "width"), f"width is 1 to {MAX_WIDTH} grid columns"))
        if w.get("chart") is not None and w["chart"] not in CHARTS:
            problems.append(((*path, "chart"), f"{w['chart']!r}: use one of {', '.join(CHARTS)}"))
        if "report" in w:
            if w["report"] not in reports:
                problems.append(
                    ((*path, "report"), f"{w['report']!r} is not a report of this bundle")
                )
            continue
        _, kpi_problems = read_pivot(kpi_definition(w), catalog, check_filter)
        for sub, message in kpi_problems:
            key = {"measures": ("field",), "source": ("source",), "filters": ("filters",)}
            problems.append(((*path, *key.get(sub[0], ())), message))
    return problems


def _path_problem(catalog: Any, entity: str, path: str) -> str | None:
    from engine.reports.spec import resolve_path

    return resolve_path(catalog, entity, path)[1]


def applies(catalog: Any, spec_filter: dict[str, Any], source: str) -> str | None:
    """The field of ``source`` a global filter compares, or None when it has none."""
    field = (spec_filter.get("fields") or {}).get(source, spec_filter.get("field"))
    if not isinstance(field, str):
        return None
    from engine.reports.spec import resolve_path

    _, reason = resolve_path(catalog, source, field)
    return None if reason else field


def _source_of(service: Any, widget: dict[str, Any]) -> tuple[Any, str]:
    if "kpi" in widget:
        definition = kpi_definition(widget)
        return definition, str(definition["source"])
    spec = service.spec(widget["report"])
    source = spec["source"] if isinstance(spec, dict) else spec.source
    return widget["report"], source


def filter_inputs(service: Any, definition: dict[str, Any]) -> list[dict[str, Any]]:
    """The global filters with what a page needs to draw them (options of a select)."""
    catalog = service.p.rules.catalog
    sources = []
    for w in definition.get("widgets") or []:
        try:
            sources.append(_source_of(service, w)[1])
        except (ValidationError, KeyError):
            continue
    out = []
    for f in definition.get("filters") or []:
        entry = {"name": f["name"], "type": f.get("type", "select"), "label": f.get("label")}
        for source in sources:
            field = applies(catalog, f, source)
            found = parameter(catalog, source, field) if field else None
            if found is not None:
                if entry["label"] is None:
                    entry["label"] = found["label"]
                if found.get("options"):
                    entry["options"] = found["options"]
                break
        out.append(entry)
    return out


def run_dashboard(
    service: Any,
    dashboard: str | dict[str, Any],
    *,
    user: Any = None,
    values: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Every widget's result under the global filter ``values`` (by filter name)."""
    p = service.p
    definition = (
        p.meta.get("dashboard", dashboard)["definition"]
        if isinstance(dashboard, str)
        else dashboard
    )
    values = values or {}
    catalog = p.rules.catalog
    filters = {f["name"]: f for f in definition.get("filters") or [] if isinstance(f, dict)}
    widgets = []
    for index, w in enumerate(definition.get("widgets") or []):
        out: dict[str, Any] = {
            "index": index,
            "kind": "kpi" if "kpi" in w else "report",
            "name": w.get("kpi") or w.get("report"),
            "label": w.get("label"),
            "width": w.get("width", 1),
            "chart": w.get("chart"),
            "format": w.get("format"),
        }
        try:
            report, source = _source_of(service, w)
            conditions, applied, ignored = [], [], []
            for name, value in values.items():
                if name not in filters or value in (None, "", {}):
                    continue
                field = applies(catalog, filters[name], source)
                if field is None:
                    ignored.append(name)
                    continue
                conditions.append(condition(catalog, source, field, value))
                applied.append(name)
            result = service.run(report, user=user, filters=combine(*conditions))
        except PermissionDenied:
            out["denied"] = True
            widgets.append(out)
            continue
        out.update(source=source, applied=applied, ignored=ignored)
        if "kpi" in w:
            total = (result.get("totals") or {}).get("total") or [None]
            out["value"] = total[0]
        else:
            out["result"] = result
            if out["label"] is None:
                out["label"] = p.meta.get("report", w["report"])["definition"].get("label")
        widgets.append(out)
    return {
        "name": definition.get("name"),
        "label": definition.get("label"),
        "filters": filter_inputs(service, definition),
        "values": values,
        "widgets": widgets,
    }


__all__ = ["applies", "filter_inputs", "kpi_definition", "read_dashboard", "run_dashboard"]
