"""Conditions as a builder tree: the rule text a condition builder can show as rows.

A tree is plain JSON so the browser, the HTTP API and later builders (rules,
visibility, flow edges, report filters, segments) share it::

    {"type": "group", "match": "all" | "any", "items": [node, ...]}
    {"type": "row", "field": "amount", "op": ">", "value": 100000}

:func:`to_tree` reads rule text into a tree when every part of it is a row
(a field of the entity compared with literal values) or a group of rows
joined by ``and`` / ``or``; otherwise it answers ``None`` and the reason.
:func:`to_text` writes a tree as canonical rule text: strings quoted and
escaped, names in backticks when they are not plain words, nested groups in
parentheses. Reading the canonical text gives the same tree back.

Values by field type: text and enum values are strings; numbers are ints or
decimal strings (``"12.50"``, exact); dates ``"2025-03-01"``; datetimes
``"2025-03-01T09:30:00"``; yes/no ``true``/``false``; ``in`` / ``not in`` take a
list, ``between`` a pair, the relative date operators a whole number of days,
``is null`` and the like no value.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from engine.errors import RuleSyntaxError
from engine.rules import ast
from engine.rules.catalog import Catalog, FieldInfo
from engine.rules.check import Checker
from engine.rules.parse import parse_expression

#: Operators with no value.
UNARY = ("is null", "is not null", "is empty", "is not empty")
#: Relative date operators: a whole number of days.
RELATIVE = ("in last days", "in next days", "more than days ago")
COMPARE = ("==", "!=", "<", "<=", ">", ">=")
BINARY_WORDS = ("contains", "starts with", "ends with")

#: Operators offered per kind of field, in menu order.
OPERATORS: dict[str, tuple[str, ...]] = {
    "string": (
        "==",
        "!=",
        "contains",
        "starts with",
        "ends with",
        "in",
        "not in",
        "is empty",
        "is not empty",
    ),
    "enum": ("==", "!=", "in", "not in", "is null", "is not null"),
    "user": ("==", "!=", "in", "not in", "is null", "is not null"),
    "number": (*COMPARE, "between", "in", "not in", "is null", "is not null"),
    "date": (*COMPARE, "between", *RELATIVE, "is null", "is not null"),
    "datetime": ("<", "<=", ">", ">=", "between", *RELATIVE, "is null", "is not null"),
    "boolean": ("==", "!=", "is null", "is not null"),
    "list": ("contains", "is empty", "is not empty"),
    # A reference is compared by its fields (``account.industry``) in the text editor.
    "record": ("is null", "is not null"),
}

#: Words that are keywords where a name may stand; such a field is written in backticks.
KEYWORDS = frozenset({"not", "if", "null", "true", "false", "and", "or", "in", "then", "else"})
_PLAIN = re.compile(r"(?![0-9])\w+\Z")
_NUMBER = re.compile(r"-?[0-9]+(?:\.[0-9]+)?\Z")
MAX_DAYS = 100_000


class ConditionError(ValueError):
    """A tree the builder cannot write: an unknown field, an operator its type does not
    take, a value of the wrong kind. ``field`` names the row's field when known."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class _Field:
    key: str
    kind: str
    options: tuple[str, ...] | None


def field_kind(info: FieldInfo) -> str:
    """The builder's kind of a field: a key of :data:`OPERATORS` (or ``""``: not offered)."""
    t = info.type
    if t.kind == "string":
        if t.field_type == "user" or t.entity is not None:
            return "user"
        return "enum" if t.options else "string"
    if t.kind == "list":
        return "list"
    if t.kind in ("number", "date", "datetime", "boolean", "record"):
        return t.kind
    return ""


