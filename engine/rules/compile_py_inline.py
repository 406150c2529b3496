"""Built-in functions and number arithmetic written inline into the generated Python.

A call through the registry costs a wrapper that checks for nulls, makes each
argument a number, reads the clock and converts the zone on every call. When
the checker has typed the arguments, most of that is known before the rule
runs, so the common functions (``days_since``, two-argument ``min`` and
``max``) and ``+ - *`` on numbers are spelled out in the generated source.
They keep the registry's semantics exactly (RULES_DSL.md, tests/rules/
semantics.yaml): null in gives null out, a result outside the calendar is
null, never an error. Anything not typed well enough still goes through the
registry (:meth:`PyCompiler._c_Call`).

"Clean" numbers are what inlining relies on (``compile_py_numbers.clean``).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from engine.rules import ast, compile_py_special
from engine.rules.compile_py_numbers import ARITHMETIC, clean
from engine.rules.functions import is_builtin

if TYPE_CHECKING:
    from engine.rules.compile_py_port import CompilerPort

#: What a null-safe registry function turns into null (see functions._null_safe).
ERRORS = (OverflowError, ValueError, ArithmeticError)

#: Arithmetic written inline when both sides are numbers. ``+`` in the runtime also
#: catches OverflowError, which int and Decimal addition never raise.


def _number(c: CompilerPort, node: ast.Expr) -> str:
    """Python for a number argument, made a number as the registry would (``as_number``)."""
    source = c.expr(node)
    return source if clean(c, node) else f"_as_number({source})"


def _null_guard(c: CompilerPort, tests: list[tuple[ast.Expr, str]]) -> str:
    """``a is None or b is None`` for the operands that may be null (number literals never
    are, nor what the special body's guard proved: compile_py_special.never_null)."""
    return " or ".join(
        f"{bound} is None"
        for node, bound in tests
        if not (isinstance(node, ast.Literal) and node.kind == "number")
        and not compile_py_special.never_null(c, node)
    )


def binary(c: CompilerPort, node: ast.Binary) -> str | None:
    """``a + b``, ``a - b``, ``a * b`` on two numbers: null if either is null."""
    op = node.op if node.op in ARITHMETIC else None
    if op is None:
        return None
    left, right = node.left, node.right
    if c.checked.type_of(left).kind != "number" or c.checked.type_of(right).kind != "number":
        return None
    bl, vl = c._bind(c.expr(left))
    br, vr = c._bind(c.expr(right))
    guard = _null_guard(c, [(left, bl), (right, br)])
    # the walrus of each operand runs in the guard, before the operation reads it; with
    # no guard, in the operation itself
    return f"(None if {guard} else {vl} {op} {vr})" if guard else f"({bl} {op} {br})"


def call(c: CompilerPort, node: ast.Call) -> str | None:
    """Inline Python for a built-in call, or None to go through the registry."""
    if not is_builtin(node.func):
        return None
    if node.func in ("min", "max") and len(node.args) == 2:
        return _min_max(c, node)
    if node.func == "days_since" and len(node.args) == 1:
        return _days_since(c, node.args[0])
    return None


def _min_max(c: CompilerPort, node: ast.Call) -> str | None:
    a, b = node.args
    if c.checked.type_of(a).kind != "number" or c.checked.type_of(b).kind != "number":
        return None
    ba, va = c._bind(_number(c, a))
    bb, vb = c._bind(_number(c, b))
    wins = "<" if node.func == "min" else ">"
    guard = _null_guard(c, [(a, ba), (b, bb)])
    if not guard:  # each operand's walrus runs in the test, a first: b wins when a loses
        loses = ">" if wins == "<" else "<"
        return f"({vb} if {ba} {loses} {bb} else {va})"
    pick = f"({vb} if {vb} {wins} {va} else {va})"
    return f"(None if {guard} else {pick})"


def _context_local(c: CompilerPort, name: str, source: str) -> str:
    """A value of the context read once at the top of the rule set's function."""
    assert c.hoist is not None
    local = c.hoist.get(("@ctx", name))
    if local is None:
        local = c.hoist[("@ctx", name)] = c.hoist_local()
        c.hoisted.append(f"{local} = {source}")
        c.context_lines.add(c.hoisted[-1])
    return local


def _days_since(c: CompilerPort, arg: ast.Expr) -> str | None:
    """``days_since(field)``: today (read once per call) minus the field's date in the
    platform's zone, computed once per call into a local, null when out of the calendar.

    Only for a record field of a rule set whose reads are hoisted (the value is then a
    local holding a date, or an aware datetime, or null); anything else uses the registry.
    """
    kind = c.checked.type_of(arg).kind
    if c.hoist is None or kind not in ("date", "datetime") or not isinstance(arg, ast.Name):
        return None
    value = c.expr(arg)
    if not value.isidentifier():
        return None
    key = ("@days_since", value)
    local = c.hoist.get(key)
    if local is not None:
        return local
    today = _context_local(c, "today", "ctx._today or ctx.today()")
    known = compile_py_special.non_null(c, value)  # a date, or an aware datetime
    if kind == "date":
        day = value
    else:
        tz = _context_local(c, "tz", "ctx.tz")
        day = f"({value}.astimezone({tz}) if {value}.tzinfo is not None else {value}).date()"
        if known:
            day = f"{value}.astimezone({tz}).date()"
    local = c.hoist[key] = c.hoist_local()
    if known:
        c.hoisted += [
            "try:",
            f"    {local} = ({today} - {day}).days",
            "except _ERRS:",
            f"    {local} = None",
        ]
        return local
    c.hoisted += [
        "try:",
        f"    {local} = None if {value} is None else ({today} - {day}).days",
        "except _ERRS:",
        f"    {local} = None",
    ]
    return local


def typed_read(c: CompilerPort, kind: str, read: str) -> str | None:
    """A date or datetime field read without a call when it already holds the type."""
    v = c._temp()
    if kind == "datetime":
        datetime = c.const(dt.datetime)
        return (
            f"({v} if _type({v} := {read}) is {datetime} and {v}.tzinfo is not None "
            f"else _as_datetime({v}, ctx))"
        )
    if kind == "date":
        return f"({v} if _type({v} := {read}) is {c.const(dt.date)} else _as_date({v}, ctx))"
    return None


__all__ = ["ERRORS", "binary", "call", "typed_read"]
