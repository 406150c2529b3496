"""``/api/v1/docs``: the OpenAPI document as a readable page: each entity's operations, then
the other areas' operations grouped by tag."""

from __future__ import annotations

from flask import Blueprint, Response, render_template

from web.http import platform_of

blueprint = Blueprint("apidocs", __name__)


@blueprint.get("/api/v1/docs")
def api_docs() -> Response:
    from web.openapi import openapi_document

    doc = openapi_document(platform_of())
    entities = [
        n for n in doc["components"]["schemas"] if not n.endswith("_record") and n != "Problem"
    ]
    # everything that is not an entity's record path, grouped by its tag on the page
    operations = [
        {
            "tag": (op.get("tags") or ["other"])[0],
            "method": method,
            "path": path,
            "summary": op.get("summary", ""),
            "answers": list(op.get("responses", {})),
        }
        for path, item in sorted(doc["paths"].items())
        if not path.startswith("/api/v1/records/")
        for method, op in item.items()
    ]
    html = render_template(
        "api_docs.html",
        doc=doc,
        entities=entities,
        paths=sorted(doc["paths"].items()),
        operations=operations,
    )
    return Response(html, mimetype="text/html")


__all__ = ["blueprint"]
