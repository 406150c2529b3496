"""Record forms and record pages: ``/app/<entity>/new``, ``/<id>/edit`` and ``/<id>``.

The views only gather what the engine says (the entity's layout, the user's
field levels, the record as the user may read it, its history, related
records, flows and the rule explanation) and render it; the form saves
through the REST API (``web/static/form.js``) and its live logic is the
entity's compiled form script (``engine.forms.live_script``), served as a file
for ``script-src 'self'``.
"""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal
from typing import Any

from flask import Blueprint, Response, abort, g, redirect, render_template, request
from sqlalchemy import select

from engine.flows.service import running_on
from web.http import model_or_404, platform_of
from web.i18n import current_lang, gettext, label
from web.ui.context import sign_in_first
from web.ui.display import display_value
from web.ui.record_actions import action_panels

blueprint = Blueprint("records", __name__)

#: field type → the widget the form draws for it.
WIDGETS = {
    "text": "text",
    "email": "email",
    "phone": "tel",
    "url": "url",
    "long_text": "textarea",
    "rich_text": "textarea",
    "integer": "integer",
    "decimal": "number",
    "percent": "number",
    "currency": "currency",
    "boolean": "boolean",
    "date": "date",
    "datetime": "datetime",
    "duration": "text",
    "select": "select",
    "multi_select": "multiselect",
    "tags": "tags",
    "reference": "reference",
    "user": "text",
    "child_table": "grid",
    "file": "file",
    "autonumber": "text",
}


def _options(f: Any) -> list[dict[str, str]]:
    prop = f.prop
    values = prop.get("enum") or (prop.get("items") or {}).get("enum") or []
    names = prop.get("x-options-labels") or {}
    return [{"value": str(v), "label": label(names.get(v), str(v))} for v in values]


