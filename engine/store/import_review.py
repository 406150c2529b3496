"""Before and after an import: preview a file's mapping, then settle the duplicates it flagged.

The import page works in two round trips around :class:`~engine.store.importer.Importer`.
First :func:`preview` reads only the header and a few rows, maps the columns as the
import would and cleanses the sample, so the user sees what will be stored before
anything is. After a run with the ``flag`` policy each flagged row is a record whose
``duplicate_of`` points at the original; :func:`resolve` settles one of them in one
transaction: ``merge`` (copy its values into the original, point the records that refer
to it at the original, then delete it), ``create``
(keep it: clear ``duplicate_of``) or ``skip`` (delete it). Everything goes through
the record service as the user, so row scopes, field levels, rules and audit apply.
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

from sqlalchemy import select

from engine.errors import (
    ConflictError,
    NotFound,
    PermissionDenied,
    ValidationError,
    error_entry,
)
from engine.forms.cleansing import normalize_company, normalize_email, normalize_phone
from engine.forms.entity import label_text
from engine.i18n import t as _t
from engine.store.importer import (
    IGNORE,
    cell_value,
    importable_fields,
    map_columns,
    open_source,
)

ACTIONS = ("merge", "create", "skip")
FLAG_FIELD = "duplicate_of"
#: Rows the preview shows.
SAMPLE = 5


def _import_access(platform: Any, entity: str, user: str | None) -> Any:
    access = platform.access(user) if user is not None else None
    if access is not None:
        access.require(entity, "import")
    return access


def preview(
    platform: Any,
    entity: str,
    path: str | Path,
    user: str | None,
    *,
    mapping: dict[str, str] | None = None,
    fmt: str | None = None,
    rows: int = SAMPLE,
    lang: str = "en",
) -> dict[str, Any]:
    """The file's columns with the field each maps to, the fields a column may map to, and
    the first ``rows`` rows after cleansing. Raises PermissionDenied without ``import``,
    ValidationError for an unreadable file or a mapping to a field that cannot be imported."""
    access = _import_access(platform, entity, user)
    model = platform.records(entity, user).model
    levels = access.field_levels(entity) if access is not None else {}
    fields = {k: f for k, f in importable_fields(model).items() if k not in levels}
    source = open_source(path, fmt=fmt)
    try:
        columns, unknown = map_columns(model, source.header, mapping)
        tz = platform.clock.timezone
        sample = []
        for n, cells in itertools.islice(source.rows, max(0, rows)):
            values = {}
            for i, f in columns.items():
                if f.key in fields:
                    values[f.key] = cell_value(f, cells[i] if i < len(cells) else None, tz)
            sample.append({"row": n, "cells": ["" if c is None else str(c) for c in cells],
                           "values": values})  # fmt: skip
    finally:
        source.rows.close()  # type: ignore[attr-defined]
    ignored = {_norm(k) for k, v in (mapping or {}).items() if v == IGNORE}
    notes = {e["column"] - 1: e["message"] for e in unknown}
    return {
        "entity": entity,
        "columns": [
            {
                "index": i,
                "name": name,
                "field": columns[i].key if i in columns and columns[i].key in fields else None,
                "ignored": _norm(name) in ignored,
                "note": notes.get(i),
            }
            for i, name in enumerate(source.header)
        ],
        "fields": [
            {
                "key": k,
                "label": label_text(f.label, lang, k),
                "type": f.type.name,
                "options": _option_labels(f, lang),
            }
            for k, f in fields.items()
        ],
        "sample": sample,
        "flag_field": FLAG_FIELD if _flag_field(model, entity) else None,
    }


def _option_labels(f: Any, lang: str) -> dict[str, str] | None:
    """A select's values with their labels in ``lang`` (the page shows labels, not codes)."""
    prop = f.prop
    options = prop.get("enum") or (prop.get("items") or {}).get("enum")
    if not options:
        return None
    labels = prop.get("x-options-labels") or {}
    return {str(o): label_text(labels.get(o), lang, str(o)) for o in options}


def _norm(name: str) -> str:
    return " ".join(str(name).split()).casefold()


def _flag_field(model: Any, entity: str) -> bool:
    f = model.fields.get(FLAG_FIELD)
    return f is not None and f.ref == entity


def _flagged(service: Any, entity: str, record_id: int) -> tuple[dict[str, Any], int]:
    """The flagged record and its original's id; ConflictError when it is not (or no longer)
    flagged, so two reviewers acting at once cannot both settle it."""
    if not _flag_field(service.model, entity):
        raise ValidationError(
            _t("{entity} records cannot be flagged as duplicates", entity=entity),
            [error_entry(_t("the entity has no duplicate_of field"), field=FLAG_FIELD)],
        )
    record = service.get(record_id)
    original = record.get(FLAG_FIELD)
    if not original:
        raise ConflictError(
            _t("record {id} is not flagged as a duplicate", id=record_id),
            [error_entry(_t("already settled, or never flagged"), field=FLAG_FIELD)],
        )
    return record, int(original)


def review(platform: Any, entity: str, user: str | None, record_id: int) -> dict[str, Any]:
    """A flagged record beside the record it duplicates (``original`` is None when the user
    may not read that one: the duplicate check sees every record, the user may not)."""
    _import_access(platform, entity, user)
    service = platform.records(entity, user)
    record, original_id = _flagged(service, entity, record_id)
    try:
        original = service.get(original_id)
    except (PermissionDenied, NotFound):  # outside the user's scope, or deleted since
        original = None
    return {"record": record, "original": original, "original_id": original_id}


