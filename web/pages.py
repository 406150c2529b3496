"""The pages a browser sees before the full app: a home page listing what the user may open.

Rendered with Jinja2's autoescaping (every value is escaped, so a record or a
label holding markup shows as text). The builders and record pages of the
browser app come with their own issue; this page is where sign-in lands.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, redirect, render_template, request, session

from web.app import platform_of
from web.auth import require_user

pages = Blueprint("pages", __name__, template_folder="templates")


def _label(value: Any, lang: str, fallback: str) -> str:
    from engine.forms.entity import label_text

    return label_text(value, lang, fallback)


@pages.get("/")
def home() -> Any:
    from flask import g

    if g.get("user") is None:
        return redirect("/login")
    name = require_user()
    p = platform_of()
    lang = "zh-CN" if "zh" in (request.accept_languages.best or "") else "en"
    access = p.access(name)
    entities = []
    for entity in p.entities.names():
        if access.scopes(entity, "read"):
            model = p.entities.get(entity).model
            entities.append(
                {
                    "name": entity,
                    "label": _label(model.label, lang, entity),
                    "count": p.records(entity, name).count(),
                }
            )
    with p.db.transaction(write=False) as conn:
        stored = p.repo.all_current(conn, "report")
    reports = [
        {"name": n, "label": _label(d.get("label"), lang, n)}
        for n, (d, _v) in stored.items()
        if access.scopes(d.get("source", ""), "read")
    ]
    roles = p.users.get(name)["roles"]
    tasks = len(p.flows.tasks(user=name, roles=roles))
    html = render_template(
        "home.html",
        user=p.users.get(name),
        entities=entities,
        reports=reports,
        tasks=tasks,
        lang=lang,
        csrf=session.get("csrf", ""),
    )
    return Response(html, mimetype="text/html")


@pages.get("/api/v1/docs")
def api_docs() -> Response:
    """The OpenAPI document as a readable page: per entity its operations and fields."""
    from web.openapi import openapi_document

    doc = openapi_document(platform_of())
    entities = [
        n for n in doc["components"]["schemas"] if not n.endswith("_record") and n != "Problem"
    ]
    html = render_template(
        "api_docs.html", doc=doc, entities=entities, paths=sorted(doc["paths"].items())
    )
    return Response(html, mimetype="text/html")


__all__ = ["pages"]
