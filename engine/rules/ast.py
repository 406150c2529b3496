"""The typed tree of the rule language: what parse.py builds and every later stage reads.

No Lark type crosses this line. Nodes are frozen dataclasses; each carries a
source span (``line``, ``column``, ``end_line``, ``end_column``, 1-based,
end exclusive) so the checker and the runtime can point at the admin's text.
Spans do not take part in equality, so two trees that mean the same compare
equal wherever they were written.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, fields
from typing import Any


@dataclass(frozen=True)
class Node:
    """Base of every node: a span in the source."""

    line: int = field(default=0, kw_only=True, compare=False, repr=False)
    column: int = field(default=0, kw_only=True, compare=False, repr=False)
    end_line: int = field(default=0, kw_only=True, compare=False, repr=False)
    end_column: int = field(default=0, kw_only=True, compare=False, repr=False)

    def children(self) -> Iterator[Node]:
        """Direct child nodes, in source order (used by walkers; no recursion here)."""
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, Node):
                yield value
            elif isinstance(value, tuple):
                for item in value:
                    if isinstance(item, Node):
                        yield item
                    elif isinstance(item, tuple):
                        yield from (i for i in item if isinstance(i, Node))

    def span(self) -> dict[str, int]:
        return {
            "line": self.line,
            "column": self.column,
            "end_line": self.end_line,
            "end_column": self.end_column,
        }


def walk(node: Node) -> Iterator[Node]:
    """Every node under ``node`` (itself included), depth first, without recursion."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(reversed(list(current.children())))


# ---------------------------------------------------------------- expressions


class Expr(Node):
    """Marker base for expression nodes."""


@dataclass(frozen=True)
class Literal(Expr):
    """``kind`` is one of null, boolean, number, string, date, datetime, duration."""

    value: Any
    kind: str


@dataclass(frozen=True)
class ListLiteral(Expr):
    items: tuple[Expr, ...]


@dataclass(frozen=True)
class Name(Expr):
    """A bare name: a field, a root (``old``, ``user``, ``it``) or an event word."""

    name: str
    quoted: bool = False


@dataclass(frozen=True)
class Attr(Expr):
    """``obj.name``: a step along a path through references, users or ``old``."""

    obj: Expr
    name: str
    quoted: bool = False


@dataclass(frozen=True)
class Index(Expr):
    obj: Expr
    index: Expr


@dataclass(frozen=True)
class Call(Expr):
    func: str
    args: tuple[Expr, ...]


@dataclass(frozen=True)
class Unary(Expr):
    """``op`` is ``-`` or ``not``."""

    op: str
    operand: Expr


@dataclass(frozen=True)
class Binary(Expr):
    """Arithmetic (``+ - * / %``), comparison (``== != < <= > >=``), ``in``,
    ``not in``, ``contains``, ``starts with``, ``ends with``, ``matches``."""

    op: str
    left: Expr
    right: Expr


@dataclass(frozen=True)
class BoolOp(Expr):
    """``and`` / ``or`` over two or more operands (kept flat: long chains stay shallow)."""

    op: str
    operands: tuple[Expr, ...]


@dataclass(frozen=True)
class Between(Expr):
    value: Expr
    low: Expr
    high: Expr


@dataclass(frozen=True)
class IsTest(Expr):
    """``x is [not] null`` / ``x is [not] empty``; ``what`` is null or empty."""

    operand: Expr
    what: str
    negated: bool = False


@dataclass(frozen=True)
class Changed(Expr):
    """``x changed``, ``x changed to B``, ``x changed from A to B``."""

    operand: Expr
    to: Expr | None = None
    from_: Expr | None = None


@dataclass(frozen=True)
class If(Expr):
    cond: Expr
    then: Expr
    else_: Expr


# ---------------------------------------------------------------- actions


class Action(Node):
    """Marker base for action nodes."""


@dataclass(frozen=True)
class SetAction(Action):
    target: str
    value: Expr


@dataclass(frozen=True)
class AssignAction(Action):
    """``kind`` is user, team, queue or field; ``strategy`` is round_robin, least_loaded or None."""

    kind: str
    target: Expr
    strategy: str | None = None


@dataclass(frozen=True)
class TaskAction(Action):
    title: str
    assignee: Expr
    due: Expr | None = None


@dataclass(frozen=True)
class NotifyAction(Action):
    recipient: Expr
    message: str


