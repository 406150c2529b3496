"""OpenAPI 3.1 for the installed metadata: every entity's JSON Schema is its component.

OpenAPI 3.1 uses JSON Schema 2020-12 itself, so an entity's validation
schema goes in unchanged; the record as returned adds the system fields.
The document is rebuilt from the live definitions on each request, so it is
never out of date after a bundle install or an edit in the builder.

Beside the per-entity record paths written here, the other operations are
described in :mod:`web.openapi_paths`; an API module may also describe its own
routes with a module-level ``openapi_paths(platform) -> dict`` (OpenAPI path
items keyed by path), which the document picks up from every registered
blueprint. ``tests/web/test_openapi_complete.py`` holds the two to the app's
routes.
"""

from __future__ import annotations

import sys
from typing import Any

from flask import Flask, current_app, has_app_context

from web.openapi_paths import platform_paths

SYSTEM_PROPERTIES = {
    "id": {"type": "integer", "readOnly": True},
    "version": {"type": "integer", "readOnly": True},
    "owner": {"type": ["string", "null"]},
    "team": {"type": ["string", "null"]},
    "created_by": {"type": ["string", "null"], "readOnly": True},
    "created_on": {"type": "string", "format": "date-time", "readOnly": True},
    "modified_by": {"type": ["string", "null"], "readOnly": True},
    "modified_on": {"type": "string", "format": "date-time", "readOnly": True},
}

PROBLEM = {
    "type": "object",
    "required": ["title", "status", "errors"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "field": {"type": ["string", "null"]},
                    "file": {"type": ["string", "null"]},
                    "line": {"type": ["integer", "null"]},
                    "column": {"type": ["integer", "null"]},
                    "message": {"type": "string"},
                },
            },
        },
    },
}


def _problems(*codes: int) -> dict[str, Any]:
    return {
        str(code): {
            "description": "a problem",
            "content": {
                "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
            },
        }
        for code in codes
    }