def _input_value(f: Any, value: Any) -> Any:
    """A value as the form's input holds it (native date/datetime-local text)."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.astimezone(platform_of().clock.timezone).strftime("%Y-%m-%dT%H:%M")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _plain_default(f: Any) -> Any:
    """A new form's starting value: the field's ``x-default`` when it is a constant.

    An expression default (``now()``) is the server's to fill on save.
    """
    default = f.prop.get("x-default")
    if isinstance(default, bool | int | float):
        return default
    if isinstance(default, str) and ("(" not in default or default in _options_values(f)):
        return default
    return None


def _copied_option_labels(model: Any, f: Any) -> dict[str, Any]:
    """Option labels of a field that copies a referenced record's select
    (``region: {x-computed: account.region}``), so the copy reads like the original."""
    computed = f.computed
    if not isinstance(computed, str) or f.prop.get("x-options-labels"):
        return {}
    ref_key, _, other_key = computed.strip().partition(".")
    ref = model.fields.get(ref_key)
    if not other_key.isidentifier() or ref is None or not ref.ref:
        return {}
    entities = platform_of().entities
    if ref.ref not in entities.names():
        return {}
    source = entities.get(ref.ref).model.fields.get(other_key)
    return (source.prop.get("x-options-labels") or {}) if source is not None else {}


def _options_values(f: Any) -> list[str]:
    return [o["value"] for o in _options(f)]


def _field(model: Any, key: str, levels: dict[str, str], record: dict[str, Any]) -> Any:
    f = model.fields.get(key)
    if f is None or f.removed or levels.get(key) == "hidden":
        return None
    view: dict[str, Any] = {
        "key": key,
        "label": label(f.label, key),
        "type": f.type.name,
        "widget": WIDGETS.get(f.type.name, "text"),
        "required": f.required,
        "readonly": f.read_only or levels.get(key) == "read",
        "computed": bool(f.computed),
        "options": _options(f),
        "ref": f.ref,
        "currency": f.prop.get("x-currency"),
        "max_length": f.prop.get("maxLength"),
        "value": _input_value(f, record.get(key) if record else _plain_default(f)),
        "display": display_value(f, record.get(key)),
    }
    copied = _copied_option_labels(model, f)
    if copied and record and record.get(key) in copied:
        view["display"] = label(copied[record[key]], str(record[key]))
    if f.ref and record.get(key) is not None:
        view["ref_title"] = view["display"]
    if f.type.name == "file":
        _file_view(f, view, record.get(key) if record else None)
    elif f.type.name == "rich_text":
        from markupsafe import Markup

        from engine.forms.richtext import sanitize_html

        # Sanitised again here: only the server's sanitiser decides what HTML is drawn.
        clean = sanitize_html(record.get(key) or "") if record else ""
        view["html"] = Markup(clean)
        view["value"] = clean
    if f.child is not None:
        view["columns"] = [
            c
            for c in (_field(f.child, k, {}, {}) for k in f.child.fields)
            if c is not None and c["widget"] != "grid"
        ]
        rows = record.get(key) or []
        child = f.child.fields
        view["rows"] = [
            {c["key"]: _input_value(child[c["key"]], row.get(c["key"])) for c in view["columns"]}
            for row in rows
        ]
        view["display_rows"] = [
            {c["key"]: display_value(child[c["key"]], row.get(c["key"])) for c in view["columns"]}
            for row in rows
        ]
        _row_files(view, rows)
    return view


def _row_files(view: dict[str, Any], rows: list[dict[str, Any]]) -> None:
    """The files in a child table's file cells: per row, column key -> [{id, name}], and
    the files' names as the read-only grid's text."""
    from engine.store.files import file_ids

    keys = [c["key"] for c in view["columns"] if c["widget"] == "file"]
    ids = [i for row in rows for k in keys for i in file_ids(row.get(k))]
    found = platform_of().files.describe(ids) if ids else {}
    view["row_files"] = [
        {k: [{"id": i, "name": found[i]["name"]} for i in file_ids(row.get(k)) if i in found]
         for k in keys}
        for row in rows
    ]  # fmt: skip
    for shown, files in zip(view["display_rows"], view["row_files"], strict=True):
        for k, items in files.items():
            shown[k] = ", ".join(x["name"] for x in items)


def _file_view(f: Any, view: dict[str, Any], value: Any) -> None:
    """The file widget's facts: the attached files' names and the field's limits."""
    from engine.store.files import field_limits, file_ids

    ids = file_ids(value)
    found = platform_of().files.describe(ids) if ids else {}
    view["files"] = [
        {"id": i, "name": found[i]["name"], "size": found[i]["size"]} for i in ids if i in found
    ]
    view["value"] = ids[0] if ids else None
    view["display"] = ", ".join(x["name"] for x in view["files"])
    max_size, accept = field_limits(f.prop)
    view["accept"] = ",".join(accept or [])
    view["max_size"] = max_size
    view["multiple"] = f.prop.get("type") == "array"


def _section(
    model: Any,
    item: dict[str, Any],
    levels: dict[str, str],
    record: dict[str, Any],
    number: int | None = None,
) -> dict[str, Any]:
    fields = [f for f in (_field(model, k, levels, record) for k in item.get("fields") or []) if f]
    return {
        "label": label(item.get("section"), ""),
        "columns": int(item.get("columns") or 1),
        "fields": fields,
        # the section's number in page order: the form script shows or hides it by number
        "number": number,
    }


def shown_sections(
    entity: str, model: Any, blocks: list[dict[str, Any]], record: dict[str, Any]
) -> list[dict[str, Any]]:
    """``blocks`` without the sections whose ``x-visible-when`` does not hold for ``record``.

    The form hides such a section live as the user types; the read-only page shows the
    record as saved, so it decides once here, as the save's own check does
    (``engine.forms.sections``: a condition that fails to run leaves its section shown).
    """
    from engine.forms.sections import layout_sections

    conditions = [when for _section, when in layout_sections(model.definition)]
    rules = platform_of().rules

    def shown(s: dict[str, Any]) -> bool:
        number = s.get("number")
        if number is None or number >= len(conditions) or conditions[number] is None:
            return True
        try:
            return rules.compile(conditions[number], entity)(record) is True
        except Exception:  # a broken condition hides nothing
            return True

    out = []
    for b in blocks:
        if b["kind"] == "tabs":
            tabs = [{**t, "sections": [s for s in t["sections"] if shown(s)]} for t in b["tabs"]]
            tabs = [t for t in tabs if any(s["fields"] for s in t["sections"])]
            if tabs:
                out.append({**b, "tabs": tabs})
        elif shown(b):
            out.append(b)
    return out


