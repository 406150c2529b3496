"""The import page (``/app/<entity>/import``) and the three small API routes it needs.

The run itself is the REST API's ``POST /api/v1/import/<entity>``; this module adds what
a person needs around it: a preview of the mapping and the cleansed first rows
before anything is stored, and the review of the duplicates a ``flag`` run left
(side by side with the original; merge, create anyway, skip). The engine does the
work (:mod:`engine.store.import_review`); the views translate HTTP to it.
``web/static/imports.js`` drives the page's steps.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, current_app, g, render_template, request
from werkzeug.exceptions import RequestEntityTooLarge

from engine.errors import ValidationError, error_entry
from engine.store import import_review
from web.api import IMPORT_MAX_BYTES, _entity
from web.auth import require_user
from web.http import json_response, model_or_404, platform_of
from web.i18n import current_lang, label
from web.openapi_paths import OBJECT, RECORD_ID, STRING, answer, json_body, op, path_param
from web.ui.context import sign_in_first

blueprint = Blueprint("imports", __name__)

#: The file types the page accepts, by extension (the engine reads the content).
SUFFIXES = (".csv", ".xlsx")


def may_import(entity: str, user: str) -> bool:
    """Whether ``user`` holds the ``import`` permission on ``entity`` (the list's toolbar link)."""
    return bool(platform_of().access(user).scopes(entity, "import"))


def _limit() -> int:
    return int(current_app.config.get("TESSERA_IMPORT_MAX_BYTES", IMPORT_MAX_BYTES))


@blueprint.get("/app/<entity>/import")
def page(entity: str) -> Any:
    if (gate := sign_in_first()) is not None:
        return gate
    model = model_or_404(entity)
    if not may_import(entity, g.user):
        return render_template("list_refused.html"), 403
    meta = {
        "entity": entity,
        "max_bytes": _limit(),
        "suffixes": list(SUFFIXES),
        "list_url": f"/app/{entity}",
        "lang": current_lang(),
    }
    return render_template(
        "import.html", entity=entity, entity_label=label(model.label, entity), meta=meta
    )


def _mapping() -> dict[str, str]:
    """``map=COLUMN=FIELD`` values (``FIELD`` may be ``-``: leave the column out)."""
    out = {}
    for item in request.values.getlist("map"):
        column, eq, key = item.rpartition("=")
        if not eq or not column.strip() or not key.strip():
            raise ValidationError(
                "map must be COLUMN=FIELD",
                [error_entry(f"{item!r} is not COLUMN=FIELD", field="map")],
            )
        out[column.strip()] = key.strip()
    return out


def _limit_body() -> None:
    """The import's own body limit (larger than the API's), set before the form is parsed."""
    limit = _limit()
    if request.content_length is not None and request.content_length > limit:
        raise RequestEntityTooLarge(f"an import may be at most {limit} bytes")
    request.max_content_length = limit


def _save_upload(folder: str) -> Path:
    """The multipart ``file`` saved under ``folder``: refused when missing, too large or
    not named .csv or .xlsx (the engine then checks that the content reads as one)."""
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise ValidationError(
            "no file uploaded", [error_entry("send the file as 'file'", field="file")]
        )
    suffix = Path(upload.filename).suffix.lower()
    if suffix not in SUFFIXES:
        raise ValidationError(
            f"cannot import {suffix or 'unnamed'} files",
            [error_entry("choose a .csv or .xlsx file", field="file")],
        )
    target = Path(folder) / f"upload{suffix}"
    upload.save(target)
    if target.stat().st_size == 0:
        raise ValidationError("the file is empty", [error_entry("no header row", field="file")])
    return target


@blueprint.post("/api/v1/import/<entity>/preview")
def preview(entity: str) -> Response:
    """Multipart ``file`` (+ ``map`` repeated) → columns, their fields and cleansed sample rows."""
    user = require_user()
    _entity(entity)
    platform_of().access(user).require(entity, "import")  # before reading the upload
    _limit_body()
    mapping = _mapping()
    with tempfile.TemporaryDirectory(prefix="tessera-preview-") as tmp:
        target = _save_upload(tmp)
        found = import_review.preview(
            platform_of(), entity, target, user, mapping=mapping, lang=current_lang()
        )
    return json_response(found)


@blueprint.get("/api/v1/import/<entity>/duplicates/<int:record_id>")
def duplicate(entity: str, record_id: int) -> Response:
    """A flagged record beside its original (``original`` null when the user may not read it)."""
    user = require_user()
    _entity(entity)
    return json_response(import_review.review(platform_of(), entity, user, record_id))


@blueprint.post("/api/v1/import/<entity>/duplicates/<int:record_id>")
def settle(entity: str, record_id: int) -> Response:
    """JSON ``{action: merge|create|skip, fields?: [...]}``: settle one flagged duplicate."""
    user = require_user()
    _entity(entity)
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise ValidationError(
            "send a JSON object", [error_entry("expected {action, fields}", field="body")]
        )
    fields = data.get("fields")
    if fields is not None and not (
        isinstance(fields, list) and all(isinstance(f, str) for f in fields)
    ):
        raise ValidationError(
            "fields must be a list of field names", [error_entry("not a list", field="fields")]
        )
    done = import_review.resolve(
        platform_of(), entity, user, record_id, str(data.get("action", "")), fields=fields
    )
    return json_response(done)


def openapi_paths(platform: Any) -> dict[str, Any]:
    """This module's routes for the OpenAPI document (see :func:`web.openapi.module_paths`)."""
    entity = path_param("entity")
    record = path_param("record_id", RECORD_ID)
    upload = {"type": "string", "format": "binary"}
    settle_body = json_body(
        {
            "action": {"enum": list(import_review.ACTIONS)},
            "fields": {"type": "array", "items": STRING},
        },
        ["action"],
    )
    return {
        "/api/v1/import/{entity}/preview": {
            "post": op("import_preview", "import", "A file's columns with the field each maps to, "
                       "and its first rows after cleansing (nothing is stored)",
                       params=[entity, {"name": "map", "in": "query", "schema": {
                           "type": "array", "items": STRING}, "description": "COLUMN=FIELD or COLUMN=-"}],
                       body={"required": True, "content": {"multipart/form-data": {"schema": {
                           "type": "object", "properties": {"file": upload}}}}},
                       ok=answer("the preview", OBJECT), errors=(401, 403, 404, 413, 422)),
        },
        "/api/v1/import/{entity}/duplicates/{record_id}": {
            "get": op("import_duplicate", "import", "A record an import flagged as a duplicate, "
                      "beside the record it duplicates", params=[entity, record],
                      ok=answer("the pair", OBJECT), errors=(401, 403, 404, 409, 422)),
            "post": op("import_settle_duplicate", "import", "Merge a flagged duplicate into its "
                       "original, keep it, or delete it (one transaction)", params=[entity, record],
                       body=settle_body, ok=answer("what was done", OBJECT),
                       errors=(401, 403, 404, 409, 422)),
        },
    }  # fmt: skip


__all__ = ["blueprint", "may_import", "openapi_paths"]