def _json(ref: str, description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": {"$ref": ref}}}}


def _entity_paths(name: str) -> dict[str, Any]:
    ref = f"#/components/schemas/{name}"
    record_ref = f"#/components/schemas/{name}_record"
    page = {
        "description": "a page of records",
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "items": {"type": "array", "items": {"$ref": record_ref}},
                        "total": {"type": "integer"},
                        "total_is_exact": {"type": "boolean"},
                    },
                }
            }
        },
    }
    query = [
        {"name": "where", "in": "query", "schema": {"type": "string"},
         "description": "a condition in the rule language"},
        {"name": "order_by", "in": "query", "schema": {"type": "string"},
         "description": "fields, '-' for descending: -score,company"},
        {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 500}},
        {"name": "offset", "in": "query", "schema": {"type": "integer", "minimum": 0}},
    ]  # fmt: skip
    ident = [{"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}]
    body = {"required": True, "content": {"application/json": {"schema": {"$ref": ref}}}}
    return {
        f"/api/v1/records/{name}": {
            "get": {"operationId": f"list_{name}", "parameters": query,
                    "responses": {"200": page, **_problems(401, 403, 422)}},
            "post": {"operationId": f"create_{name}", "requestBody": body,
                     "responses": {"201": _json(record_ref, "the created record"),
                                   **_problems(401, 403, 422)}},
        },
        f"/api/v1/records/{name}/export": {
            "get": {"operationId": f"export_{name}", "summary": "the records the user may "
                    "export, as CSV (streamed) or XLSX, with the columns the user may read",
                    "parameters": [
                        {"name": "format", "in": "query", "schema": {"enum": ["csv", "xlsx"]}},
                        query[0],
                        {"name": "lang", "in": "query", "schema": {"enum": ["en", "zh-CN"]}}],
                    "responses": {"200": {"description": "the file", "content": {
                        "text/csv": {"schema": {"type": "string"}},
                        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet":
                            {"schema": {"type": "string"}}}},
                        **_problems(401, 403, 422)}},
        },
        f"/api/v1/records/{name}/bulk": {
            "post": {"operationId": f"bulk_{name}", "summary": "assign, set fields on or delete "
                     "many records in one transaction: all of them, or none (each refused "
                     "record is named by its id in errors)",
                     "requestBody": {"required": True, "content": {"application/json": {
                         "schema": {"type": "object", "required": ["action", "ids"],
                                    "properties": {
                             "action": {"enum": ["assign", "update", "delete"]},
                             "ids": {"type": "array", "minItems": 1, "maxItems": 500,
                                     "uniqueItems": True,
                                     "items": {"type": "integer", "minimum": 1}},
                             "values": {"type": "object", "description":
                                        "the fields to set (update), or {owner} (assign)"},
                             "versions": {"type": "object", "description":
                                          "record id to the version the user saw",
                                          "additionalProperties": {"type": "integer"}}}}}}},
                     "responses": {"200": {"description": "every record changed",
                                           "content": {"application/json": {"schema": {
                                               "type": "object", "properties": {
                                                   "done": {"type": "integer"},
                                                   "ids": {"type": "array", "items": {
                                                       "type": "integer"}}}}}}},
                                   **_problems(401, 403, 404, 409, 422)}},
        },
        f"/api/v1/records/{name}/{{id}}": {
            "get": {"operationId": f"get_{name}", "parameters": ident,
                    "responses": {"200": _json(record_ref, "the record"), **_problems(401, 404)}},
            "patch": {"operationId": f"update_{name}", "parameters": ident,
                      "requestBody": {"required": True,
                                      "content": {"application/json": {"schema": {"type": "object"}}}},
                      "responses": {"200": _json(record_ref, "the updated record"),
                                    **_problems(401, 403, 404, 409, 422)}},
            "delete": {"operationId": f"delete_{name}", "parameters": ident,
                       "responses": {"204": {"description": "deleted"}, **_problems(401, 403, 404, 409)}},
        },
    }  # fmt: skip


def _action_paths(name: str, definition: dict[str, Any]) -> dict[str, Any]:
    """The record actions an entity declares (``web/actions_api.py``), e.g. a lead's convert."""
    declared = [a["name"] for a in definition.get("actions") or [] if isinstance(a, dict)]
    if not declared:
        return {}
    ident = {"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}
    action = {
        "name": "action",
        "in": "path",
        "required": True,
        "schema": {"type": "string", "enum": declared},
    }
    skip = {
        "name": "skip",
        "in": "query",
        "schema": {"type": "string"},
        "description": "optional targets to leave out, comma-separated",
    }
    run = {
        "type": "object",
        "properties": {
            "skip": {"type": "array", "items": {"type": "string"}},
            "values": {"type": "object", "additionalProperties": {"type": "object"}},
        },
    }
    any_json = {
        "description": "JSON",
        "content": {"application/json": {"schema": {"type": "object"}}},
    }
    return {
        f"/api/v1/records/{name}/{{id}}/actions": {
            "get": {"operationId": f"actions_{name}", "parameters": [ident],
                    "responses": {"200": any_json, **_problems(401, 404)}},
        },
        f"/api/v1/records/{name}/{{id}}/actions/{{action}}": {
            "get": {"operationId": f"preview_action_{name}", "parameters": [ident, action, skip],
                    "responses": {"200": any_json, **_problems(401, 404)}},
            "post": {"operationId": f"run_action_{name}", "parameters": [ident, action],
                     "requestBody": {"required": True,
                                     "content": {"application/json": {"schema": run}}},
                     "responses": {"200": any_json, **_problems(401, 403, 404, 409, 422)}},
        },
    }  # fmt: skip


def _meta_paths() -> dict[str, Any]:
    """The metadata API (``web/meta_api.py``) the builders use."""
    from engine.meta.repository import KINDS

    kind = {
        "name": "kind",
        "in": "path",
        "required": True,
        "schema": {"type": "string", "enum": list(KINDS)},
    }
    name = {
        "name": "name",
        "in": "path",
        "required": True,
        "schema": {"type": "string", "pattern": "^[a-z][a-z0-9_]*$", "maxLength": 63},
    }
    definition = {
        "type": "object",
        "required": ["definition"],
        "properties": {
            "definition": {"type": "object"},
            "version": {"type": "integer", "minimum": 1},
            "note": {"type": "string"},
        },
    }
    body = {"required": True, "content": {"application/json": {"schema": definition}}}
    any_json = {
        "description": "JSON",
        "content": {"application/json": {"schema": {"type": "object"}}},
    }
    return {
        "/api/v1/meta": {"get": {"operationId": "meta_kinds", "responses": {"200": any_json}}},
        "/api/v1/meta/{kind}": {"get": {"operationId": "meta_names", "parameters": [kind],
                                        "responses": {"200": any_json, **_problems(401, 403, 404)}}},
        "/api/v1/meta/{kind}/{name}": {
            "get": {"operationId": "meta_get", "parameters": [kind, name],
                    "responses": {"200": any_json, **_problems(401, 403, 404)}},
            "put": {"operationId": "meta_save", "parameters": [kind, name], "requestBody": body,
                    "responses": {"200": any_json, "201": any_json,
                                  **_problems(401, 403, 404, 409, 422)}},
        },
        "/api/v1/meta/{kind}/{name}/plan": {
            "post": {"operationId": "meta_plan", "parameters": [kind, name], "requestBody": body,
                     "responses": {"200": _plan_answer(), **_problems(401, 403, 404, 422)}},
        },
        "/api/v1/meta/{kind}/{name}/versions": {
            "get": {"operationId": "meta_versions", "parameters": [kind, name],
                    "responses": {"200": any_json, **_problems(401, 403, 404)}},
        },
    }  # fmt: skip


def _plan_answer() -> dict[str, Any]:
    """The plan before a save: its steps in order, and whether one of them refuses it."""
    actions = ["create_table", "add_column", "add_index", "drop_index", "widen", "narrow",
               "remove", "restore", "rename", "metadata", "refuse"]  # fmt: skip
    step = {
        "type": "object",
        "required": ["action", "entity", "field", "detail", "ddl"],
        "properties": {
            "action": {"type": "string", "enum": actions,
                       "description": "what the save does; `refuse` stops it (nothing is saved)"},
            "entity": {"type": "string"},
            "field": {"type": ["string", "null"], "description": "the field concerned, if any"},
            "detail": {"type": "string", "description": "in words, e.g. why a step refuses"},
            "ddl": {"type": "boolean", "description": "whether the step changes a table"},
            "ids": {"type": "array", "items": {"type": ["integer", "string"]},
                    "description": "on a refusal: up to 20 ids of the records that do not fit"},
        },
    }  # fmt: skip
    schema = {
        "type": "object",
        "required": ["steps", "refused"],
        "properties": {"steps": {"type": "array", "items": step}, "refused": {"type": "boolean"}},
    }
    return {"description": "The plan", "content": {"application/json": {"schema": schema}}}


def _report_builder_paths() -> dict[str, Any]:
    """The report builder's field list and preview (``web/report_builder_api.py``)."""
    any_json = {
        "description": "JSON",
        "content": {"application/json": {"schema": {"type": "object"}}},
    }
    entity = {"name": "entity", "in": "path", "required": True, "schema": {"type": "string"}}
    draft = {
        "type": "object",
        "required": ["definition"],
        "properties": {"definition": {"type": "object"}},
    }
    body = {"required": True, "content": {"application/json": {"schema": draft}}}
    return {
        "/api/v1/reports/builder/fields/{entity}": {
            "get": {"operationId": "report_builder_fields", "parameters": [entity],
                    "responses": {"200": any_json, **_problems(401, 403, 404)}},
        },
        "/api/v1/reports/builder/preview": {
            "post": {"operationId": "report_builder_preview", "requestBody": body,
                     "responses": {"200": any_json, **_problems(401, 403, 422)}},
        },
    }  # fmt: skip


def module_paths(platform: Any, app: Flask | None = None) -> dict[str, Any]:
    """What the app's blueprint modules say of their own routes (``openapi_paths``)."""
    if app is None:
        if not has_app_context():
            return {}
        app = current_app
    found: dict[str, Any] = {}
    for bp in app.blueprints.values():
        describe = getattr(sys.modules.get(bp.import_name), "openapi_paths", None)
        if callable(describe):
            for path, item in describe(platform).items():
                found.setdefault(path, {}).update(item)
    return found


def openapi_document(platform: Any, app: Flask | None = None) -> dict[str, Any]:
    """The whole API description for the platform's live entities (and ``app``'s modules:
    by default the current app's, when there is one)."""
    schemas: dict[str, Any] = {"Problem": PROBLEM}
    paths: dict[str, Any] = {}
    names = list(platform.entities.names())
    for name in names:
        model = platform.entities.get(name).model
        schema = model.validation_schema()
        schemas[name] = schema
        schemas[f"{name}_record"] = {
            "allOf": [
                {"$ref": f"#/components/schemas/{name}"},
                {"type": "object", "properties": SYSTEM_PROPERTIES},
            ]
        }
        paths.update(_entity_paths(name))
        paths.update(_action_paths(name, model.definition))
    paths.update(_meta_paths())
    paths.update(_report_builder_paths())
    paths.update(platform_paths(names))
    for path, item in module_paths(platform, app).items():
        paths.setdefault(path, {}).update(item)
    return {
        "openapi": "3.1.0",
        "info": {"title": "Tessera API", "version": "1"},
        "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
        "components": {
            "schemas": schemas,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"bearer": []}],
        "paths": paths,
    }


__all__ = ["module_paths", "openapi_document"]
