"""Report and dashboard pages: a chart, a table, parameters, drill-down and exports.

The pages carry what the scripts need in a ``<script type="application/json">``
block (labels in the user's language, the parameters, the API addresses); the
figures come from the REST API (``/api/v1/reports/<name>``), so the page and a
program read the same numbers. A report opens only for users who may read its
source entity; the API applies the row scope to every figure and drill-down.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, g, render_template

from engine.errors import NotFound, PermissionDenied, ValidationError
from web.http import platform_of
from web.i18n import current_lang, label
from web.i18n import gettext as _
from web.ui.context import sign_in_first

blueprint = Blueprint("reports", __name__)


def _columns(kind: str) -> list[tuple[str, str]]:
    """The columns of the report types whose rows are flat maps."""
    if kind == "funnel":
        return [
            ("stage", _("Stage")),
            ("count", _("Count")),
            ("amount", _("Amount")),
            ("entered", _("Entered")),
            ("reached", _("Reached")),
            ("conversion", _("Conversion %")),
            ("of_first", _("Of first %")),
        ]
    if kind == "forecast":
        return [
            ("month", _("Close month")),
            ("count", _("Count")),
            ("amount", _("Pipeline")),
            ("weighted", _("Weighted")),
        ]
    if kind == "rfm":
        return [
            ("segment", _("Segment")),
            ("customers", _("Customers")),
            ("monetary", _("Monetary")),
        ]
    if kind == "leaderboard":
        return [
            ("rank", _("Rank")),
            ("key", _("Who")),
            ("value", _("Value")),
            ("target", _("Target")),
            ("attainment", _("Attainment %")),
        ]
    return []


def _segment_words(spec: dict[str, Any]) -> dict[str, str]:
    """RFM segment key -> its words in the request's language (the exports use the same)."""
    from engine.reports.rfm import OTHER, segment_label

    lang = current_lang()
    return {name: segment_label(name, lang) for name in [*spec["segments"], OTHER]}


def _error(status: int, message: str) -> Any:
    return render_template("reports/error.html", message=message), status


def _labelled(values: dict[str, Any]) -> dict[str, Any]:
    return {k: label(v, str(k)) for k, v in values.items()}


def _field_label(catalog: Any, entity: str, path: str) -> str:
    from engine.reports.spec import resolve_path

    steps, reason = resolve_path(catalog, entity, path)
    field = steps[-1].field if steps and not reason else None
    if field is not None:
        return label(field.label, path)
    system = {
        "owner": _("Owner"),
        "team": _("Team"),
        "created_on": _("Created on"),
        "modified_on": _("Modified on"),
        "created_by": _("Created by"),
        "modified_by": _("Modified by"),
    }
    return system.get(path.split(".")[-1], path)


def report_page_data(p: Any, name: str) -> dict[str, Any]:
    """What the report page's script needs, labels in the request's language."""
    from engine.reports.params import value_labels
    from engine.reports.spec import PivotSpec

    definition = p.meta.get("report", name)["definition"]
    spec = p.reports.spec(name)
    pivot = isinstance(spec, PivotSpec)
    source = spec.source if pivot else spec["source"]
    catalog = p.rules.catalog
    if pivot:
        paths = [d.path for d in spec.dimensions]
    else:
        paths = [spec[k] for k in ("stage", "by") if isinstance(spec.get(k), str)]
    parameters = []
    for param in p.reports.parameters(name):
        entry = dict(param, label=label(param["label"], param["field"]))
        if "options" in entry:
            entry["options"] = [
                {"value": o["value"], "label": label(o["label"], o["value"])}
                for o in entry["options"]
            ]
        parameters.append(entry)
    values = {
        path: _labelled(labels) for path, labels in value_labels(catalog, source, paths).items()
    }
    first = None if pivot else spec.get("stage") or spec.get("by")
    if definition.get("type") == "rfm":
        first = "segment"  # the segment keys read as their words, in the table and the chart
        values[first] = _segment_words(spec)
    return {
        "name": name,
        "type": definition.get("type", "pivot"),
        "label": label(definition.get("label"), name),
        "source": source,
        "chart": definition.get("chart") if isinstance(definition.get("chart"), str) else None,
        "drill": pivot,
        "stage_field": first,
        "parameters": parameters,
        "values": values,
        "dimensions": paths if pivot else [],
        "dimension_labels": [_field_label(catalog, source, path) for path in paths],
        "title_field": p.entities.get(source).model.title_field,
        "measures": {m.name: label(m.label, m.name) for m in spec.measures} if pivot else {},
        "columns": [{"key": k, "label": t} for k, t in _columns(definition.get("type", "pivot"))],
        "api": f"/api/v1/reports/{name}",
    }


