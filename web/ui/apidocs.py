"""``/api/v1/docs``: the OpenAPI document as a readable page, each entity's operations."""

from __future__ import annotations

from flask import Blueprint, Response, render_template

from web.app import platform_of

blueprint = Blueprint("apidocs", __name__)


@blueprint.get("/api/v1/docs")
def api_docs() -> Response:
    from web.openapi import openapi_document

    doc = openapi_document(platform_of())
    entities = [
        n for n in doc["components"]["schemas"] if not n.endswith("_record") and n != "Problem"
    ]
    html = render_template(
        "api_docs.html", doc=doc, entities=entities, paths=sorted(doc["paths"].items())
    )
    return Response(html, mimetype="text/html")


__all__ = ["blueprint"]
