"""The rule editor: ``/build/rules`` and ``/build/rules/<name>`` for admins who do not program.

A code editor (CodeMirror 6, served from npm through ``/vendor/esm``) with the
checker's diagnostics and completion, grids for the common rule sets that
round-trip to the same ``.rules`` text (``engine.rules.structured``), and beside
them: the records a condition hits, the file's examples, a record's trace, the
version history with a diff and a dry-run replay. Saving is a PUT through the
metadata API (kind ``rules``) with the version the editor started from.
"""

from __future__ import annotations

import difflib
from typing import Any

from flask import Blueprint, g, make_response, render_template
from werkzeug.wrappers import Response

from engine.errors import NotFound, ValidationError, error_entry
from engine.rules.editor import completions, run_examples
from engine.rules.parse import parse_file
from engine.rules.structured import row_condition, to_model, to_text
from web.auth import customizing, require_user
from web.http import body, json_response
from web.ui.context import sign_in_first
from web.vendor import import_map

blueprint = Blueprint("rule_editor", __name__)

#: Largest ``.rules`` text the editor endpoints accept.
MAX_TEXT = 200_000


def _text(data: dict[str, Any], key: str = "text") -> str:
    text = data.get(key)
    if not isinstance(text, str) or len(text) > MAX_TEXT:
        raise ValidationError(
            f"send the rules as text of at most {MAX_TEXT} characters",
            [error_entry("expected a string", field=key)],
        )
    return text


def _rulesets(text: str) -> list[dict[str, str]]:
    try:
        tree = parse_file(text)
    except Exception:
        return []
    return [
        {"name": rs.name, "entity": rs.entity, "kind": type(rs).__name__.lower()}
        for rs in tree.rulesets
    ]


# ---------------------------------------------------------------- pages


@blueprint.get("/build/rules")
def index() -> Any:
    if (gate := sign_in_first()) is not None:
        return gate
    p = customizing("rules")
    files = []
    for name in p.meta.names("rules"):
        found = p.meta.get("rules", name)
        text = found["definition"].get("text", "")
        files.append({"name": name, "version": found["version"], "rulesets": _rulesets(text)})
    have = {f["name"] for f in files}
    fresh = [n for n in p.entities.names() if n not in have]
    return render_template("rule_editor_index.html", files=files, fresh=fresh)


@blueprint.get("/build/rules/<name>")
def edit(name: str) -> Any:
    if (gate := sign_in_first()) is not None:
        return gate
    p = customizing("rules")
    found = _file_or_new(p, name)
    text = found["definition"].get("text", "")
    imports, source = import_map()
    html = render_template(
        "rule_editor.html",
        name=name,
        version=found["version"],
        text=text,
        rulesets=_rulesets(text),
        entity=_entity_of(p, name, text),
        importmap=imports,
        user=g.user,
    )
    response = make_response(html)
    response.headers["Content-Security-Policy"] = (
        f"default-src 'self'; script-src 'self' {source}; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; frame-ancestors 'none'; form-action 'self'"
    )
    return response


def _file_or_new(p: Any, name: str) -> dict[str, Any]:
    """The live rules file ``name``, or an empty one (version 0, published as new) when
    ``name`` is an entity that has no rules yet; 404 otherwise."""
    try:
        return p.meta.get("rules", name)
    except NotFound:
        if name not in p.entities.names():
            raise
        return {"definition": {"name": name, "text": ""}, "version": 0}


def _entity_of(p: Any, name: str, text: str) -> str:
    """The entity a rule set added in the grids is on: the file's namesake entity, else the
    entity of its first rule set."""
    if name in p.entities.names():
        return name
    found = _rulesets(text)
    return found[0]["entity"] if found else ""


# ---------------------------------------------------------------- editor API


@blueprint.post("/api/v1/rules/model")
def model() -> Response:
    """``{"text"}`` → ``{"model"}``: the grids' model of a rules file (422 if it does not parse)."""
    customizing("rules")
    return json_response({"model": to_model(_text(body()))})