def merge_changes(
    model: Any, record: dict[str, Any], original: dict[str, Any], fields: list[str] | None
) -> dict[str, Any]:
    """What a merge writes on the original: the duplicate's non-empty values for the
    import's columns (``fields``), and for any other field the original leaves empty.
    A variant of the value already there (the same company with another legal suffix,
    the same e-mail in another case) keeps the original's spelling."""
    chosen = set(fields or [])
    out = {}
    for key, f in importable_fields(model).items():
        if key == FLAG_FIELD:
            continue
        value = record.get(key)
        if value in (None, "", []) or _same(f, value, original.get(key)):
            continue
        if key in chosen or original.get(key) in (None, "", []):
            out[key] = value
    return out


def _same(f: Any, a: Any, b: Any) -> bool:
    if a == b:
        return True
    if not isinstance(a, str) or not isinstance(b, str):
        return False
    kind = f.type.name
    if kind == "email":
        return normalize_email(a).casefold() == normalize_email(b).casefold()
    if kind == "phone":
        return normalize_phone(a) == normalize_phone(b)
    same = normalize_company(a)
    return bool(same) and same == normalize_company(b)


def move_references(
    platform: Any, entity: str, user: str | None, from_id: int, to_id: int
) -> dict[str, list[int]]:
    """Point every record that refers to ``entity`` ``from_id`` at ``to_id`` instead.

    A merge keeps the original and deletes the duplicate; a follow-up, a task or an
    opportunity already hung on the duplicate moves over with it (as a CRM's merge
    re-parents related records), instead of blocking the delete. Each move is an update
    through the record service as ``user``, so it needs update permission on that record
    (otherwise the whole merge is refused) and leaves an audit row. Returns
    ``{"entity.field": [ids moved]}``."""
    moved: dict[str, list[int]] = {}
    for name, live in platform.entities.all().items():
        for f in live.model.stored_fields():
            if f.ref != entity:
                continue
            column = live.table.c[f.column]
            query = select(live.table.c.id).where(column == from_id).order_by(live.table.c.id)
            if name == entity:
                query = query.where(live.table.c.id != from_id)
            with platform.db.transaction() as conn:
                ids = list(conn.execute(query).scalars())
            if not ids:
                continue
            related = platform.records(name, user)
            for record_id in ids:
                related.update(record_id, {f.key: to_id})
            moved[f"{name}.{f.key}"] = ids
    return moved


def _discarder(
    platform: Any, entity: str, user: str | None, service: Any, record: dict[str, Any]
) -> Any:
    """The service that deletes a flagged duplicate during its review.

    Whoever imported the row may discard it (skip) or fold it into the original (merge)
    without a general delete right: it is their own, still-flagged record from their
    import, and the review is how an import with the ``flag`` policy is finished. The
    record carries no import-run id, so "from their import" is read as: created by the
    user and still flagged (``duplicate_of`` is set by imports). Anyone else needs delete.
    The returned service still acts as the user (audit, rules); only the check is skipped.
    """
    if user is not None and record.get("created_by") == user and record.get(FLAG_FIELD):
        return platform.records(entity, user, check=False)
    return service


def resolve(
    platform: Any,
    entity: str,
    user: str | None,
    record_id: int,
    action: str,
    *,
    fields: list[str] | None = None,
) -> dict[str, Any]:
    """Settle one flagged duplicate in one transaction (see the module docstring).

    ``fields`` are the import's columns, whose values a merge writes over the original's.
    Raises ValidationError for an unknown action or field, ConflictError when the record
    is no longer flagged, PermissionDenied (from the record service) when the user may
    not update the original or delete the duplicate."""
    if action not in ACTIONS:
        raise ValidationError(
            _t("unknown action {action}", action=repr(action)),
            [error_entry(_t("use one of {choices}", choices=", ".join(ACTIONS)), field="action")],
        )
    _import_access(platform, entity, user)
    service = platform.records(entity, user)
    known = importable_fields(service.model)
    bad = [k for k in fields or [] if k not in known]
    if bad:
        raise ValidationError(
            _t("the column mapping is invalid"),
            [
                error_entry(_t("{value} is not a field that can be imported", value=repr(k)),
                            field="fields")
                for k in bad
            ],
        )  # fmt: skip
    with platform.db.transaction():
        record, original_id = _flagged(service, entity, record_id)
        answer: dict[str, Any] = {"action": action, "id": record_id, "original_id": original_id}
        if action == "create":
            answer["record"] = service.update(record_id, {FLAG_FIELD: None})
        elif action == "skip":
            _discarder(platform, entity, user, service, record).delete(record_id)
        else:
            original = service.get(original_id)
            changes = merge_changes(service.model, record, original, fields)
            answer["moved"] = move_references(platform, entity, user, record_id, original_id)
            # first: a unique field it shares may then move over
            _discarder(platform, entity, user, service, record).delete(record_id)
            answer["record"] = service.update(original_id, changes) if changes else original
            answer["changed"] = sorted(changes)
    return answer


__all__ = [
    "ACTIONS",
    "FLAG_FIELD",
    "merge_changes",
    "move_references",
    "preview",
    "resolve",
    "review",
]
