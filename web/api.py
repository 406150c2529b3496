"""REST endpoints under ``/api/v1``: entities, records, rules, reports.

Handlers are thin: read the request, call the engine as the signed-in user,
shape the answer. Permission checks, validation and SQL all happen in the
engine, the same for this door as for every other.
"""

from __future__ import annotations

import io
from typing import Any

from flask import Blueprint, Response, g, request

from engine.errors import NotFound, ValidationError, error_entry
from web.auth import require_user
from web.http import TOTAL_BOUND, body, json_response, platform_of
from web.i18n import gettext

api = Blueprint("api", __name__)

MAX_LIMIT = 500


def _int_arg(name: str, default: int, low: int, high: int) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValidationError(
            f"{name} must be a whole number", [error_entry(f"{raw!r} is not a number", field=name)]
        ) from None
    if not low <= value <= high:
        raise ValidationError(
            f"{name} is out of range", [error_entry(f"use {low} to {high}", field=name)]
        )
    return value


def _record_id(record_id: int) -> int:
    """Ids fit a signed 64-bit column; a larger one names no record (404, not a database error)."""
    if not 0 < record_id < 2**63:
        raise NotFound(
            f"record {record_id} does not exist", [error_entry("no such id", field="id")]
        )
    return record_id


def _entity(name: str) -> None:
    if name not in platform_of().entities.names():
        raise NotFound(f"no entity named {name!r}", [error_entry("unknown entity", field="entity")])


# ---------------------------------------------------------------- entities


@api.get("/entities")
def entities() -> Response:
    """The entities this user may read, with their labels."""
    user = require_user()
    p = platform_of()
    access = p.access(user)
    out = []
    for name in p.entities.names():
        if access.scopes(name, "read"):
            model = p.entities.get(name).model
            out.append({"name": name, "label": model.label, "title_field": model.title_field})
    return json_response({"items": out})


@api.get("/entities/<name>")
def entity(name: str) -> Response:
    user = require_user()
    _entity(name)
    p = platform_of()
    access = p.access(user)
    access.require(name, "read")
    definition = p.entities.get(name).model.definition
    hidden = access.hidden(name)
    if hidden:
        props = definition.get("schema", {}).get("properties", {})
        definition = {
            **definition,
            "schema": {
                **definition["schema"],
                "properties": {k: v for k, v in props.items() if k not in hidden},
            },
        }
    levels = access.field_levels(name)
    return json_response({"definition": definition, "field_levels": levels})


# ---------------------------------------------------------------- records


@api.get("/records/<entity>")
def list_records(entity: str) -> Response:
    """``?where=&order_by=&limit=&offset=`` → ``{items, total, total_is_exact}``."""
    user = require_user()
    _entity(entity)
    records = platform_of().records(entity, user)
    where = request.args.get("where") or None
    limit = _int_arg("limit", 50, 1, MAX_LIMIT)
    offset = _int_arg("offset", 0, 0, 10_000_000)
    items = records.list(
        where=where, order_by=request.args.get("order_by"), limit=limit, offset=offset
    )
    # Bounded count: a list over millions of rows never waits on an exact count(*).
    total, exact = records.count_upto(TOTAL_BOUND, where=where)
    return json_response({"items": items, "total": total, "total_is_exact": exact})


@api.get("/records/<entity>/export")
def export_records(entity: str) -> Response:
    """``?format=csv|xlsx&where=&lang=``: the records the user may export, streamed (CSV)."""
    import csv

    from flask import stream_with_context

    from engine.store.export import iter_rows

    user = require_user()
    _entity(entity)
    records = platform_of().records(entity, user)
    fmt = request.args.get("format", "csv")
    where = request.args.get("where") or None
    lang = request.args.get("lang", "en")
    disposition = {"Content-Disposition": f'attachment; filename="{entity}.{fmt}"'}
    if records.access is not None:
        records.access.require(entity, "export")
    if fmt == "csv":
        rows = iter_rows(records, where, lang=lang)
        first = next(rows)  # errors (a bad where, no permission) surface before streaming

        def generate() -> Any:
            line = io.StringIO()
            writer = csv.writer(line)
            yield "\ufeff"
            writer.writerow(first)
            for row in rows:
                writer.writerow(["" if v is None else v for v in row])
                if line.tell() > 65536:
                    yield line.getvalue()
                    line.seek(0)
                    line.truncate()
            yield line.getvalue()

        return Response(stream_with_context(generate()), mimetype="text/csv", headers=disposition)
    binary = io.BytesIO()
    records.export(fmt, binary, where, lang=lang)
    return Response(
        binary.getvalue(),
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers=disposition,
    )


