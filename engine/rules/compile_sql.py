"""Checked tree to SQLAlchemy Core: the same meaning as the Python compiler, run by the database.

Every value from the rule text becomes a bound parameter; field keys are
resolved by the checker to real columns, so no admin text reaches the SQL
string. Dialect differences live in :mod:`engine.rules.sql_dialect` as
``@compiles`` constructs; this module never asks which database it is on.

What the tree needs from outside is a table source: ``tables(entity)``
gives the :class:`EntityModel` and the SQLAlchemy table of an entity (or of
a child table, ``"lead.items"``). Paths through references become correlated
scalar subqueries; child-table aggregates become ``EXISTS`` / aggregate
subqueries with the three-valued meaning of the Python runtime.

Parts of an expression that read no field (``today()``, ``start_of(today(),
"month")``, ``user.team``) are computed once in Python and bound as values,
which keeps the SQL simple and the comparison sargable.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Boolean,
    Date,
    Integer,
    Numeric,
    String,
    and_,
    case,
    cast,
    exists,
    false,
    func,
    literal,
    not_,
    null,
    or_,
    select,
    true,
    type_coerce,
)
from sqlalchemy.sql.elements import ColumnElement

from engine.errors import RuleTypeError
from engine.forms.entity import SYSTEM_FIELDS, EntityModel
from engine.rules import ast
from engine.rules import sql_dialect as d
from engine.rules.check import Checked
from engine.rules.runtime import BLANKS, Context, compile_pattern
from engine.store.types import UTCDateTime

#: entity (or "entity.child") → (model, table) of its live version.
TableSource = Callable[[str], tuple[EntityModel, Any]]

_ARITH = ("+", "-", "*", "/", "%")
_COMPARE = {
    "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}
_FLIP = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==", "!=": "!="}
_SQL_TYPES = {
    "boolean": Boolean(),
    "string": String(),
    "date": Date(),
    "datetime": UTCDateTime(),
    "duration": Numeric(),
}
#: Regular-expression syntax RE2 and PostgreSQL read differently (or not at all).
_PATTERN_HAZARDS = ("\\b", "\\B", "\\A", "\\z", "\\p", "\\P", "\\Q", "\\C", "(?P", "(?<", "\\x{")


class SqlNotSupported(RuleTypeError):
    """The expression is valid but part of it cannot run inside the database."""


@dataclass(frozen=True)
class _Ref:
    """A record reached through a reference: its entity and its id expression."""

    entity: str
    id: Any


@dataclass(frozen=True)
class _Rows:
    """A child table of the record being filtered."""

    entity: str
    parent_id: Any


@dataclass(frozen=True)
class _Row:
    """One row of a child table inside an aggregate (``it``)."""

    entity: str
    table: Any


class SqlCompiler:
    """Compiles one checked expression over ``entity`` into a SQLAlchemy clause."""

    def __init__(
        self,
        checked: Checked,
        ctx: Context,
        tables: TableSource,
        *,
        user: dict[str, Any] | None = None,
        table: Any = None,
    ) -> None:
        self.checked = checked
        self.ctx = ctx
        self.tables = tables
        self.user = user
        self.entity = checked.entity or ""
        model, default = tables(self.entity)
        self.model = model
        self.table = table if table is not None else default
        self.rows: list[_Row] = []
        self.zone = literal(getattr(ctx.tz, "key", "UTC"), String())

    # ------------------------------------------------------------ entry points

    def condition(self) -> ColumnElement[bool]:
        """A WHERE clause: the expression, where null counts as false (SQL's own rule)."""
        node = self.checked.node
        if self.checked.type_of(node).kind not in ("boolean", "null", "any"):
            raise self._unsupported(node, "A filter must be a yes/no condition.")
        return self._bool(self.expr(node))  # type: ignore[arg-type]

    def value(self) -> ColumnElement[Any]:
        """The expression as a typed column (for agreement tests and computed columns)."""
        node = self.checked.node
        out = self._value(self.expr(node))  # type: ignore[arg-type]
        if isinstance(out, list):
            raise self._unsupported(node, "A list is not a single value a query can return.")
        kind = self.checked.type_of(node).kind
        sql_type = _SQL_TYPES.get(kind)
        return type_coerce(out, sql_type) if sql_type is not None else out

    # ------------------------------------------------------------ helpers

    def _unsupported(self, node: ast.Node, message: str) -> SqlNotSupported:
        entry = {**node.span(), "message": message, "severity": "error"}
        return SqlNotSupported(message, [entry])

    def kind(self, node: ast.Node) -> str:
        return self.checked.type_of(node).kind

    def bind(self, value: Any, kind: str) -> Any:
        """A Python value as a bound parameter of the rule type ``kind``."""
        if value is None:
            sql_type = _SQL_TYPES.get(kind) or (Numeric() if kind == "number" else None)
            return cast(null(), sql_type) if sql_type is not None else null()
        if isinstance(value, dt.timedelta):
            return literal(Decimal(str(value.total_seconds())), Numeric())
        if isinstance(value, bool):
            return literal(value, Boolean())
        if isinstance(value, dt.datetime):
            if value.tzinfo is None:
                value = value.replace(tzinfo=self.ctx.tz)
            return literal(value, UTCDateTime())
        if isinstance(value, dt.date):
            return literal(value, Date())
        if isinstance(value, int):
            return literal(value, Integer())
        if isinstance(value, float | Decimal):
            return literal(Decimal(str(value)), Numeric())
        if isinstance(value, str):
            return literal(value, String())
        if isinstance(value, list | tuple):
            return [self.bind(v, "any") for v in value]
        raise self._unsupported(self.checked.node, f"a {type(value).__name__} cannot be bound")

    def _value(self, x: Any) -> Any:
        if isinstance(x, _Ref):
            return x.id
        if isinstance(x, _Rows | _Row):
            raise self._unsupported(self.checked.node, "A child table is not a single value.")
        return x

    def _bool(self, x: Any) -> Any:
        x = self._value(x)
        if isinstance(x, ColumnElement) and isinstance(x.type, Boolean):
            return x
        return type_coerce(x, Boolean())

    def _is_constant(self, node: ast.Node) -> bool:
        """Reads no field, row, old value or event: it can be computed once, in Python."""
        for n in ast.walk(node):
            if id(n) in self.checked.aggregates:
                return False
            res = self.checked.resolved.get(id(n))
            if res is not None and res.kind in ("field", "it", "old", "event"):
                if res.kind == "field" and _reads_user_root(self.checked, n):
                    continue
                return False
        return True

    def _constant(self, node: ast.Expr) -> Any:
        return self.bind(self._constant_value(node), self.kind(node))

    # ------------------------------------------------------------ expressions

    def expr(self, node: ast.Expr) -> Any:
        if not isinstance(node, ast.Literal | ast.ListLiteral) and self._is_constant(node):
            return self._constant(node)
        method = getattr(self, f"_c_{type(node).__name__}", None)
        if method is None:
            raise self._unsupported(node, f"{type(node).__name__} cannot run in the database.")
        return method(node)

    def _c_Literal(self, node: ast.Literal) -> Any:
        return self.bind(node.value, node.kind)

    def _c_ListLiteral(self, node: ast.ListLiteral) -> Any:
        return [self._value(self.expr(i)) for i in node.items]

    def _column(self, node: ast.Node, entity: str, table: Any, key: str) -> Any:
        model, _ = self.tables(entity)
        if key in SYSTEM_FIELDS or key in ("id", "parent_id"):
            return table.c[key]
        f = model.fields.get(key)
        if f is None or f.column is None or not f.stored:
            raise self._unsupported(
                node,
                f"'{key}' is worked out when a record is read, so it cannot be used "
                "in a filter that runs in the database.",
            )
        return table.c[f.column]

    def _wrap(self, node: ast.Expr, column: Any) -> Any:
        """A column as the value the rule type says: references and child tables become handles."""
        t = self.checked.type_of(node)
        if t.kind == "record" and t.entity and t.entity != "@user":
            return _Ref(t.entity, column)
        return column

    def _c_Name(self, node: ast.Name) -> Any:
        res = self.checked.resolved[id(node)]
        if res.kind in ("old",):
            return null()
        if res.kind == "event":
            return false()
        if res.kind == "it":
            return self.rows[-1]
        if res.kind == "user":
            raise self._unsupported(node, "The acting user is not a value; use user.name.")
        t = self.checked.type_of(node)
        owner = res.owner or self.entity
        if "." in owner and self.rows:
            row = self.rows[-1]
            return self._wrap(node, self._column(node, row.entity, row.table, res.key or ""))
        if t.kind == "rows":
            return _Rows(t.entity or "", self.table.c.id)
        return self._wrap(node, self._column(node, self.entity, self.table, res.key or ""))

    def _c_Attr(self, node: ast.Attr) -> Any:
        res = self.checked.resolved[id(node)]
        base = self.expr(node.obj)
        key = res.key or ""
        if isinstance(base, _Row):
            return self._wrap(node, self._column(node, base.entity, base.table, key))
        if isinstance(base, _Ref):
            _, target = self.tables(base.entity)
            alias = target.alias()
            column = self._column(node, base.entity, alias, key)
            sub = select(column).where(alias.c.id == base.id).scalar_subquery()
            return self._wrap(node, sub)
        if res.owner == "@user":
            if key == "name":
                return base
            raise self._unsupported(
                node,
                f"Filters in the database cannot follow a user to '{key}' yet; "
                "compare the user name instead.",
            )
        if base is None or getattr(base, "__visit_name__", "") == "null":
            return null()
        raise self._unsupported(node, f"'{key}' cannot be read here in the database.")

    def _c_Index(self, node: ast.Index) -> Any:
        raise self._unsupported(node, "Positions in a list ([...]) cannot be used in the database.")

    def _c_Unary(self, node: ast.Unary) -> Any:
        operand = self._value(self.expr(node.operand))
        if node.op == "not":
            return not_(self._bool(operand))
        return -operand

    def _c_BoolOp(self, node: ast.BoolOp) -> Any:
        parts = [self._bool(self.expr(o)) for o in node.operands]
        return and_(*parts) if node.op == "and" else or_(*parts)

    def _c_If(self, node: ast.If) -> Any:
        cond = self._bool(self.expr(node.cond))
        then = self._value(self.expr(node.then))
        else_ = self._value(self.expr(node.else_))
        return case((cond, then), else_=else_)

    def _c_Between(self, node: ast.Between) -> Any:
        value = self._value(self.expr(node.value))
        low = self._value(self.expr(node.low))
        high = self._value(self.expr(node.high))
        kinds = {self.kind(node.value), self.kind(node.low), self.kind(node.high)}
        if "string" in kinds:
            value, low, high = d.TextOrder(value), d.TextOrder(low), d.TextOrder(high)
        value, low, high = self._align_temporal(
            (node.value, node.low, node.high), [value, low, high]
        )
        return and_(value >= low, value <= high)

    def _c_IsTest(self, node: ast.IsTest) -> Any:
        x = self.expr(node.operand)
        test = self._value(x).is_(None) if node.what == "null" else self._empty(node.operand, x)
        return not_(test) if node.negated else test

    def _empty(self, node: ast.Expr, x: Any) -> Any:
        kind = self.kind(node)
        if isinstance(x, _Rows):
            return not_(self._child_exists(x, None))
        x = self._value(x)
        if kind == "string":
            return or_(x.is_(None), d.Trim(x, literal(BLANKS, String())) == "")
        if kind == "list":
            return or_(x.is_(None), d.ListLength(x) == 0)
        return x.is_(None)

    def _c_Changed(self, node: ast.Changed) -> Any:
        return false()  # no update event in a query: ``changed`` is false there

    # ------------------------------------------------------------ operators

    def _c_Binary(self, node: ast.Binary) -> Any:
        op = node.op
        if op in _COMPARE:
            direct = self._sargable(node)
            if direct is not None:
                return direct
        left = self._value(self.expr(node.left))
        if op in ("in", "not in"):
            found = self._membership(node, left)
            return not_(found) if op == "not in" else found
        if op == "matches":
            return self._matches(node, left)
        right = self._value(self.expr(node.right))
        lk, rk = self.kind(node.left), self.kind(node.right)
        if op in _ARITH:
            return self._arith(node, op, left, right, lk, rk)
        if op in _COMPARE:
            return self._compare(node, op, left, right, lk, rk)
        if op == "contains":
            if lk == "list":
                return d.ListHas(left, right)
            if isinstance(node.right, ast.Literal) and isinstance(node.right.value, str):
                needle = node.right.value.lower()
                if needle.isascii():
                    return d.ContainsText(left, self.bind(needle, "string"), needle=needle)
            return d.ContainsText(left, right)
        if op == "starts with":
            a, b = d.Fold(left), d.Fold(right)
            return func.substr(a, 1, func.length(b)) == b
        if op == "ends with":
            a, b = d.Fold(left), d.Fold(right)
            return and_(
                func.length(a) >= func.length(b),
                func.substr(a, func.length(a) - func.length(b) + 1) == b,
            )
        raise self._unsupported(node, f"'{op}' cannot run in the database.")

    def _membership(self, node: ast.Binary, left: Any) -> Any:
        if isinstance(node.right, ast.ListLiteral):
            items = self.expr(node.right)
            if not items:
                return case((left.is_(None), null()), else_=false())
            if self.kind(node.left) == "string":
                return left.in_(items)
            return left.in_(items)
        right = self._value(self.expr(node.right))
        return d.ListHas(right, left)

    def _matches(self, node: ast.Binary, left: Any) -> Any:
        if not isinstance(node.right, ast.Literal) or not isinstance(node.right.value, str):
            raise self._unsupported(
                node.right, "In a database filter, 'matches' needs a fixed pattern in quotes."
            )
        pattern = node.right.value
        try:
            compile_pattern(pattern)
        except ValueError as exc:
            raise self._unsupported(node.right, f"This pattern is not valid: {exc}.") from None
        for hazard in _PATTERN_HAZARDS:
            if hazard in pattern:
                raise self._unsupported(
                    node.right,
                    f"The pattern uses {hazard}, which the database reads differently; "
                    "filters in the database cannot use it.",
                )
        try:
            d._pg_pattern(pattern)
        except ValueError as exc:
            raise self._unsupported(node.right, f"{exc}.") from None
        return d.Regexp(left, pattern)

    def _arith(self, node: ast.Binary, op: str, a: Any, b: Any, lk: str, rk: str) -> Any:
        temporal = ("date", "datetime")
        if op == "+" and lk == "string" and rk == "string":
            return a.op("||")(b)
        if op in ("+", "-") and (lk in temporal or rk in temporal):
            if rk in temporal and lk == "duration" and op == "+":
                a, b, lk, rk = b, a, rk, lk
            if lk in temporal and rk == "duration":
                sign = 1 if op == "+" else -1
                return self._shift(node.right, a, b, lk, sign)
            if op == "-" and lk == "datetime" and rk == "datetime":
                return d.DateTimeDiff(a, b)
            if op == "-" and lk in temporal and rk in temporal:
                return d.DateDiffDays(self._as_date(a, lk), self._as_date(b, rk)) * 86400
        if op == "/":
            return d.ExactDiv(a, b)
        if op == "%":
            return d.TruncMod(a, b)
        # exact numbers on PostgreSQL (numeric never overflows as bigint does; Python's
        # integers do not either); SQLite's own arithmetic is left as it is
        a, b = d.AsNumeric(a), d.AsNumeric(b)
        if op == "+":
            return a + b
        if op == "-":
            return a - b
        return a * b

    def _shift(self, delta_node: ast.Expr, value: Any, seconds: Any, kind: str, sign: int) -> Any:
        if kind == "datetime":
            return d.DateTimeAdd(value, seconds * sign if sign < 0 else seconds)
        if isinstance(delta_node, ast.Literal) and isinstance(delta_node.value, dt.timedelta):
            days = delta_node.value.days if sign > 0 else (-delta_node.value).days
            return d.DateAddDays(value, literal(days, Integer()))
        # a date moves by whole days (a duration of 36h moves it by one)
        whole = _floor(d.ExactDiv(seconds * sign, 86400))
        return d.DateAddDays(value, whole)

    def _as_date(self, x: Any, kind: str) -> Any:
        return d.LocalDate(x, self.zone) if kind == "datetime" else x

    def _as_datetime(self, x: Any, kind: str) -> Any:
        return d.LocalMidnight(x, self.zone) if kind == "date" else x

    def _align_temporal(self, nodes: tuple[ast.Expr, ...], values: list[Any]) -> list[Any]:
        """A date compared with a datetime stands for the first instant of that day."""
        kinds = [self.kind(n) for n in nodes]
        if "datetime" in kinds and "date" in kinds:
            return [self._as_datetime(v, k) for v, k in zip(values, kinds)]
        return values

    def _sargable(self, node: ast.Binary) -> Any:
        """Comparisons of elapsed time turned into a range on the column, so an index can serve them.

        ``days_since(closes_on) > 30`` becomes ``closes_on < :day``,
        ``hours_since(seen_at) > 24`` and ``now() - seen_at > 24h`` become
        ``seen_at < :moment``: the same answer (nulls included), with the
        arithmetic done once in Python instead of once per row.
        """
        left, right, op = node.left, node.right, node.op
        if self._is_constant(left) and not self._is_constant(right):
            left, right, op = right, left, _FLIP[op]
        if not self._is_constant(right) or self._is_constant(left):
            return None
        if isinstance(left, ast.Call) and left.func in ("days_since", "hours_since"):
            if len(left.args) != 1 or not isinstance(left.args[0], ast.Name | ast.Attr):
                return None
            field, amount = left.args[0], self._constant_value(right)
            kind = self.kind(field)
            if (
                left.func == "days_since"
                and isinstance(amount, int)
                and kind in ("date", "datetime")
            ):
                return self._day_range(
                    field, _FLIP[op], self.ctx.today() - dt.timedelta(days=amount)
                )
            if left.func == "hours_since" and kind == "datetime" and amount is not None:
                moment = self.ctx.now() - dt.timedelta(seconds=float(amount) * 3600)
                column = self._value(self.expr(field))
                return _COMPARE[_FLIP[op]](column, self.bind(moment, "datetime"))
            return None
        if (
            isinstance(left, ast.Binary)
            and left.op == "-"
            and self._is_constant(left.left)
            and isinstance(left.right, ast.Name | ast.Attr)
            and self.kind(left.left) == "datetime"
            and self.kind(left.right) == "datetime"
            and self.kind(right) == "duration"
        ):
            start, span = self._constant_value(left.left), self._constant_value(right)
            if start is None or span is None:
                return None
            column = self._value(self.expr(left.right))
            return _COMPARE[_FLIP[op]](column, self.bind(start - span, "datetime"))
        return None

    def _day_range(self, field: ast.Expr, op: str, day: dt.date) -> Any:
        """``local date of field OP day`` as a range on the column itself."""
        column = self._value(self.expr(field))
        if self.kind(field) == "date":
            return _COMPARE[op](column, self.bind(day, "date"))
        start = self.bind(self._midnight(day), "datetime")
        end = self.bind(self._midnight(day + dt.timedelta(days=1)), "datetime")
        if op == "<":
            return column < start
        if op == "<=":
            return column < end
        if op == ">":
            return column >= end
        if op == ">=":
            return column >= start
        inside = and_(column >= start, column < end)
        return inside if op == "==" else not_(inside)

    def _midnight(self, day: dt.date) -> dt.datetime:
        return dt.datetime(day.year, day.month, day.day, tzinfo=self.ctx.tz)

    def _constant_value(self, node: ast.Expr) -> Any:
        """The Python value of a constant part (see :meth:`_constant`)."""
        from engine.rules.compile_py import PyCompiler

        compiler = PyCompiler(self.checked, self.ctx.tz)
        body = compiler.expr(node)
        fn = compiler.build(f"def _c(r, old, user, ctx):\n    return {body}\n", "_c")
        return fn(None, None, self.user, self.ctx)

    def _compare(self, node: ast.Binary, op: str, a: Any, b: Any, lk: str, rk: str) -> Any:
        if "string" in (lk, rk) and op not in ("==", "!="):
            a, b = d.TextOrder(a), d.TextOrder(b)
        a, b = self._align_temporal((node.left, node.right), [a, b])
        if "number" in (lk, rk) and (_computed(node.left) or _computed(node.right)):
            return _COMPARE[op](d.Numeric6(a - b), 0)
        return _COMPARE[op](a, b)

    # ------------------------------------------------------------ child tables

    def _child_exists(self, rows: _Rows, cond: ast.Expr | None, test: Any = None) -> Any:
        _, table = self.tables(rows.entity)
        alias = table.alias()
        stmt = select(literal(1)).select_from(alias).where(alias.c.parent_id == rows.parent_id)
        if cond is not None:
            self.rows.append(_Row(rows.entity, alias))
            try:
                value = self._bool(self.expr(cond))
            finally:
                self.rows.pop()
            stmt = stmt.where(test(value))
        return exists(stmt)

    def _aggregate(self, node: ast.Call) -> Any:
        rows = self.expr(node.args[0])
        if not isinstance(rows, _Rows):
            raise self._unsupported(node, f"{node.func}(...) needs a child table here.")
        name = node.func
        if name == "count" and len(node.args) == 1:
            _, table = self.tables(rows.entity)
            alias = table.alias()
            return (
                select(func.count())
                .select_from(alias)
                .where(alias.c.parent_id == rows.parent_id)
                .scalar_subquery()
            )
        cond = node.args[1]
        if name == "any":
            return case(
                (self._child_exists(rows, cond, lambda v: v.is_(True)), true()),
                (self._child_exists(rows, cond, lambda v: v.is_(None)), null()),
                else_=false(),
            )
        if name == "all":
            return case(
                (self._child_exists(rows, cond, lambda v: v.is_(False)), false()),
                (self._child_exists(rows, cond, lambda v: v.is_(None)), null()),
                else_=true(),
            )
        _, table = self.tables(rows.entity)
        alias = table.alias()
        self.rows.append(_Row(rows.entity, alias))
        try:
            value = self._value(self.expr(cond))
        finally:
            self.rows.pop()
        if name == "count":
            agg = func.count()
            stmt = (
                select(agg)
                .select_from(alias)
                .where(alias.c.parent_id == rows.parent_id, type_coerce(value, Boolean()).is_(True))
            )
            return stmt.scalar_subquery()
        agg = {"sum": func.sum, "min": func.min, "max": func.max, "avg": func.avg}[name](value)
        stmt = select(agg).select_from(alias).where(alias.c.parent_id == rows.parent_id)
        sub = stmt.scalar_subquery()
        return func.coalesce(sub, 0) if name == "sum" else sub

    # ------------------------------------------------------------ functions

    def _c_Call(self, node: ast.Call) -> Any:
        if id(node) in self.checked.aggregates:
            return self._aggregate(node)
        builder = getattr(self, f"_fn_{node.func}", None)
        if builder is None:
            from engine.rules.functions import get_function

            fn = get_function(node.func)
            if fn is not None and fn.sql is not None:
                args = [self._value(self.expr(a)) for a in node.args]
                return fn.sql(*args)
            raise self._unsupported(
                node, f"{node.func}(...) cannot run in the database; use it in rules on records."
            )
        return builder(node, *node.args)

    def _args(self, *nodes: ast.Expr) -> list[Any]:
        return [self._value(self.expr(n)) for n in nodes]

    def _fn_abs(self, node: ast.Call, x: ast.Expr) -> Any:
        return func.abs(*self._args(x))

    def _fn_round(self, node: ast.Call, x: ast.Expr, digits: ast.Expr | None = None) -> Any:
        value = type_coerce(self._args(x)[0], Numeric())
        places = self._args(digits)[0] if digits is not None else literal(0, Integer())
        return func.round(d.AsNumeric(value), places)

    def _fn_floor(self, node: ast.Call, x: ast.Expr) -> Any:
        return _floor(self._args(x)[0])

    def _fn_ceil(self, node: ast.Call, x: ast.Expr) -> Any:
        return func.ceil(*self._args(x))

    def _fn_min(self, node: ast.Call, *args: ast.Expr) -> Any:
        from engine.rules.functions import _sql_least

        return _sql_least(*self._args(*args))

    def _fn_max(self, node: ast.Call, *args: ast.Expr) -> Any:
        from engine.rules.functions import _sql_greatest

        return _sql_greatest(*self._args(*args))

    def _fn_clamp(self, node: ast.Call, x: ast.Expr, lo: ast.Expr, hi: ast.Expr) -> Any:
        from engine.rules.functions import _sql_greatest, _sql_least

        value, low, high = self._args(x, lo, hi)
        return _sql_greatest(low, _sql_least(high, value))

    def _fn_lower(self, node: ast.Call, x: ast.Expr) -> Any:
        return d.Fold(*self._args(x))

    def _fn_upper(self, node: ast.Call, x: ast.Expr) -> Any:
        return d.Upper(*self._args(x))

    def _fn_trim(self, node: ast.Call, x: ast.Expr) -> Any:
        return d.Trim(self._args(x)[0], literal(BLANKS, String()))

    def _fn_len(self, node: ast.Call, x: ast.Expr) -> Any:
        value = self._args(x)[0]
        return d.ListLength(value) if self.kind(x) == "list" else func.length(value)

    def _fn_left(self, node: ast.Call, s: ast.Expr, n: ast.Expr) -> Any:
        text, count = self._args(s, n)
        return func.substr(text, 1, case((count < 0, 0), else_=count))

    def _fn_right(self, node: ast.Call, s: ast.Expr, n: ast.Expr) -> Any:
        text, count = self._args(s, n)
        start = func.length(text) - case((count < 0, 0), else_=count) + 1
        return case(
            (count.is_(None), null()),
            else_=func.substr(text, case((start < 1, 1), else_=start)),
        )

    def _fn_substr(
        self, node: ast.Call, s: ast.Expr, start: ast.Expr, length: ast.Expr | None = None
    ) -> Any:
        text, begin = self._args(s, start)
        begin = case((begin < 1, 1), else_=begin)
        if length is None:
            return func.substr(text, begin)
        count = self._args(length)[0]
        return func.substr(text, begin, case((count < 0, 0), else_=count))

    def _fn_replace(self, node: ast.Call, s: ast.Expr, a: ast.Expr, b: ast.Expr) -> Any:
        return func.replace(*self._args(s, a, b))

    def _fn_concat(self, node: ast.Call, *args: ast.Expr) -> Any:
        for a in args:
            if self.kind(a) not in ("string", "null"):
                raise self._unsupported(
                    a, "In a database filter, concat(...) joins texts only; this is not a text."
                )
        parts = [func.coalesce(v, literal("", String())) for v in self._args(*args)]
        out = parts[0]
        for p in parts[1:]:
            out = out.op("||")(p)
        return out

    def _temporal(self, x: ast.Expr) -> tuple[Any, str]:
        return self._args(x)[0], self.kind(x)

    def _fn_date(self, node: ast.Call, x: ast.Expr) -> Any:
        value, kind = self._temporal(x)
        if kind not in ("date", "datetime"):
            raise self._unsupported(x, "In a database filter, date(...) takes a date or datetime.")
        return self._as_date(value, kind)

    def _part(self, part: str, x: ast.Expr) -> Any:
        value, kind = self._temporal(x)
        return d.DatePart(part, self._as_date(value, kind))

    def _fn_year(self, node: ast.Call, x: ast.Expr) -> Any:
        return self._part("year", x)

    def _fn_month(self, node: ast.Call, x: ast.Expr) -> Any:
        return self._part("month", x)

    def _fn_quarter(self, node: ast.Call, x: ast.Expr) -> Any:
        return self._part("quarter", x)

    def _fn_week(self, node: ast.Call, x: ast.Expr) -> Any:
        return self._part("isoweek", x)

    def _fn_weekday(self, node: ast.Call, x: ast.Expr) -> Any:
        return self._part("isodow", x)

    def _fn_days_between(self, node: ast.Call, a: ast.Expr, b: ast.Expr) -> Any:
        (va, ka), (vb, kb) = self._temporal(a), self._temporal(b)
        return d.DateDiffDays(self._as_date(vb, kb), self._as_date(va, ka))

    def _fn_days_since(self, node: ast.Call, a: ast.Expr) -> Any:
        value, kind = self._temporal(a)
        return d.DateDiffDays(self.bind(self.ctx.today(), "date"), self._as_date(value, kind))

    def _fn_hours_since(self, node: ast.Call, t: ast.Expr) -> Any:
        value, kind = self._temporal(t)
        seconds = d.DateTimeDiff(
            self.bind(self.ctx.now(), "datetime"), self._as_datetime(value, kind)
        )
        return d.ExactDiv(seconds, 3600)

    def _fn_add_days(self, node: ast.Call, x: ast.Expr, n: ast.Expr) -> Any:
        value, kind = self._temporal(x)
        days = self._args(n)[0]
        if kind == "datetime":
            return d.DateTimeAdd(value, days * 86400)
        return d.DateAddDays(value, days)

    def _fn_coalesce(self, node: ast.Call, *args: ast.Expr) -> Any:
        return func.coalesce(*self._args(*args))

    def _fn_is_empty(self, node: ast.Call, x: ast.Expr) -> Any:
        return self._empty(x, self.expr(x))


def _floor(x: Any) -> Any:
    """``floor`` that lets null through (SQLAlchemy's SQLite fallback ``floor`` raises on NULL)."""
    return case((x.is_(None), null()), else_=func.floor(x))


def _computed(node: ast.Expr) -> bool:
    """True for arithmetic and function results (where SQLite's doubles need rounding)."""
    return not isinstance(node, ast.Name | ast.Attr | ast.Literal)


def _reads_user_root(checked: Checked, node: ast.Node) -> bool:
    """``user.team``: a field of the acting user, known before the query runs."""
    res = checked.resolved.get(id(node))
    return (
        res is not None
        and res.owner == "@user"
        and isinstance(node, ast.Attr)
        and (
            isinstance(node.obj, ast.Name)
            and checked.resolved.get(id(node.obj)) is not None
            and checked.resolved[id(node.obj)].kind == "user"
        )
    )


def compile_condition(
    checked: Checked,
    ctx: Context,
    tables: TableSource,
    *,
    user: dict[str, Any] | None = None,
    table: Any = None,
) -> ColumnElement[bool]:
    """A WHERE clause for a checked condition (bound parameters only)."""
    return SqlCompiler(checked, ctx, tables, user=user, table=table).condition()


def compile_value(
    checked: Checked,
    ctx: Context,
    tables: TableSource,
    *,
    user: dict[str, Any] | None = None,
    table: Any = None,
) -> ColumnElement[Any]:
    """A typed column for a checked expression of any kind."""
    return SqlCompiler(checked, ctx, tables, user=user, table=table).value()


__all__ = ["SqlCompiler", "SqlNotSupported", "TableSource", "compile_condition", "compile_value"]