def fields(
    catalog: Catalog, entity: str, hidden: frozenset[str] | set[str] = frozenset()
) -> dict[str, _Field]:
    """Key → kind and options of every field a condition on ``entity`` may name."""
    out = {}
    for key, info in catalog.fields(entity).items():
        if key in hidden:
            continue
        kind = field_kind(info)
        if not kind:
            continue
        options = info.type.options if kind == "enum" else None
        if kind == "list" and info.type.item is not None:
            options = info.type.item.options
        out[key] = _Field(key, kind, options)
    return out


def empty() -> dict[str, Any]:
    return {"type": "group", "match": "all", "items": []}


# ---------------------------------------------------------------- text → tree


class _NotRepresentable(Exception):
    pass


def to_tree(
    text: str,
    entity: str,
    catalog: Catalog,
    hidden: frozenset[str] | set[str] = frozenset(),
) -> tuple[dict[str, Any] | None, str | None]:
    """The builder tree of ``text`` and ``None``, or ``None`` and why the builder cannot show it.

    Text that does not parse gives ``None`` with the parser's message; type errors
    are the checker's business (see :func:`check`), a tree is still given when the
    shape fits, so the builder can show and fix a wrong value.
    """
    if not text.strip():
        return empty(), None
    try:
        node = parse_expression(text)
    except RuleSyntaxError as exc:
        return None, str(exc.errors[0]["message"]) if exc.errors else str(exc)
    known = fields(catalog, entity, hidden)
    try:
        tree = _node(node, known, catalog, entity)
    except _NotRepresentable as exc:
        return None, str(exc)
    if tree["type"] == "row":
        tree = {"type": "group", "match": "all", "items": [tree]}
    return tree, None


def _node(
    node: ast.Expr, known: dict[str, _Field], catalog: Catalog, entity: str
) -> dict[str, Any]:
    if isinstance(node, ast.BoolOp):
        return {
            "type": "group",
            "match": "all" if node.op == "and" else "any",
            "items": [_node(n, known, catalog, entity) for n in node.operands],
        }
    return _row(node, known, catalog, entity)


def _field_of(node: ast.Expr, known: dict[str, _Field], catalog: Catalog, entity: str) -> _Field:
    if isinstance(node, ast.Name):
        info = catalog.lookup(entity, node.name, quoted=node.quoted)
        if info is not None and info.key in known:
            return known[info.key]
        raise _NotRepresentable(f"There is no field called '{node.name}' the builder can offer.")
    raise _NotRepresentable(
        "The builder compares a field of the record with values; "
        f"{_describe(node)} on the left needs the text editor."
    )


def _describe(node: ast.Expr) -> str:
    if isinstance(node, ast.Call):
        return f"the function {node.func}()"
    if isinstance(node, ast.Binary) and node.op in "+-*/%":
        return "arithmetic"
    if isinstance(node, ast.Attr):
        return "a path through a reference"
    if isinstance(node, ast.Literal):
        return "a value"
    return "this expression"