@api.post("/records/<entity>")
def create_record(entity: str) -> Response:
    user = require_user()
    _entity(entity)
    created = platform_of().records(entity, user).create(body())
    return json_response(
        created,
        status=201,
        headers={
            "Location": f"/api/v1/records/{entity}/{created['id']}",
            "ETag": f'"{created["version"]}"',
        },
    )


@api.get("/records/<entity>/<int:record_id>")
def get_record(entity: str, record_id: int) -> Response:
    user = require_user()
    _entity(entity)
    _record_id(record_id)
    record = platform_of().records(entity, user).get(record_id)
    return json_response(record, headers={"ETag": f'"{record["version"]}"'})


@api.patch("/records/<entity>/<int:record_id>")
def update_record(entity: str, record_id: int) -> Response:
    """Partial update; the version comes from ``If-Match`` or a ``version`` key (stale → 409)."""
    user = require_user()
    _entity(entity)
    _record_id(record_id)
    changes = body()
    version = changes.pop("version", None)
    match = request.headers.get("If-Match")
    if match:
        try:
            version = int(match.strip('W/"'))
        except ValueError:
            raise ValidationError(
                "If-Match must be a record version", [error_entry(match, field="If-Match")]
            ) from None
    updated = platform_of().records(entity, user).update(record_id, changes, version=version)
    return json_response(updated, headers={"ETag": f'"{updated["version"]}"'})


@api.delete("/records/<entity>/<int:record_id>")
def delete_record(entity: str, record_id: int) -> Response:
    user = require_user()
    _entity(entity)
    _record_id(record_id)
    platform_of().records(entity, user).delete(record_id)
    return Response(status=204)


@api.post("/records/<entity>/bulk")
def bulk_records(entity: str) -> Response:
    """``{"action": "assign"|"update"|"delete", "ids": [...], "values": {...},
    "versions": {id: version}}``: every record changed, or none (see engine.store.batch).

    A refusal answers with the status the single-record door would give (403, 404, 409,
    422; mixed reasons: 422) and one ``errors`` entry per problem, each with its ``id``.
    """
    from engine.store.batch import BatchRefused, check_request, run_batch
    from web.http import problem

    user = require_user()
    _entity(entity)
    data = body()
    action, ids, values = check_request(data.get("action"), data.get("ids"), data.get("values"))
    versions = _versions(data.get("versions"))
    records = platform_of().records(entity, user)
    try:
        done = run_batch(records, action, ids, values, versions=versions)
    except BatchRefused as exc:
        statuses = {_status_of(e) for _id, e in exc.refusals}
        status = statuses.pop() if len(statuses) == 1 else 422
        return problem(status, "Refused, nothing changed", exc.message, exc.errors)
    return json_response(done)


def _status_of(exc: Exception) -> int:
    """The status the app's error handler would give ``exc`` alone."""
    from web.http import ERROR_STATUS

    return next((status for cls, status, _t in ERROR_STATUS if isinstance(exc, cls)), 400)


