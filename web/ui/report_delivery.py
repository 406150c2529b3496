"""What the report page's delivery card needs: people and roles to send to, the choices.

Kept apart from :mod:`web.ui.reports` so the card (background run, e-mail
schedules; see :mod:`engine.reports.schedule`) can grow without the page view.
"""

from __future__ import annotations

from typing import Any

from web.i18n import gettext as _


def delivery_data(p: Any, name: str) -> dict[str, Any]:
    """Users and roles a schedule may name, and the API addresses the card calls."""
    from engine.reports.schedule import _known_roles

    return {
        "users": [
            {"name": u["name"], "label": u.get("label") or u["name"]} for u in p.users.directory()
        ],
        "roles": _known_roles(p),
        "background": f"/api/v1/reports/{name}/background",
        "runs": "/api/v1/report-runs/",
        "schedules": f"/api/v1/reports/{name}/schedules",
        "schedule": "/api/v1/report-schedules/",
    }


def choices() -> dict[str, list[tuple[Any, str]]]:
    """The form's options, labelled in the request's language."""
    return {
        "every": [
            ("daily", _("Every day")),
            ("weekly", _("Every week")),
            ("monthly", _("Every month")),
        ],
        "weekday": [
            (0, _("Monday")),
            (1, _("Tuesday")),
            (2, _("Wednesday")),
            (3, _("Thursday")),
            (4, _("Friday")),
            (5, _("Saturday")),
            (6, _("Sunday")),
        ],
        "format": [("csv", "CSV"), ("xlsx", "XLSX"), ("pdf", "PDF")],
    }


__all__ = ["choices", "delivery_data"]