def layout(model: Any, levels: dict[str, str], record: dict[str, Any]) -> list[dict[str, Any]]:
    """The entity's layout as blocks: ``{kind: section|tabs, ...}``, fields the user may see.

    Fields the layout leaves out (and the user may see) come last, in a section of their own.
    Sections are numbered as ``engine.forms.sections.layout_sections`` numbers them.
    """
    blocks: list[dict[str, Any]] = []
    shown: set[str] = set()
    numbers = itertools.count()
    for item in model.definition.get("layout") or []:
        if "tabs" in item:
            tabs = []
            for tab in item["tabs"]:
                sections = []
                if tab.get("fields"):
                    sections.append(_section(model, tab, levels, record, next(numbers)))
                sections += [
                    _section(model, s, levels, record, next(numbers))
                    for s in tab.get("sections") or []
                ]
                for s in sections:
                    shown.update(f["key"] for f in s["fields"])
                tabs.append({"label": label(tab.get("tab"), ""), "sections": sections})
            blocks.append({"kind": "tabs", "tabs": tabs})
        else:
            section = _section(model, item, levels, record, next(numbers))
            shown.update(f["key"] for f in section["fields"])
            blocks.append({"kind": "section", **section})
    rest = [
        f.key
        for f in model.active_fields()
        if f.key not in shown and not (f.key in levels and levels[f.key] == "hidden")
    ]
    if rest:
        extra = _section(model, {"fields": rest, "columns": 2}, levels, record)
        if extra["fields"]:
            extra["label"] = gettext("More")
            blocks.append({"kind": "section", **extra})
    return blocks


def _form(entity: str, record_id: int | None) -> Any:
    if (gate := sign_in_first()) is not None:
        return gate
    p = platform_of()
    model = model_or_404(entity)
    access = p.access(g.user)
    levels = access.field_levels(entity)
    record: dict[str, Any] = {}
    if record_id is None:
        access.require(entity, "create")
    else:
        access.require(entity, "update")
        record = p.records(entity, g.user).get(record_id)
    return render_template(
        "record_form.html",
        entity=entity,
        entity_label=label(model.label, entity),
        record=record,
        record_id=record_id,
        blocks=layout(model, levels, record),
        title=str(record.get(model.title_field) or "") if record else "",
    )


@blueprint.get("/app/<entity>/new")
def new_record(entity: str) -> Any:
    return _form(entity, None)


@blueprint.get("/app/<entity>/<int:record_id>/edit")
def edit_record(entity: str, record_id: int) -> Any:
    return _form(entity, record_id)


@blueprint.get("/app/<entity>/form.js")
def form_js(entity: str) -> Response:
    """The entity's compiled form logic (see ``engine.forms.live_script``)."""
    from engine.forms.live_script import form_script

    if g.get("user") is None:
        abort(401)
    model_or_404(entity)
    p = platform_of()
    if not p.access(g.user).scopes(entity, "read"):
        abort(403)
    return Response(
        form_script(p, entity),
        mimetype="text/javascript",
        headers={"Cache-Control": "private, no-cache", "X-Content-Type-Options": "nosniff"},
    )


# ---------------------------------------------------------------- the record page


def related_lists(entity: str, record_id: int) -> list[dict[str, Any]]:
    """Records of other entities that reference this one (``x-ref``), as the user may read them."""
    p = platform_of()
    access = p.access(g.user)
    out = []
    for name in sorted(p.entities.names()):
        if name == entity or not access.scopes(name, "read"):
            continue
        other = p.entities.get(name).model
        hidden = access.hidden(name)
        for f in other.active_fields():
            if f.ref != entity or f.key in hidden or f.child is not None:
                continue
            records = p.records(name, g.user)
            where = {f.key: int(record_id)}
            items = records.list(filters=where, limit=10, order_by="-id")
            if not items:
                continue
            title = other.title_field
            out.append(
                {
                    "entity": name,
                    "field": f.key,
                    "label": label(other.label, name),
                    "via": label(f.label, f.key),
                    "total": records.count(filters=where),
                    "items": [
                        {
                            "id": r["id"],
                            "title": str(r.get(title) or f"#{r['id']}") if title else f"#{r['id']}",
                        }
                        for r in items
                    ],
                }
            )
    return out