def _versions(raw: Any) -> dict[int, int]:
    """``{"12": 3}`` (JSON keys are text) → ``{12: 3}``, or a 422 naming the bad entry."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise ValidationError(
            "versions maps record ids to versions", [error_entry("not an object", field="versions")]
        )
    out = {}
    for key, value in raw.items():
        try:
            out[int(key)] = int(value)
        except (TypeError, ValueError):
            raise ValidationError(
                "versions maps record ids to versions",
                [error_entry(f"{key!r}: {value!r}", field=f"versions.{key}")],
            ) from None
    return out


# ---------------------------------------------------------------- rules


@api.post("/rules/check")
def rules_check() -> Response:
    """``{"text", "entity"}`` (an expression) or ``{"text", "path"}`` (a rules file)."""
    require_user()
    data = body()
    text = str(data.get("text", ""))
    diagnostics = platform_of().rules.check(text, path=data.get("path"), entity=data.get("entity"))
    return json_response({"diagnostics": diagnostics})


@api.post("/rules/matching")
def rules_matching() -> Response:
    """``{"condition", "entity", "limit"}`` → how many records the user can see match, and some ids."""
    user = require_user()
    data = body()
    entity_name = str(data.get("entity", ""))
    _entity(entity_name)
    records = platform_of().records(entity_name, user)
    condition = str(data.get("condition", ""))
    limit = min(int(data.get("limit", 10)), 100)
    sample = records.list(where=condition, limit=limit)
    return json_response(
        {"count": records.count(where=condition), "sample": [r["id"] for r in sample]}
    )


def _condition_scope(entity_name: str) -> tuple[Any, set[str]]:
    """The rule catalog and the fields of ``entity_name`` hidden from the signed-in user."""
    user = require_user()
    _entity(entity_name)
    p = platform_of()
    access = p.access(user)
    access.require(entity_name, "read")
    return p.rules.catalog, access.hidden(entity_name)


@api.post("/rules/condition")
def rules_condition() -> Response:
    """The condition builder's two ways (see engine.rules.condition_tree):

    ``{"entity", "text"}`` → ``{tree | null, reason, errors, text}``;
    ``{"entity", "tree"}`` → ``{text, errors, tree}``. ``errors`` are the checker's
    located messages. A condition naming a field the user may not read is refused.
    """
    from engine.errors import PermissionDenied
    from engine.rules import condition_tree as ct

    data = body()
    entity_name = str(data.get("entity", ""))
    catalog, hidden = _condition_scope(entity_name)
    if "tree" in data:
        try:
            text = ct.to_text(data["tree"], entity_name, catalog, hidden)
        except ct.ConditionError as exc:
            raise ValidationError(
                "the condition does not fit the entity", [error_entry(str(exc), field=exc.field)]
            ) from None
        errors = ct.check(text, entity_name, catalog)
        return json_response({"text": text, "errors": errors, "tree": data["tree"]})
    text = str(data.get("text", ""))
    refused = ct.hidden_names(text, entity_name, catalog, hidden)
    if refused:
        raise PermissionDenied(
            "the condition names a field you may not read",
            [
                error_entry(f"There is no field called '{k}' you may read.", field=k)
                for k in refused
            ],
        )
    errors = ct.check(text, entity_name, catalog)
    tree, reason = ct.to_tree(text, entity_name, catalog, hidden)
    return json_response({"tree": tree, "reason": reason, "errors": errors, "text": text})


@api.get("/rules/operators")
def rules_operators() -> Response:
    """``?entity=`` → the fields a condition builder offers this user, in the page's
    language: ``{fields: [{key, label, kind, operators, options: [{value, label, labels}]}]}``
    (``labels``: the option's label in every language the bundle gives, e.g. en and zh-CN)."""
    from engine.rules import condition_tree as ct
    from web.ui.lists import visible_fields

    entity_name = request.args.get("entity", "")
    catalog, hidden = _condition_scope(entity_name)
    offered = ct.operators(catalog, entity_name, hidden)
    shown = visible_fields(entity_name, require_user())
    model = platform_of().entities.get(entity_name).model
    out = []
    for key, info in shown.items():
        spec = offered.get(key)
        if spec is None:
            continue
        labels = dict(info.get("options") or [])
        field = model.fields.get(key)
        every = (field.prop.get("x-options-labels") if field is not None else None) or {}
        out.append(
            {
                "key": key,
                "label": info["label"],
                "kind": spec["kind"],
                "operators": spec["operators"],
                "options": [
                    {
                        "value": v,
                        "label": labels.get(v, v),
                        "labels": every.get(v) if isinstance(every.get(v), dict) else {},
                    }
                    for v in spec["options"]
                ],
            }
        )
    return json_response({"entity": entity_name, "fields": out})


# ---------------------------------------------------------------- reports


def _report_filter(name: str) -> str | None:
    """The viewer's filter: ``filters`` (rule language) and ``params`` (a JSON object of
    parameter values, see :mod:`engine.reports.params`), both optional."""
    import json

    from engine.reports.params import combine

    raw = request.args.get("params") or ""
    values: Any = {}
    if raw:
        try:
            values = json.loads(raw)
        except ValueError:
            values = None
        if not isinstance(values, dict):
            raise ValidationError(
                "params must be a JSON object", [error_entry("not a JSON object", field="params")]
            )
    own = request.args.get("filters") or None
    if not values:
        return own
    return combine(own, platform_of().reports.parameter_filter(name, values))


@api.get("/reports/<name>")
def run_report(name: str) -> Response:
    user = require_user()
    result = platform_of().reports.run(name, user=user, filters=_report_filter(name))
    return json_response(result)


@api.get("/reports/<name>/drill")
def drill_report(name: str) -> Response:
    """The records behind one cell: ``key`` is a JSON list of row keys then column keys."""
    import json

    user = require_user()
    try:
        key = json.loads(request.args.get("key") or "[]")
    except ValueError:
        key = None
    if not isinstance(key, list):
        raise ValidationError(
            "key must be a JSON list", [error_entry("row keys then column keys", field="key")]
        )
    p = platform_of()
    limit = _int_arg("limit", 50, 1, 200)
    answer = p.reports.drill(name, key, user=user, filters=_report_filter(name), limit=limit)
    answer["entity"] = p.reports.spec(name).source
    return json_response(answer)


@api.get("/dashboards/<name>")
def run_dashboard(name: str) -> Response:
    """Every widget's figures under the global filters: ``values`` is a JSON object
    (filter name → value; a period is ``{"from": "2026-01-01", "to": "2026-03-31"}``)."""
    import json

    user = require_user()
    try:
        values = json.loads(request.args.get("values") or "{}")
    except ValueError:
        values = None
    if not isinstance(values, dict):
        raise ValidationError(
            "values must be a JSON object", [error_entry("not a JSON object", field="values")]
        )
    return json_response(platform_of().reports.dashboard(name, user=user, values=values))


EXPORT_TYPES = {
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
}


@api.get("/reports/<name>/export")
def export_report(name: str) -> Response:
    user = require_user()
    fmt = request.args.get("format", "csv")
    filters = _report_filter(name)
    lang = request.args.get("lang") or getattr(g, "lang", None) or "en"
    p = platform_of()
    if fmt == "csv":
        text = io.StringIO()
        p.reports.export(name, "csv", text, user=user, filters=filters, lang=lang)
        data: Any = ("\ufeff" + text.getvalue()).encode("utf-8")
    else:
        binary = io.BytesIO()
        p.reports.export(name, fmt, binary, user=user, filters=filters, lang=lang)
        data = binary.getvalue()
    return Response(
        data,
        mimetype=EXPORT_TYPES[fmt],
        headers={"Content-Disposition": f'attachment; filename="{name}.{fmt}"'},
    )


# ---------------------------------------------------------------- flows and tasks


def _roles(user: str) -> list[str]:
    return list(platform_of().users.get(user)["roles"])


@api.post("/flows/<name>/start")
def start_flow(name: str) -> Response:
    """``{"entity", "id"}``: start a flow on a record the user may see and change."""
    user = require_user()
    data = body()
    entity_name = str(data.get("entity", ""))
    _entity(entity_name)
    p = platform_of()
    record_id = int(data.get("id", 0))
    access = p.access(user)
    with p.db.transaction(write=False) as conn:
        table = p.entities.get(entity_name).table
        access.require_row(conn, entity_name, "update", table, record_id)
    instance = p.flows.start(
        name, record=(entity_name, record_id), user=user, command_id=data.get("command_id")
    )
    return json_response(instance, status=201)


def _instance_for(user: str, instance_id: int) -> dict[str, Any]:
    """The instance, if the user may read the record it runs on (404 otherwise)."""
    p = platform_of()
    instance = p.flows.instance(_record_id(instance_id))
    entity_name, record_id = instance.get("entity"), instance.get("record_id")
    if entity_name and record_id:
        with p.db.transaction(write=False) as conn:
            table = p.entities.get(entity_name).table
            p.access(user).require_row(conn, entity_name, "read", table, record_id)
    return instance


@api.get("/flows/instances/<int:instance_id>")
def flow_instance(instance_id: int) -> Response:
    """An instance with its history, for someone who may read its record."""
    return json_response(_instance_for(require_user(), instance_id))


@api.post("/flows/instances/<int:instance_id>/withdraw")
def withdraw_flow(instance_id: int) -> Response:
    """The initiator takes a request back (``{"command_id"}`` optional)."""
    user = require_user()
    _instance_for(user, instance_id)
    data = request.get_json(silent=True) or {}
    done = platform_of().flows.withdraw(instance_id, user=user, command_id=data.get("command_id"))
    return json_response(done)


@api.get("/tasks")
def my_tasks() -> Response:
    """Open tasks for the signed-in user: assigned to them or to one of their roles."""
    user = require_user()
    return json_response({"items": platform_of().flows.tasks(user=user, roles=_roles(user))})


@api.post("/tasks/<int:task_id>/complete")
def complete_task(task_id: int) -> Response:
    """``{"outcome", "comment", "command_id"}``; only a task the user can see can be completed."""
    user = require_user()
    p = platform_of()
    _my_task(user, task_id)
    data = body()
    done = p.flows.complete(
        task_id,
        str(data.get("outcome", "")),
        user=user,
        comment=data.get("comment"),
        command_id=data.get("command_id"),
    )
    return json_response(done)


def _my_task(user: str, task_id: int) -> None:
    """NotFound unless the task is open for the user (theirs or one of their roles')."""
    _record_id(task_id)
    mine = {t["id"] for t in platform_of().flows.tasks(user=user, roles=_roles(user))}
    if task_id not in mine:
        raise NotFound(
            gettext("no open task %(id)s for %(user)s", id=task_id, user=user),
            [error_entry(gettext("unknown task"), field="id")],
        )


@api.post("/tasks/<int:task_id>/transfer")
def transfer_task(task_id: int) -> Response:
    """``{"to", "comment", "command_id"}``: hand the task to another user."""
    user = require_user()
    _my_task(user, task_id)
    data = body()
    done = platform_of().flows.transfer(
        task_id,
        str(data.get("to", "")),
        user=user,
        comment=data.get("comment"),
        command_id=data.get("command_id"),
    )
    return json_response(done)


@api.post("/tasks/<int:task_id>/signers")
def add_signer(task_id: int) -> Response:
    """``{"to", "comment", "command_id"}``: ask another user to approve this step too."""
    user = require_user()
    _my_task(user, task_id)
    data = body()
    done = platform_of().flows.add_signer(
        task_id,
        str(data.get("to", "")),
        user=user,
        comment=data.get("comment"),
        command_id=data.get("command_id"),
    )
    return json_response(done, status=201)


@api.post("/flows/instances/<int:instance_id>/comments")
def comment_flow(instance_id: int) -> Response:
    """``{"comment"}``: a remark in the instance's history, by someone who may read it."""
    user = require_user()
    _instance_for(user, instance_id)
    data = body()
    done = platform_of().flows.comment(instance_id, str(data.get("comment", "")), user=user)
    return json_response(done, status=201)


@api.get("/flows/instances")
def my_requests() -> Response:
    """Instances the signed-in user started (``?status=running`` to narrow), newest first."""
    user = require_user()
    status = request.args.get("status") or None
    items = platform_of().flows.instances(started_by=user, status=status)
    return json_response({"items": items})


@api.get("/notifications")
def notifications() -> Response:
    """``?unread=1&kind=notify|cc``: the signed-in user's notifications, newest first."""
    user = require_user()
    p = platform_of()
    items = p.notifications.list(
        user, unread=request.args.get("unread") == "1", kind=request.args.get("kind") or None
    )
    return json_response({"items": items, "unread": p.notifications.unread(user)})


@api.post("/notifications/<int:notification_id>/read")
def read_notification(notification_id: int) -> Response:
    user = require_user()
    _record_id(notification_id)
    return json_response(platform_of().notifications.mark_read(notification_id, user=user))


@api.post("/notifications/read")
def read_all_notifications() -> Response:
    user = require_user()
    return json_response({"marked": platform_of().notifications.mark_all_read(user)})


# ---------------------------------------------------------------- the contract


@api.get("/openapi.json")
def openapi() -> Response:
    from web.openapi import openapi_document

    return json_response(openapi_document(platform_of()))


# ---------------------------------------------------------------- import

#: Largest import upload (bytes); ``TESSERA_IMPORT_MAX_BYTES`` in the app's config changes it.
IMPORT_MAX_BYTES = 50 * 1024 * 1024


def _import_options() -> dict[str, Any]:
    values = request.values
    mapping = {}
    for item in values.getlist("map"):
        column, eq, key = item.rpartition("=")
        if not eq or not column.strip() or not key.strip():
            raise ValidationError(
                "map must be COLUMN=FIELD",
                [error_entry(f"{item!r} is not COLUMN=FIELD", field="map")],
            )
        mapping[column.strip()] = key.strip()
    flag = str(values.get("all_or_nothing", "")).lower() in ("1", "true", "yes", "on")
    return {
        "mapping": mapping,
        "policy": values.get("policy", "skip"),
        "match": values.get("match") or None,
        "all_or_nothing": flag,
        "batch_size": _int_arg("batch_size", 500, 1, 10_000),
        "resume": str(values.get("restart", "")).lower() not in ("1", "true", "yes", "on"),
    }


@api.post("/import/<entity>")
def import_records(entity: str) -> Response:
    """A CSV or XLSX file (multipart ``file``, or the raw body) → the import's result.

    Options come from the query or the form: ``map=COLUMN=FIELD`` (repeat), ``policy``,
    ``match``, ``all_or_nothing``, ``batch_size``, ``restart``, ``format``.
    """
    import tempfile
    from pathlib import Path

    from flask import current_app
    from werkzeug.exceptions import RequestEntityTooLarge

    from engine.store.importer import Importer

    user = require_user()
    _entity(entity)
    limit = int(current_app.config.get("TESSERA_IMPORT_MAX_BYTES", IMPORT_MAX_BYTES))
    if request.content_length is not None and request.content_length > limit:
        raise RequestEntityTooLarge(f"an import may be at most {limit} bytes")
    request.max_content_length = limit
    importer = Importer(platform_of(), entity, user, **_import_options())
    fmt = request.values.get("format") or None
    with tempfile.TemporaryDirectory(prefix="tessera-import-") as tmp:
        if request.mimetype == "multipart/form-data":
            upload = request.files.get("file")
            if upload is None:
                raise ValidationError(
                    "no file uploaded", [error_entry("send the file as 'file'", field="file")]
                )
            name = Path(upload.filename or "upload.csv").name
            suffix = (
                Path(name).suffix.lower()
                if Path(name).suffix.lower() in (".csv", ".xlsx")
                else ".csv"
            )
            target = Path(tmp) / f"upload{suffix}"
            upload.save(target)
        else:
            if "spreadsheetml" in (request.mimetype or ""):
                fmt = fmt or "xlsx"
            target = Path(tmp) / "upload.bin"
            written = 0
            with target.open("wb") as out:
                while chunk := request.stream.read(1 << 16):
                    written += len(chunk)
                    if written > limit:
                        raise RequestEntityTooLarge(f"an import may be at most {limit} bytes")
                    out.write(chunk)
            if written == 0:
                raise ValidationError(
                    "the body is empty", [error_entry("send a file", field="file")]
                )
        result = importer.run(target, fmt=fmt)
    answer = result.to_dict()
    answer["report_url"] = f"/api/v1/import/{entity}/runs/{result.run_id}/report"
    return json_response(answer)


@api.get("/import/<entity>/runs/<int:run_id>/report")
def import_report(entity: str, run_id: int) -> Response:
    """The rejected rows of an import run as CSV (for the user who ran it, or an admin)."""
    from engine.store.importer import run_report

    user = require_user()
    _entity(entity)
    text, info = run_report(platform_of(), run_id, user)
    if info["entity"] != entity:
        raise NotFound(f"no import run {run_id}", [error_entry("unknown import run", field="id")])
    return Response(
        ("\ufeff" + text).encode("utf-8"),
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="{entity}-import-{run_id}-rejected.csv"'
        },
    )


__all__ = ["api"]
