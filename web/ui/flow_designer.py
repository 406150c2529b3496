"""The flow designer page, ``/build/flows/<name>``, and the designer's API.

The view only gathers what the page starts from (the live definition and its
version, the node-type palette from the registry, the entities a flow may run
on) and renders ``build/flow.html``; ``web/static/flow_designer.js`` draws and
edits the graph on an AntV X6 canvas. Loading and publishing go through the
metadata API (``/api/v1/meta/flow/<name>``), the checks, dry runs and version
counts through ``web/flows_design_api.py``, nested here so one blueprint
entry brings the whole designer.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, g, render_template

from engine.errors import NotFound
from web.flows_design_api import blueprint as design_api
from web.flows_design_api import palette
from web.http import platform_of
from web.i18n import label
from web.ui.context import sign_in_first

blueprint = Blueprint("flow_designer", __name__)
blueprint.register_blueprint(design_api)


@blueprint.get("/build/flows/<name>")
def flow_designer(name: str) -> Any:
    """The designer on flow ``name``; a name with no flow yet starts an empty draft."""
    if (gate := sign_in_first()) is not None:
        return gate
    p = platform_of()
    if not p.access(g.user).may_customize("flow"):
        abort(403)
    try:
        found = p.meta.get("flow", name)
    except NotFound:
        found = None
    data = {
        "name": name,
        "found": found,
        "palette": palette(),
        "entities": [
            {"name": n, "label": label(p.entities.get(n).model.label, n)}
            for n in p.entities.names()
        ],
    }
    return render_template("build/flow.html", name=name, data=data)


__all__ = ["blueprint"]
