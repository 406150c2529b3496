"""Per-entity functions, written once per model, for the steps every record write repeats.

A record on its way to the table is copied with defaults, turned into its
JSON form for validation, back into Python values, and shaped for the audit
trail and the caller. Done by walking the model's fields for every record,
these steps cost more than the validation and the INSERT together on a bulk
import; done by a function written for the model they are a handful of dict
operations. The generic walks in ``engine.store.values`` and
``engine.forms.defaults`` stay the definition of what each step means; this
module only specialises them, and tests compare both on generated records.

The source is built from field keys (emitted with ``repr``) and indexes;
converters, default values and expressions are passed in as constants, so no
text from a definition is ever executed.
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from engine.forms.model_port import ModelPort

#: Default literals that are safe to share between records (never mutated in place).
_IMMUTABLE = (str, int, float, bool, type(None))


class RecordCodec:
    """The specialised steps of one entity model (see the module docstring)."""

    def __init__(self, model: ModelPort) -> None:
        from engine.forms.system_fields import SYSTEM_FIELDS

        self.model = model
        self._consts: dict[str, Any] = {}
        active = model.active_fields()
        self._const("ACTIVE", frozenset(f.key for f in active))

        # to_json: keep active keys, convert the typed ones, children row by row.
        keep = (
            "    out = dict(record) if record.keys() <= ACTIVE"
            " else {k: v for k, v in record.items() if k in ACTIVE}"
        )
        lines = ["def to_json(record):", keep]
        for key, (f, to_json, _) in model.converters.items():
            if f.child is not None:
                name = self._const(f"CJ_{key}", _child_to_json(f))
                lines.append(f"    if {key!r} in out: out[{key!r}] = {name}(out[{key!r}])")
            elif to_json is not None:
                name = self._const(f"TJ_{key}", to_json)
                lines.append(f"    if {key!r} in out: out[{key!r}] = {name}(out[{key!r}])")
        lines.append("    return out")
        self.to_json: Callable[[dict[str, Any]], dict[str, Any]] = self._build(lines, "to_json")

        # to_json_typed: as to_json, but a date or an aware datetime given as a Python
        # value skips its round trip through text (see split_typed).
        self._const("DATE", dt.date)
        self._const("DATETIME", dt.datetime)
        self._const("UTC", dt.UTC)
        self._const("WHOLE_MINUTES", _whole_minute_offset)
        lines = [
            "def to_json_typed(record):",
            keep,
            "    typed = {}",
        ]
        for key, (f, to_json, _) in model.converters.items():
            kind = _typed_kind(f)
            if kind is None:
                if f.child is not None or to_json is not None:
                    name = f"CJ_{key}" if f.child is not None else f"TJ_{key}"
                    lines.append(f"    if {key!r} in out: out[{key!r}] = {name}(out[{key!r}])")
                continue
            # An optional field's placeholder is null: no format to check at all.
            nullable = "null" in (f.validation_property().get("type") or ())
            placeholder = self._const(f"PH_{key}", None if nullable else _PLACEHOLDER[kind])
            if kind == "date":
                test, python = "v.__class__ is DATE", "v"
            else:
                test, python = "v.__class__ is DATETIME and WHOLE_MINUTES(v)", "v.astimezone(UTC)"
            lines += [
                f"    if {key!r} in out:",
                f"        v = out[{key!r}]",
                f"        if {test}:",
                f"            typed[{key!r}] = {python}",
                f"            out[{key!r}] = {placeholder}",
                "        else:",
                f"            out[{key!r}] = TJ_{key}(v)",
            ]
        lines.append("    return out, typed")
        self.to_json_typed: Callable[[dict[str, Any]], tuple[dict[str, Any], dict[str, Any]]] = (
            self._build(lines, "to_json_typed")
        )

        # to_python: a document with only active keys; anything else takes the generic walk.
        lines = [
            "def to_python(doc):",
            "    if not doc.keys() <= ACTIVE:",
            "        return GENERIC_PY(MODEL, doc)",
            "    out = dict(doc)",
        ]
        #: per field key, the lines of to_python converting that field of ``out``
        self._python_lines: dict[str, list[str]] = {}
        for key, (f, _, to_python) in model.converters.items():
            if f.child is not None:
                name = self._const(f"CP_{key}", _child_to_python(f))
                lines.append(f"    if {key!r} in out: out[{key!r}] = {name}(out[{key!r}])")
            elif to_python is not None:
                name = self._const(f"TP_{key}", to_python)
                done = _python_class(f)
                if done is None:
                    field_lines = [f"    if {key!r} in out: out[{key!r}] = {name}(out[{key!r}])"]
                else:
                    # Built-in types map null to null and leave a value of their Python class
                    # as is.
                    test = "v is not None"
                    if done is not type(None):
                        test += f" and v.__class__ is not {self._const(f'PC_{key}', done)}"
                    field_lines = [
                        f"    v = out.get({key!r})",
                        f"    if {test}: out[{key!r}] = {name}(v)",
                    ]
                self._python_lines[key] = field_lines
                lines += field_lines
        lines.append("    return out")
        from engine.store.values import to_python_walk

        self._const("GENERIC_PY", to_python_walk)
        self._const("MODEL", model)
        self.to_python: Callable[[dict[str, Any]], dict[str, Any]] = self._build(lines, "to_python")

        # defaults: the fields a new record leaves out, as apply_defaults gives them.
        from engine.forms.defaults import DEFAULT_EXPRESSIONS, apply_defaults, is_default_expression

        self._const("DEEPCOPY", copy.deepcopy)
        self._const("APPLY", apply_defaults)
        lines = ["def defaults(data, clock, user):", "    out = dict(data)"]
        plain_defaults: list[str] = []  # the lines for fields that are not child tables
        for f in active:
            key = f.key
            if f.child is not None:
                self._const(f"CHILD_{key}", f.child)
                lines += [
                    f"    rows = out.get({key!r})",
                    "    if isinstance(rows, list):",
                    f"        out[{key!r}] = [APPLY(CHILD_{key}, r, clock, user)"
                    " if isinstance(r, dict) else r for r in rows]",
                ]
                continue
            if f.computed:
                continue
            prop = f.prop
            if "x-default" in prop:
                raw = prop["x-default"]
                if is_default_expression(raw):
                    name = self._const(
                        f"EXPR_{key}", DEFAULT_EXPRESSIONS[raw.strip().replace(" ", "")]
                    )
                    value = f"{name}(clock, user)"
                else:
                    value = self._literal(key, raw)
            elif "default" in prop:
                value = self._literal(key, prop["default"])
            else:
                continue
            lines.append(f"    if {key!r} not in out: out[{key!r}] = {value}")
            plain_defaults.append(lines[-1])
        lines.append("    return out")
        self.defaults: Callable[[dict[str, Any], Any, str | None], dict[str, Any]] = self._build(
            lines, "defaults"
        )

        # prepare: defaults, validation and Python form of a new record in one pass.
        self.prepare: Callable[[Any, Any, str | None], dict[str, Any] | None] = self._build(
            self._prepare_lines(plain_defaults), "prepare"
        )
        # prepare_row: the same record with the system keys first (null), the shape of the
        # stored row, so create_many fills them in place instead of copying each record into
        # a second dict (one allocation, copy and free less per record).
        self._const("NEW_ROW", new_row_template())
        lines = self._prepare_lines(plain_defaults)
        lines[0] = "def prepare_row(data, clock, user):"
        lines[lines.index("    out = dict(data)")] = "    out = {**NEW_ROW, **data}"
        #: ``{**new_row_template(), **prepare(...)}``: the same values, key order and None
        self.prepare_row: Callable[[Any, Any, str | None], dict[str, Any] | None] = self._build(
            lines, "prepare_row"
        )

        # public: the system fields and the fields a returned record carries.
        items = [f"{k!r}: g({k!r})" for k in SYSTEM_FIELDS]
        items += [
            f"{k!r}: (g({k!r}) or [])" if is_child else f"{k!r}: g({k!r})"
            for k, is_child in model.public_keys
        ]
        # A record holding no other keys is merged over a template of those keys (null each):
        # the same keys in the same order, in two C-level merges. The merge tells whether it
        # held another key (it is then longer than the template), which costs no walk over
        # the record's keys.
        self._const(
            "PUBLIC_NULLS", dict.fromkeys((*SYSTEM_FIELDS, *(k for k, _ in model.public_keys)))
        )
        self._const("PUBLIC_COUNT", len(self._consts["PUBLIC_NULLS"]))
        lines = [
            "def public(record):",
            "    out = {**PUBLIC_NULLS, **record}",
            "    if len(out) == PUBLIC_COUNT:",
            *[
                f"        out[{k!r}] = out[{k!r}] or []"
                for k, is_child in model.public_keys
                if is_child
            ],
            "        return out",
            "    g = record.get",
            f"    return {{{', '.join(items)}}}",
        ]
        self.public: Callable[[dict[str, Any]], dict[str, Any]] = self._build(lines, "public")

        # audit view: owner, team and active fields present in the record; child rows copied.
        self._const("AUDIT_KEYS", ("owner", "team", *model.converters))
        lines = [
            "def audit_view(record):",
            "    view = {k: record[k] for k in AUDIT_KEYS if k in record}",
        ]
        for key, (f, _, _) in model.converters.items():
            if f.child is not None:
                lines.append(
                    f"    if {key!r} in view: view[{key!r}] = [dict(r) for r in (view[{key!r}] or [])]"
                )
        lines.append("    return view")
        self.audit_view: Callable[[dict[str, Any]], dict[str, Any]] = self._build(
            lines, "audit_view"
        )

        # audit_created: the JSON text of a creation's audit entry, written without the view's
        # copying where the record holds nothing else, decimals turned to text inline. With
        # sorted keys, dumps({"before": {}, "after": view}) is the view's own JSON between a
        # fixed head and tail: orjson writes just the view (no wrapper dicts, one call).
        from decimal import Decimal

        import orjson

        from engine.store.audit import json_default

        self._const("ORJSON", orjson.dumps)
        self._const("JSON_DEFAULT", json_default)
        self._const("SORT_KEYS", orjson.OPT_SORT_KEYS)
        self._const("DECIMAL", Decimal)
        self._const("RECORD_KEYS", frozenset((*SYSTEM_FIELDS, "owner", "team", *model.converters)))
        dropped = [k for k in SYSTEM_FIELDS if k not in ("owner", "team")]
        lines = [
            "def audit_created(record):",
            "    if record.keys() <= RECORD_KEYS:",
            "        view = dict(record)",
            *[f"        if {k!r} in view: del view[{k!r}]" for k in dropped],
            "    else:",
            "        view = {k: record[k] for k in AUDIT_KEYS if k in record}",
        ]
        for key, (f, _, _) in model.converters.items():
            if f.child is not None:
                lines.append(f"    if {key!r} in view: view[{key!r}] = view[{key!r}] or []")
            elif f.type.value_kind == "decimal":
                lines += [
                    f"    v = view.get({key!r})",
                    f"    if v.__class__ is DECIMAL: view[{key!r}] = str(v)",
                ]
        lines.append(
            """    return (b'{"after":' + ORJSON(view, default=JSON_DEFAULT, option=SORT_KEYS)"""
            """ + b',"before":{}}').decode()"""
        )
        #: ``dumps({"before": {}, "after": audit_view(record)})``, the same text, faster
        self.audit_created: Callable[[dict[str, Any]], str] = self._build(lines, "audit_created")

        # from_row: a row mapping -> the record the API returns (record_from_row).
        from engine.forms.fieldtypes import FieldType

        items = [f"{k!r}: row[{k!r}]" for k in SYSTEM_FIELDS]
        bare = []
        for f in active:
            if not f.stored:
                continue
            if type(f.type).from_db is FieldType.from_db:
                item = f"{f.key!r}: row[{f.column!r}]"
            else:
                item = f"{f.key!r}: {self._const(f'FD_{f.key}', f.type.from_db)}(row[{f.column!r}])"
            items.append(item)
            bare.append(item)
        lines = ["def from_row(row):", f"    return {{{', '.join(items)}}}"]
        self.from_row: Callable[[Any], dict[str, Any]] = self._build(lines, "from_row")
        lines = ["def from_row_bare(row):", f"    return {{{', '.join(bare)}}}"]
        self.from_row_bare: Callable[[Any], dict[str, Any]] = self._build(lines, "from_row_bare")

        #: (column key, record key) of every column a new row fills, system columns first
        self.insert_columns: list[tuple[str, str]] = [(k, k) for k in SYSTEM_FIELDS] + [
            (f.column, f.key) for f in model.stored_fields() if not f.removed
        ]

    def _prepare_lines(self, default_lines: list[str]) -> list[str]:
        """Source of ``prepare(data, clock, user)``: the prepared record, or None.

        A new record holding only plain writable fields (``model.plain_keys``)
        whose values are already in their Python form is checked on those
        values directly: the JSON form of a string, number, boolean, list or
        null is the value itself, so the checks are the compiled validator's
        own (:func:`engine.forms.validator.value_check`), and a ``date`` or an
        aware ``datetime`` is valid by its type (see :func:`_typed_kind`). The
        result is what defaults, ``to_json_typed``, validation and
        ``to_python`` give, key order included. Anything else (a missing
        required field, a child table, text for a date or a decimal, a field
        type with its own conversion, any failed check) returns None: the
        caller then takes the general path, which also words the errors.
        """
        from engine.forms.builtin_types import Decimal_
        from engine.forms.validator import RUNTIME, exact_check, value_check

        model = self.model
        for name, value in RUNTIME.items():
            self._const(name, value)
        self._const("FAST_KEYS", model.plain_keys)
        required = set(model.validation_schema().get("required", ()))
        lines = [
            "def prepare(data, clock, user):",
            "    if data.__class__ is not dict or not data.keys() <= FAST_KEYS:",
            "        return None",
            "    out = dict(data)",
            *default_lines,
        ]
        for i, (key, (f, to_json, _)) in enumerate(model.converters.items()):
            kind = _typed_kind(f)
            decimal = to_json is not None and type(f.type).to_json is Decimal_.to_json
            if f.child is not None or (to_json is not None and kind is None and not decimal):
                lines += [f"    if {key!r} in out:", "        return None"]
                continue
            v = f"v{i}"
            lines += [f"    {v} = out.get({key!r}, _MISSING)", f"    if {v} is not _MISSING:"]
            if kind is not None:
                nullable = "null" in (f.validation_property().get("type") or ())
                if kind == "date":
                    test, python = f"{v}.__class__ is DATE", None
                else:
                    test = (
                        f"{v}.__class__ is DATETIME and ({v}.tzinfo is UTC or WHOLE_MINUTES({v}))"
                    )
                    python = f"{v}.astimezone(UTC)"
                lines += [
                    f"        if {v} is None:",
                    "            " + ("pass" if nullable else "return None"),
                ]
                lines += [f"        elif {test}:", "            pass"]
                if python is not None:
                    lines.append(f"            out[{key!r}] = {python}")
                lines += ["        else:", "            return None"]
            else:
                if decimal:
                    lines += [f"        if isinstance({v}, str):", "            return None"]
                prop = f.validation_property()
                found = exact_check(prop, v, 2, failure="return None", stem=f"f{i}_")
                checks, names = found or value_check(
                    prop, v, 2, failure="return None", stem=f"f{i}_"
                )
                for name, value in names.items():
                    self._const(name, value)
                lines += ["        pass", *checks]
                lines += ["    " + line for line in self._python_lines.get(key, [])]
            if key in required:
                lines += ["    else:", "        return None"]
        lines.append("    return out")
        return lines

    def _const(self, name: str, value: Any) -> str:
        self._consts[name] = value
        return name

    def _literal(self, key: str, value: Any) -> str:
        name = self._const(f"D_{key}", value)
        return name if isinstance(value, _IMMUTABLE) else f"DEEPCOPY({name})"

    def _build(self, lines: list[str], name: str) -> Any:
        namespace = dict(self._consts)
        source = "\n".join(lines)
        exec(compile(source, f"<{self.model.name} {name}>", "exec"), namespace)
        return namespace[name]


def new_row_template() -> dict[str, None]:
    """The system keys of a new row, in the row's order, each null (filled by the record
    service once the ids, owner and team are known)."""
    from engine.forms.system_fields import SYSTEM_FIELDS

    return dict.fromkeys(SYSTEM_FIELDS)


def _child_to_json(f: Any) -> Callable[[Any], Any]:
    """A child table's value in JSON form, as ``to_json_form`` gives it."""
    from engine.store.values import to_json_form

    child = f.child

    def convert(value: Any) -> Any:
        if not isinstance(value, list):
            return f.type.to_json(value)
        return [
            to_json_form(child, row) | ({"id": row["id"]} if row.get("id") is not None else {})
            if isinstance(row, dict)
            else row
            for row in value
        ]

    return convert


