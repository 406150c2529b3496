"""The operations beyond each entity's record paths, described for OpenAPI 3.1.

One table per area (auth, rules, reports, flows and tasks, files, views, web
forms, import, the editor's rule tools), written beside each other so a reader
sees the whole API in one page. A new API module may instead describe its own
routes with an ``openapi_paths(platform)`` function (see :mod:`web.openapi`);
``tests/web/test_openapi_complete.py`` fails for any ``/api/v1`` route and
method described in neither place.
"""

from __future__ import annotations

from typing import Any

OBJECT: dict[str, Any] = {"type": "object"}
STRING: dict[str, Any] = {"type": "string"}
COMMAND_ID = {"type": "string", "maxLength": 200, "description": "repeat-safe command id"}


def path_param(name: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": schema or STRING}


def query(name: str, schema: dict[str, Any], description: str = "") -> dict[str, Any]:
    out = {"name": name, "in": "query", "schema": schema}
    if description:
        out["description"] = description
    return out


def json_body(properties: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        schema["required"] = required
    return {"required": True, "content": {"application/json": {"schema": schema}}}


def problems(*codes: int) -> dict[str, Any]:
    return {
        str(code): {
            "description": "a problem",
            "content": {
                "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
            },
        }
        for code in codes
    }


def answer(description: str, schema: dict[str, Any] | None = None, mime: str = "application/json"):
    return {"description": description, "content": {mime: {"schema": schema or OBJECT}}}


def items_of(schema: dict[str, Any] | None = None) -> dict[str, Any]:
    """``{"items": [...]}``, the shape every listing answers with."""
    return {
        "type": "object",
        "properties": {"items": {"type": "array", "items": schema or OBJECT}},
    }


def op(
    operation_id: str,
    tag: str,
    summary: str,
    *,
    params: list[dict[str, Any]] | None = None,
    body: dict[str, Any] | None = None,
    ok: dict[str, Any] | None = None,
    status: int = 200,
    errors: tuple[int, ...] = (401,),
    public: bool = False,
) -> dict[str, Any]:
    """One operation: its id, tag, summary, parameters, body and answers."""
    out: dict[str, Any] = {"operationId": operation_id, "tags": [tag], "summary": summary}
    if params:
        out["parameters"] = params
    if body:
        out["requestBody"] = body
    out["responses"] = {str(status): ok or answer("JSON"), **problems(*errors)}
    if public:
        out["security"] = []
    return out


# ---------------------------------------------------------------- areas

RECORD_ID = {"type": "integer", "minimum": 1}
ENTITY_NAME = {"type": "string", "pattern": "^[a-z][a-z0-9_]*$", "maxLength": 63}
ITEM_NAME = {"type": "string", "maxLength": 200}


def _auth() -> dict[str, Any]:
    return {
        "/api/v1/auth/session": {
            "get": op("auth_session", "auth", "The signed-in user and the CSRF token for writes",
                      ok=answer("the session", {"type": "object", "properties": {
                          "user": OBJECT, "csrf_token": {"type": ["string", "null"]}}})),
        },
        "/api/v1/auth/token": {
            "post": op("auth_token", "auth", "Trade a user name and password for an API token "
                       "(shown once)",
                       body=json_body({"username": STRING, "password": STRING},
                                      ["username", "password"]),
                       ok=answer("the token", {"type": "object", "properties": {
                           "token": STRING, "expires_at": {"type": "string",
                                                           "format": "date-time"}}}),
                       status=201, public=True),
        },
    }  # fmt: skip


def _entities() -> dict[str, Any]:
    return {
        "/api/v1/entities": {
            "get": op("entities", "entities", "The entities the user may read, with their labels",
                      ok=answer("the entities", items_of({"type": "object", "properties": {
                          "name": STRING, "label": {}, "title_field": {}}}))),
        },
        "/api/v1/entities/{name}": {
            "get": op("entity", "entities", "An entity's definition without the fields hidden "
                      "from the user, and the user's level on each field",
                      params=[path_param("name", ENTITY_NAME)],
                      ok=answer("the definition", {"type": "object", "properties": {
                          "definition": OBJECT, "field_levels": OBJECT}}),
                      errors=(401, 403, 404)),
        },
    }  # fmt: skip


def _rules() -> dict[str, Any]:
    text = {"type": "string", "maxLength": 100_000}
    diagnostics = {"type": "object", "properties": {"diagnostics": {"type": "array"}}}
    return {
        "/api/v1/rules/check": {
            "post": op("rules_check", "rules", "Check an expression (with entity) or a rules file "
                       "(with path): located diagnostics",
                       body=json_body({"text": text, "entity": STRING, "path": STRING}, ["text"]),
                       ok=answer("the checker's messages", diagnostics), errors=(401, 422)),
        },
        "/api/v1/rules/matching": {
            "post": op("rules_matching", "rules", "How many records the user can see match a "
                       "condition, and some of their ids",
                       body=json_body({"entity": STRING, "condition": text,
                                       "limit": {"type": "integer", "minimum": 1,
                                                 "maximum": 100}}, ["entity", "condition"]),
                       ok=answer("count and sample", {"type": "object", "properties": {
                           "count": {"type": "integer"},
                           "sample": {"type": "array", "items": {"type": "integer"}}}}),
                       errors=(401, 403, 404, 422)),
        },
        "/api/v1/rules/condition": {
            "post": op("rules_condition", "rules", "A condition as text to the builder's tree, "
                       "or a tree to text",
                       body=json_body({"entity": STRING, "text": text, "tree": OBJECT},
                                      ["entity"]),
                       ok=answer("text, tree and errors"), errors=(401, 403, 404, 422)),
        },
        "/api/v1/rules/operators": {
            "get": op("rules_operators", "rules", "The fields and operators a condition builder "
                      "offers this user",
                      params=[query("entity", STRING, "the entity")],
                      ok=answer("fields", {"type": "object", "properties": {
                          "entity": STRING, "fields": {"type": "array"}}}),
                      errors=(401, 403, 404)),
        },
        "/api/v1/rules/model": {
            "post": op("rules_model", "rules", "A rules file as the grid editor's model",
                       body=json_body({"text": text}, ["text"]), errors=(401, 403, 422)),
        },
        "/api/v1/rules/print": {
            "post": op("rules_print", "rules", "The grid editor's model as rules-file text",
                       body=json_body({"model": {"type": "object", "properties": {
                           "blocks": {"type": "array"}}}}, ["model"]),
                       ok=answer("the text", {"type": "object", "properties": {"text": STRING}}),
                       errors=(401, 403, 422)),
        },
        "/api/v1/rules/table-row": {
            "post": op("rules_table_row", "rules", "What a decision-table row tests, as a "
                       "condition",
                       body=json_body({"inputs": {"type": "array", "items": STRING},
                                       "cells": {"type": "array", "items": STRING}},
                                      ["inputs", "cells"]),
                       ok=answer("the condition", {"type": "object", "properties": {
                           "condition": STRING}}), errors=(401, 403, 422)),
        },
        "/api/v1/rules/complete": {
            "post": op("rules_complete", "rules", "What fits at the cursor: keywords, fields, "
                       "functions, option values",
                       body=json_body({"text": text, "position": {"type": "integer",
                                                                  "minimum": 0}}, ["text"]),
                       errors=(401, 403, 422)),
        },
        "/api/v1/rules/examples": {
            "post": op("rules_examples", "rules", "Run a rules file's test examples",
                       body=json_body({"text": text, "path": STRING}, ["text"]),
                       errors=(401, 403, 422)),
        },
        "/api/v1/rules/trace/{entity}/{record_id}": {
            "get": op("rules_trace", "rules", "Why a record has its score, grade and owner",
                      params=[path_param("entity", ENTITY_NAME),
                              path_param("record_id", RECORD_ID)],
                      errors=(401, 403, 404)),
        },
        "/api/v1/rules/files/{name}/diff": {
            "post": op("rules_diff", "rules", "A unified diff between two versions of a rules "
                       "file, or a version and a draft",
                       params=[path_param("name", ITEM_NAME)],
                       body=json_body({"from": {"type": "integer"}, "to": {"type": "integer"},
                                       "text": text}, ["from"]),
                       ok=answer("the diff", {"type": "object", "properties": {
                           "diff": {"type": "array", "items": STRING},
                           "changed": {"type": "boolean"}}}),
                       errors=(401, 403, 404, 422)),
        },
        "/api/v1/rules/files/{name}/replay": {
            "post": op("rules_replay", "rules", "Dry-run a rule set (a draft or a stored version) "
                       "over stored records",
                       params=[path_param("name", ITEM_NAME)],
                       body=json_body({"ruleset": STRING, "text": text,
                                       "version": {"type": "integer"},
                                       "limit": {"type": "integer", "minimum": 1,
                                                 "maximum": 5000}}, ["ruleset"]),
                       errors=(401, 403, 404, 422)),
        },
    }  # fmt: skip


def _reports() -> dict[str, Any]:
    name = path_param("name", ITEM_NAME)
    filters = query("filters", STRING, "a condition in the rule language")
    params = query("params", STRING, "a JSON object of the report's parameter values")
    return {
        "/api/v1/reports/{name}": {
            "get": op("report_run", "reports", "A report's figures for the user",
                      params=[name, filters, params], errors=(401, 403, 404, 422)),
        },
        "/api/v1/reports/{name}/drill": {
            "get": op("report_drill", "reports", "The records behind one cell",
                      params=[name, query("key", STRING, "a JSON list: row keys, then column "
                                          "keys; [stage] of a funnel, [value] of a leaderboard"), filters, params,
                              query("limit", {"type": "integer", "minimum": 1, "maximum": 200})],
                      errors=(401, 403, 404, 422)),
        },
        "/api/v1/reports/{name}/export": {
            "get": op("report_export", "reports", "A report as CSV, XLSX or PDF",
                      params=[name, query("format", {"enum": ["csv", "xlsx", "pdf"]}), filters,
                              params, query("lang", {"enum": ["en", "zh-CN"]})],
                      ok={"description": "the file", "content": {
                          "text/csv": {"schema": STRING},
                          "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet":
                              {"schema": STRING},
                          "application/pdf": {"schema": STRING}}},
                      errors=(401, 403, 404, 422)),
        },
        "/api/v1/dashboards/{name}": {
            "get": op("dashboard_run", "reports", "Every widget's figures under the global "
                      "filters",
                      params=[name, query("values", STRING, "a JSON object: filter name to "
                                          "value")],
                      errors=(401, 403, 404, 422)),
        },
    }  # fmt: skip


def _flows() -> dict[str, Any]:
    instance = path_param("instance_id", RECORD_ID)
    task = path_param("task_id", RECORD_ID)
    handover = json_body({"to": STRING, "comment": STRING, "command_id": COMMAND_ID}, ["to"])
    return {
        "/api/v1/flows/{name}/start": {
            "post": op("flow_start", "flows", "Start a flow on a record the user may change",
                       params=[path_param("name", ITEM_NAME)],
                       body=json_body({"entity": STRING, "id": RECORD_ID,
                                       "command_id": COMMAND_ID}, ["entity", "id"]),
                       status=201, errors=(401, 403, 404, 409, 422)),
        },
        "/api/v1/flows/instances": {
            "get": op("flow_my_requests", "flows", "Instances the user started, newest first",
                      params=[query("status", STRING, "e.g. running")],
                      ok=answer("instances", items_of())),
        },
        "/api/v1/flows/instances/{instance_id}": {
            "get": op("flow_instance", "flows", "An instance with its history",
                      params=[instance], errors=(401, 403, 404)),
        },
        "/api/v1/flows/instances/{instance_id}/withdraw": {
            "post": op("flow_withdraw", "flows", "The initiator takes a request back",
                       params=[instance],
                       body={"required": False, "content": {"application/json": {"schema": {
                           "type": "object", "properties": {"command_id": COMMAND_ID}}}}},
                       errors=(401, 403, 404, 409, 422)),
        },
        "/api/v1/flows/instances/{instance_id}/comments": {
            "post": op("flow_comment", "flows", "A remark in the instance's history",
                       params=[instance], body=json_body({"comment": STRING}, ["comment"]),
                       status=201, errors=(401, 403, 404, 422)),
        },
        "/api/v1/tasks": {
            "get": op("tasks", "tasks", "The user's open tasks (theirs or their roles')",
                      ok=answer("tasks", items_of())),
        },
        "/api/v1/tasks/{task_id}/complete": {
            "post": op("task_complete", "tasks", "Approve, reject, return or finish a task",
                       params=[task],
                       body=json_body({"outcome": STRING, "comment": STRING,
                                       "command_id": COMMAND_ID}, ["outcome"]),
                       errors=(401, 403, 404, 409, 422)),
        },
        "/api/v1/tasks/{task_id}/transfer": {
            "post": op("task_transfer", "tasks", "Hand the task to another user", params=[task],
                       body=handover, errors=(401, 403, 404, 409, 422)),
        },
        "/api/v1/tasks/{task_id}/signers": {
            "post": op("task_add_signer", "tasks", "Ask another user to approve this step too",
                       params=[task], body=handover, status=201,
                       errors=(401, 403, 404, 409, 422)),
        },
        "/api/v1/notifications": {
            "get": op("notifications", "notifications", "The user's notifications, newest first",
                      params=[query("unread", {"enum": ["0", "1"]}),
                              query("kind", {"enum": ["notify", "cc"]})],
                      ok=answer("notifications", {"type": "object", "properties": {
                          "items": {"type": "array"}, "unread": {"type": "integer"}}})),
        },
        "/api/v1/notifications/{notification_id}/read": {
            "post": op("notification_read", "notifications", "Mark one notification read",
                       params=[path_param("notification_id", RECORD_ID)],
                       errors=(401, 404)),
        },
        "/api/v1/notifications/read": {
            "post": op("notifications_read_all", "notifications", "Mark them all read",
                       ok=answer("how many", {"type": "object", "properties": {
                           "marked": {"type": "integer"}}})),
        },
    }  # fmt: skip


def _files() -> dict[str, Any]:
    info = {"type": "object", "properties": {
        "id": STRING, "name": STRING, "size": {"type": "integer"}, "type": STRING,
        "sha256": STRING, "url": STRING}}  # fmt: skip
    file_id = path_param("file_id", {"type": "string", "maxLength": 64})
    return {
        "/api/v1/files": {
            "post": op("file_upload", "files", "Upload a file (size and type checked by content; "
                       "the limits of entity and field apply when given)",
                       params=[query("entity", STRING), query("field", STRING)],
                       body={"required": True, "content": {"multipart/form-data": {"schema": {
                           "type": "object", "required": ["file"], "properties": {
                               "file": {"type": "string", "format": "binary"},
                               "entity": STRING, "field": STRING}}}}},
                       ok=answer("the stored file", info), status=201,
                       errors=(401, 403, 413, 415, 422)),
        },
        "/api/v1/files/{file_id}": {
            "get": op("file_download", "files", "A file's bytes, as an attachment",
                      params=[file_id],
                      ok={"description": "the file", "content": {
                          "application/octet-stream": {"schema": {"type": "string",
                                                                  "format": "binary"}}}},
                      errors=(401, 403, 404)),
        },
        "/api/v1/files/{file_id}/info": {
            "get": op("file_info", "files", "A file's name, size, type and checksum",
                      params=[file_id], ok=answer("the file", info), errors=(401, 403, 404)),
        },
    }  # fmt: skip


def _views() -> dict[str, Any]:
    view = {"type": "object", "properties": {
        "entity": STRING, "name": {"type": "string", "maxLength": 200},
        "columns": {"type": "array", "items": STRING}, "order_by": STRING, "where": STRING,
        "shared": {"type": "boolean"}}}  # fmt: skip
    view_id = path_param("view_id", RECORD_ID)
    body = {"required": True, "content": {"application/json": {"schema": view}}}
    return {
        "/api/v1/views": {
            "get": op("views", "views", "The user's saved views of an entity and the shared ones",
                      params=[query("entity", STRING)], ok=answer("views", items_of()),
                      errors=(401, 403, 404, 422)),
            "post": op("view_create", "views", "Save a view (personal, or shared)",
                       body=body, status=201, errors=(401, 403, 404, 422)),
        },
        "/api/v1/views/{view_id}": {
            "get": op("view", "views", "One saved view", params=[view_id],
                      errors=(401, 403, 404)),
            "patch": op("view_update", "views", "Change a view (its owner or an admin)",
                        params=[view_id], body=body, errors=(401, 403, 404, 422)),
            "delete": op("view_delete", "views", "Delete a view (its owner or an admin)",
                         params=[view_id], ok={"description": "deleted"}, status=204,
                         errors=(401, 403, 404)),
        },
    }  # fmt: skip


def _webforms() -> dict[str, Any]:
    label = {"anyOf": [STRING, {"type": "object", "additionalProperties": STRING}]}
    field = {"anyOf": [STRING, {"type": "object", "required": ["field"], "properties": {
        "field": STRING, "label": label, "help": label, "required": {"type": "boolean"}}}]}  # fmt: skip
    form = {"type": "object", "required": ["name", "entity", "fields"], "properties": {
        "name": ENTITY_NAME, "label": label, "intro": label, "entity": STRING,
        "fields": {"type": "array", "minItems": 1, "items": field}, "fixed": OBJECT,
        "submit_as": {"type": ["string", "null"]}, "thanks": label,
        "enabled": {"type": "boolean"},
        "rate_limit": {"type": "integer", "minimum": 1, "maximum": 1000}}}  # fmt: skip
    name = path_param("name", ITEM_NAME)
    body = {"required": True, "content": {"application/json": {"schema": form}}}
    admin = (401, 403, 404, 409, 422)
    return {
        "/api/v1/webforms": {
            "get": op("webforms", "webforms", "The public web forms (admins)",
                      ok=answer("forms", items_of(form)), errors=(401, 403)),
            "post": op("webform_create", "webforms", "Publish an entity's form at /f/<name>",
                       body=body, status=201, errors=admin),
        },
        "/api/v1/webforms/{name}": {
            "get": op("webform", "webforms", "One web form", params=[name],
                      errors=(401, 403, 404)),
            "put": op("webform_update", "webforms", "Replace a web form", params=[name],
                      body=body, errors=admin),
        },
        "/api/v1/webforms/{name}/disable": {
            "post": op("webform_disable", "webforms", "Close a web form (its page answers 404)",
                       params=[name], errors=(401, 403, 404)),
        },
    }  # fmt: skip


def _imports(entities: list[str]) -> dict[str, Any]:
    entity = path_param("entity", {"type": "string", "enum": entities} if entities else STRING)
    options = [
        query("map", {"type": "array", "items": STRING}, "COLUMN=FIELD, repeated"),
        query("policy", {"enum": ["skip", "update", "flag", "create"]},
              "what to do with a duplicate"),
        query("match", STRING, "how duplicates are found"),
        query("all_or_nothing", {"type": "boolean"}),
        query("batch_size", {"type": "integer", "minimum": 1, "maximum": 10_000}),
        query("restart", {"type": "boolean"}, "start over instead of resuming"),
        query("format", {"enum": ["csv", "xlsx"]}),
    ]  # fmt: skip
    upload = {"type": "string", "format": "binary"}
    return {
        "/api/v1/import/{entity}": {
            "post": op("import_records", "import", "Import a CSV or XLSX file (multipart 'file', "
                       "or the raw body): the run's result and the rejected rows' report URL",
                       params=[entity, *options],
                       body={"required": True, "content": {
                           "multipart/form-data": {"schema": {"type": "object",
                                                              "properties": {"file": upload}}},
                           "text/csv": {"schema": upload}}},
                       errors=(401, 403, 404, 413, 422)),
        },
        "/api/v1/import/{entity}/runs/{run_id}/report": {
            "get": op("import_report", "import", "The rejected rows of an import run, as CSV",
                      params=[entity, path_param("run_id", RECORD_ID)],
                      ok=answer("the rejected rows", STRING, "text/csv"),
                      errors=(401, 403, 404)),
        },
    }  # fmt: skip


def _contract() -> dict[str, Any]:
    return {
        "/api/v1/openapi.json": {
            "get": op("openapi", "contract", "This document", public=True, errors=()),
        },
        "/api/v1/docs": {
            "get": op("api_docs", "contract", "This document as a readable page", public=True,
                      ok=answer("the page", STRING, "text/html"), errors=()),
        },
    }  # fmt: skip


def _builders() -> dict[str, Any]:
    """The flow designer's and dashboard editor's own endpoints (metadata is saved
    through ``/api/v1/meta``); open to users who may customize the kind."""
    name = path_param("name", ITEM_NAME)
    draft = {"definition": OBJECT}
    return {
        "/api/v1/flows/design/node-types": {
            "get": op("flow_design_node_types", "builders",
                      "The palette: every registered node type with its config schema",
                      ok=answer("node types", items_of()), errors=(401, 403)),
        },
        "/api/v1/flows/design/people": {
            "get": op("flow_design_people", "builders",
                      "Users, roles and an entity's user fields, for the approver picker",
                      params=[query("entity", ENTITY_NAME)], errors=(401, 403, 404)),
        },
        "/api/v1/flows/design/{name}/check": {
            "post": op("flow_design_check", "builders",
                       "Check a draft flow without saving; each error names its node or edge",
                       params=[name], body=json_body(draft, ["definition"]),
                       errors=(401, 403, 422)),
        },
        "/api/v1/flows/design/{name}/dry-run": {
            "post": op("flow_design_dry_run", "builders",
                       "The path a draft or the live flow takes on a sample record; writes nothing",
                       params=[name],
                       body=json_body({**draft, "record_id": RECORD_ID, "values": OBJECT,
                                       "outcomes": {"type": "object",
                                                    "additionalProperties": STRING}}),
                       errors=(401, 403, 404, 422)),
        },
        "/api/v1/flows/design/{name}/versions": {
            "get": op("flow_design_versions", "builders",
                      "Each version of a flow with its running and finished instances",
                      params=[name], errors=(401, 403, 404)),
        },
        "/api/v1/dashboards/preview": {
            "post": op("dashboard_preview", "builders",
                       "Run a draft dashboard's widgets as the user",
                       body=json_body({**draft, "values": OBJECT}, ["definition"]),
                       errors=(401, 403, 422)),
        },
        "/api/v1/dashboards/{name}/widgets/{index}/drill": {
            "get": op("dashboard_widget_drill", "reports",
                      "The records behind one figure of a widget, in the viewer's scope",
                      params=[name, path_param("index", {"type": "integer", "minimum": 0}),
                              query("key", STRING, "JSON list: row keys then column keys; [stage] "
                                    "of a funnel, [value] of a leaderboard"),
                              query("values", STRING, "JSON object: the global filters"),
                              query("limit", {"type": "integer", "minimum": 1, "maximum": 200})],
                      ok=answer("records", items_of()), errors=(401, 403, 404, 422)),
        },
    }  # fmt: skip


def _record_actions() -> dict[str, Any]:
    """Actions an entity declares (``actions:`` in its definition, e.g. a lead's convert),
    for any entity; the per-entity paths name each entity's actions."""
    params = [path_param("entity", ENTITY_NAME), path_param("record_id", RECORD_ID)]
    action = path_param("action", ITEM_NAME)
    return {
        "/api/v1/records/{entity}/{record_id}/actions": {
            "get": op("record_actions", "records", "The actions the user may run on a record",
                      params=params, ok=answer("actions", items_of()),
                      errors=(401, 403, 404)),
        },
        "/api/v1/records/{entity}/{record_id}/actions/{action}": {
            "get": op("record_action_preview", "records",
                      "What running the action would create or reuse; writes nothing",
                      params=[*params, action, query("skip", STRING, "targets to leave out")],
                      errors=(401, 403, 404, 409, 422)),
            "post": op("record_action_run", "records",
                       "Run the action in one transaction (all or nothing)",
                       params=[*params, action],
                       body=json_body({"skip": {"type": "array", "items": STRING},
                                       "values": OBJECT}),
                       errors=(401, 403, 404, 409, 422)),
        },
    }  # fmt: skip


def platform_paths(entities: list[str]) -> dict[str, Any]:
    """Every operation of this table; ``entities`` are the names an import may target."""
    paths: dict[str, Any] = {}
    for area in (_auth(), _entities(), _rules(), _reports(), _flows(), _files(), _views(),
                 _webforms(), _imports(entities), _contract(), _builders(),
                 _record_actions()):  # fmt: skip
        paths.update(area)
    return paths


__all__ = ["answer", "json_body", "op", "path_param", "platform_paths", "problems", "query"]
