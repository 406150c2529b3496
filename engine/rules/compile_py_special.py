"""The specialised body of a rule set: the fast body for the record types the checker proved.

The general fast body must take any record: a field may be missing, null, a
float from JSON, a naive datetime or text where a number was declared, so
each read goes through ``dict.get`` and a coercion, and each test carries its
own null check. Stored records are not like that: the record validator gives
an integer field an ``int``, a datetime field an aware ``datetime``, and every
column is present. For those, compile_rules writes a second body that

- reads each field with a subscript (``r[key]``), all before the first rule;
- requires, in one guard, that each field whose coercion or null test it
  leaves out holds exactly the class that makes them the identity (a number
  field an ``int``, or a ``Decimal`` for a decimal field; a date field a
  ``date``; a datetime field an aware ``datetime``; a text field that
  ``contains`` folds a ``str``);
- then leaves out those coercions and null tests (:attr:`PyCompiler.known`).

A record that is not a plain dict, lacks a key (``KeyError``) or fails the
guard runs the general body, so the answers never change; the special body
only ever runs where it is the general body with identities removed.
tests/rules/test_rules_special.py holds the two bodies to the same answers.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING

from engine.rules import ast
from engine.rules.compile_py_numbers import ARITHMETIC, clean

if TYPE_CHECKING:
    from engine.rules.compile_py_port import CompilerPort

#: The class a number field holds when as_number is the identity on it, by value kind.
_NUMBER_CLASSES = {"decimal": Decimal}


def _number_class(field_type: str | None) -> type:
    """``Decimal`` for a decimal-valued field type (decimal, currency, percent), else ``int``."""
    if field_type is None:
        return int
    from engine.forms.fieldtypes import field_type as registered

    try:
        kind = registered(field_type).value_kind
    except KeyError:
        return int
    return _NUMBER_CLASSES.get(kind, int)


def read(c: CompilerPort, node: ast.Name, local: str, key: str, kind: str) -> None:
    """Read field ``key`` into ``local`` for the special body: a subscript before the guard,
    a guard when ``kind``'s coercion is left out, else the general coercion on the raw value."""
    field_type = c.checked.type_of(node).field_type
    raw = f"{c.record_subscript}[{c.const(key)}]"
    c.special_keys.append((local, key))  # a one-pass chain renames or substitutes the read
    if kind == "number":
        c.special_reads.append(f"{local} = {raw}")
        cls = _number_class(field_type)
        require(c, local, f"_type({local}) is {c.const(cls)}")
        if cls is int:
            c.integral.add(local)
        return
    if kind == "datetime":
        c.special_reads.append(f"{local} = {raw}")
        datetime = c.const(dt.datetime)
        require(c, local, f"_type({local}) is {datetime} and {local}.tzinfo is not None")
        return
    if kind == "date":
        c.special_reads.append(f"{local} = {raw}")
        require(c, local, f"_type({local}) is {c.const(dt.date)}")
        return
    coerced = c._coerce(node, local)
    if coerced == local:  # text, yes/no and the rest: read as they are, null allowed
        c.special_reads.append(f"{local} = {raw}")
        c.raw_locals.add(local)
        return
    temp = c._temp()  # a duration: the general coercion, after the read
    c.special_keys[-1] = (temp, key)
    c.special_reads.append(f"{temp} = {raw}")
    c.hoisted.append(f"{local} = {c._coerce(node, temp)}")


def require(c: CompilerPort, local: str, test: str) -> None:
    """Add ``test`` on ``local`` to the guard: from here on the special body may take
    ``local`` as never null."""
    assert c.known is not None
    if local not in c.known:
        c.known[local] = test
        c.guards.append(test)


def as_text(c: CompilerPort, local: str) -> bool:
    """Make ``local`` (a raw text field of the special body) known to be a ``str``, so a
    ``contains`` folds it without a class test; False if it is not such a local."""
    if c.known is None:
        return False
    if local in c.known:
        return True
    if local not in c.raw_locals:
        return False
    require(c, local, f"_type({local}) is {c.const(str)}")
    return True


def non_null(c: CompilerPort, source: str) -> bool:
    """Whether the Python ``source`` is a local the guard proved never null."""
    return c.known is not None and source in c.known


def _arithmetic_of(c: CompilerPort, node: ast.Expr, leaf: Callable[[ast.Expr], bool]) -> bool:
    """Whether ``node`` is inline ``+ - *``, ``min`` or ``max`` (compiled without null
    tests) over leaves that ``leaf`` accepts, or such a leaf itself."""
    if isinstance(node, ast.Binary):
        return (
            node.op in ARITHMETIC
            and clean(c, node)
            and _arithmetic_of(c, node.left, leaf)
            and _arithmetic_of(c, node.right, leaf)
        )
    if isinstance(node, ast.Call) and node.func in ("min", "max") and len(node.args) == 2:
        return clean(c, node) and all(_arithmetic_of(c, a, leaf) for a in node.args)
    return leaf(node)


def never_null(c: CompilerPort, node: ast.Expr) -> bool:
    """Whether ``node``'s value can't be null in the special body: a number literal, a
    guarded field, or inline arithmetic, ``min`` or ``max`` of such values."""
    if c.known is None:
        return False

    def leaf(node: ast.Expr) -> bool:
        if isinstance(node, ast.Literal):
            return node.kind == "number"
        if isinstance(node, ast.Name):
            return c.checked.resolved[id(node)].kind == "field" and non_null(c, c.expr(node))
        return False

    return _arithmetic_of(c, node, leaf)


def integral(c: CompilerPort, node: ast.Expr) -> bool:
    """Whether ``node``'s value is an ``int`` in the special body: an int literal, a field
    the guard proved an int, or inline ``+ - *``, ``min`` or ``max`` of such values (call
    after the body is compiled: a field's local is then known)."""
    if c.known is None:
        return False

    def leaf(node: ast.Expr) -> bool:
        if isinstance(node, ast.Literal):
            return node.kind == "number" and type(node.value) is int
        if isinstance(node, ast.Name):
            return c.checked.resolved[id(node)].kind == "field" and c.expr(node) in c.integral
        return False

    return _arithmetic_of(c, node, leaf)


def whole_total(c: CompilerPort, rs: ast.Scoring) -> bool:
    """Whether the special body of scoring ``rs`` always gives an ``int``: no caps, every
    constant worth a whole number, every computed worth an :func:`integral` one (the body
    adds those with no null test: compile_rules._scoring). A one-pass chain then needs no
    guard on the score a later rule set reads."""
    if rs.cap is not None:
        return False
    for rule in rs.items:
        if isinstance(rule, ast.ScoreGroup):
            return False
        points = rule.points
        if isinstance(points, ast.Literal) and points.kind == "number":
            from engine.rules.runtime import as_number

            if type(as_number(points.value)) is not int:
                return False
        elif rule.when is not None or not (never_null(c, points) and integral(c, points)):
            return False
    return True


__all__ = ["as_text", "integral", "never_null", "non_null", "read", "require", "whole_total"]
