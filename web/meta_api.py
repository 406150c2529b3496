"""``/api/v1/meta``: definitions read, planned and saved over HTTP, as the builders do.

Every builder in the browser is a client of these endpoints, so whatever a designer
can do a script can do too, with the same checks and located errors as
``tessera install``. Only admins, or roles whose definition grants ``customize``
(all kinds or a list), may read or change definitions here. A save names the version
it started from (``version`` in the body or ``If-Match``): if someone saved in between,
409 and nothing changes.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, request

from engine.errors import ValidationError, error_entry
from engine.meta.repository import KINDS
from web.auth import customizing, require_user
from web.http import body, json_response, platform_of

blueprint = Blueprint("meta_api", __name__, url_prefix="/api/v1/meta")


def _version_from(data: dict[str, Any]) -> int | None:
    version = data.pop("version", None)
    match = request.headers.get("If-Match")
    if match:
        version = match.strip('W/"')
    if version is None:
        return None
    try:
        return int(version)
    except (TypeError, ValueError):
        raise ValidationError(
            "the version must be a whole number", [error_entry(repr(version), field="version")]
        ) from None


def _definition(data: dict[str, Any]) -> dict[str, Any]:
    definition = data.get("definition")
    if not isinstance(definition, dict):
        raise ValidationError(
            "send the definition as an object",
            [error_entry('expected {"definition": {...}}', field="definition")],
        )
    return definition


@blueprint.get("")
def kinds() -> Response:
    """The kinds of definition and, for each the user may customize, the names there are."""
    p = platform_of()
    access = p.access(require_user())
    return json_response({kind: p.meta.names(kind) for kind in KINDS if access.may_customize(kind)})


@blueprint.get("/<kind>")
def names(kind: str) -> Response:
    return json_response({"kind": kind, "names": customizing(kind).meta.names(kind)})


@blueprint.get("/<kind>/<name>")
def get(kind: str, name: str) -> Response:
    """``{definition, version, overlay, bundle}``; the ETag is the version."""
    found = customizing(kind).meta.get(kind, name)
    return json_response(found, headers={"ETag": f'"{found["version"]}"'})


@blueprint.get("/<kind>/<name>/versions")
def versions(kind: str, name: str) -> Response:
    return json_response({"versions": customizing(kind).meta.versions(kind, name)})


@blueprint.post("/<kind>/<name>/plan")
def plan(kind: str, name: str) -> Response:
    """What saving would do (columns, indexes, refusals), changing nothing."""
    steps = customizing(kind).meta.plan(kind, name, _definition(body()))
    refused = [s for s in steps if s["action"] == "refuse"]
    return json_response({"steps": steps, "refused": bool(refused)})


@blueprint.put("/<kind>/<name>")
def save(kind: str, name: str) -> Response:
    """Save a new live version; 201 when the item is new, 409 when the version is stale.

    A definition equal to the live one keeps its version and answers ``unchanged``."""
    p = customizing(kind)
    data = body()
    base = _version_from(data)
    definition = _definition(data)
    existed = name in p.meta.names(kind)
    version, changed = p.meta.store(
        kind, name, definition, user=require_user(), base_version=base, note=data.get("note")
    )
    return json_response(
        # unchanged: the definition equals the live version's, which stays live
        {"kind": kind, "name": name, "version": version, "unchanged": not changed},
        status=200 if existed else 201,
        headers={"ETag": f'"{version}"'},
    )


__all__ = ["blueprint"]
