"""The field-type registry: what a field stores, how its values convert, how it is inferred.

A field type turns one property of an entity's JSON Schema into a SQL column
and converts values between three forms:

- the *JSON form* that validation sees (ISO strings for dates, seconds for
  durations), the same form the HTTP API speaks;
- the *Python form* the Python API takes and returns (``date``, aware
  ``datetime``, ``Decimal``, ``timedelta``...);
- the database value (usually the Python form itself).

A developer adds a type by subclassing :class:`FieldType` and calling
:func:`register_field_type`; the designer palette, the table generator and the
record service pick it up with no other change (see docs/developer/field-types.md).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from engine.forms.field_registry import (
    FieldType,
    _inference_order,
    _registry,
    register_field_type,
)
from engine.i18n import t as _t


def field_type(name: str) -> FieldType:
    """The registered type called ``name``; ``KeyError`` lists the known ones."""
    _ensure_builtins()
    try:
        return _registry[name]
    except KeyError:
        raise KeyError(
            _t(
                "unknown field type {name!r}; known: {registry}",
                name=name,
                registry=", ".join(sorted(_registry)),
            )
        ) from None


def field_types() -> dict[str, FieldType]:
    _ensure_builtins()
    return dict(_registry)


def infer_field_type(prop: dict[str, Any]) -> FieldType:
    """The type a property declares with ``x-type`` or implies by its JSON Schema."""
    _ensure_builtins()
    if "x-type" in prop:
        return field_type(prop["x-type"])
    for name in _inference_order:
        ft = _registry[name]
        if ft.matches(prop):
            return ft
    return _registry["text"]


def effective_property(prop: dict[str, Any]) -> dict[str, Any]:
    """The property with the keywords its type implies filled in (for validation)."""
    implied = infer_field_type(prop).implied(prop)
    if not implied:
        return prop
    implied.update(prop)
    return implied


ENTRY_POINT_GROUP = "tessera.field_types"


_loaded = False


def _ensure_builtins() -> None:
    """Register the built-in types, then the installed plugins, once (on first use)."""
    global _loaded
    if _loaded:
        return
    _loaded = True
    from engine.forms import builtin_types

    builtin_types.register_all()
    load_entry_points()


def load_entry_points() -> list[str]:
    """Register the field types installed packages declare in ``tessera.field_types``.

    Each entry point names a FieldType subclass (or instance). A broken one
    raises PluginError naming it, instead of disappearing from the palette.
    """
    from engine.plugins import plugins

    names = []
    for _ep, obj in plugins(ENTRY_POINT_GROUP, "field type"):
        instance = obj() if isinstance(obj, type) else obj
        register_field_type(instance, infer=bool(getattr(instance, "infer", False)))
        names.append(instance.name)
    return names


def type_names(types: Iterable[Any]) -> list[str]:
    return [t if isinstance(t, str) else str(t) for t in types]


__all__ = [
    "FieldType",
    "effective_property",
    "field_type",
    "field_types",
    "infer_field_type",
    "load_entry_points",
    "register_field_type",
    "type_names",
]
