"""The report builder: ``/build/reports/<name>``, a report drafted by dragging fields.

The view only gathers what the page needs to start: the saved definition and
its version (or nothing, for a new report), the entities the caller may read,
and the engine's own vocabularies (report types, date buckets, aggregates), so
the page never offers what the engine would refuse. ``static/report_builder.js``
edits the draft, asks ``/api/v1/reports/builder`` for fields and previews, and
saves through the metadata API (``/api/v1/meta/report/<name>``).

The builder's API blueprint is registered here, nested, so the page and the
endpoints it calls arrive together.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, g, render_template

from engine.errors import NotFound
from engine.reports.buckets import BUCKETS
from engine.reports.spec import AGGREGATES, NUMERIC_AGGREGATES, PERCENT_OF
from engine.reports.types import report_types
from web.http import platform_of
from web.i18n import label
from web.report_builder_api import blueprint as api_blueprint
from web.ui.context import sign_in_first

blueprint = Blueprint("report_builder", __name__)
blueprint.register_blueprint(api_blueprint)

#: The chart types the report page draws.
CHARTS = ("table", "bar", "stacked_bar", "line", "pie")
#: The types with a form of their own (pivot has the drag-and-drop zones).
FORMS = ("pivot", "funnel", "rfm", "forecast", "leaderboard")


def _readable_entities(access: Any) -> list[dict[str, str]]:
    """The entities the caller may read, labelled in the page's language."""
    p = platform_of()
    out = []
    for name in p.entities.names():
        if access.scopes(name, "read"):
            out.append({"name": name, "label": label(p.entities.get(name).model.label, name)})
    return sorted(out, key=lambda e: e["label"])


@blueprint.get("/build/reports/<name>")
def report_builder(name: str) -> Any:
    """The builder on the saved report ``name``, or on a new one (403 without customize)."""
    if (gate := sign_in_first()) is not None:
        return gate
    p = platform_of()
    access = p.access(g.user)
    if not access.may_customize("report"):
        abort(403)
    try:
        found = p.meta.get("report", name)
    except NotFound:
        found = None
    data = {
        "name": name,
        "found": found,
        "entities": _readable_entities(access),
        "types": [t for t in FORMS if t in report_types()],
        "buckets": list(BUCKETS),
        "aggregates": list(AGGREGATES),
        "numeric_aggregates": list(NUMERIC_AGGREGATES),
        "percent_of": list(PERCENT_OF),
        "charts": list(CHARTS),
    }
    return render_template("build/report.html", name=name, data=data)


__all__ = ["blueprint"]
