"""Files over HTTP: ``POST /api/v1/files`` (multipart upload) and ``GET /api/v1/files/<id>``.

The engine does the checking (``engine.store.files``): the size and the type
by the file's content, and on download the permission through the record the
file is attached to. Downloads are always attachments with ``nosniff`` and a
sandboxing CSP, so an uploaded HTML or SVG file never runs in the site's origin.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from flask import Blueprint, Response, current_app, request
from werkzeug.exceptions import RequestEntityTooLarge

from engine.errors import ValidationError, error_entry
from engine.i18n import t
from engine.store.files import FileTooLarge, FileTypeRefused
from web.auth import require_user
from web.http import json_response, platform_of, problem

blueprint = Blueprint("files_api", __name__)

#: Room for the multipart envelope around the file itself.
ENVELOPE = 64 * 1024


def _public(info: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": info["id"],
        "name": info["name"],
        "size": info["size"],
        "type": info["type"],
        "sha256": info["sha256"],
        "url": f"/api/v1/files/{info['id']}",
    }


@blueprint.post("/files")
def upload() -> Response:
    """Multipart ``file`` (and optionally ``entity`` and ``field``, whose limits apply)."""
    user = require_user()
    p = platform_of()
    entity = request.args.get("entity") or None
    field = request.args.get("field") or None
    max_size, _accept = p.files.limits(entity, field)
    limit = max(int(current_app.config.get("MAX_CONTENT_LENGTH") or 0), max_size + ENVELOPE)
    if request.content_length is not None and request.content_length > limit:
        return _too_large(max_size)
    request.max_content_length = limit
    try:
        upload = request.files.get("file")
    except RequestEntityTooLarge:
        return _too_large(max_size)
    entity = entity or request.form.get("entity") or None
    field = field or request.form.get("field") or None
    if upload is None:
        raise ValidationError(
            "no file uploaded",
            [error_entry("send the file as the form field 'file'", field="file")],
        )
    data = upload.stream.read(max_size + 1)
    try:
        info = p.files.upload(data, upload.filename, user, entity=entity, field=field)
    except FileTooLarge as exc:
        return problem(413, "Content too large", exc.message, exc.errors)
    except FileTypeRefused as exc:
        return problem(415, "Unsupported media type", exc.message, exc.errors)
    return json_response(_public(info), status=201)


def _too_large(max_size: int) -> Response:
    return problem(
        413,
        "Content too large",
        t("the file may be at most {max_size} bytes", max_size=max_size),
        [
            error_entry(
                t("the file may be at most {max_size} bytes", max_size=max_size), field="file"
            )
        ],
    )


@blueprint.get("/files/<file_id>")
def download(file_id: str) -> Response:
    """The file's bytes as an attachment, for a user who may read its record and field."""
    user = require_user()
    info, data = platform_of().files.read(file_id, user)
    name = info["name"]
    ascii_name = name.encode("ascii", "replace").decode().replace("?", "_").replace('"', "")
    disposition = f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}"
    return Response(
        data,
        mimetype=info["type"],
        headers={
            "Content-Disposition": disposition,
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "sandbox; default-src 'none'",
            "Cache-Control": "private, no-store",
        },
    )


@blueprint.get("/files/<file_id>/info")
def describe(file_id: str) -> Response:
    user = require_user()
    return json_response(_public(platform_of().files.info(file_id, user)))


__all__ = ["blueprint"]
