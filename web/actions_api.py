"""Record actions over HTTP: ``/api/v1/records/<entity>/<id>/actions[/<name>]``.

``GET .../actions`` lists the actions the signed-in user may run on the record
now; ``GET .../actions/<name>`` previews what running one would create or
reuse (``?skip=opportunity`` leaves an optional target out); ``POST`` runs it
with ``{"skip": [...], "values": {"<target>": {...}}}``. The engine decides
every permission (see ``engine.record_actions.convert``); sessions send the
CSRF token like every other write.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, request

from engine.errors import NotFound, ValidationError, error_entry
from engine.record_actions.convert import RecordActions
from web.auth import require_user
from web.http import body, json_response, platform_of

blueprint = Blueprint("actions_api", __name__)


def _actions(entity: str) -> RecordActions:
    p = platform_of()
    if entity not in p.entities.names():
        raise NotFound(
            f"no entity named {entity!r}", [error_entry("unknown entity", field="entity")]
        )
    return RecordActions(p)


def _skip(raw: Any) -> tuple[str, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list) or not all(isinstance(s, str) for s in raw):
        raise ValidationError(
            "skip must be a list of target names", [error_entry("a list of names", field="skip")]
        )
    return tuple(raw)


@blueprint.get("/api/v1/records/<entity>/<int:record_id>/actions")
def list_actions(entity: str, record_id: int) -> Response:
    user = require_user()
    actions = _actions(entity)
    record = platform_of().records(entity, user).get(record_id)
    items = [
        {"name": a.name, "type": "convert", "label": a.label, "description": a.description}
        for a in actions.available(entity, record, user)
    ]
    return json_response({"items": items})


@blueprint.get("/api/v1/records/<entity>/<int:record_id>/actions/<name>")
def preview_action(entity: str, record_id: int, name: str) -> Response:
    user = require_user()
    skip = tuple(s for s in request.args.get("skip", "").split(",") if s)
    plan = _actions(entity).preview(entity, record_id, name, user, skip=skip)
    return json_response({"plan": [item.as_dict() for item in plan]})


@blueprint.post("/api/v1/records/<entity>/<int:record_id>/actions/<name>")
def run_action(entity: str, record_id: int, name: str) -> Response:
    user = require_user()
    data = body()
    values = data.get("values") or {}
    if not isinstance(values, dict) or not all(isinstance(v, dict) for v in values.values()):
        raise ValidationError(
            "values must map a target name to its field values",
            [error_entry("{target: {field: value}}", field="values")],
        )
    result = _actions(entity).convert(
        entity, record_id, name, user, skip=_skip(data.get("skip")), overrides=values
    )
    return json_response(result)


__all__ = ["blueprint"]
