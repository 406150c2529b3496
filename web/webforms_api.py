"""The admin API of public web forms: ``/api/v1/webforms`` (the ``admin`` role only).

``GET`` lists them, ``POST`` creates one (``{"name", "entity", "fields", ...}``),
``GET/PUT /<name>`` reads or replaces one, ``POST /<name>/disable`` closes it (the
public page then answers 404). Definitions are checked as a bundle's
``webforms/*.yaml`` file is, so a bad one gets located errors.
"""

from __future__ import annotations

from flask import Blueprint, Response

from engine.errors import ConflictError, PermissionDenied, error_entry
from web.auth import require_user
from web.http import body, json_response, platform_of

blueprint = Blueprint("webforms_api", __name__)


def _admin() -> str:
    user = require_user()
    if "admin" not in (platform_of().users.get(user).get("roles") or []):
        raise PermissionDenied(
            "only an administrator may manage web forms", [error_entry("needs the admin role")]
        )
    return user


def _item(name: str, definition: dict) -> dict:
    return {**definition, "name": name, "url": f"/f/{name}"}


@blueprint.get("/api/v1/webforms")
def list_forms() -> Response:
    _admin()
    forms = platform_of().webforms.all()
    return json_response({"items": [_item(n, d) for n, d in sorted(forms.items())]})


@blueprint.post("/api/v1/webforms")
def create_form() -> Response:
    user = _admin()
    data = body()
    name = str(data.get("name", ""))
    p = platform_of()
    if name in p.webforms.all():
        raise ConflictError(
            f"a web form named {name!r} exists", [error_entry("name taken", field="name")]
        )
    p.webforms.save(name, data, user=user)
    return json_response(
        _item(name, p.meta.get("webform", name)["definition"]),
        status=201,
        headers={"Location": f"/api/v1/webforms/{name}"},
    )


@blueprint.get("/api/v1/webforms/<name>")
def get_form(name: str) -> Response:
    _admin()
    return json_response(_item(name, platform_of().meta.get("webform", name)["definition"]))


@blueprint.put("/api/v1/webforms/<name>")
def update_form(name: str) -> Response:
    user = _admin()
    p = platform_of()
    p.meta.get("webform", name)  # 404 for an unknown form
    p.webforms.save(name, body(), user=user)
    return json_response(_item(name, p.meta.get("webform", name)["definition"]))


@blueprint.post("/api/v1/webforms/<name>/disable")
def disable_form(name: str) -> Response:
    user = _admin()
    p = platform_of()
    p.webforms.disable(name, user=user)
    return json_response(_item(name, p.meta.get("webform", name)["definition"]))


__all__ = ["blueprint"]
