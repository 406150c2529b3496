"""The dashboard editor (``/build/dashboards/<name>``) and the dashboard endpoints it adds.

The editor is a client of the metadata API: it loads the live definition and its
version, and saves with ``PUT /api/v1/meta/dashboard/<name>`` naming that version, so
a stale save is refused (409) and nothing is lost silently. This module only gathers
what the page starts with (the reports the user may read, the entities and fields a
number or a list may use, the roles to share with) and adds two endpoints:

* ``POST /api/v1/dashboards/preview``: a draft definition's widgets, run as the
  editing user, so each widget previews live while it is edited (builders only);
* ``GET /api/v1/dashboards/<name>/widgets/<index>/drill``: the records behind one
  figure of a saved dashboard, under the global filters and the viewer's row scope.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, abort, g, render_template, request

from engine.errors import NotFound, ValidationError, error_entry
from engine.reports.dashboard import CHARTS, GRID_COLUMNS, MAX_HEIGHT, drill_widget, layout
from engine.reports.spec import AGGREGATES
from web.auth import require_user
from web.http import body, json_response, platform_of
from web.i18n import label
from web.ui.context import sign_in_first
from web.ui.reports import dashboard_page_data, widget_view

blueprint = Blueprint("dashboard_editor", __name__)


def _reports(p: Any, access: Any) -> list[dict[str, Any]]:
    """The saved reports the user may read: the editor's palette offers only these."""
    with p.db.transaction(write=False) as conn:
        stored = p.repo.all_current(conn, "report")
    return [
        {
            "name": n,
            "label": label(d.get("label"), n),
            "type": d.get("type", "pivot"),
            "source": d.get("source"),
            "chart": d.get("chart") if isinstance(d.get("chart"), str) else None,
        }
        for n, (d, _v) in sorted(stored.items())
        if access.scopes(str(d.get("source", "")), "read")
    ]


def _entities(p: Any, access: Any) -> list[dict[str, Any]]:
    """The entities the user may read, each with the fields a list or a number may use."""
    out = []
    for name in p.entities.names():
        if not access.scopes(name, "read"):
            continue
        model = p.entities.get(name).model
        hidden = access.hidden(name)
        fields = [
            {
                "name": key,
                "label": label(field.label, key),
                "numeric": field.prop.get("type") in ("number", "integer"),
            }
            for key, field in model.fields.items()
            if key not in hidden and field.prop.get("type") != "array"
        ]
        dates = [
            {"name": key, "label": label(field.label, key)}
            for key, field in model.fields.items()
            if key not in hidden and field.prop.get("format") in ("date", "date-time")
        ]
        out.append(
            {
                "name": name,
                "label": label(model.label, name),
                "title": model.title_field,
                "fields": fields,
                "dates": dates,
            }
        )
    return out


def _roles(p: Any) -> list[dict[str, str]]:
    table = p.access(g.user).table
    return [
        {"name": r, "label": label((info or {}).get("label"), r)}
        for r, info in sorted(table.roles.items())
    ]


@blueprint.get("/build/dashboards/<name>")
def editor(name: str) -> Any:
    if (gate := sign_in_first()) is not None:
        return gate
    p = platform_of()
    access = p.access(g.user)
    if not access.may_customize("dashboard"):
        abort(403)
    try:
        found = p.meta.get("dashboard", name)
    except NotFound:
        found = None
    if found is not None:
        definition = dict(found["definition"])
        places = layout(definition.get("widgets") or [])
        definition["widgets"] = [
            dict(w, grid=places[i]) for i, w in enumerate(definition.get("widgets") or [])
        ]
        found = dict(found, definition=definition)
    data = {
        "name": name,
        "found": found,
        "reports": _reports(p, access),
        "entities": _entities(p, access),
        "roles": _roles(p),
        "charts": list(CHARTS),
        "aggregates": list(AGGREGATES),
        "columns": GRID_COLUMNS,
        "max_height": MAX_HEIGHT,
    }
    return render_template("build/dashboard.html", name=name, data=data)


@blueprint.post("/api/v1/dashboards/preview")
def preview() -> Any:
    """A draft's widgets as the editing user sees them: ``{definition, values}`` in,
    per widget what the page draws it with (``views``) and its figures (``widgets``).
    The draft is checked first; its problems come back located, beside the figures."""
    p = platform_of()
    user = require_user()
    p.access(user).require_customize("dashboard")
    data = body()
    definition = data.get("definition")
    values = data.get("values") or {}
    if not isinstance(definition, dict) or not isinstance(values, dict):
        raise ValidationError(
            "send {definition: {...}, values: {...}}",
            [error_entry("expected an object", field="definition")],
        )
    definition = dict(definition, name=str(definition.get("name") or "draft"))
    definition.pop("share", None)  # the preview is the builder's own view
    problems = p.reports.dashboard_problems(definition) if definition.get("widgets") else []
    page = dashboard_page_data(p, definition["name"], definition)
    views = {w["index"]: w for w in page["widgets"]}
    access = p.access(user)
    for index, w in enumerate(definition.get("widgets") or []):
        views.setdefault(index, widget_view(p, access, index, w))
    answer = p.reports.dashboard(definition, user=user, values=values)
    return json_response(
        {
            "problems": problems,
            "filters": page["filters"],
            "views": list(views.values()),
            "widgets": answer["widgets"],
        }
    )


@blueprint.get("/api/v1/dashboards/<name>/widgets/<int:index>/drill")
def drill(name: str, index: int) -> Any:
    """The records behind one figure: ``key`` is a JSON list (row keys then column keys;
    ``[]`` for a number), ``values`` the global filters as on the dashboard."""
    user = require_user()
    try:
        key = json.loads(request.args.get("key") or "[]")
        values = json.loads(request.args.get("values") or "{}")
    except ValueError:
        key = values = None
    if not isinstance(key, list) or not isinstance(values, dict):
        raise ValidationError(
            "key is a JSON list and values a JSON object",
            [error_entry("not JSON of the right shape", field="key" if key is None else "values")],
        )
    try:
        limit = max(1, min(200, int(request.args.get("limit", 50))))
    except ValueError:
        limit = 50
    answer = drill_widget(
        platform_of().reports, name, index, key, user=user, values=values, limit=limit
    )
    return json_response(answer)


__all__ = ["blueprint"]