def timeline(
    entity: str, record_id: int, model: Any, levels: dict[str, str]
) -> list[dict[str, Any]]:
    """Audit changes, flow events and follow-ups of the record, newest first."""
    p = platform_of()
    entries: list[dict[str, Any]] = []
    for h in p.records(entity, g.user).history(record_id):
        changed = sorted(
            k
            for k in set(h["after"] or {}) | set(h["before"] or {})
            if k in model.fields
            and levels.get(k) != "hidden"
            and (h["before"] or {}).get(k) != (h["after"] or {}).get(k)
        )
        entries.append(
            {
                "at": h["at"],
                "kind": "audit",
                "action": h["action"],
                "user": h["user"] or gettext("system"),
                "fields": [label(model.fields[k].label, k) for k in changed],
            }
        )
    from engine.flows.tables import flow_events, flow_instances

    with p.db.transaction(write=False) as conn:
        flows = p.repo.all_current(conn, "flow")
        rows = conn.execute(
            select(flow_events, flow_instances.c.flow)
            .join(flow_instances, flow_instances.c.id == flow_events.c.instance_id)
            .where(flow_instances.c.entity == entity, flow_instances.c.record_id == record_id)
            .order_by(flow_events.c.id)
        ).mappings()
        words = _flow_event_words()
        for r in rows:
            if r["kind"] in _QUIET_FLOW_EVENTS:
                continue
            spec = (flows.get(r["flow"]) or ({}, 0))[0]
            entries.append(
                {
                    "at": r["at"],
                    "kind": "flow",
                    "action": words.get(r["kind"], r["kind"]),
                    "user": r["actor"] or gettext("system"),
                    "flow": label(spec.get("label"), r["flow"]),
                    "node": label(
                        ((spec.get("nodes") or {}).get(r["node"]) or {}).get("label"),
                        r["node"] or "",
                    ),
                }
            )
    if "follow_up" in p.entities.names() and p.access(g.user).scopes("follow_up", "read"):
        fu = p.entities.get("follow_up").model
        refs = [f.key for f in fu.active_fields() if f.ref == entity]
        for key in refs:
            for r in p.records("follow_up", g.user).list(filters={key: int(record_id)}, limit=20):
                title = fu.title_field
                entries.append(
                    {
                        "at": r.get("created_on"),
                        "kind": "follow_up",
                        "action": "follow_up",
                        "user": r.get("owner") or "",
                        "id": r["id"],
                        "title": str(r.get(title) or f"#{r['id']}") if title else f"#{r['id']}",
                    }
                )
    from engine.store import comments

    for c in comments.for_record(p, entity, record_id, user=g.user):
        entries.append(
            {
                "at": c["at"],
                "kind": "comment",
                "action": "comment",
                "user": c["author"] or "",
                "body": c["body"],
            }
        )
    zone = p.clock.timezone
    for e in entries:
        at = e["at"]
        e["sort"] = at.timestamp() if isinstance(at, dt.datetime) else 0
        e["when"] = (
            at.astimezone(zone).strftime("%Y-%m-%d %H:%M") if isinstance(at, dt.datetime) else ""
        )
    # Newest first; within one instant, later entries of the same source first
    # (each source lists its entries oldest first).
    for seq, e in enumerate(entries):
        e["seq"] = seq
    entries.sort(key=lambda e: (e["sort"], e["seq"]), reverse=True)
    return entries


#: Steps of the engine's own bookkeeping, not news for the record's timeline.
_QUIET_FLOW_EVENTS = {"entered", "left", "waiting", "finished"}


