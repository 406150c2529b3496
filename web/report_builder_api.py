"""``/api/v1/reports/builder``: what the report builder asks while a definition is a draft.

Two questions, both for users who may customize reports (``require_customize("report")``):

- ``GET  /api/v1/reports/builder/fields/<entity>``: the fields a report over
  ``entity`` may use, with their types, including those reached through
  references (``account.industry``, up to two hops), minus the fields hidden
  from the caller;
- ``POST /api/v1/reports/builder/preview``: ``{definition}`` checked exactly as
  a save would check it (every problem located by its path, ``measures[1].field``)
  and, when sound, run by the report engine as the caller, so the preview shows
  only the rows their read scope allows, with a cell cap so a careless draft
  cannot ask the database for a million groups.

Saving is not here: the builder saves through ``/api/v1/meta/report/<name>``
like every other definition.
"""

from __future__ import annotations

import copy
from typing import Any

from flask import Blueprint, Response

from engine.errors import PermissionDenied, ValidationError, error_entry
from engine.forms.system_fields import SYSTEM_FIELD_LABELS
from web.auth import require_user
from web.http import body, json_response, platform_of
from web.i18n import gettext

blueprint = Blueprint("report_builder_api", __name__, url_prefix="/api/v1/reports/builder")

#: The most leaf cells a preview returns (the saved report keeps its own cap).
PREVIEW_CELLS = 500
#: How many references deep the field list follows (``a.b.c`` is two hops).
HOPS = 2
#: Field kinds a report can group by or aggregate (child tables and lists cannot).
USABLE = ("string", "number", "date", "datetime", "boolean", "duration", "record")


def _builder() -> tuple[Any, Any]:
    """The platform and the caller's access, once they may customize reports."""
    p = platform_of()
    access = p.access(require_user())
    access.require_customize("report")
    return p, access


def field_catalogue(p: Any, access: Any, entity: str, hops: int = HOPS) -> list[dict[str, Any]]:
    """Every field a report over ``entity`` may use, by dotted path, source fields first.

    Each entry: ``path``, ``label`` (the definition's label map, or the key),
    ``kind`` (the rule-language kind: number, date, string, ...), ``type`` (the
    field type), ``options`` (a select's values) and ``option_labels``, ``via`` (the reference path
    it was reached through, ``""`` on the source). Fields the caller may not
    read are left out, and so are fields without a column (read-time computed).
    """
    catalog = p.rules.catalog
    out: list[dict[str, Any]] = []

    def walk(current: str, prefix: str, labels: list[Any], depth: int) -> None:
        hidden = access.hidden(current)
        nested: list[tuple[str, str, Any]] = []
        for key, info in catalog.fields(current).items():
            if key in hidden or info.type.kind not in USABLE:
                continue
            f = info.field
            if f is not None and not f.stored:
                continue
            path = f"{prefix}{key}"
            label = f.label if f is not None else SYSTEM_FIELD_LABELS.get(key, key)
            option_labels = f.prop.get("x-options-labels") if f is not None else None
            out.append(
                {
                    "path": path,
                    "label": label,
                    "trail": labels,
                    "kind": info.type.kind,
                    "type": info.type.field_type or info.type.kind,
                    "options": list(info.type.options or ()),
                    "option_labels": option_labels or {},
                    "entity": info.type.entity if info.type.kind == "record" else None,
                    "via": prefix.rstrip("."),
                }
            )
            target = info.type.entity
            if (
                info.type.kind == "record"
                and target
                and target != "@user"
                and catalog.exists(target)
            ):
                nested.append((path, target, label))
        if depth < hops:
            for path, target, label in nested:
                try:
                    access.require(target, "read")
                except PermissionDenied:  # a reference to what the caller may not read: not offered
                    continue
                walk(target, f"{path}.", [*labels, label], depth + 1)

    walk(entity, "", [], 0)
    return out


@blueprint.get("/fields/<entity>")
def fields(entity: str) -> Response:
    """``{entity, label, fields}`` for the builder's field list (404 for an unknown entity)."""
    p, access = _builder()
    model = p.entities.get(entity).model
    access.require(entity, "read")
    return json_response(
        {"entity": entity, "label": model.label, "fields": field_catalogue(p, access, entity)}
    )


def _capped(definition: dict[str, Any]) -> dict[str, Any]:
    """The draft with the preview's cell cap (never above what the draft itself asks)."""
    draft = copy.deepcopy(definition)
    draft.setdefault("name", "preview")
    draft.setdefault("label", draft["name"])
    if draft.get("type", "pivot") == "pivot":
        options = dict(draft.get("options") or {})
        asked = options.get("max_cells", PREVIEW_CELLS)
        if not isinstance(asked, int) or isinstance(asked, bool) or asked < 1:
            asked = PREVIEW_CELLS
        options["max_cells"] = min(asked, PREVIEW_CELLS)
        draft["options"] = options
    return draft


def _shape_problems(draft: dict[str, Any]) -> list[dict[str, Any]]:
    """The report file's own schema, checked first as a save checks it (a ``totals`` that is
    not an object, an unknown key), so the type's reader only sees well-shaped parts."""
    from engine.meta.located import schema_errors
    from engine.meta.reader import metaschema
    from engine.meta.yamlpos import Marks

    entries = schema_errors(draft, Marks("preview"), metaschema("report.json"), "preview")
    return [error_entry(e["message"], field=e.get("field")) for e in entries]


@blueprint.post("/preview")
def preview() -> Response:
    """The draft's result as the caller would see it; 422 naming every problem's path."""
    p, _access = _builder()
    definition = body().get("definition")
    if not isinstance(definition, dict):
        raise ValidationError(
            "send the draft as an object",
            [error_entry('expected {"definition": {...}}', field="definition")],
        )
    draft = _capped(definition)
    problems = _shape_problems(draft) or p.reports.problems(draft)
    if problems:
        first = problems[0]
        raise ValidationError(
            gettext(
                "the report cannot run: %(where)s: %(problem)s",
                where=first.get("field") or gettext("definition"),
                problem=first["message"],
            ),
            problems,
        )
    result = p.reports.run(draft, user=require_user())
    result["preview"] = {"max_cells": draft.get("options", {}).get("max_cells")}
    return json_response(result)


__all__ = ["PREVIEW_CELLS", "blueprint", "field_catalogue"]
