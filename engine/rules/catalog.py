"""What names mean: the fields of each entity as rule-language types.

The checker asks the catalog, never the raw JSON Schema, so field keys,
labels in backticks, paths through references, child tables, users and
enum options are resolved in one place.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from engine.forms.entity import EntityModel, Field, build_model
from engine.i18n import t as _t

#: The record type of the acting user (``user.team``) and of user fields (``owner.team``).
USER_ENTITY = "@user"
#: Words that name the record event inside a trigger condition.
EVENT_WORDS = ("created", "updated", "deleted")


@dataclass(frozen=True)
class T:
    """A rule-language type.

    ``kind`` is boolean, number, string, date, datetime, duration, list,
    record, rows, null or any. ``entity`` names the record type a value leads
    to (a reference, a user, a child table's rows); ``options`` are the enum
    values a select field allows; ``item`` is a list's element type.
    """

    kind: str
    entity: str | None = None
    options: tuple[str, ...] | None = None
    item: T | None = None
    field_type: str | None = None

    def describe(self) -> str:
        """The kind in the words of an admin, for messages (in the current language)."""
        return kind_word(self.kind)


KIND_WORDS = {
    "boolean": "yes/no",
    "number": "number",
    "string": "text",
    "date": "date",
    "datetime": "date and time",
    "duration": "duration",
    "list": "list",
    "record": "record",
    "rows": "child table",
    "null": "null",
    "any": "value",
}


def kind_word(kind: str) -> str:
    """``KIND_WORDS[kind]`` in the current language (the words are in the engine catalog)."""
    words = {
        "boolean": _t("yes/no"),
        "number": _t("number"),
        "string": _t("text"),
        "date": _t("date"),
        "datetime": _t("date and time"),
        "duration": _t("duration"),
        "list": _t("list"),
        "record": _t("record"),
        "rows": _t("child table"),
        "null": _t("null"),
        "any": _t("value"),
    }
    return words.get(kind, kind)


BOOLEAN = T("boolean")
NUMBER = T("number")
STRING = T("string")
DATE = T("date")
DATETIME = T("datetime")
DURATION = T("duration")
NULL = T("null")
ANY = T("any")
USER = T("string", entity=USER_ENTITY, field_type="user")

USER_ATTRIBUTES: dict[str, T] = {
    "name": STRING,
    "role": STRING,
    "team": STRING,
    "email": STRING,
    "manager": USER,
}

SYSTEM_FIELD_TYPES: dict[str, T] = {
    "id": NUMBER,
    "owner": USER,
    "team": STRING,
    "created_by": USER,
    "created_on": DATETIME,
    "modified_by": USER,
    "modified_on": DATETIME,
    "version": NUMBER,
}

_KIND_OF_VALUE = {
    "string": "string",
    "integer": "number",
    "decimal": "number",
    "boolean": "boolean",
    "date": "date",
    "datetime": "datetime",
    "duration": "duration",
}


@dataclass(frozen=True)
class FieldInfo:
    """One name resolved: its key, its type, and the definition field behind it (if any)."""

    key: str
    type: T
    field: Field | None = None

    @property
    def computed(self) -> str | None:
        return self.field.computed if self.field is not None else None


def type_of_field(f: Field, owner: str) -> T:
    """The rule-language type of a definition field (``owner`` names its entity)."""
    ftype = f.type
    name = ftype.name
    if name == "user":
        return T("string", entity=USER_ENTITY, field_type="user")
    kind = getattr(ftype, "value_kind", "string")
    if kind == "reference":
        return T("record", entity=f.ref, field_type=name)
    if kind == "rows":
        return T("rows", entity=f"{owner}.{f.key}", field_type=name)
    if kind == "list":
        items = f.prop.get("items") or {}
        options = tuple(items["enum"]) if isinstance(items.get("enum"), list) else None
        return T("list", item=T("string", options=options), field_type=name)
    options = None
    if isinstance(f.prop.get("enum"), list):
        options = tuple(str(v) for v in f.prop["enum"] if v is not None)
    return T(_KIND_OF_VALUE.get(kind, "string"), options=options, field_type=name)


def _labels(f: Field) -> list[str]:
    label = f.prop.get("x-label")
    if isinstance(label, str):
        return [label]
    if isinstance(label, dict):
        return [str(v) for v in label.values()]
    return []


class Catalog:
    """Entity definitions seen as typed names.

    ``definitions`` is a mapping or a callable from entity name to its
    definition (``None`` when unknown). ``names`` lists the entity names when
    the callable cannot, so unknown entities get a "did you mean".
    """

    def __init__(
        self,
        definitions: Callable[[str], dict[str, Any] | None] | Mapping[str, dict[str, Any]],
        names: Iterable[str] | None = None,
    ) -> None:
        if isinstance(definitions, Mapping):
            mapping = definitions
            self._get: Callable[[str], dict[str, Any] | None] = mapping.get
            self._names = list(names) if names is not None else list(mapping)
        else:
            self._get = definitions
            self._names = list(names or [])
        self._models: dict[str, tuple[int, EntityModel]] = {}

    def entity_names(self) -> list[str]:
        return list(self._names)

    def definition(self, entity: str) -> dict[str, Any] | None:
        return self._get(entity)

    def model(self, entity: str) -> EntityModel | None:
        """The built model of ``entity`` or of a child table (``lead.items``); None if unknown."""
        if entity == USER_ENTITY:
            return None
        if "." in entity:
            parent_name, _, key = entity.rpartition(".")
            parent = self.model(parent_name)
            if parent is None or key not in parent.fields:
                return None
            return parent.fields[key].child
        definition = self._get(entity)
        if definition is None:
            return None
        cached = self._models.get(entity)
        if cached is not None and cached[0] == id(definition):
            return cached[1]
        model = build_model(definition)
        self._models[entity] = (id(definition), model)
        return model

    def exists(self, entity: str) -> bool:
        return entity == USER_ENTITY or self.model(entity) is not None

    def fields(self, entity: str) -> dict[str, FieldInfo]:
        """Every name a record of ``entity`` offers: its fields, then system fields."""
        if entity == USER_ENTITY:
            return {k: FieldInfo(k, t) for k, t in USER_ATTRIBUTES.items()}
        model = self.model(entity)
        if model is None:
            return {}
        out = {f.key: FieldInfo(f.key, type_of_field(f, entity), f) for f in model.active_fields()}
        if model.parent is None:
            for key, t in SYSTEM_FIELD_TYPES.items():
                out.setdefault(key, FieldInfo(key, t))
        return out

    def lookup(self, entity: str, name: str, *, quoted: bool = False) -> FieldInfo | None:
        """The field called ``name`` (its key; in backticks also a label, any language)."""
        fields = self.fields(entity)
        if name in fields:
            return fields[name]
        if quoted:
            folded = name.casefold()
            for info in fields.values():
                if info.field is not None and folded in (x.casefold() for x in _labels(info.field)):
                    return info
        return None

    def suggest(self, entity: str, name: str) -> str | None:
        """The closest field name, for "did you mean"."""
        return closest(name, self.fields(entity))

    def suggest_entity(self, name: str) -> str | None:
        return closest(name, self._names)


def closest(name: str, choices: Iterable[str]) -> str | None:
    """The choice nearest to ``name`` (case-insensitive first), or None."""
    choices = list(choices)
    for choice in choices:
        if choice.casefold() == name.casefold():
            return choice
    found = difflib.get_close_matches(name, choices, n=1, cutoff=0.6)
    return found[0] if found else None


__all__ = [
    "ANY",
    "BOOLEAN",
    "DATE",
    "DATETIME",
    "DURATION",
    "EVENT_WORDS",
    "KIND_WORDS",
    "NULL",
    "NUMBER",
    "STRING",
    "USER",
    "USER_ATTRIBUTES",
    "USER_ENTITY",
    "Catalog",
    "FieldInfo",
    "T",
    "closest",
    "type_of_field",
]
