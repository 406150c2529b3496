"""An entity definition read into fields: types, physical names, flags.

The definition is the JSON Schema the admin edits; the model adds what the
engine needs to store it: each field's registered type, its column (fixed when
the field was created, so a rename or a new label never becomes DDL), its
child table, and the schema records are validated against.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from engine.forms.fieldtypes import FieldType, effective_property, field_type, infer_field_type
from engine.forms.system_fields import (
    ASSIGNABLE_SYSTEM_FIELDS,
    CHILD_SYSTEM_FIELDS,
    SYSTEM_FIELDS,
)

#: Fields per entity, checked before any DDL (PostgreSQL allows 1,600 columns).
MAX_FIELDS = 500


def physical_name(*parts: str, limit: int = 63) -> str:
    """A SQL identifier from ``parts``; long ones keep a hash suffix so they stay unique."""
    name = "__".join(parts)
    if len(name) <= limit:
        return name
    digest = hashlib.sha1(name.encode()).hexdigest()[:8]
    return f"{name[: limit - 9]}_{digest}"


def table_name_for(entity: str) -> str:
    return physical_name(f"t_{entity}")


def label_text(label: Any, lang: str = "en", fallback: str = "") -> str:
    """The text of an i18n label (a string or a ``{lang: text}`` map) in ``lang``."""
    if isinstance(label, str):
        return label
    if isinstance(label, dict) and label:
        for key in (lang, lang.split("-")[0], "en"):
            if key in label:
                return str(label[key])
        return str(next(iter(label.values())))
    return fallback


@dataclass(frozen=True)
class Field:
    """One field of an entity, as the store sees it."""

    key: str
    prop: dict[str, Any]
    type: FieldType
    column: str | None
    required: bool = False
    removed: bool = False
    child: EntityModel | None = None

    @cached_property
    def label(self) -> Any:
        return self.prop.get("x-label", self.key)

    @cached_property
    def ref(self) -> str | None:
        return self.prop.get("x-ref")

    @cached_property
    def unique(self) -> bool:
        return bool(self.prop.get("x-unique"))

    @cached_property
    def indexed(self) -> bool:
        return bool(self.prop.get("x-index")) or self.ref is not None or self.type.name == "user"

    @cached_property
    def computed(self) -> str | None:
        return self.prop.get("x-computed")

    @cached_property
    def stored(self) -> bool:
        """Whether the field has a column (read-time computed fields have none)."""
        if self.type.storage != "column":
            return False
        return not (self.computed and self.prop.get("x-store", "stored") == "read")

    @cached_property
    def read_only(self) -> bool:
        return bool(self.prop.get("readOnly") or self.computed or self.type.read_only)

    def validation_property(self) -> dict[str, Any]:
        """The JSON Schema a value of this field must satisfy; optional fields accept null."""
        if self.child is not None:
            row_schema = self.child.validation_schema()
            row_schema["properties"]["id"] = {"type": ["integer", "null"]}
            prop = _strip_x(dict(self.prop))
            prop["type"] = "array" if self.required else ["array", "null"]
            prop["items"] = row_schema
            return prop
        prop = _strip_x(effective_property(self.prop))
        t = prop.get("type")
        if isinstance(t, str) and not self.required:
            prop["type"] = [t, "null"]
            if "enum" in prop:
                prop["enum"] = [*prop["enum"], None]
        return prop


@dataclass
class EntityModel:
    """A definition plus its physical layout. Child tables are models of their own."""

    name: str
    definition: dict[str, Any]
    table_name: str
    fields: dict[str, Field] = field(default_factory=dict)
    parent: EntityModel | None = None

    @property
    def label(self) -> Any:
        return self.definition.get("label", self.name)

    @property
    def title_field(self) -> str | None:
        return self.definition.get("title_field")

    # Read on every record. A model is complete when build_model returns and never
    # changes after, so each list is built once.
    @cached_property
    def _active(self) -> list[Field]:
        return [f for f in self.fields.values() if not f.removed]

    @cached_property
    def _stored(self) -> list[Field]:
        return [f for f in self.fields.values() if f.stored]

    @cached_property
    def _children(self) -> list[Field]:
        return [f for f in self._active if f.type.storage == "table"]

    @cached_property
    def plain_keys(self) -> frozenset[str]:
        """Keys a caller may always send as they are: active, writable, not child tables.

        A record holding only these needs no key-by-key checking (the common case
        of a bulk import), so the record service skips straight to validation.
        """
        return frozenset(f.key for f in self._active if f.child is None and not f.read_only)

    @cached_property
    def converters(self) -> dict[str, tuple[Field, Any, Any]]:
        """Active field key → (field, to_json or None, to_python or None); None is identity.

        Built once per model so converting a record is a dictionary walk, not a
        chain of attribute lookups and no-op calls per field.
        """
        from engine.forms.fieldtypes import FieldType

        out = {}
        for f in self._active:
            kind = type(f.type)
            to_json = None if kind.to_json is FieldType.to_json else f.type.to_json
            to_python = None if kind.to_python is FieldType.to_python else f.type.to_python
            out[f.key] = (f, to_json, to_python)
        return out

    @cached_property
    def codec(self) -> Any:
        """This model's specialised record steps (:class:`engine.forms.record_codec.RecordCodec`)."""
        from engine.forms.record_codec import RecordCodec

        return RecordCodec(self)

    @cached_property
    def public_keys(self) -> list[tuple[str, bool]]:
        """(key, is a child table) of the fields a returned record carries."""
        return [
            (f.key, f.child is not None)
            for f in self._active
            if f.child is not None or f.stored or f.computed
        ]

    def active_fields(self) -> list[Field]:
        return self._active

    def stored_fields(self) -> list[Field]:
        """Fields with a column, removed ones included (soft removal keeps the data)."""
        return self._stored

    def child_fields(self) -> list[Field]:
        return self._children

    def validation_schema(self) -> dict[str, Any]:
        """The JSON Schema a record's JSON form must satisfy (active fields only, closed)."""
        props = {f.key: f.validation_property() for f in self.active_fields()}
        required = [k for k in self.definition.get("schema", {}).get("required", []) if k in props]
        schema: dict[str, Any] = {
            "type": "object",
            "properties": props,
            "additionalProperties": False,
        }
        if required:
            schema["required"] = required
        return schema


