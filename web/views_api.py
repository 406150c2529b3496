"""Saved list views over HTTP: ``/api/v1/views``.

``GET ?entity=`` lists the caller's views of an entity and the shared ones;
``POST`` saves one (``{entity, name, columns, order_by, where, shared}``);
``GET/PATCH/DELETE /<id>`` read, change and delete one (changes: owner or admin).
The rules live in :mod:`engine.store.views`; this module only speaks HTTP.
"""

from __future__ import annotations

from flask import Blueprint, Response, request

from engine.errors import ValidationError, error_entry
from engine.store.views import SavedViews
from web.auth import require_user
from web.http import body, json_response, platform_of

views_api = Blueprint("views_api", __name__)


def _views() -> SavedViews:
    return SavedViews(platform_of())


@views_api.get("")
def list_views() -> Response:
    user = require_user()
    entity = request.args.get("entity", "")
    if not entity:
        raise ValidationError("name the entity", [error_entry("required", field="entity")])
    return json_response({"items": _views().list(entity, user)})


@views_api.post("")
def create_view() -> Response:
    user = require_user()
    data = body()
    columns = data.get("columns")
    view = _views().create(
        user,
        str(data.get("entity", "")),
        data.get("name") if isinstance(data.get("name"), str) else "",
        columns=columns if isinstance(columns, list) else None,
        order_by=data.get("order_by") or None,
        where=data.get("where") or None,
        shared=bool(data.get("shared")),
    )
    return json_response(view, status=201, headers={"Location": f"/api/v1/views/{view['id']}"})


@views_api.get("/<int:view_id>")
def get_view(view_id: int) -> Response:
    return json_response(_views().get(view_id, require_user()))


@views_api.patch("/<int:view_id>")
def update_view(view_id: int) -> Response:
    return json_response(_views().update(view_id, require_user(), body()))


@views_api.delete("/<int:view_id>")
def delete_view(view_id: int) -> Response:
    _views().delete(view_id, require_user())
    return Response(status=204)


__all__ = ["views_api"]