def _row(node: ast.Expr, known: dict[str, _Field], catalog: Catalog, entity: str) -> dict[str, Any]:
    if isinstance(node, ast.IsTest):
        f = _field_of(node.operand, known, catalog, entity)
        op = "is " + ("not " if node.negated else "") + node.what
        return {"type": "row", "field": f.key, "op": op, "value": None}
    if isinstance(node, ast.Between):
        f = _field_of(node.value, known, catalog, entity)
        relative = _relative(node, f)
        if relative is not None:
            return relative
        return {
            "type": "row",
            "field": f.key,
            "op": "between",
            "value": [_value(node.low, f), _value(node.high, f)],
        }
    if isinstance(node, ast.Binary) and node.op in (*COMPARE, "in", "not in", *BINARY_WORDS):
        f = _field_of(node.left, known, catalog, entity)
        if node.op == "<" and f.kind in ("date", "datetime"):
            days = _days_from_now(node.right, f, -1)
            if days is not None:
                return {"type": "row", "field": f.key, "op": "more than days ago", "value": days}
        if node.op in ("in", "not in"):
            if not isinstance(node.right, ast.ListLiteral):
                raise _NotRepresentable(f"'{node.op}' takes a list of values in the builder.")
            value: Any = [_value(item, f) for item in node.right.items]
            if f.kind in ("string", "user") and any("," in v or "\n" in v for v in value):
                # The builder types such a list as one line of values separated by commas.
                raise _NotRepresentable(
                    "A list value with a comma or a line break needs the text editor."
                )
        elif f.kind == "list" and node.op == "contains":
            value = _value(node.right, _Field(f.key, "enum" if f.options else "string", f.options))
        else:
            value = _value(node.right, f)
        return {"type": "row", "field": f.key, "op": node.op, "value": value}
    if isinstance(node, ast.BoolOp):  # pragma: no cover - handled by _node
        raise _NotRepresentable("nested groups")
    if isinstance(node, ast.Unary) and node.op == "not":
        raise _NotRepresentable("The builder has no 'not'; write the opposite comparison.")
    if isinstance(node, ast.If):
        raise _NotRepresentable("The builder has no 'if ... then ... else'.")
    if isinstance(node, ast.Changed):
        raise _NotRepresentable("'changed' looks at an update; the builder shows stored values.")
    if isinstance(node, ast.Binary) and node.op == "matches":
        raise _NotRepresentable("Regular expressions ('matches') need the text editor.")
    raise _NotRepresentable(
        f"The builder shows comparisons of a field with values; {_describe(node)} needs the text editor."
    )


def _value(node: ast.Expr, f: _Field) -> Any:
    """A literal as the tree holds it (see the module's docstring)."""
    if isinstance(node, ast.Unary) and node.op == "-" and isinstance(node.operand, ast.Literal):
        inner = _value(node.operand, f)
        if f.kind == "number" and not isinstance(inner, bool):
            return -inner if isinstance(inner, int) else _decimal_text(-Decimal(inner))
    if not isinstance(node, ast.Literal):
        raise _NotRepresentable(
            f"The builder compares with values; {_describe(node)} on the right needs the text editor."
        )
    v = node.value
    if node.kind == "null":
        raise _NotRepresentable("Compare with null using 'is null' or 'is not null'.")
    if node.kind == "number":
        return v if isinstance(v, int) else _decimal_text(v)
    if node.kind == "date":
        return v.isoformat()
    if node.kind == "datetime":
        if v.tzinfo is not None or v.microsecond:
            # The builder's date picker has local times to the second.
            raise _NotRepresentable(
                "A time with an offset or fractions of a second needs the text editor."
            )
        return v.isoformat()
    if node.kind == "duration":
        raise _NotRepresentable("A duration as a value needs the text editor.")
    return v


def _decimal_text(d: Decimal) -> str:
    text = format(d, "f")
    return text


def _call(node: ast.Expr, name: str) -> bool:
    return isinstance(node, ast.Call) and node.func == name and not node.args


def _anchor(f: _Field) -> str:
    return "today" if f.kind == "date" else "now"


def _days_from_now(node: ast.Expr, f: _Field, sign: int) -> int | None:
    """N when ``node`` is ``today() - Nd`` (sign -1) or ``today() + Nd`` (sign +1)."""
    if not (isinstance(node, ast.Binary) and node.op == ("-" if sign < 0 else "+")):
        return None
    if not _call(node.left, _anchor(f)):
        return None
    d = node.right
    if not (isinstance(d, ast.Literal) and d.kind == "duration"):
        return None
    td: dt.timedelta = d.value
    if td.seconds or td.microseconds or td.days <= 0:
        return None
    return td.days


def _relative(node: ast.Between, f: _Field) -> dict[str, Any] | None:
    if f.kind not in ("date", "datetime"):
        return None
    anchor = _anchor(f)
    if _call(node.high, anchor):
        days = _days_from_now(node.low, f, -1)
        if days is not None:
            return {"type": "row", "field": f.key, "op": "in last days", "value": days}
    if _call(node.low, anchor):
        days = _days_from_now(node.high, f, +1)
        if days is not None:
            return {"type": "row", "field": f.key, "op": "in next days", "value": days}
    return None