def _strip_x(prop: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in prop.items() if not k.startswith("x-") and k != "default"}
    if isinstance(out.get("items"), dict):
        out["items"] = _strip_x(out["items"])
    return out


def resolve_type(prop: dict[str, Any]) -> FieldType:
    if prop.get("x-type") == "computed":
        rest = {k: v for k, v in prop.items() if k != "x-type"}
        return infer_field_type(rest)
    return infer_field_type(prop)


def build_model(
    definition: dict[str, Any],
    physical: dict[str, dict[str, Any]] | None = None,
    *,
    parent: EntityModel | None = None,
    table: str | None = None,
) -> EntityModel:
    """Build the model of ``definition``.

    ``physical`` maps a field path (``company``, ``items``, ``items.qty``) to
    its stored ``{"column"}`` or ``{"table"}`` (rows of ``ts_field``); a field
    missing there is new and takes its key as its column name.
    """
    physical = physical or {}
    name = definition["name"]
    model = EntityModel(
        name=name if parent is None else f"{parent.name}.{name}",
        definition=definition,
        table_name=table or table_name_for(name),
        parent=parent,
    )
    schema = definition.get("schema", {})
    required = set(schema.get("required", []))
    for key, prop in (schema.get("properties") or {}).items():
        ftype = resolve_type(prop)
        phys = physical.get(key, {})
        child = None
        if ftype.storage == "table":
            prefix = f"{key}."
            child = build_model(
                {"name": key, "schema": prop.get("items", {})},
                {k[len(prefix) :]: v for k, v in physical.items() if k.startswith(prefix)},
                parent=model,
                table=phys.get("table") or physical_name(model.table_name, key),
            )
        model.fields[key] = Field(
            key=key,
            prop=prop,
            type=ftype,
            column=(phys.get("column") or key) if ftype.storage == "column" else None,
            required=key in required,
            removed=bool(prop.get("x-removed")),
            child=child,
        )
    return model


__all__ = [
    "ASSIGNABLE_SYSTEM_FIELDS",
    "CHILD_SYSTEM_FIELDS",
    "MAX_FIELDS",
    "SYSTEM_FIELDS",
    "EntityModel",
    "Field",
    "build_model",
    "field_type",
    "label_text",
    "physical_name",
    "table_name_for",
]
