"""List views and kanban boards of every entity: ``/app/<entity>`` and ``/app/<entity>/kanban``.

The first page is rendered on the server from the record service acting as the
signed-in user, so row scopes and hidden fields apply exactly as in the API: a
hidden field is never a column, a filter field or a kanban grouping, and its
values never reach the HTML. The list's state lives in the URL (``col``,
``sort``, ``where``, ``page``, ``per``, ``view``), so every list can be
bookmarked; the scripts only add the filter builder, the live expression check,
saved views and bulk actions over the REST API.

Saved views are served under ``/api/v1/views`` (see :mod:`web.views_api`).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, abort, g, render_template, request

from engine.errors import (
    NotFound,
    PermissionDenied,
    RuleSyntaxError,
    RuleTypeError,
    TesseraError,
    ValidationError,
)
from engine.forms.entity import Field
from engine.store.views import SavedViews
from web.http import TOTAL_BOUND, model_or_404, platform_of
from web.i18n import current_lang, gettext, label
from web.ui.context import sign_in_first
from web.ui.routed_notice import routed_notice
from web.views_api import views_api

blueprint = Blueprint("lists", __name__)
blueprint.register_blueprint(views_api, url_prefix="/api/v1/views")

PAGE_SIZES = (10, 25, 50, 100)
DEFAULT_PER = 50
DEFAULT_COLUMNS = 6
KANBAN_CARDS = 50
SYSTEM_COLUMNS = ("id", "owner", "team", "created_on", "modified_on")
#: Field types a list can filter and sort on as plain values.
NUMERIC = {"integer", "decimal", "currency", "percent"}


# ---------------------------------------------------------------- fields


def _field_info(f: Field) -> dict[str, Any]:
    kind = f.type.name
    options = []
    enum = f.prop.get("enum") or (f.prop.get("items") or {}).get("enum") or []
    names = f.prop.get("x-options-labels") or {}
    for value in enum:
        options.append([value, label(names.get(value), str(value))])
    return {
        "key": f.key,
        "label": label(f.label, f.key),
        "kind": kind,
        "options": options,
        "ref": f.ref,
        "read_only": f.read_only,
        "num": kind in NUMERIC,
    }


def _system_info(key: str) -> dict[str, Any]:
    names = {
        "id": gettext("ID"),
        "owner": gettext("Owner"),
        "team": gettext("Team"),
        "created_on": gettext("Created on"),
        "modified_on": gettext("Modified on"),
    }
    kind = {"id": "integer", "created_on": "datetime", "modified_on": "datetime"}.get(key, "text")
    return {
        "key": key,
        "label": names[key],
        "kind": kind,
        "options": [],
        "ref": None,
        "read_only": True,
        "num": key == "id",
    }


def visible_fields(entity: str, user: str) -> dict[str, dict[str, Any]]:
    """Key → description of every field ``user`` may see in a list of ``entity``."""
    p = platform_of()
    access = p.access(user)
    access.require(entity, "read")
    hidden = access.hidden(entity)
    model = p.entities.get(entity).model
    out = {}
    for f in model.active_fields():
        if f.child is None and f.key not in hidden and (f.stored or f.computed):
            out[f.key] = _field_info(f)
    for key in SYSTEM_COLUMNS:
        out.setdefault(key, _system_info(key))
    return out


def default_columns(entity: str, fields: dict[str, Any]) -> list[str]:
    """The title field, then the first fields of the layout (those the user can see)."""
    model = platform_of().entities.get(entity).model
    keys = [model.title_field] if model.title_field else []
    for section in model.definition.get("layout") or []:
        keys.extend(section.get("fields") or [])
    keys.extend(k for k in fields if k not in SYSTEM_COLUMNS)
    out: list[str] = []
    for k in keys:
        if (
            k
            and k in fields
            and k not in out
            and fields[k]["kind"] not in ("long_text", "rich_text", "file")
        ):
            out.append(k)
    return out[:DEFAULT_COLUMNS]


def kanban_fields(model: Any, fields: dict[str, Any]) -> list[dict[str, Any]]:
    """The select fields a board can group by; those with a default first (a stage or a
    status usually has one: every record starts somewhere), then in definition order."""
    selects = [f for f in fields.values() if f["kind"] == "select"]
    props = model.definition.get("schema", {}).get("properties", {})
    return sorted(selects, key=lambda f: "x-default" not in props.get(f["key"], {}))


# ---------------------------------------------------------------- cells


def _cell(info: dict[str, Any], value: Any, titles: dict[str, dict[Any, str]]) -> str:
    if value is None or value == "" or value == []:
        return ""
    options = dict(info["options"])
    if isinstance(value, list):
        return ", ".join(str(options.get(v, v)) for v in value)
    if info["kind"] == "rich_text":
        return _rich_words(str(value))
    if info["ref"] is not None:
        return titles.get(info["key"], {}).get(value) or f"#{value}"
    if options:
        return str(options.get(value, value))
    if isinstance(value, bool):
        return gettext("Yes") if value else gettext("No")
    if isinstance(value, dt.datetime):
        tz = platform_of().clock.timezone
        return value.astimezone(tz).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return f"{value:,.2f}" if info["kind"] == "currency" else str(value)
    if isinstance(value, int) and info["key"] != "id":
        return f"{value:,}"
    return str(value)


def _rich_words(html_text: str) -> str:
    """Rich text's words for a cell: every tag dropped (by the sanitiser), blocks spaced."""
    import html
    import re

    import nh3

    spaced = re.sub(r"(?i)</(p|li|div|h\d|blockquote|pre)>|<br\s*/?>", " ", html_text)
    return " ".join(html.unescape(nh3.clean(spaced, tags=set())).split())