# ---------------------------------------------------------------- tree → text


def quote(value: str) -> str:
    """A string as a rule-language literal: double quotes, ``\\`` ``"`` and line breaks escaped."""
    escaped = (
        value.replace("\\", "\\\\")
        .replace('"', '\\"')
        .replace("\n", "\\n")
        .replace("\r", "\\r")
        .replace("\t", "\\t")
    )
    return '"' + escaped + '"'


def name(key: str) -> str:
    """A field key as a name: plain when it is a word, else in backticks."""
    if _PLAIN.match(key) and key not in KEYWORDS:
        return key
    return "`" + key + "`"


def to_text(
    tree: dict[str, Any],
    entity: str,
    catalog: Catalog,
    hidden: frozenset[str] | set[str] = frozenset(),
) -> str:
    """Canonical rule text of ``tree``; raises :class:`ConditionError` for a tree that
    does not fit the entity (so what comes out always parses and type-checks)."""
    known = fields(catalog, entity, hidden)
    return _text(tree, known, top=True, depth=0)


def _text(node: Any, known: dict[str, _Field], *, top: bool, depth: int) -> str:
    if not isinstance(node, dict):
        raise ConditionError("A condition is a group or a row.")
    if depth > 30:
        raise ConditionError("The groups are nested too deeply.")
    if node.get("type") == "group":
        match = node.get("match", "all")
        if match not in ("all", "any"):
            raise ConditionError(f"A group matches 'all' or 'any', not {match!r}.")
        items = node.get("items") or []
        if not isinstance(items, list):
            raise ConditionError("A group's items are a list.")
        texts = [(i, _text(i, known, top=False, depth=depth + 1)) for i in items]
        parts = [p for _i, p in texts if p]
        if not parts:
            return ""
        if len(parts) == 1:
            # A group of one is its item: written as if it stood in this group's place.
            only = next(i for i, p in texts if p)
            return _text(only, known, top=top, depth=depth + 1)
        joined = (" and " if match == "all" else " or ").join(parts)
        return joined if top else "(" + joined + ")"
    if node.get("type") == "row":
        return _row_text(node, known)
    raise ConditionError("A condition is a group or a row.")


def _row_text(row: dict[str, Any], known: dict[str, _Field]) -> str:
    key = row.get("field")
    if not isinstance(key, str) or key not in known:
        raise ConditionError(f"There is no field called {key!r} to filter on.", field=None)
    f = known[key]
    op = row.get("op")
    if op not in OPERATORS[f.kind]:
        raise ConditionError(f"The field '{key}' does not take the operator {op!r}.", field=key)
    left = name(key)
    value = row.get("value")
    if op in UNARY:
        return f"{left} {op}"
    if op in RELATIVE:
        days = _whole(value, key)
        anchor = _anchor(f) + "()"
        if op == "in last days":
            return f"{left} between {anchor} - {days}d and {anchor}"
        if op == "in next days":
            return f"{left} between {anchor} and {anchor} + {days}d"
        return f"{left} < {anchor} - {days}d"
    if op in ("in", "not in"):
        if not isinstance(value, list) or not value:
            raise ConditionError(f"'{op}' takes a list of one or more values.", field=key)
        return f"{left} {op} [" + ", ".join(_literal(v, f) for v in value) + "]"
    if op == "between":
        if not isinstance(value, list) or len(value) != 2:
            raise ConditionError("'between' takes two values.", field=key)
        return f"{left} between {_literal(value[0], f)} and {_literal(value[1], f)}"
    if f.kind == "list":
        item = _Field(f.key, "enum" if f.options else "string", f.options)
        return f"{left} {op} {_literal(value, item)}"
    return f"{left} {op} {_literal(value, f)}"