@blueprint.post("/api/v1/rules/print")
def print_model() -> Response:
    """``{"model"}`` → ``{"text"}``: the rules file the grids describe, canonically laid out."""
    customizing("rules")
    data = body().get("model")
    if not isinstance(data, dict) or not isinstance(data.get("blocks"), list):
        raise ValidationError(
            "send the model as an object with blocks",
            [error_entry('expected {"model": {"blocks": [...]}}', field="model")],
        )
    try:
        text = to_text(data)
    except (AttributeError, KeyError, TypeError, ValueError) as exc:
        raise ValidationError(
            "the model is incomplete", [error_entry(str(exc), field="model")]
        ) from None
    return json_response({"text": text})


@blueprint.post("/api/v1/rules/table-row")
def table_row() -> Response:
    """``{"inputs": [...], "cells": [...]}`` → ``{"condition"}``: what a decision-table row
    tests, as a condition (for "which records would this hit")."""
    customizing("rules")
    data = body()
    inputs, cells = data.get("inputs"), data.get("cells")
    if not isinstance(inputs, list) or not isinstance(cells, list):
        raise ValidationError(
            "send the input columns and the row's cells as lists",
            [error_entry('expected {"inputs": [...], "cells": [...]}', field="cells")],
        )
    return json_response(
        {"condition": row_condition([str(i) for i in inputs], [str(c) for c in cells])}
    )


@blueprint.post("/api/v1/rules/complete")
def complete() -> Response:
    """``{"text", "position"}`` → what fits at the cursor: keywords, fields, functions, enums."""
    p = customizing("rules")
    data = body()
    position = data.get("position")
    text = _text(data)
    if not isinstance(position, int):
        position = len(text)
    return json_response(completions(p.rules, text, position))


@blueprint.post("/api/v1/rules/examples")
def examples() -> Response:
    """``{"text", "path"}`` → each ``test`` example of the file, passed or failed."""
    p = customizing("rules")
    data = body()
    return json_response(run_examples(p.rules, _text(data), data.get("path")))


@blueprint.get("/api/v1/rules/trace/<entity>/<int:record_id>")
def trace(entity: str, record_id: int) -> Response:
    """Why a record has its score, grade and owner (``p.rules.explain``), as the user reads it."""
    user = require_user()
    p = customizing("rules")
    from web.api import _record_id

    record = p.records(entity, user).get(_record_id(record_id))
    return json_response(
        {"entity": entity, "id": record_id, "rulesets": p.rules.explain(entity, record)}
    )


@blueprint.post("/api/v1/rules/files/<name>/diff")
def diff(name: str) -> Response:
    """``{"from": version, "to": version}`` or ``{"from": version, "text": draft}``: a unified
    diff of the two texts of the rules file ``name``."""
    p = customizing("rules")
    data = body()
    texts = {v["version"]: v["definition"].get("text", "") for v in p.meta.versions("rules", name)}
    if not texts:
        raise NotFound(f"no rules named {name!r}", [error_entry(f"no rules named {name!r}")])

    def pick(key: str) -> tuple[str, str]:
        version = data.get(key)
        if version not in texts:
            raise ValidationError(
                f"{name!r} has no version {version!r}",
                [error_entry(f"versions: {sorted(texts)}", field=key)],
            )
        return f"{name}.rules (version {version})", texts[version]

    a_name, a = pick("from")
    if "text" in data:
        b_name, b = f"{name}.rules (draft)", _text(data)
    else:
        b_name, b = pick("to")
    lines = list(difflib.unified_diff(a.splitlines(), b.splitlines(), a_name, b_name, lineterm=""))
    return json_response({"diff": lines, "changed": bool(lines)})


@blueprint.post("/api/v1/rules/files/<name>/replay")
def replay(name: str) -> Response:
    """``{"ruleset", "text"?, "version"?, "limit"?}`` → the dry-run report over stored records
    (``p.rules.replay``): the draft text when given, else a stored version."""
    p = customizing("rules")
    data = body()
    ruleset = str(data.get("ruleset") or "")
    limit = data.get("limit")
    limit = min(limit, 5000) if isinstance(limit, int) and limit > 0 else 1000
    text = _text(data) if "text" in data else None
    version = data.get("version") if isinstance(data.get("version"), int) else None
    report = p.rules.history.replay(ruleset, version=version, limit=limit, text=text)
    report["changes"] = report["changes"][:50]
    return json_response(report)


__all__ = ["blueprint"]
