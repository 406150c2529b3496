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
}

#: Bundle icon names that differ from the icon set's own names.
ICON_ALIASES = {"lifebuoy": "life-buoy", "chart": "chart-bar", "funnel": "filter", "": "circle"}

vendor = Blueprint("vendor", __name__)


def icon_id(name: str | None) -> str:
    """The sprite symbol for a bundle's icon name (a missing name draws a circle)."""
    return ICON_ALIASES.get(name or "", name or "circle")


def missing_files() -> list[str]:
    """The vendor files not installed (``npm ci`` in web/assets was not run)."""
    return [name for name, rel in FILES.items() if not (ASSETS / rel).is_file()]


@vendor.get("/vendor/<name>")
def vendor_file(name: str) -> Response:
    rel = FILES.get(name)
    if rel is None or not (ASSETS / rel).is_file():
        abort(404, f"{name}: not a vendor file, or web/assets was not installed (npm ci)")
    response = send_file(ASSETS / rel, max_age=86400)
    return response


__all__ = ["FILES", "icon_id", "missing_files", "vendor"]
