"""Third-party browser files, served from ``web/assets/node_modules`` (npm, with a lockfile).

``scripts/setup`` runs ``npm ci`` in ``web/assets``; nothing is fetched from a CDN
while the app runs, and no third-party source is committed. Only the files named
here are served, so the rest of ``node_modules`` is never reachable by URL.
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response, abort, send_file

ASSETS = Path(__file__).resolve().parent / "assets" / "node_modules"

#: URL name -> file inside node_modules.
FILES = {
    "echarts.js": "echarts/dist/echarts.min.js",
    "sortable.js": "sortablejs/Sortable.min.js",
    "icons.svg": "lucide-static/sprite.svg",
    # Flow designer: AntV X6 draws and edits the graph (pan, zoom, snaplines,
    # drag from a palette, selection, all in one self-contained build); dagre
    # lays it out automatically.
    "x6.js": "@antv/x6/dist/x6.min.js",
    "dagre.js": "@dagrejs/dagre/dist/dagre.min.js",
    # Dashboard editor: gridstack arranges, drags and resizes widgets.
    "gridstack.js": "gridstack/dist/gridstack-all.js",
    "gridstack.css": "gridstack/dist/gridstack.min.css",
}

#: ES modules (CodeMirror 6 and what it imports): bare specifier -> file inside
#: node_modules. Pages resolve the bare imports with :func:`import_map`; nothing is
#: bundled or built.
MODULES = {
    "codemirror": "codemirror/dist/index.js",
    "@codemirror/autocomplete": "@codemirror/autocomplete/dist/index.js",
    "@codemirror/commands": "@codemirror/commands/dist/index.js",
    "@codemirror/language": "@codemirror/language/dist/index.js",
    "@codemirror/lint": "@codemirror/lint/dist/index.js",
    "@codemirror/search": "@codemirror/search/dist/index.js",
    "@codemirror/state": "@codemirror/state/dist/index.js",
    "@codemirror/streamparser": "@codemirror/streamparser/dist/index.js",
    "@codemirror/view": "@codemirror/view/dist/index.js",
    "@lezer/common": "@lezer/common/dist/index.js",
    "@lezer/highlight": "@lezer/highlight/dist/index.js",
    "@lezer/lr": "@lezer/lr/dist/index.js",
    "@marijn/find-cluster-break": "@marijn/find-cluster-break/src/index.js",
    "crelt": "crelt/index.js",
    "style-mod": "style-mod/src/style-mod.js",
    "w3c-keyname": "w3c-keyname/index.js",
}


def import_map() -> tuple[str, str]:
    """The import map of :data:`MODULES` as script text, and its CSP source
    (``'sha256-...'``) so a page may inline it under ``script-src 'self'``."""
    import base64
    import hashlib
    import json

    text = json.dumps({"imports": {name: f"/vendor/esm/{name}.js" for name in MODULES}})
    digest = base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()
    return text, f"'sha256-{digest}'"


#: Bundle icon names that differ from the icon set's own names.
ICON_ALIASES = {"lifebuoy": "life-buoy", "chart": "chart-bar", "funnel": "filter", "": "circle"}

vendor = Blueprint("vendor", __name__)


def icon_id(name: str | None) -> str:
    """The sprite symbol for a bundle's icon name (a missing name draws a circle)."""
    return ICON_ALIASES.get(name or "", name or "circle")


def missing_files() -> list[str]:
    """The vendor files not installed (``npm ci`` in web/assets was not run)."""
    files = {**FILES, **MODULES}
    return [name for name, rel in files.items() if not (ASSETS / rel).is_file()]


@vendor.get("/vendor/<name>")
def vendor_file(name: str) -> Response:
    rel = FILES.get(name)
    if rel is None or not (ASSETS / rel).is_file():
        abort(404, f"{name}: not a vendor file, or web/assets was not installed (npm ci)")
    response = send_file(ASSETS / rel, max_age=86400)
    return response


@vendor.get("/vendor/esm/<path:name>.js")
def vendor_module(name: str) -> Response:
    rel = MODULES.get(name)
    if rel is None or not (ASSETS / rel).is_file():
        abort(404, f"{name}: not a vendor module, or web/assets was not installed (npm ci)")
    return send_file(ASSETS / rel, mimetype="text/javascript", max_age=86400)


__all__ = ["FILES", "MODULES", "icon_id", "import_map", "missing_files", "vendor"]