def _child_to_python(f: Any) -> Callable[[Any], Any]:
    from engine.store.values import to_python_form

    child = f.child

    def convert(value: Any) -> Any:
        return [to_python_form(child, row) for row in (value or [])]

    return convert


#: A value of each kind that its field's format always accepts (for required fields).
_PLACEHOLDER = {"date": "2000-01-01", "datetime": "2000-01-01T00:00:00+00:00"}


def _typed_kind(f: Any) -> str | None:
    """``"date"`` or ``"datetime"`` when a Python value of the field may skip its text form.

    Only the built-in date and date-time types, and only when the field's
    schema checks nothing but the type and format: then a ``date``, or an
    aware ``datetime`` whose offset is whole minutes, is valid by its type,
    and its Python form is what the round trip through text would give
    (the same date; the same instant in UTC).
    """
    from engine.forms.builtin_types import Date_, DateTime_

    if f.child is not None:
        return None
    kind = type(f.type)
    for base, name in ((Date_, "date"), (DateTime_, "datetime")):
        if (
            isinstance(f.type, base)
            and kind.to_json is base.to_json
            and kind.to_python is base.to_python
            and set(f.validation_property()) <= {"type", "format"}
        ):
            return name
    return None


def _whole_minute_offset(value: dt.datetime) -> bool:
    """An aware datetime whose offset RFC 3339 can write (hours and minutes only)."""
    offset = value.utcoffset()
    return offset is not None and not offset.seconds % 60 and not offset.microseconds


def _python_class(f: Any) -> type | None:
    """For a built-in type: the class its ``to_python`` returns unchanged (NoneType: none).

    None for any other type, whose converter is then always called.
    """
    from decimal import Decimal

    from engine.forms import builtin_types as b

    kind = type(f.type)
    for base, done in (
        (b.Integer_, int),
        (b.Reference, int),
        (b.Decimal_, Decimal),
        (b.Date_, type(None)),
        (b.DateTime_, type(None)),
    ):
        if isinstance(f.type, base) and kind.to_python is base.to_python:
            return done
    return None
