"""Values between their forms: caller input, the JSON form validation sees, rows and records."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from engine.errors import error_entry
from engine.forms.system_fields import ASSIGNABLE_SYSTEM_FIELDS, SYSTEM_FIELDS

if TYPE_CHECKING:
    from engine.forms.model_port import ModelPort

SYSTEM_KEYS = frozenset(SYSTEM_FIELDS)


def input_errors(
    model: ModelPort, data: dict[str, Any], *, internal: bool, prefix: str = ""
) -> list[dict[str, Any]]:
    """Keys a caller may not send: unknown, engine-maintained or read-only fields.

    Nothing is silently dropped: a key the entity does not define is an error.
    """
    errors = []
    if isinstance(data, dict) and data.keys() <= model.plain_keys:
        return errors  # only plain writable fields: nothing to refuse
    if not isinstance(data, dict):
        return [
            error_entry("a record must be a mapping of field names to values", field=prefix or None)
        ]
    for key in data:
        f = model.fields.get(key)
        where = f"{prefix}{key}"
        if f is None or f.removed:
            if key in SYSTEM_KEYS and model.parent is None:
                if key not in ASSIGNABLE_SYSTEM_FIELDS:
                    errors.append(error_entry(f"{key} is maintained by the engine", field=where))
            elif model.parent is not None and key == "id":
                continue
            else:
                known = ", ".join(sorted(k for k, v in model.fields.items() if not v.removed))
                errors.append(
                    error_entry(
                        f"{key} is not a field of {model.name} (fields: {known})", field=where
                    )
                )
        elif f.read_only and not internal:
            errors.append(error_entry(f"{key} is read-only", field=where))
        elif f.child is not None and isinstance(data[key], list):
            for i, row in enumerate(data[key]):
                errors += input_errors(f.child, row, internal=internal, prefix=f"{where}[{i}].")
    return errors


def known_fields(model: ModelPort, data: dict[str, Any]) -> dict[str, Any]:
    """``data`` without the keys ``input_errors`` refuses, so the rest can still be checked."""
    if data.keys() <= model.plain_keys:
        return dict(data)
    out = {}
    for key, value in data.items():
        f = model.fields.get(key)
        if f is None or f.removed:
            if model.parent is not None and key == "id":
                out[key] = value
            continue
        if f.child is not None and isinstance(value, list):
            value = [known_fields(f.child, r) if isinstance(r, dict) else r for r in value]
        out[key] = value
    return out


def to_json_form(model: ModelPort, record: dict[str, Any]) -> dict[str, Any]:
    """The record's fields (no system fields) in JSON form, for validation."""
    return model.codec.to_json(record)


def to_python_form(model: ModelPort, doc: dict[str, Any]) -> dict[str, Any]:
    """A validated JSON-form record → Python values (dates, Decimals, timedeltas)."""
    return model.codec.to_python(doc)


def to_json_walk(model: ModelPort, record: dict[str, Any]) -> dict[str, Any]:
    """What :func:`to_json_form` means, field by field (the model's codec specialises it)."""
    out: dict[str, Any] = {}
    converters = model.converters
    for key, value in record.items():
        entry = converters.get(key)
        if entry is None:
            continue
        f, to_json, _ = entry
        if f.child is None:
            out[key] = value if to_json is None else to_json(value)
            continue
        if isinstance(value, list):
            out[key] = [
                to_json_walk(f.child, row)
                | ({"id": row["id"]} if isinstance(row, dict) and row.get("id") is not None else {})
                if isinstance(row, dict)
                else row
                for row in value
            ]
        else:
            out[key] = f.type.to_json(value)
    return out


def to_python_walk(model: ModelPort, doc: dict[str, Any]) -> dict[str, Any]:
    """What :func:`to_python_form` means, field by field (the model's codec specialises it)."""
    out: dict[str, Any] = {}
    converters = model.converters
    for key, value in doc.items():
        entry = converters.get(key)
        if entry is None:
            f = model.fields.get(key)
            if f is None:
                out[key] = value
            elif f.child is not None:
                out[key] = [to_python_walk(f.child, row) for row in (value or [])]
            else:
                out[key] = f.type.to_python(value)
            continue
        f, _, to_python = entry
        if f.child is not None:
            out[key] = [to_python_walk(f.child, row) for row in (value or [])]
        else:
            out[key] = value if to_python is None else to_python(value)
    return out


def row_values(
    model: ModelPort, record: dict[str, Any], *, complete: bool = False
) -> dict[str, Any]:
    """Column name → value for the stored fields in ``record``.

    ``complete`` gives every active stored column (None where absent), as a
    many-row INSERT needs the same keys in every row.
    """
    return {
        f.column: record.get(f.key)
        for f in model.stored_fields()
        if not f.removed and (complete or f.key in record)
    }


def record_from_row(model: ModelPort, row: Any, *, system: bool = True) -> dict[str, Any]:
    """A row mapping → the record the API returns (active fields, Python values)."""
    return model.codec.from_row(row) if system else model.codec.from_row_bare(row)


def record_from_row_walk(model: ModelPort, row: Any, *, system: bool = True) -> dict[str, Any]:
    """What :func:`record_from_row` means, field by field (the model's codec specialises it)."""
    out: dict[str, Any] = {}
    if system:
        for key in SYSTEM_FIELDS:
            out[key] = row[key]
    for f in model.active_fields():
        if f.stored:
            out[f.key] = f.type.from_db(row[f.column])
    return out
