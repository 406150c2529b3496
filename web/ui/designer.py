"""The builders: ``/build`` (what the user may customize), the app builder and the entity designer.

Every change a builder makes goes through the metadata API (``/api/v1/meta``), so it is
versioned, stored as an overlay over the shipped bundles, checked exactly as a bundle
file is, and refused unless the user is an admin or holds a role granted ``customize``.
These views only gather what the page needs to start (the live definition and its
version, the field-type registry with each type's options schema, the entities a
reference may point at) and render it; ``web/static/designer.js`` does the editing.
"""

from __future__ import annotations

import base64
import json
import zlib
from typing import Any

from flask import Blueprint, Response, abort, g, render_template, request

from engine.errors import NotFound
from engine.forms.entity import build_model
from engine.forms.fieldtypes import field_types, infer_field_type
from web.http import json_response, platform_of
from web.i18n import label
from web.ui.context import BUILDABLE, sign_in_first

blueprint = Blueprint("designer", __name__)


def _access() -> Any:
    return platform_of().access(g.user)


def may_build(user: str) -> bool:
    """Whether ``user`` may open a builder (admin, or a role granted customize)."""
    access = platform_of().access(user)
    return any(map(access.may_customize, BUILDABLE))


def _require(kind: str) -> None:
    if not _access().may_customize(kind):
        abort(403)


def _live(kind: str, name: str) -> dict[str, Any] | None:
    try:
        return platform_of().meta.get(kind, name)
    except NotFound:
        return None


def palette() -> list[dict[str, Any]]:
    """The field-type registry as the palette shows it: a type registered by a plugin is here too."""
    return [
        {
            "name": name,
            "label": label(ft.label, name),
            "storage": ft.storage,
            "implied": ft.implied_schema,
            "config": ft.config_schema,
            "read_only": ft.read_only,
        }
        for name, ft in sorted(field_types().items())
    ]


def _entity_choices() -> list[dict[str, str]]:
    p = platform_of()
    return [
        {"name": n, "label": label(p.entities.get(n).model.label, n)} for n in p.entities.names()
    ]


@blueprint.get("/build")
def index() -> Any:
    if (gate := sign_in_first()) is not None:
        return gate
    p = platform_of()
    access = _access()
    if not may_build(g.user):
        abort(403)
    with p.db.transaction(write=False) as conn:
        apps = p.repo.all_current(conn, "app")
        others = {
            kind: p.repo.all_current(conn, kind)
            for kind in ("flow", "report", "dashboard")
            if access.may_customize(kind)
        }
    return render_template(
        "build/index.html",
        others={
            kind: [
                {"name": n, "label": label(d.get("label"), n)}
                for n, (d, _v) in sorted(items.items())
            ]
            for kind, items in others.items()
        },
        may_rules=access.may_customize("rules"),
        apps=[{"name": n, "label": label(d.get("label"), n)} for n, (d, _v) in sorted(apps.items())]
        if access.may_customize("app")
        else None,
        entities=_entity_choices() if access.may_customize("entity") else [],
    )


@blueprint.get("/build/apps/<name>")
def app_builder(name: str) -> Any:
    if (gate := sign_in_first()) is not None:
        return gate
    _require("app")
    p = platform_of()
    with p.db.transaction(write=False) as conn:
        reports = sorted(p.repo.all_current(conn, "report"))
        dashboards = sorted(p.repo.all_current(conn, "dashboard"))
        perms = p.repo.all_current(conn, "permissions")
    roles = sorted({"admin", *(r for d, _v in perms.values() for r in d.get("roles") or {})})
    data = {
        "name": name,
        "found": _live("app", name),
        "entities": _entity_choices(),
        "reports": reports,
        "dashboards": dashboards,
        "roles": roles,
    }
    return render_template("build/app.html", name=name, data=data)


@blueprint.get("/build/entities/<name>")
def entity_designer(name: str) -> Any:
    if (gate := sign_in_first()) is not None:
        return gate
    _require("entity")
    found = _live("entity", name)
    types: dict[str, str] = {}
    if found:
        props = found["definition"].get("schema", {}).get("properties") or {}
        for key, prop in props.items():
            types[key] = (
                prop.get("x-type") if prop.get("x-type") in field_types() else None
            ) or infer_field_type(prop).name
    data = {
        "name": name,
        "found": found,
        "types": types,
        "palette": palette(),
        "entities": _entity_choices(),
    }
    # the page names the entity as its users read it; a new entity has only its key
    title = label(found["definition"].get("label"), name) if found else name
    return render_template("build/entity.html", name=name, title=title, data=data)