def _flow_event_words() -> dict[str, str]:
    return {
        "started": gettext("started"),
        "task_created": gettext("waiting for a decision"),
        "task_completed": gettext("decided"),
        "completed": gettext("completed"),
        "withdrawn": gettext("withdrawn"),
        "cancelled": gettext("cancelled"),
        "failed": gettext("failed"),
    }


def startable_flows(entity: str, record_id: int) -> list[dict[str, Any]]:
    """Published flows whose trigger or entity is this entity, but not those already
    running on the record: ``p.flows.start`` would refuse a second one."""
    p = platform_of()
    with p.db.transaction(write=False) as conn:
        flows = p.repo.all_current(conn, "flow")
        running = {row.flow for row in conn.execute(running_on(entity, record_id))}
    out = []
    for name, (d, _v) in sorted(flows.items()):
        trigger = d.get("trigger") or {}
        on = d.get("entity") or (trigger.get("entity") if isinstance(trigger, dict) else None)
        if on == entity and name not in running:
            out.append({"name": name, "label": label(d.get("label"), name)})
    return out


def why(
    entity: str, record: dict[str, Any], model: Any, levels: dict[str, str]
) -> list[dict[str, Any]]:
    """The rule explanation for the panel, without the rule sets whose target the user may not see."""
    p = platform_of()
    out = []
    for item in p.rules.explain(entity, record):
        targets = item["target"] if isinstance(item["target"], list) else [item["target"]]
        if any(t in levels and levels[t] == "hidden" for t in targets if t):
            continue
        value = item["value"]
        if item["kind"] == "routing" and isinstance(value, dict):
            shown = f"{value.get('to', '')} {value.get('target', '')}".strip()
        elif isinstance(value, dict):
            shown = ", ".join(f"{k}={v}" for k, v in value.items())
        else:
            f = model.fields.get(item["target"]) if isinstance(item["target"], str) else None
            shown = display_value(f, value) if f is not None else str(value)
        out.append(
            {
                "ruleset": item["ruleset"],
                "kind": item["kind"],
                "version": item["version"],
                "value": shown,
                "stamped": item["stamped"],
                "fired": [
                    {
                        "label": r["label"],
                        "line": r["line"],
                        "points": r["value"] if item["kind"] == "scoring" else None,
                        "reads": ", ".join(
                            f"{k} = {(display_value(model.fields[k], v) if k in model.fields else v) or '—'}"
                            for k, v in r["reads"].items()
                            if k.split(".")[0] not in levels or levels[k.split(".")[0]] != "hidden"
                        ),
                    }
                    for r in item["fired"]
                ],
            }
        )
    return out


@blueprint.get("/app/<entity>/<int:record_id>")
def record_page(entity: str, record_id: int) -> Any:
    if (gate := sign_in_first()) is not None:
        return gate
    p = platform_of()
    model = model_or_404(entity)
    access = p.access(g.user)
    levels = access.field_levels(entity)
    record = p.records(entity, g.user).get(record_id)
    can_update = bool(access.scopes(entity, "update"))
    return render_template(
        "record.html",
        entity=entity,
        entity_label=label(model.label, entity),
        record=record,
        title=str(record.get(model.title_field) or f"#{record_id}")
        if model.title_field
        else f"#{record_id}",
        blocks=shown_sections(entity, model, layout(model, levels, record), record),
        related=related_lists(entity, record_id),
        timeline=timeline(entity, record_id, model, levels),
        flows=startable_flows(entity, record_id) if can_update else [],
        why=why(entity, record, model, levels),
        actions=action_panels(entity, record, g.user) if can_update else [],
        can_update=can_update,
        lang=current_lang(),
    )


@blueprint.post("/app/<entity>/<int:record_id>/comments")
def add_comment(entity: str, record_id: int) -> Any:
    """A comment from the record page's form (CSRF-checked like every session post)."""
    if (gate := sign_in_first()) is not None:
        return gate
    from engine.store import comments

    model_or_404(entity)
    comments.add(platform_of(), entity, record_id, request.form.get("body", ""), user=g.user)
    return redirect(f"/app/{entity}/{record_id}#timeline", code=303)


__all__ = ["blueprint", "layout", "related_lists", "timeline"]
