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
from typing import Any, ClassVar

from sqlalchemy.types import TypeEngine

from engine.errors import PluginError
from engine.i18n import t as _t


class FieldType:
    """Base class of every field type. Subclasses set the class attributes and override hooks.

    ``storage`` is ``"column"`` (one typed column), ``"table"`` (a child table)
    or ``"none"`` (nothing stored: computed when read).
    ``implied_schema`` holds the JSON Schema keywords the type implies when the
    definition leaves them out (``currency`` implies ``type: number``).
    ``config_schema`` is the JSON Schema of the type's own options (the ``x-``
    keywords it reads); the form designer renders it as the properties panel.
    """

    name: ClassVar[str] = ""
    label: ClassVar[dict[str, str]] = {}
    storage: ClassVar[str] = "column"
    implied_schema: ClassVar[dict[str, Any]] = {}
    config_schema: ClassVar[dict[str, Any]] = {"type": "object", "properties": {}}
    read_only: ClassVar[bool] = False
    #: Rule-language type of the value: string, integer, decimal, boolean, date,
    #: datetime, duration, list, reference, rows.
    value_kind: ClassVar[str] = "string"

    def matches(self, prop: dict[str, Any]) -> bool:
        """Whether a property without ``x-type`` is of this type (built-ins only)."""
        return False

    def implied(self, prop: dict[str, Any]) -> dict[str, Any]:
        """The keywords this property implies (override when they depend on the options)."""
        return dict(self.implied_schema)

    def column_type(self, prop: dict[str, Any]) -> TypeEngine:
        raise NotImplementedError(_t("field type {name!r} has no column type", name=self.name))

    def check_definition(self, prop: dict[str, Any]) -> list[str]:
        """Problems with a property of this type, as plain sentences (empty: fine)."""
        return []

    def to_json(self, value: Any) -> Any:
        """Python or API input → the JSON form that validation sees."""
        return value

    def to_python(self, value: Any) -> Any:
        """A validated JSON-form value → the Python form stored and returned."""
        return value

    def from_db(self, value: Any) -> Any:
        """A value read from the database → the Python form."""
        return value

    def to_api(self, value: Any) -> Any:
        """The Python form → JSON for the HTTP API and exports."""
        return self.to_json(value)

    def widens(self, old: dict[str, Any], new: dict[str, Any]) -> bool | None:
        """``True`` if the column must be widened from ``old`` to ``new``, ``None`` if
        the column type is unchanged, ``False`` if the change narrows it."""
        old_t, new_t = self.column_type(old), self.column_type(new)
        if repr(old_t) == repr(new_t):
            return None
        return False


_registry: dict[str, FieldType] = {}
_inference_order: list[str] = []


def register_field_type(field_type: FieldType, *, infer: bool = False) -> FieldType:
    """Add a field type. ``infer`` puts it in the list tried for properties without ``x-type``.

    Raises :class:`PluginError` naming the type when it does not fit the contract.
    """
    problems = []
    if not isinstance(field_type, FieldType):
        problems.append(_t("is not a FieldType instance"))
    else:
        if not field_type.name or not field_type.name.replace("_", "").isalnum():
            problems.append(_t("needs a name made of letters, digits and underscores"))
        if field_type.storage not in ("column", "table", "none"):
            problems.append(
                _t("has storage {storage!r}; use column, table or none", storage=field_type.storage)
            )
        if field_type.storage == "column" and (
            type(field_type).column_type is FieldType.column_type
        ):
            problems.append(_t("stores a column but does not define column_type()"))
        if field_type.name in _registry and type(_registry[field_type.name]) is not type(
            field_type
        ):
            problems.append(_t("is already registered by another class"))
    if problems:
        name = getattr(field_type, "name", repr(field_type))
        raise PluginError(
            f"field type {name!r} " + "; ".join(problems),
            [{"field": name, "message": p} for p in problems],
        )
    _registry[field_type.name] = field_type
    if infer and field_type.name not in _inference_order:
        _inference_order.append(field_type.name)
    return field_type


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