@blueprint.post("/build/entities/<name>/preview")
def preview(name: str) -> Any:
    """The draft rendered by the record form's own templates and widgets (nothing saved)."""
    if (gate := sign_in_first()) is not None:
        return gate
    _require("entity")
    from web.ui.records import layout

    try:
        draft = (request.get_json(silent=True) or {}).get("definition") or {}
        model = build_model({**draft, "name": name})
        blocks = layout(model, {}, {})
    except Exception:  # an unfinished draft: say so instead of a form
        blocks = None
    return render_template("build/preview.html", blocks=blocks, entity=name)


#: the largest draft the preview script accepts, inflated (a definition is a few kilobytes).
MAX_DRAFT = 1 << 20


def _draft_from_query(name: str) -> dict[str, Any]:
    """The draft in ``?d=``: base64url of raw-deflated JSON, which keeps the URL short.

    The draft travels in the URL because the page's CSP loads scripts only by URL from
    this site; the script is derived from the draft, so no server state is needed.
    """
    packed = request.args.get("d", "")
    try:
        raw = base64.urlsafe_b64decode(packed + "=" * (-len(packed) % 4))
        inflate = zlib.decompressobj(-zlib.MAX_WBITS)
        text = inflate.decompress(raw, MAX_DRAFT)
        if inflate.unconsumed_tail:
            raise ValueError("draft too large")
        draft = json.loads(text)
    except (ValueError, zlib.error) as exc:
        raise ValueError(f"unreadable draft: {exc}") from exc
    if not isinstance(draft, dict):
        raise ValueError("the draft is not an object")
    return {**draft, "name": name}


_SCRIPT_HEADERS = {"Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff"}


@blueprint.post("/build/entities/<name>/preview-logic")
def preview_logic(name: str) -> Response:
    """``{"definition"}`` → ``{"id"}``: the draft's form logic compiled and kept a few
    minutes for this user (see :mod:`web.ui.preview_store`), then loaded as
    ``preview.js?id=``; 400 for a draft that does not compile yet."""
    if g.get("user") is None:
        abort(401)
    _require("entity")
    from engine.forms.live_script import draft_script
    from web.ui import preview_store

    draft = (request.get_json(silent=True) or {}).get("definition")
    if not isinstance(draft, dict) or len(request.get_data()) > MAX_DRAFT:
        return json_response({"error": "send the draft as {definition: {...}}"}, 400)
    p = platform_of()
    try:
        script = draft_script(p, {**draft, "name": name})
    except Exception:  # an unfinished draft: the preview shows the form without its logic
        return json_response({"error": "the draft is not complete"}, 400)
    return json_response({"id": preview_store.keep(p, g.user, name, script)})


@blueprint.get("/build/entities/<name>/preview.js")
def preview_script(name: str) -> Response:
    """The draft's form logic (computed fields, field and section conditions) for the preview.

    Compiled exactly as ``/app/<entity>/form.js`` is, but against the draft, so the preview
    reacts as the saved form will. ``?id=`` names a script posted to ``preview-logic`` by
    this user (404 once expired or for anyone else); ``?d=`` carries a small draft itself.
    Builders only; it reads no record.
    """
    if g.get("user") is None:
        abort(401)
    _require("entity")
    from engine.forms.live_script import draft_script
    from web.ui import preview_store

    headers = _SCRIPT_HEADERS
    if "id" in request.args:
        kept = preview_store.fetch(platform_of(), g.user, name, request.args["id"][:64])
        if kept is None:
            return Response("/* no such preview, or it expired */\n", 404,
                            mimetype="text/javascript", headers=headers)  # fmt: skip
        return Response(kept, mimetype="text/javascript", headers=headers)
    try:
        body = draft_script(platform_of(), _draft_from_query(name))
    except Exception:  # an unfinished draft: the preview shows the form without its logic
        return Response("/* the draft is not complete */\n", 400, mimetype="text/javascript",
                        headers=headers)  # fmt: skip
    return Response(body, mimetype="text/javascript", headers=headers)


__all__ = ["blueprint", "may_build", "palette"]