def _titles(
    user: str, fields: dict[str, Any], cols: list[str], items: list[dict[str, Any]]
) -> dict[str, dict[Any, str]]:
    """For each reference column, id → the referenced record's title (if the user may read it)."""
    p = platform_of()
    access = p.access(user)
    out: dict[str, dict[Any, str]] = {}
    for key in cols:
        ref = fields[key]["ref"]
        ids = sorted({r.get(key) for r in items if isinstance(r.get(key), int)})
        if not ref or not ids or not access.scopes(ref, "read"):
            continue
        title = p.entities.get(ref).model.title_field
        if not title:
            continue
        found = p.records(ref, user).list(where=f"id in [{', '.join(map(str, ids))}]", limit=None)
        out[key] = {r["id"]: str(r.get(title) or f"#{r['id']}") for r in found}
    return out


# ---------------------------------------------------------------- the list's state


def _int(name: str, default: int, low: int, high: int) -> int:
    try:
        return min(max(int(request.args.get(name, default)), low), high)
    except ValueError:
        return default


def where_problems(
    entity: str, where: str, exc: TesseraError | None = None
) -> list[dict[str, Any]]:
    """The checker's located messages for a filter (or the refusal's message)."""
    diagnostics = [
        d
        for d in platform_of().rules.check(where, entity=entity)
        if d.get("severity", "error") == "error"
    ]
    if diagnostics:
        return diagnostics
    if exc is not None:
        return [{"line": None, "column": None, "message": exc.message}] + [
            e for e in exc.errors if e.get("message") and e.get("message") != exc.message
        ]
    return []


def _state(entity: str, user: str, fields: dict[str, Any]) -> dict[str, Any]:
    view = None
    view_id = request.args.get("view", "")
    if view_id.isdigit():
        try:
            view = SavedViews(platform_of()).get(int(view_id), user)
        except NotFound:
            view = None
        if view is not None and view["entity"] != entity:
            view = None
    cols = [c for c in request.args.getlist("col") if c in fields]
    if not cols and view:
        cols = [c for c in view["columns"] if c in fields]
    cols = cols or default_columns(entity, fields)
    sort = request.args.get("sort", view["order_by"] if view else "") or ""
    if sort.lstrip("-") not in fields:
        sort = ""
    where = request.args.get("where")
    if where is None:
        where = (view or {}).get("where") or ""
    return {
        "view": view,
        "cols": list(dict.fromkeys(cols)),
        "sort": sort,
        "where": where.strip(),
        "page": _int("page", 1, 1, 1_000_000),
        "per": _int("per", DEFAULT_PER, 1, 500),
    }


