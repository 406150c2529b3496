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
      - {number: won, source: opportunity, agg: sum, field: amount,
         filters: 'stage == "won"', compare: previous_period, grid: {x: 0, y: 0, w: 3, h: 2}}
      - {list: big_deals, source: opportunity, filters: 'amount > 100000',
         columns: [name, amount, stage], limit: 10}
    share: [sales_manager]        # who may open it (left out: whoever may read a widget)
    home_for: [sales_manager]     # the home page of these roles

Widgets are ``report`` (a saved report as a chart or a table), ``kpi`` or ``number``
(one measure; ``compare: previous_period`` adds the value over the period just
before the global period filter's, and the change in percent) and ``list`` (a few
columns of the records matching a filter). ``grid`` places a widget on a grid of
:data:`GRID_COLUMNS` columns (the editor's gridstack); without it a widget flows
after the others ``width`` columns of three wide, as dashboards did before the editor.

A global filter applies to every widget whose source has its field (``fields``
names another field per source entity); a widget whose source lacks it is shown
unfiltered and says so. Each widget runs through ``p.reports`` as the viewer, so
permissions, row scope and hidden fields apply per widget: a widget on an entity
the viewer may not read is left out, not an error for the whole page.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from engine.errors import NotFound, PermissionDenied, ValidationError, error_entry
from engine.i18n import t
from engine.reports.params import combine, condition, parameter

FILTER_TYPES = ("period", "select", "user", "text")
CHARTS = ("bar", "stacked_bar", "line", "pie", "funnel", "table")
MAX_WIDTH = 3
#: The columns of the editor's grid, and the tallest a widget may be (in grid rows).
GRID_COLUMNS = 12
MAX_HEIGHT = 12
#: The keys that say what a widget is; exactly one of them names it.
KINDS = ("report", "kpi", "number", "list")
COMPARISONS = ("previous_period",)
MAX_LIST = 50

Path = tuple[Any, ...]


def kind_of(widget: dict[str, Any]) -> str | None:
    """What a widget is (``report``, ``kpi``, ``number``, ``list``), None unless exactly one."""
    found = [k for k in KINDS if k in widget]
    return found[0] if len(found) == 1 else None


def kpi_definition(widget: dict[str, Any]) -> dict[str, Any]:
    """The one-cell pivot a KPI or number widget runs: no rows, no columns, one measure."""
    measure: dict[str, Any] = {"name": "value", "agg": widget.get("agg", "count")}
    if widget.get("field"):
        measure["field"] = widget["field"]
    out: dict[str, Any] = {
        "name": f"kpi_{widget.get('kpi') or widget.get('number') or 'value'}",
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
    problems: list[tuple[Path, str]] = []
    filters = definition.get("filters") or []
    if not isinstance(filters, list):
        return [(("filters",), t("filters is a list of {name, type, field}"))]
    names: set[str] = set()
    for i, f in enumerate(filters):
        if not isinstance(f, dict) or not isinstance(f.get("name"), str):
            problems.append((("filters", i), t("a filter is {name: ..., type: ..., field: ...}")))
            continue
        if f["name"] in names:
            problems.append(
                (("filters", i, "name"), t("two filters are called {name!r}", name=f["name"]))
            )
        names.add(f["name"])
        if f.get("type", "select") not in FILTER_TYPES:
            problems.append(
                (
                    ("filters", i, "type"),
                    t(
                        "{type!r}: use one of {filter_types}",
                        type=f.get("type"),
                        filter_types=", ".join(FILTER_TYPES),
                    ),
                )
            )
        if not isinstance(f.get("field"), str):
            problems.append((("filters", i, "field"), t("a filter needs the field it compares")))
        for entity, field in (f.get("fields") or {}).items():
            if not catalog.exists(entity):
                problems.append(
                    (
                        ("filters", i, "fields", entity),
                        t("{entity!r} is not an entity", entity=entity),
                    )
                )
            elif (reason := _path_problem(catalog, entity, str(field))) is not None:
                problems.append((("filters", i, "fields", entity), reason))
    for key in ("share", "home_for"):
        roles = definition.get(key)
        if roles is not None and (
            not isinstance(roles, list) or not all(isinstance(r, str) and r for r in roles)
        ):
            problems.append(((key,), t("{key} is a list of role names", key=key)))
    widgets = definition.get("widgets") or []
    if not isinstance(widgets, list) or not widgets:
        problems.append((("widgets",), t("a dashboard needs widgets: reports, numbers or lists")))
        return problems
    for i, w in enumerate(widgets):
        problems.extend(_widget_problems(("widgets", i), w, catalog, reports, check_filter))
    return problems


def _widget_problems(
    path: Path, w: Any, catalog: Any, reports: dict[str, str], check_filter: Any
) -> list[tuple[Path, str]]:
    """The problems of one widget, each located under ``path`` (``widgets.3.grid.w``)."""
    from engine.reports.spec import read_pivot

    kind = kind_of(w) if isinstance(w, dict) else None
    if kind is None:
        return [
            (
                path,
                t(
                    "a widget is one of {report: <name>}, {kpi: <name>, source: ...}, {number: <name>, source: ...} or {list: <name>, source: ...}"
                ),
            )
        ]
    problems: list[tuple[Path, str]] = []
    width = w.get("width", 1)
    if not isinstance(width, int) or isinstance(width, bool) or not 1 <= width <= MAX_WIDTH:
        problems.append(
            ((*path, "width"), t("width is 1 to {max_width} grid columns", max_width=MAX_WIDTH))
        )
    problems.extend(_grid_problems((*path, "grid"), w.get("grid")))
    if w.get("chart") is not None and w["chart"] not in CHARTS:
        problems.append(
            (
                (*path, "chart"),
                t("{chart!r}: use one of {charts}", chart=w["chart"], charts=", ".join(CHARTS)),
            )
        )
    if kind == "report":
        if w["report"] not in reports:
            problems.append(
                (
                    (*path, "report"),
                    t("{report!r} is not a report of this bundle", report=w["report"]),
                )
            )
        return problems
    if kind == "list":
        return problems + _list_problems(path, w, catalog, check_filter)
    if w.get("compare") is not None and w["compare"] not in COMPARISONS:
        problems.append(
            (
                (*path, "compare"),
                t(
                    "{compare!r}: use one of {comparisons}",
                    compare=w["compare"],
                    comparisons=", ".join(COMPARISONS),
                ),
            )
        )
    _, kpi_problems = read_pivot(kpi_definition(w), catalog, check_filter)
    for sub, message in kpi_problems:
        key = {"measures": ("field",), "source": ("source",), "filters": ("filters",)}
        problems.append(((*path, *key.get(sub[0], ())), message))
    return problems


def _grid_problems(path: Path, grid: Any) -> list[tuple[Path, str]]:
    """A grid place is ``{x, y, w, h}`` in whole cells inside :data:`GRID_COLUMNS` columns."""
    if grid is None:
        return []
    if not isinstance(grid, dict):
        return [(path, t("grid is {x, y, w, h}"))]
    problems: list[tuple[Path, str]] = []
    limits = {
        "x": (0, GRID_COLUMNS - 1),
        "y": (0, 1000),
        "w": (1, GRID_COLUMNS),
        "h": (1, MAX_HEIGHT),
    }
    for key, (low, high) in limits.items():
        value = grid.get(key)
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            problems.append(
                (
                    (*path, key),
                    t("{key} is a whole number from {low} to {high}", key=key, low=low, high=high),
                )
            )
    x, w = grid.get("x"), grid.get("w")
    if not problems and x + w > GRID_COLUMNS:
        problems.append(
            (
                (*path, "w"),
                t(
                    "x + w is {value}: the grid has {grid_columns} columns",
                    value=x + w,
                    grid_columns=GRID_COLUMNS,
                ),
            )
        )
    return problems


def _list_problems(
    path: Path, w: dict[str, Any], catalog: Any, check_filter: Any
) -> list[tuple[Path, str]]:
    """A list widget: a source entity, a filter that checks, columns that are its fields."""
    from engine.reports.spec import read_pivot

    count = {
        "name": "list",
        "type": "pivot",
        "source": w.get("source"),
        "measures": [{"name": "n", "agg": "count"}],
    }
    if w.get("filters"):
        count["filters"] = w["filters"]
    problems: list[tuple[Path, str]] = []
    _, found = read_pivot(count, catalog, check_filter)
    for sub, message in found:
        if sub[0] in ("source", "filters"):
            problems.append(((*path, sub[0]), message))
    columns = w.get("columns")
    if not isinstance(columns, list) or not columns:
        problems.append(((*path, "columns"), t("a list shows one or more columns: field names")))
    elif not any(p[-1] == "source" for p, _m in problems):
        for n, column in enumerate(columns):
            reason = (
                _path_problem(catalog, str(w["source"]), column)
                if isinstance(column, str)
                else t("a column is a field name")
            )
            if reason:
                problems.append(((*path, "columns", n), reason))
    limit = w.get("limit", 10)
    if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= MAX_LIST:
        problems.append(
            ((*path, "limit"), t("limit is 1 to {max_list} records", max_list=MAX_LIST))
        )
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
    """What a widget runs (a report name or a definition) and its source entity."""
    if "kpi" in widget or "number" in widget:
        definition = kpi_definition(widget)
        return definition, str(definition["source"])
    if "list" in widget:
        return None, str(widget.get("source"))
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
        except (ValidationError, NotFound, KeyError):
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


def layout(widgets: list[Any]) -> list[dict[str, int]]:
    """Every widget's place on the grid: its own ``grid``, or, for a widget without one
    (dashboards written before the editor), the next free place in reading order,
    ``width`` thirds of the grid wide (a number two rows high, a chart four)."""
    places: list[dict[str, int]] = []
    x = y = row_height = 0
    bottom = 0
    for w in widgets:
        grid = w.get("grid") if isinstance(w, dict) else None
        if isinstance(grid, dict) and not _grid_problems((), grid):
            places.append({k: int(grid[k]) for k in ("x", "y", "w", "h")})
            bottom = max(bottom, grid["y"] + grid["h"])
    y = bottom
    for i, w in enumerate(widgets):
        grid = w.get("grid") if isinstance(w, dict) else None
        if isinstance(grid, dict) and not _grid_problems((), grid):
            continue
        width = w.get("width", 1) if isinstance(w, dict) else 1
        cols = max(1, min(MAX_WIDTH, width if isinstance(width, int) else 1)) * 4
        height = 2 if isinstance(w, dict) and kind_of(w) in ("kpi", "number") else 4
        if x + cols > GRID_COLUMNS:
            x, y, row_height = 0, y + row_height, 0
        places.insert(i, {"x": x, "y": y, "w": cols, "h": height})
        x += cols
        row_height = max(row_height, height)
    return places


def may_open(p: Any, definition: dict[str, Any], user: Any) -> bool:
    """Whether ``user`` may open a dashboard: the system, its builders, or a role it is
    shared with (a dashboard shared with no one opens for whoever may read a widget)."""
    if user is None:
        return True
    access = p.access(user)
    shared = definition.get("share")
    if not shared or access.may_customize("dashboard"):
        return True
    return bool(set(access.roles) & set(shared))


def require_open(p: Any, definition: dict[str, Any], user: Any) -> None:
    """PermissionDenied unless ``user`` may open the dashboard (see :func:`may_open`)."""
    if not may_open(p, definition, user):
        raise PermissionDenied(
            t(
                "the dashboard {name} is not shared with {user}",
                name=repr(definition.get("name")),
                user=user,
            ),
            [
                error_entry(
                    t("shared with: {users}", users=", ".join(definition.get("share") or [])),
                    field="share",
                )
            ],
        )


def home_dashboard(p: Any, user: str) -> str | None:
    """The dashboard set as the home page of one of ``user``'s roles (first by name)."""
    roles = set(p.access(user).roles)
    with p.db.transaction(write=False) as conn:
        stored = p.repo.all_current(conn, "dashboard")
    for name, (definition, _v) in sorted(stored.items()):
        if roles & set(definition.get("home_for") or []) and may_open(p, definition, user):
            return name
    return None


def _definition(p: Any, dashboard: str | dict[str, Any]) -> dict[str, Any]:
    if isinstance(dashboard, str):
        return dict(p.meta.get("dashboard", dashboard)["definition"])
    return dashboard


def widget_filter(
    catalog: Any,
    definition: dict[str, Any],
    source: str,
    values: dict[str, Any],
) -> tuple[str | None, list[str], list[str]]:
    """The global filter ``values`` as one condition on ``source``, with the names of the
    filters applied and of those ignored because ``source`` lacks their field."""
    filters = {f["name"]: f for f in definition.get("filters") or [] if isinstance(f, dict)}
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
    return combine(*conditions), applied, ignored


def previous_period(value: Any) -> dict[str, str] | None:
    """The period of the same length just before ``{from, to}`` (None unless both ends)."""
    if not isinstance(value, dict):
        return None
    try:
        start = dt.date.fromisoformat(str(value.get("from")))
        end = dt.date.fromisoformat(str(value.get("to")))
    except ValueError:
        return None
    if end < start:
        return None
    days = (end - start).days + 1
    return {
        "from": (start - dt.timedelta(days=days)).isoformat(),
        "to": (start - dt.timedelta(days=1)).isoformat(),
    }


def _change(value: Any, previous: Any) -> float | None:
    """The change from ``previous`` to ``value`` in percent (None when there is no base)."""
    if value is None or previous is None or float(previous) == 0:
        return None
    return round((float(value) - float(previous)) / abs(float(previous)) * 100, 1)


def _kpi_value(service: Any, report: Any, user: Any, filters: str | None) -> Any:
    result = service.run(report, user=user, filters=filters)
    return ((result.get("totals") or {}).get("total") or [None])[0]


def _run_widget(
    service: Any,
    definition: dict[str, Any],
    w: dict[str, Any],
    out: dict[str, Any],
    user: Any,
    values: dict[str, Any],
) -> None:
    """Fill ``out`` with one widget's figures, as ``user`` sees them."""
    p = service.p
    catalog = p.rules.catalog
    report, source = _source_of(service, w)
    where, applied, ignored = widget_filter(catalog, definition, source, values)
    out.update(source=source, applied=applied, ignored=ignored)
    kind = out["kind"]
    if kind == "list":
        name = user if isinstance(user, str) else None
        records = p.records(source, name)
        where = combine(w.get("filters"), where)
        if name is not None:
            p.access(name).require(source, "read")
        columns = [c for c in w.get("columns") or [] if isinstance(c, str)]
        hidden = p.access(name).hidden(source) if name is not None else set()
        out["columns"] = [c for c in columns if c.split(".")[0] not in hidden]
        out["count"] = records.count(where)
        keep = {"id", *(c.split(".")[0] for c in out["columns"])}
        out["records"] = [
            {k: v for k, v in r.items() if k in keep}
            for r in records.list(where, limit=int(w.get("limit", 10)))
        ]
        return
    if kind in ("kpi", "number"):
        out["value"] = _kpi_value(service, report, user, where)
        if w.get("compare") == "previous_period":
            earlier = dict(values)
            shifted = {n: previous_period(v) for n, v in values.items() if n in applied}
            shifted = {n: v for n, v in shifted.items() if v is not None}
            if shifted:
                earlier.update(shifted)
                before, _a, _i = widget_filter(catalog, definition, source, earlier)
                out["previous"] = _kpi_value(service, report, user, before)
                out["previous_period"] = next(iter(shifted.values()))
                out["change"] = _change(out["value"], out["previous"])
            else:
                out["previous"] = None
                out["change"] = None
        return
    out["result"] = service.run(report, user=user, filters=where)
    if out["label"] is None:
        out["label"] = p.meta.get("report", w["report"])["definition"].get("label")


def run_dashboard(
    service: Any,
    dashboard: str | dict[str, Any],
    *,
    user: Any = None,
    values: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Every widget's result under the global filter ``values`` (by filter name).

    A widget the viewer may not read is ``denied`` (no figures at all); one that cannot
    run (a report deleted since, a filter on a field removed) carries its ``error``.
    Opening a dashboard not shared with the viewer's roles is PermissionDenied.
    """
    p = service.p
    definition = _definition(p, dashboard)
    require_open(p, definition, user)
    values = values or {}
    widgets = []
    for index, w in enumerate(definition.get("widgets") or []):
        kind = kind_of(w) if isinstance(w, dict) else None
        if kind is None:
            widgets.append(
                {"index": index, "kind": None, "error": t("not a widget: see the checks")}
            )
            continue
        out: dict[str, Any] = {
            "index": index,
            "kind": kind,
            "name": w.get(kind),
            "label": w.get("label"),
            "width": w.get("width", 1),
            "grid": w.get("grid"),
            "chart": w.get("chart"),
            "format": w.get("format"),
        }
        try:
            _run_widget(service, definition, w, out, user, values)
        except PermissionDenied:
            out = {k: out[k] for k in ("index", "kind", "name", "width", "grid")}
            out["denied"] = True
        except (ValidationError, NotFound) as exc:
            out = {k: out[k] for k in ("index", "kind", "name", "label", "width", "grid")}
            out["error"] = exc.message
        widgets.append(out)
    return {
        "name": definition.get("name"),
        "label": definition.get("label"),
        "filters": filter_inputs(service, definition),
        "values": values,
        "widgets": widgets,
    }


def drill_widget(
    service: Any,
    dashboard: str | dict[str, Any],
    index: int,
    key: list[Any],
    *,
    user: Any = None,
    values: dict[str, Any] | None = None,
    limit: int = 50,
) -> dict[str, Any]:
    """The records behind one figure of widget ``index`` under the global filters:
    a pivot cell (``key`` = row keys then column keys), a number (``key`` = []), a
    funnel's stage or a leaderboard's entry (``key`` = [value])."""
    p = service.p
    definition = _definition(p, dashboard)
    require_open(p, definition, user)
    widgets = definition.get("widgets") or []
    if not 0 <= index < len(widgets) or not isinstance(widgets[index], dict):
        raise NotFound(
            t("the dashboard has no widget {index}", index=index),
            [error_entry(t("widgets are 0 to {last}", last=len(widgets) - 1), field="widget")],
        )
    w = widgets[index]
    if kind_of(w) not in ("report", "kpi", "number"):
        raise ValidationError(
            t("only a report's pivot or a number drills down"),
            [
                error_entry(
                    t("widget {index} is a {kind}", index=index, kind=kind_of(w)), field="widget"
                )
            ],
        )
    report, source = _source_of(service, w)
    from engine.reports.drill import DRILL_FIELDS
    from engine.reports.spec import PivotSpec

    spec = service.spec(report)
    if not isinstance(spec, PivotSpec) and spec.get("type") not in DRILL_FIELDS:
        raise ValidationError(
            t("only a pivot, a funnel or a leaderboard drills down to its records"),
            [
                error_entry(
                    t(
                        "{report} is a {kind}",
                        report=repr(w.get("report")),
                        kind=str(spec.get("type")),
                    ),
                    field="widget",
                )
            ],
        )
    where, _applied, _ignored = widget_filter(p.rules.catalog, definition, source, values or {})
    answer = service.drill(report, key, user=user, filters=where, limit=limit)
    answer["entity"] = source
    answer["title_field"] = p.entities.get(source).model.title_field
    return answer


__all__ = [
    "applies",
    "drill_widget",
    "filter_inputs",
    "home_dashboard",
    "kind_of",
    "kpi_definition",
    "layout",
    "may_open",
    "previous_period",
    "read_dashboard",
    "require_open",
    "run_dashboard",
    "widget_filter",
]
