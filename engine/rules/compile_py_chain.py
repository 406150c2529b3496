"""Tests of one number field against literals, written as the hand-written code does.

The general form of ``company_size >= 500`` in a decision is
``(v is not None and v >= 500)``: every rule tests the field for null again,
and every scoring rule is tried even when an earlier one already proved it
can't hold. When consecutive rules test one field (a local the reads were
hoisted into) against literal bounds, the fast body (compile_rules) writes
the null test once, around them all:

- scoring rules whose ranges the literals prove disjoint
  (``>= 500``, ``between 100 and 499``, ``< 10``) become an ``if``/``elif``
  chain: once one holds, no other can;
- first-match rules (grading, routing) need no proof: the first that holds
  ends the set, so they only share the null test.

Null never passes a comparison (RULES_DSL.md: null counts as false where a
decision is made), which is what the shared ``is not None`` gives. The traced
body keeps the general form; tests/rules/test_rules_chain.py holds both to
the same answers.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from engine.rules import ast

if TYPE_CHECKING:
    from engine.rules.compile_py import PyCompiler

_OPS = ("<", "<=", ">", ">=")


@dataclass(frozen=True)
class Range:
    """The numbers a test lets through; ``None`` bounds are open-ended."""

    low: Any = None
    low_in: bool = False
    high: Any = None
    high_in: bool = False

    def below(self, other: Range) -> bool:
        """Whether every number of ``self`` is less than every number of ``other``."""
        if self.high is None or other.low is None:
            return False
        return self.high < other.low or (
            self.high == other.low and not (self.high_in and other.low_in)
        )

    def disjoint(self, other: Range) -> bool:
        return self.below(other) or other.below(self)


@dataclass(frozen=True)
class Guarded:
    """A test of ``local`` (a hoisted field) that holds only when ``local`` is not null:
    ``test`` is the test without its null check; ``span`` the numbers it lets through,
    when the bounds are number literals."""

    local: str
    test: str
    span: Range | None
    #: the Python of a ``between``'s low and high bounds
    bounds: tuple[str, str] | None = None


def _number(node: ast.Expr) -> Any:
    """The value of a number literal that orders with int and Decimal, else None."""
    if isinstance(node, ast.Literal) and node.kind == "number":
        value = node.value
        if isinstance(value, int | Decimal) and not isinstance(value, bool):
            return value
    return None


def _span(op: str, value: Any) -> Range:
    return {
        "<": Range(high=value),
        "<=": Range(high=value, high_in=True),
        ">": Range(low=value),
        ">=": Range(low=value, low_in=True),
    }[op]


def guarded(c: PyCompiler, node: ast.Expr | None) -> Guarded | None:
    """``node`` as a null check and a plain test, when it is ``field OP literal`` or
    ``field between literal and literal`` where the field (or ``days_since(field)``) is a
    hoisted local; call after ``c.cond(node)``, which hoists the read."""
    if isinstance(node, ast.Binary) and node.op in _OPS:
        subject, bounds = node.left, (node.right,)
    elif isinstance(node, ast.Between):
        subject, bounds = node.value, (node.low, node.high)
    else:
        return None
    if c.hoist is None:
        return None
    if not all(isinstance(b, ast.Literal) and b.kind != "null" for b in bounds):
        return None
    local = c.expr(subject)
    if not local.isidentifier():
        return None
    values = [_number(b) for b in bounds]
    known = all(v is not None for v in values)
    if isinstance(node, ast.Between):
        low, high = (c.expr(b) for b in bounds)
        span = Range(values[0], True, values[1], True) if known else None
        return Guarded(local, f"{low} <= {local} <= {high}", span, (low, high))
    assert isinstance(node, ast.Binary)
    span = _span(node.op, values[0]) if known else None
    return Guarded(local, f"{local} {node.op} {c.expr(node.right)}", span)


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def narrowed(c: PyCompiler, test: Guarded, before: list[Range]) -> str:
    """``test``'s Python in an ``elif`` after the ranges ``before`` failed, without the bound
    of a ``between`` their failing implies, when the guard proved the local an ``int``.

    After ``>= 500`` failed an int is at most 499, so ``between 100 and 499`` only needs
    ``>= 100``. Only whole numbers allow this (a Decimal 499.5 is below 500 and above 499).
    """
    if test.local not in c.integral or test.bounds is None or test.span is None:
        return test.test
    low, high = test.span.low, test.span.high
    if not (_whole(low) and _whole(high)):
        return test.test
    top = bottom = False
    for r in before:
        if r.high is None and _whole(r.low):  # failed: local < r.low (or <=)
            top = top or (r.low - 1 if r.low_in else r.low) <= high
        if r.low is None and _whole(r.high):  # failed: local > r.high (or >=)
            bottom = bottom or (r.high + 1 if r.high_in else r.high) >= low
    lo, hi = test.bounds
    if top and bottom:
        return "True"
    if top:
        return f"{test.local} >= {lo}"
    if bottom:
        return f"{test.local} <= {hi}"
    return test.test


__all__ = ["Guarded", "Range", "guarded", "narrowed"]