def _url(entity: str, state: dict[str, Any], **changes: Any) -> str:
    merged = {**state, **changes}
    params: list[tuple[str, Any]] = []
    if merged.get("view"):
        params.append(("view", merged["view"]["id"]))
    params.extend(("col", c) for c in merged["cols"])
    if merged.get("sort"):
        params.append(("sort", merged["sort"]))
    if merged.get("where") or merged.get("view"):
        # With a saved view an empty where is said out loud: else the view's filter returns.
        params.append(("where", merged.get("where") or ""))
    if merged["per"] != DEFAULT_PER:
        params.append(("per", merged["per"]))
    if merged["page"] != 1:
        params.append(("page", merged["page"]))
    return f"/app/{entity}?" + urlencode(params)


def _refused() -> Any:
    return render_template("list_refused.html"), 403


def _users() -> list[dict[str, str]]:
    """Active users, for the assign action's picker (the user service's directory)."""
    return [
        {"name": u["name"], "label": u["label"] or u["name"]}
        for u in platform_of().users.directory()
    ]


# ---------------------------------------------------------------- pages


@blueprint.get("/app/<entity>")
def list_page(entity: str) -> Any:
    if (gate := sign_in_first()) is not None:
        return gate
    model = model_or_404(entity)
    p = platform_of()
    user = g.user
    try:
        fields = visible_fields(entity, user)
    except PermissionDenied:
        return _refused()
    access = p.access(user)
    state = _state(entity, user, fields)
    records = p.records(entity, user)
    per, page = state["per"], state["page"]
    problems: list[dict[str, Any]] = []
    items: list[dict[str, Any]] = []
    total, exact = 0, True
    try:
        # Counted up to the API's bound, then shown as "10,000+" (see docs/user/lists.md).
        total, exact = records.count_upto(TOTAL_BOUND, where=state["where"] or None)
        items = records.list(
            where=state["where"] or None,
            order_by=state["sort"] or None,
            limit=per,
            offset=(page - 1) * per,
        )
    except (RuleSyntaxError, RuleTypeError, ValidationError, PermissionDenied) as exc:
        problems = where_problems(entity, state["where"], exc)
    titles = _titles(user, fields, state["cols"], items)
    title_key = model.title_field
    rows = [
        {
            "id": r["id"],
            "version": r.get("version"),
            "title": str(r.get(title_key) or f"#{r['id']}") if title_key else f"#{r['id']}",
            "cells": [_cell(fields[c], r.get(c), titles) for c in state["cols"]],
        }
        for r in items
    ]
    first = (page - 1) * per + 1 if rows else 0
    last = (page - 1) * per + len(rows)
    pages = max(1, -(-total // per))
    if not exact:  # more pages than counted: the next one exists while this one is full
        pages = max(pages, page + (1 if len(rows) == per else 0))
    selects = kanban_fields(model, fields)
    views = SavedViews(p).list(entity, user)
    can = {
        "create": bool(access.scopes(entity, "create")),
        "update": bool(access.scopes(entity, "update")),
        "delete": bool(access.scopes(entity, "delete")),
        "export": bool(access.scopes(entity, "export")),
        "import": bool(access.scopes(entity, "import")),
    }
    levels = access.field_levels(entity)
    settable = [
        f
        for f in fields.values()
        if f["key"] not in SYSTEM_COLUMNS
        and not f["read_only"]
        and levels.get(f["key"], "write") == "write"
        and f["kind"] not in ("file", "multi_select", "tags")
    ]
    meta = {
        "entity": entity,
        "fields": list(fields.values()),
        "settable": [f["key"] for f in settable],
        "columns": state["cols"],
        "sort": state["sort"],
        "where": state["where"],
        "view": state["view"]["id"] if state["view"] else None,
        "title_field": title_key,
        "lang": current_lang(),
    }
    return render_template(
        "list.html",
        entity=entity,
        entity_label=label(model.label, entity),
        routed=routed_notice(entity, user, request.args.get("routed")),
        fields=fields,
        state=state,
        rows=rows,
        total=total,
        total_exact=exact,
        first=first,
        last=last,
        pages=pages,
        problems=problems,
        selects=selects,
        views=views,
        can=can,
        settable=settable,
        users=_users() if can["update"] else [],
        meta=meta,
        url=lambda **changes: _url(entity, state, **changes),
        page_sizes=PAGE_SIZES,
        me_admin=access.admin,
        fmt=lambda n: f"{n:,}",
    )


@blueprint.get("/app/<entity>/kanban")
def kanban_page(entity: str) -> Any:
    if (gate := sign_in_first()) is not None:
        return gate
    model = model_or_404(entity)
    p = platform_of()
    user = g.user
    try:
        fields = visible_fields(entity, user)
    except PermissionDenied:
        return _refused()
    selects = kanban_fields(model, fields)
    if not selects:
        abort(404)
    by = request.args.get("by") or selects[0]["key"]
    if by not in {f["key"] for f in selects}:
        by = selects[0]["key"]
    info = fields[by]
    where = (request.args.get("where") or "").strip()
    records = p.records(entity, user)
    title_key = model.title_field
    shown = [c for c in default_columns(entity, fields) if c not in (title_key, by)][:2]
    problems: list[dict[str, Any]] = []
    columns = []
    values: list[Any] = [v for v, _ in info["options"]] + [None]
    try:
        for value in values:
            cond = f"{by} is null" if value is None else f"{by} == {rule_literal(value)}"
            full = f"({where}) and {cond}" if where else cond
            count = records.count(where=full)
            if value is None and count == 0:
                continue
            items = records.list(where=full, order_by="-modified_on", limit=KANBAN_CARDS)
            titles = _titles(user, fields, shown, items)
            columns.append(
                {
                    "value": "" if value is None else value,
                    "label": gettext("No value")
                    if value is None
                    else dict(info["options"]).get(value, value),
                    "count": count,
                    "cards": [
                        {
                            "id": r["id"],
                            "version": r.get("version"),
                            "title": str(r.get(title_key) or f"#{r['id']}")
                            if title_key
                            else f"#{r['id']}",
                            "details": [
                                (fields[c]["label"], _cell(fields[c], r.get(c), titles))
                                for c in shown
                                if r.get(c) not in (None, "")
                            ],
                        }
                        for r in items
                    ],
                }
            )
    except (RuleSyntaxError, RuleTypeError, ValidationError, PermissionDenied) as exc:
        problems = where_problems(entity, where, exc)
        columns = []
    access = p.access(user)
    movable = (
        bool(access.scopes(entity, "update"))
        and not info["read_only"]
        and access.field_levels(entity).get(by, "write") == "write"
    )
    return render_template(
        "kanban.html",
        entity=entity,
        entity_label=label(model.label, entity),
        by=by,
        by_label=info["label"],
        selects=selects,
        columns=columns,
        where=where,
        problems=problems,
        movable=movable,
        meta={"entity": entity, "by": by, "movable": movable, "limit": KANBAN_CARDS},
    )


def rule_literal(value: Any) -> str:
    """``value`` written as a rule-language literal (strings quoted and escaped)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | Decimal):
        return str(value)
    text = str(value)
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return '"' + "".join(c for c in escaped if c >= " " or c == "\t") + '"'


__all__ = [
    "blueprint",
    "default_columns",
    "kanban_fields",
    "rule_literal",
    "visible_fields",
    "where_problems",
]
