"""The builders: ``/build`` (what the user may customize), the app builder and the entity designer.

Every change a builder makes goes through the metadata API (``/api/v1/meta``), so it is
versioned, stored as an overlay over the shipped bundles, checked exactly as a bundle
file is, and refused unless the user is an admin or holds a role granted ``customize``.
These views only gather what the page needs to start (the live definition and its
version, the field-type registry with each type's options schema, the entities a
reference may point at) and render it; ``web/static/designer.js`` does the editing.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, g, render_template, request

from engine.errors import NotFound
from engine.forms.entity import build_model
from engine.forms.fieldtypes import field_types, infer_field_type
from web.http import platform_of
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
    return render_template("build/entity.html", name=name, data=data)


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


__all__ = ["blueprint", "may_build", "palette"]
