"""Reports beyond one request: background runs and scheduled e-mail delivery.

``POST /api/v1/reports/<name>/background`` queues a run as the caller (same
``filters`` and ``params`` query as ``GET /api/v1/reports/<name>``) and answers
202 with the run; ``GET /api/v1/report-runs/<id>`` reports its status and,
once ``done``, the stored result (only to whoever asked, or an admin). The
schedule routes list, add and remove a report's e-mail schedules; adding one
needs read permission on the report, and each recipient later gets only what
they may read (see :mod:`engine.reports.schedule`). Writes need the CSRF
token like every other browser write (:mod:`web.auth`).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response

from engine.reports import background, schedule
from web.auth import require_user
from web.http import body, json_response, platform_of
from web.openapi_paths import ITEM_NAME, OBJECT, RECORD_ID, STRING, json_body, op, path_param, query

blueprint = Blueprint("report_delivery_api", __name__, url_prefix="/api/v1")


@blueprint.post("/reports/<name>/background")
def start_run(name: str) -> Response:
    from web.api import _report_filter

    user = require_user()
    run = background.start(platform_of(), name, user=user, filters=_report_filter(name))
    return json_response(run, status=202)


@blueprint.get("/report-runs/<int:run_id>")
def run_status(run_id: int) -> Response:
    return json_response(background.status(platform_of(), run_id, user=require_user()))


@blueprint.get("/reports/<name>/schedules")
def list_schedules(name: str) -> Response:
    user = require_user()
    p = platform_of()
    p.reports.spec(name)  # 404 for an unknown report
    return json_response({"items": schedule.for_report(p, name, user=user)})


@blueprint.post("/reports/<name>/schedules")
def add_schedule(name: str) -> Response:
    user = require_user()
    made = schedule.create(platform_of(), name, body(), user=user)
    return json_response(made, status=201)


@blueprint.delete("/report-schedules/<int:schedule_id>")
def remove_schedule(schedule_id: int) -> Response:
    schedule.remove(platform_of(), schedule_id, user=require_user())
    return Response(status=204)


def openapi_paths(platform: Any) -> dict[str, Any]:
    """The routes above, for the API document (see :mod:`web.openapi`)."""
    name = path_param("name", ITEM_NAME)
    filters = query("filters", STRING, "a condition in the rule language")
    params = query("params", STRING, "a JSON object of the report's parameter values")
    schedule_body = json_body(
        {
            "every": {"enum": list(schedule.EVERY)},
            "at": {"type": "string", "pattern": "^[0-2][0-9]:[0-5][0-9]$"},
            "weekday": {"type": "integer", "minimum": 0, "maximum": 6},
            "day": {"type": "integer", "minimum": 1, "maximum": 28},
            "format": {"enum": list(schedule.FORMATS)},
            "users": {"type": "array", "items": STRING},
            "roles": {"type": "array", "items": STRING},
        },
        ["every", "at", "format"],
    )
    return {
        "/api/v1/reports/{name}/background": {
            "post": op("report_background", "reports", "Queue a background run of a report",
                       params=[name, filters, params], status=202,
                       errors=(401, 403, 404, 422)),
        },
        "/api/v1/report-runs/{id}": {
            "get": op("report_run_status", "reports", "A background run: status, then result",
                      params=[path_param("id", RECORD_ID)], errors=(401, 403, 404)),
        },
        "/api/v1/reports/{name}/schedules": {
            "get": op("report_schedules", "reports", "The report's e-mail schedules you manage",
                      params=[name], errors=(401, 404)),
            "post": op("report_schedule_add", "reports", "E-mail a report on a schedule",
                       params=[name], body=schedule_body, status=201,
                       ok={"description": "the schedule", "content": {"application/json": {
                           "schema": OBJECT}}},
                       errors=(401, 403, 404, 422)),
        },
        "/api/v1/report-schedules/{id}": {
            "delete": op("report_schedule_remove", "reports", "Stop an e-mail schedule",
                         params=[path_param("id", RECORD_ID)],
                         ok={"description": "removed"}, status=204, errors=(401, 404)),
        },
    }  # fmt: skip


__all__ = ["blueprint", "openapi_paths"]
