"""The door every field type comes through: the :class:`FieldType` base class and
:func:`register_field_type`.

Kept apart from :mod:`engine.forms.fieldtypes` (the lookups, which load the
built-in types and the installed plugins on first use) so the built-in types
register through this door without importing the module that loads them.
"""

from __future__ import annotations

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


__all__ = ["FieldType", "register_field_type"]