def _whole(value: Any, key: str) -> int:
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= MAX_DAYS:
        raise ConditionError(f"Give a whole number of days from 1 to {MAX_DAYS:,}.", field=key)
    return value


def _literal(value: Any, f: _Field) -> str:
    key = f.key
    if value is None:
        raise ConditionError("Give a value (or use 'is null').", field=key)
    kind = f.kind
    if kind == "boolean":
        if not isinstance(value, bool):
            raise ConditionError("A yes/no field takes true or false.", field=key)
        return "true" if value else "false"
    if kind in ("number", "record"):
        if isinstance(value, bool):
            raise ConditionError("Give a number.", field=key)
        if isinstance(value, int):
            return str(value)
        if isinstance(value, float) and value == value and abs(value) != float("inf"):
            value = repr(value)
        if isinstance(value, (str, Decimal)):
            text = str(value).strip().replace(",", "")
            if _NUMBER.match(text):
                return text
        raise ConditionError(f"{value!r} is not a number.", field=key)
    if kind == "date":
        try:
            return "@" + dt.date.fromisoformat(str(value)).isoformat()
        except ValueError:
            raise ConditionError(f"{value!r} is not a date like 2025-03-01.", field=key) from None
    if kind == "datetime":
        try:
            parsed = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            raise ConditionError(
                f"{value!r} is not a date and time like 2025-03-01T09:30.", field=key
            ) from None
        if parsed.tzinfo is not None or parsed.microsecond:
            raise ConditionError(
                "The builder takes a local date and time to the second, like 2025-03-01T09:30.",
                field=key,
            )
        return "@" + parsed.isoformat()
    if not isinstance(value, str):
        raise ConditionError("Give a text value.", field=key)
    if kind == "enum" and f.options is not None and value not in f.options:
        raise ConditionError(
            f"{value!r} is not one of the options of '{key}': " + ", ".join(f.options) + ".",
            field=key,
        )
    return quote(value)


# ---------------------------------------------------------------- checking and menus


def check(text: str, entity: str, catalog: Catalog) -> list[dict[str, Any]]:
    """The checker's located messages for ``text`` as a condition on ``entity``."""
    if not text.strip():
        return []
    try:
        node = parse_expression(text)
    except RuleSyntaxError as exc:
        return [
            {
                "line": e.get("line"),
                "column": e.get("column"),
                "end": e.get("end"),
                "message": e.get("message"),
                "severity": "error",
            }
            for e in exc.errors
        ]
    return Checker(catalog).check_expression(node, entity, want="boolean").diagnostics


def hidden_names(
    text: str, entity: str, catalog: Catalog, hidden: frozenset[str] | set[str]
) -> list[str]:
    """The fields in ``hidden`` that ``text`` names (by key, or by label in backticks)."""
    if not hidden:
        return []
    try:
        node = parse_expression(text)
    except RuleSyntaxError:
        return []
    out: list[str] = []
    for n in ast.walk(node):
        if isinstance(n, ast.Name):
            info = catalog.lookup(entity, n.name, quoted=n.quoted)
            key = info.key if info is not None else n.name
            if key in hidden and key not in out:
                out.append(key)
    return out


def operators(
    catalog: Catalog, entity: str, hidden: frozenset[str] | set[str] = frozenset()
) -> dict[str, dict[str, Any]]:
    """Key → ``{kind, operators, options}`` for every field a builder may offer."""
    return {
        key: {
            "kind": f.kind,
            "operators": list(OPERATORS[f.kind]),
            "options": list(f.options or ()),
        }
        for key, f in fields(catalog, entity, hidden).items()
    }


__all__ = [
    "OPERATORS",
    "RELATIVE",
    "UNARY",
    "ConditionError",
    "check",
    "empty",
    "field_kind",
    "fields",
    "hidden_names",
    "name",
    "operators",
    "quote",
    "to_text",
    "to_tree",
]