@dataclass(frozen=True)
class SimpleAction(Action):
    """``start flow "x"``, ``add tag "x"``, ``call webhook "x"``: ``kind`` is flow, tag or webhook."""

    kind: str
    name: str


@dataclass(frozen=True)
class CustomAction(Action):
    """``do "name" with key = expr, ...``: an action type a developer registered."""

    name: str
    args: tuple[tuple[str, Expr], ...] = ()


# ---------------------------------------------------------------- rule sets


@dataclass(frozen=True)
class ScoreRule(Node):
    sign: int
    points: Expr
    label: str
    when: Expr | None = None


@dataclass(frozen=True)
class ScoreGroup(Node):
    name: str
    cap: Any
    rules: tuple[ScoreRule, ...]


@dataclass(frozen=True)
class GradeRule(Node):
    """``when`` is None for the ``otherwise`` line."""

    output: Expr
    when: Expr | None = None


@dataclass(frozen=True)
class RouteRule(Node):
    label: str
    when: Expr | None
    action: Action


@dataclass(frozen=True)
class CheckRule(Node):
    severity: str
    message: str
    when: Expr
    field: str | None = None  # the field the message is shown at (``on FIELD``)


@dataclass(frozen=True)
class UnaryTest(Node):
    """One test in a decision-table cell; ``op`` is a comparison or ``range``."""

    op: str
    value: Expr
    high: Expr | None = None


@dataclass(frozen=True)
class Cell(Node):
    """A cell: ``any`` (``-``), or tests joined by "or", maybe negated with ``not(...)``."""

    tests: tuple[UnaryTest, ...]
    negated: bool = False
    any: bool = False


@dataclass(frozen=True)
class TableRow(Node):
    inputs: tuple[Cell, ...]
    outputs: tuple[Expr, ...]


class RuleSet(Node):
    """Marker base: a named block of a ``.rules`` file."""

    name: str
    entity: str


@dataclass(frozen=True)
class Scoring(RuleSet):
    name: str
    entity: str
    target: str
    cap: Any
    items: tuple[ScoreRule | ScoreGroup, ...]


@dataclass(frozen=True)
class Grading(RuleSet):
    name: str
    entity: str
    source: str | None
    target: str
    rules: tuple[GradeRule, ...]


@dataclass(frozen=True)
class Routing(RuleSet):
    name: str
    entity: str
    rules: tuple[RouteRule, ...]


@dataclass(frozen=True)
class Trigger(RuleSet):
    name: str
    entity: str
    when: Expr | None
    actions: tuple[Action, ...]


@dataclass(frozen=True)
class Schedule(RuleSet):
    name: str
    entity: str
    every: Literal
    where: Expr | None
    actions: tuple[Action, ...]


@dataclass(frozen=True)
class Validation(RuleSet):
    name: str
    entity: str
    rules: tuple[CheckRule, ...]


@dataclass(frozen=True)
class DecisionTable(RuleSet):
    name: str
    entity: str
    policy: str
    targets: tuple[str, ...]
    inputs: tuple[Expr, ...]
    output_columns: tuple[str, ...]
    rows: tuple[TableRow, ...]


@dataclass(frozen=True)
class RecordLiteral(Node):
    entity: str
    values: tuple[tuple[str, Expr], ...]


@dataclass(frozen=True)
class Example(Node):
    """A ``test`` block: records given, conditions expected after every rule set ran."""

    label: str
    given: tuple[RecordLiteral, ...]
    expect: tuple[Expr, ...]


@dataclass(frozen=True)
class RuleFile(Node):
    rulesets: tuple[RuleSet, ...]
    examples: tuple[Example, ...]


__all__ = [
    "Action",
    "AssignAction",
    "Attr",
    "Between",
    "Binary",
    "BoolOp",
    "Call",
    "Cell",
    "Changed",
    "CheckRule",
    "CustomAction",
    "DecisionTable",
    "Example",
    "Expr",
    "GradeRule",
    "Grading",
    "If",
    "Index",
    "IsTest",
    "ListLiteral",
    "Literal",
    "Name",
    "Node",
    "NotifyAction",
    "RecordLiteral",
    "RouteRule",
    "Routing",
    "RuleFile",
    "RuleSet",
    "Schedule",
    "ScoreGroup",
    "ScoreRule",
    "Scoring",
    "SetAction",
    "SimpleAction",
    "TableRow",
    "TaskAction",
    "Trigger",
    "Unary",
    "UnaryTest",
    "Validation",
    "walk",
]