@blueprint.get("/reports/<name>")
def report_page(name: str) -> Any:
    if (gate := sign_in_first()) is not None:
        return gate
    p = platform_of()
    try:
        definition = p.meta.get("report", name)["definition"]
    except NotFound:
        return _error(404, _("There is no such report."))
    if not p.access(g.user).scopes(str(definition.get("source", "")), "read"):
        return _error(403, _("You may not open this report."))
    try:
        data = report_page_data(p, name)
    except (PermissionDenied, ValidationError) as exc:
        return _error(403 if isinstance(exc, PermissionDenied) else 400, exc.message)
    from web.ui.report_delivery import choices, delivery_data

    return render_template(
        "reports/report.html",
        data=data,
        title=data["label"],
        description=label(definition.get("description"), ""),
        delivery=delivery_data(p, name),
        choices=choices(),
    )


def widget_view(p: Any, access: Any, index: int, w: dict[str, Any]) -> dict[str, Any]:
    """What the page needs to draw one widget (labels in the user's language, the report's
    page data for a chart, a list's column labels); ``denied`` when the viewer may not read
    its source, so the page shows a "not allowed" tile and the API sends no figures."""
    from engine.reports.dashboard import kind_of

    kind = kind_of(w) or ""
    entry: dict[str, Any] = {
        "index": index,
        "kind": kind,
        "width": w.get("width", 1),
        "chart": w.get("chart"),
        "format": w.get("format"),
        "compare": w.get("compare"),
        "label": label(w.get("label"), str(w.get(kind) or "")),
    }
    if not kind:
        entry["error"] = _("This is not a widget: a report, a number or a list.")
        return entry
    if kind == "report":
        try:
            report = report_page_data(p, w["report"])
        except (NotFound, ValidationError, PermissionDenied) as exc:
            entry["error"] = exc.message
            return entry
        if not access.scopes(report["source"], "read"):
            entry["denied"] = True
            return entry
        entry["report"] = report
        if w.get("label") is None:
            entry["label"] = report["label"]
        return entry
    source = str(w.get("source", ""))
    if source not in p.entities.names():
        entry["error"] = _("There is no such entity.")
        return entry
    if not access.scopes(source, "read"):
        entry["denied"] = True
        return entry
    entry["source"] = source
    entry["title_field"] = p.entities.get(source).model.title_field
    if kind == "list":
        hidden = access.hidden(source)
        entry["columns"] = [
            {"key": c, "label": _field_label(p.rules.catalog, source, c)}
            for c in w.get("columns") or []
            if isinstance(c, str) and c.split(".")[0] not in hidden
        ]
    return entry


def dashboard_page_data(
    p: Any, name: str, definition: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The dashboard's filters and widgets at their places (figures come from the API)."""
    from engine.reports.dashboard import filter_inputs, layout

    if definition is None:
        definition = p.meta.get("dashboard", name)["definition"]
    access = p.access(g.user)
    filters = []
    for f in filter_inputs(p.reports, definition):
        entry = dict(f, label=label(f.get("label"), f["name"]))
        if "options" in entry:
            entry["options"] = [
                {"value": o["value"], "label": label(o["label"], o["value"])}
                for o in entry["options"]
            ]
        filters.append(entry)
    widgets = definition.get("widgets") or []
    places = layout(widgets)
    views = []
    for index, w in enumerate(widgets):
        view = widget_view(p, access, index, w if isinstance(w, dict) else {})
        view["grid"] = places[index]
        views.append(view)
    return {
        "name": name,
        "label": label(definition.get("label"), name),
        "filters": filters,
        "widgets": views,
        "api": f"/api/v1/dashboards/{name}",
    }


@blueprint.get("/dashboards/<name>")
def dashboard_page(name: str) -> Any:
    if (gate := sign_in_first()) is not None:
        return gate
    from engine.reports.dashboard import may_open

    p = platform_of()
    try:
        definition = p.meta.get("dashboard", name)["definition"]
    except NotFound:
        return _error(404, _("There is no such dashboard."))
    if not may_open(p, definition, g.user):
        return _error(403, _("This dashboard is not shared with you."))
    data = dashboard_page_data(p, name, definition)
    if not any("denied" not in w for w in data["widgets"]):
        return _error(403, _("You may not open this dashboard."))
    return render_template(
        "reports/dashboard.html",
        data=data,
        title=data["label"],
        description=label(definition.get("description"), ""),
    )


__all__ = ["blueprint", "dashboard_page_data", "report_page_data", "widget_view"]
