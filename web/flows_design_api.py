"""``/api/v1/flows/design``: what the flow designer asks besides load and publish.

Loading and publishing a flow are the metadata API's (``GET/PUT
/api/v1/meta/flow/<name>``, with the version the editor started from, so a
stale publish is a 409). This blueprint adds the designer's questions, each
answered without writing anything:

- ``GET  /node-types``: the palette, straight from the node-type registry, so a
  type a plugin installs appears with its config schema and no front-end code;
- ``GET  /people?entity=``: who an approval may ask (users, roles, the user
  fields of the flow's entity);
- ``POST /<name>/check``: every problem of a draft, each naming the node or
  the edge (from, to) it concerns;
- ``POST /<name>/dry-run``: the path a draft (or the live flow) would take on a
  sample record, and whom each approval would ask;
- ``GET  /<name>/versions``: every version with how many instances run and
  finished on it.

Every endpoint requires ``customize`` on flows, as editing them does.
"""

from __future__ import annotations

import re
from typing import Any

import orjson
from flask import Blueprint, Response, request
from sqlalchemy import func, select

from engine.errors import BundleError, NotFound, ValidationError, error_entry
from engine.flows.dry_run import dry_run
from engine.flows.registry import node_type, node_types
from engine.flows.spec import parse_flow
from engine.flows.tables import flow_instances
from engine.forms.system_fields import SYSTEM_FIELD_LABELS
from web.auth import customizing, require_user
from web.http import body, json_response

blueprint = Blueprint("flows_design_api", __name__, url_prefix="/api/v1/flows/design")

#: Icons (names in /vendor/icons.svg) for the built-in types; a plugin sets ``icon``.
ICONS = {
    "start": "play",
    "end": "square",
    "approval": "stamp",
    "task": "clipboard-check",
    "exclusive": "git-branch",
    "parallel": "git-fork",
    "inclusive": "git-merge",
    "action": "pencil",
    "create_record": "file-plus",
    "update_related": "link",
    "notify": "bell",
    "webhook": "webhook",
    "timer": "timer",
    "subflow": "workflow",
}
#: System fields every record has that hold a user (see DESIGN.md, Security).
USER_SYSTEM_FIELDS = {k: SYSTEM_FIELD_LABELS[k] for k in ("owner", "created_by", "modified_by")}
_EDGE_FIELD = re.compile(r"^edges(?:\.|\[)(\d+)")


def _platform() -> Any:
    """The platform, once the signed-in user may customize flows (else 403)."""
    return customizing("flow")


def palette() -> list[dict[str, Any]]:
    """Every registered node type as the designer's palette shows it."""
    out = []
    for ref, t in node_types().items():
        out.append(
            {
                "ref": ref,
                "name": t.name,
                "version": t.version,
                "label": dict(t.label) if isinstance(t.label, dict) else {"en": t.label or t.name},
                "icon": getattr(t, "icon", None) or ICONS.get(t.name, "box"),
                "config_schema": t.config_schema,
                "inputs": {"min": t.inputs[0], "max": t.inputs[1]},
                "outputs": {"min": t.outputs[0], "max": t.outputs[1]},
                "outcomes": list(t.outcomes),
                "conditional": t.conditional,
                "gateway": t.gateway,
                "module": type(t).__module__,
            }
        )
    return out


def _draft(name: str, data: dict[str, Any]) -> dict[str, Any]:
    definition = data.get("definition")
    if not isinstance(definition, dict):
        raise ValidationError(
            "send the draft as an object",
            [error_entry('expected {"definition": {...}}', field="definition")],
        )
    return {**definition, "name": name}


def locate(errors: list[dict[str, Any]], definition: dict[str, Any]) -> list[dict[str, Any]]:
    """Add ``edge: {index, from, to}`` to entries about an edge, so the page can mark it."""
    edges = definition.get("edges") if isinstance(definition.get("edges"), list) else []
    out = []
    for entry in errors:
        entry = dict(entry)
        match = _EDGE_FIELD.match(entry.get("field") or "")
        if match and int(match.group(1)) < len(edges):
            raw = edges[int(match.group(1))]
            ends = raw if isinstance(raw, list) else [raw.get("from"), raw.get("to")]
            entry["edge"] = {"index": int(match.group(1)), "from": ends[0], "to": ends[1]}
        elif not entry.get("node"):
            parts = (entry.get("field") or "").split(".")
            if len(parts) > 1 and parts[0] == "nodes":
                entry["node"] = parts[1]
        out.append(entry)
    return out


def check_draft(p: Any, name: str, definition: dict[str, Any]) -> list[dict[str, Any]]:
    """Every problem publishing ``definition`` would meet, located on nodes and edges."""
    from engine.meta.install import check_definition

    return locate(check_definition(p, "flow", definition, name), definition)


@blueprint.get("/node-types")
def types() -> Response:
    _platform()
    return json_response({"items": palette()})


@blueprint.get("/people")
def people() -> Response:
    """Users, roles and (with ``entity``) the fields an approver block may name."""
    p = _platform()
    with p.db.transaction(write=False) as conn:
        perms = p.repo.all_current(conn, "permissions")
    roles: dict[str, Any] = {"admin": {"en": "Administrator", "zh-CN": "管理员"}}
    for definition, _v in perms.values():
        for role, info in (definition.get("roles") or {}).items():
            roles[role] = (info or {}).get("label") or role
    fields = []
    entity = request.args.get("entity")
    if entity and entity in p.entities.names():
        model = p.entities.get(entity).model
        for key, f in model.fields.items():
            if f.removed:
                continue
            fields.append({"key": key, "label": f.label, "user": f.type.name == "user"})
        known = {f["key"] for f in fields}
        for key, text in USER_SYSTEM_FIELDS.items():
            if key not in known:
                fields.append({"key": key, "label": text, "user": True})
    return json_response(
        {
            "users": p.users.directory(),
            "roles": [{"name": r, "label": lbl} for r, lbl in sorted(roles.items())],
            "fields": fields,
        }
    )


@blueprint.post("/<name>/check")
def check(name: str) -> Response:
    """``{"ok", "errors"}`` for a draft; nothing is saved."""
    p = _platform()
    definition = _draft(name, body())
    errors = check_draft(p, name, definition)
    return json_response({"ok": not errors, "errors": errors})


def _holders(p: Any) -> Any:
    from engine.security.users import users_table

    def holders(role: str) -> list[str]:
        with p.db.transaction(write=False) as conn:
            rows = conn.execute(
                select(users_table.c.name, users_table.c.roles).where(
                    users_table.c.active.is_(True), users_table.c.roles.contains(f'"{role}"')
                )
            ).all()
        return sorted(r.name for r in rows if role in orjson.loads(r.roles or "[]"))

    return holders


@blueprint.post("/<name>/dry-run")
def run_dry(name: str) -> Response:
    """The path a draft (``definition``) or the live flow takes on a sample record.

    The record is ``record_id`` (read as the signed-in user, so row permissions
    apply) or ``values`` (field values typed in the page). ``outcomes`` picks what
    a person step answers (``{"manager": "reject"}``; approve where not given).
    Nothing is written: "set fields" steps change only the sample.
    """
    p = _platform()
    user = require_user()
    data = body()
    if isinstance(data.get("definition"), dict):
        definition = _draft(name, data)
        errors = check_draft(p, name, definition)
        if errors:
            raise BundleError("fix the flow's problems before a dry run", errors)
    else:
        definition = p.meta.get("flow", name)["definition"]
    spec, _problems = parse_flow(definition)
    record: dict[str, Any] = {}
    if data.get("record_id") not in (None, ""):
        if not spec.entity:
            raise ValidationError(
                "this flow has no entity", [error_entry("no entity", field="entity")]
            )
        try:
            record = p.records(spec.entity, user=user).get(int(data["record_id"]))
        except (TypeError, ValueError):
            raise ValidationError(
                "the record id must be a whole number",
                [error_entry(repr(data["record_id"]), field="record_id")],
            ) from None
    elif isinstance(data.get("values"), dict):
        record = dict(data["values"])
    entity = spec.entity

    def compile_(text: str) -> Any:
        if not entity:
            raise NotFound("the flow has no entity to evaluate conditions over")
        return p.rules.compile(text, entity)

    def manager(who: str) -> str | None:
        found = p.users.find(who)
        return None if found is None else found.get("manager")

    outcomes = data.get("outcomes") or {}
    if not isinstance(outcomes, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in outcomes.items()
    ):
        raise ValidationError(
            "outcomes maps a step's name to an outcome",
            [error_entry("expected {step: outcome}", field="outcomes")],
        )
    for key, value in outcomes.items():
        node = spec.nodes.get(key)
        t = node_type(node.type, node.version) if node is not None else None
        if t is None or value not in t.node_outcomes(node):
            raise ValidationError(
                "a step was given an outcome it does not have",
                [error_entry(f"{key!r} has no outcome {value!r}", field=f"outcomes.{key}")],
            )
    result = dry_run(
        spec,
        record,
        compile_=compile_,
        initiator=user,
        manager=manager,
        holders=_holders(p),
        outcomes=outcomes,
    )
    return json_response({**result, "record_id": record.get("id")})


@blueprint.get("/<name>/versions")
def versions(name: str) -> Response:
    """Every version (oldest first) with its instance counts: running and finished."""
    p = _platform()
    found = p.meta.versions("flow", name)
    stmt = (
        select(flow_instances.c.flow_version, flow_instances.c.status, func.count())
        .where(flow_instances.c.flow == name)
        .group_by(flow_instances.c.flow_version, flow_instances.c.status)
    )
    counts: dict[int, dict[str, int]] = {}
    with p.db.transaction(write=False) as conn:
        for version, status, n in conn.execute(stmt).all():
            bucket = counts.setdefault(int(version), {"running": 0, "finished": 0})
            bucket["running" if status == "running" else "finished"] += int(n)
    out = []
    for v in found:
        c = counts.get(int(v["version"]), {"running": 0, "finished": 0})
        out.append(
            {
                "version": v["version"],
                "origin": v.get("origin"),
                "by": v.get("created_by"),
                "on": v.get("created_on"),
                "note": v.get("note"),
                "running": c["running"],
                "finished": c["finished"],
            }
        )
    return json_response({"name": name, "versions": out})


__all__ = ["blueprint", "check_draft", "locate", "palette"]
