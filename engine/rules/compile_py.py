"""Checked tree to Python: source generated from the tree only, compiled once, run without builtins.

No text the admin typed reaches the generated source: every literal, field
key and label is passed in as a constant (``_k3``), and names are resolved
by the checker. The source calls the helpers of :mod:`engine.rules.runtime`
and the function registry; that namespace is all it can reach. Rule sets
compile to one function each, which returns the result and, when asked,
appends one trace entry per rule it evaluated.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from engine.rules import ast, compile_py_inline, compile_py_special
from engine.rules.check import Checked
from engine.rules.functions import get_function
from engine.rules.runtime import fold, namespace

_BINARY = {
    "+": "_add",
    "-": "_sub",
    "*": "_mul",
    "/": "_div",
    "%": "_mod",
    "==": "_eq",
    "!=": "_ne",
    "<": "_lt",
    "<=": "_le",
    ">": "_gt",
    ">=": "_ge",
    "in": "_in_",
    "not in": "_not_in",
    "contains": "_contains",
    "starts with": "_starts_with",
    "ends with": "_ends_with",
    "matches": "_matches",
}
_COERCE = {
    "number": "_as_number({})",
    "date": "_as_date({}, ctx)",
    "datetime": "_as_datetime({}, ctx)",
    "duration": "_as_duration({})",
}

#: Arguments of every compiled function: record, old record, acting user, context.
ARGS = "r, old, user, ctx"

#: Comparisons :meth:`PyCompiler.cond` writes inline when one side is a literal.
_INLINE_COMPARE = {"==": "==", "!=": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">="}


class PyCompiler:
    """Generates one Python module per expression or rule set."""

    def __init__(self, checked: Checked, tz: dt.tzinfo) -> None:
        self.checked = checked
        self.tz = tz
        self.consts: dict[str, Any] = {}
        self.rows: list[str] = []
        self.reads: dict[str, ast.Node] = {}
        #: When set, the name of a local bound to ``_getter(r)`` at the top of the
        #: generated function: reading a field of ``r`` is then one call (``rg(key)``).
        self.record_getter: str | None = None
        #: When not None, each field of ``r`` is read (and coerced) once, into a local
        #: assigned in :attr:`hoisted` at the top of the function, however many rules
        #: test it. Only for pure rule sets: reads and coercions have no effects and
        #: never raise, so reading a field a short-circuit would have skipped is safe.
        self.hoist: dict[tuple[str, str], str] | None = None
        self.hoisted: list[str] = []
        #: Hoisted lines that read the context only (today, the zone): a batch function
        #: runs them once before its loop.
        self.context_lines: set[str] = set()
        #: The name hoisted locals start with (the special body has its own: ``_s``).
        self.prefix = "_h"
        #: When not None, the specialised body is being compiled (compile_py_special):
        #: fields are read by subscript into :attr:`special_reads`, and ``known`` maps
        #: each local the guard proves never null to its test in :attr:`guards`.
        self.known: dict[str, str] | None = None
        self.record_subscript = "r"
        self.special_reads: list[str] = []
        #: ``(local, field key)`` of each line of :attr:`special_reads`, in order.
        self.special_keys: list[tuple[str, str]] = []
        self.guards: list[str] = []
        #: Special-body locals read as they are (no guard yet, so null is possible).
        self.raw_locals: set[str] = set()
        #: Special-body locals the guard proved to be an ``int`` (compile_py_chain narrows
        #: their range tests: below 500 is at most 499).
        self.integral: set[str] = set()
        self._temps = 0
        self._classes: dict[type, str] = {}

    # ------------------------------------------------------------ helpers

    def hoist_local(self) -> str:
        """A fresh name for a hoisted local (the caller adds it to :attr:`hoist`)."""
        assert self.hoist is not None
        return f"{self.prefix}{len(self.hoist)}"

    def const(self, value: Any) -> str:
        if isinstance(value, type):
            # one name per class, so that two guards of one field (two rule sets of a
            # one-pass chain, compile_py_pass) read alike and are tested once
            name = self._classes.get(value)
            if name is not None:
                return name
            name = self._classes[value] = f"_k{len(self.consts)}"
            self.consts[name] = value
            return name
        name = f"_k{len(self.consts)}"
        self.consts[name] = value
        return name

    def build(self, source: str, entry: str) -> Callable[..., Any]:
        """Compile ``source`` in the whitelisted namespace and return ``entry``."""
        extra = {f"_f_{k}": v for k, v in _function_impls().items()}
        extra.update(self.consts)
        extra["_fmt"] = _fmt
        extra["_hit"] = _hit
        extra["_getter"] = _getter
        extra["_dict"] = dict
        extra["_zip"] = zip
        # type(x) is C: a fast call (specialised by CPython), where x.__class__ is an attribute
        # lookup that costs twice as much
        extra["_type"] = type
        extra["_KeyError"] = KeyError  # a record lacking a field the special body reads
        extra["_ERRS"] = compile_py_inline.ERRORS
        ns = namespace(extra.items())
        code = compile(source, "<rules>", "exec")
        exec(code, ns)  # the source is generated from the checked tree, never from rule text
        return ns[entry]

    # ------------------------------------------------------------ expressions

    def expr(self, node: ast.Expr) -> str:
        method = getattr(self, f"_c_{type(node).__name__}", None)
        if method is None:
            raise NotImplementedError(f"no Python for {type(node).__name__}")
        return method(node)

    def _c_Literal(self, node: ast.Literal) -> str:
        value = node.value
        if node.kind == "null":
            return "None"
        if node.kind == "boolean":
            return "True" if value else "False"
        if isinstance(value, dt.datetime) and value.tzinfo is None:
            value = value.replace(tzinfo=self.tz)
        return self.const(value)

    def _c_ListLiteral(self, node: ast.ListLiteral) -> str:
        return "[" + ", ".join(self.expr(i) for i in node.items) + "]"

    def _coerce(self, node: ast.Expr, source: str) -> str:
        t = self.checked.type_of(node)
        pattern = _COERCE.get(t.kind)
        return pattern.format(source) if pattern else source

    def _c_Name(self, node: ast.Name) -> str:
        res = self.checked.resolved[id(node)]
        if res.kind == "old":
            return "old"
        if res.kind == "user":
            return "user"
        if res.kind == "it":
            return self.rows[-1] if self.rows else "None"
        if res.kind == "event":
            return f"_event(ctx, {self.const(res.key)})"
        record = self.rows[-1] if (res.owner and "." in res.owner and self.rows) else "r"
        self._note_read(node)
        if record == "r" and self.record_getter:
            kind = self.checked.type_of(node).kind
            if self.hoist is not None:
                local = self.hoist.get((res.key, kind))
                if local is None:
                    local = self.hoist[(res.key, kind)] = self.hoist_local()
                    if self.known is not None:
                        compile_py_special.read(self, node, local, res.key, kind)
                    else:
                        self.hoisted.append(f"{local} = {self._read_field(node, res.key, kind)}")
                return local
            return self._read_field(node, res.key, kind)
        return self._coerce(node, f"_get({record}, {self.const(res.key)})")

    def _read_field(self, node: ast.Expr, key: str, kind: str) -> str:
        read = f"{self.record_getter}({self.const(key)})"
        if kind == "number":
            # integers, the common case, need no conversion: skip the call
            v = self._temp()
            return f"({v} if _type({v} := {read}) is {self.const(int)} else _as_number({v}))"
        typed = compile_py_inline.typed_read(self, kind, read)
        return typed if typed is not None else self._coerce(node, read)

    def _c_Attr(self, node: ast.Attr) -> str:
        res = self.checked.resolved[id(node)]
        base = self.expr(node.obj)
        self._note_read(node)
        nav = f"_nav({base}, {self.const(res.owner)}, ctx)"
        return self._coerce(node, f"_get({nav}, {self.const(res.key)})")

    def _note_read(self, node: ast.Expr) -> None:
        path = self.checked.paths.get(id(node))
        if path is not None:
            self.reads.setdefault(path, node)

    def _c_Index(self, node: ast.Index) -> str:
        return f"_index({self.expr(node.obj)}, {self.expr(node.index)})"

    def _c_Unary(self, node: ast.Unary) -> str:
        helper = "_not_" if node.op == "not" else "_neg"
        return f"{helper}({self.expr(node.operand)})"

    def _c_Binary(self, node: ast.Binary) -> str:
        inline = compile_py_inline.binary(self, node)
        if inline is not None:
            return inline
        return f"{_BINARY[node.op]}({self.expr(node.left)}, {self.expr(node.right)})"

    def _c_BoolOp(self, node: ast.BoolOp) -> str:
        helper = "_and_" if node.op == "and" else "_or_"
        return f"{helper}(" + ", ".join(self.expr(o) for o in node.operands) + ")"

    def _c_Between(self, node: ast.Between) -> str:
        return f"_between({self.expr(node.value)}, {self.expr(node.low)}, {self.expr(node.high)})"

    def _c_IsTest(self, node: ast.IsTest) -> str:
        test = f"_is_{node.what}({self.expr(node.operand)})"
        return f"(not {test})" if node.negated else test

    def _c_Changed(self, node: ast.Changed) -> str:
        res = self.checked.resolved[id(node.operand)]
        new = self.expr(node.operand)
        key = self.const(res.key)
        before = self._coerce(node.operand, f"_get(old, {key})")
        parts = [f"_changed({new}, old, {key}, {before})"]
        if node.from_ is not None:
            parts.append(f"_eq({before}, {self.expr(node.from_)})")
        if node.to is not None:
            parts.append(f"_eq({new}, {self.expr(node.to)})")
        return parts[0] if len(parts) == 1 else "_and_(" + ", ".join(parts) + ")"

    def _c_If(self, node: ast.If) -> str:
        return (
            f"({self.expr(node.then)} if {self.expr(node.cond)} is True "
            f"else {self.expr(node.else_)})"
        )

    def _c_Call(self, node: ast.Call) -> str:
        if id(node) in self.checked.aggregates:
            rows = self.expr(node.args[0])
            if len(node.args) == 1:
                return f"_agg_count({rows})"
            var = f"_it{len(self.rows)}"
            self.rows.append(var)
            try:
                body = self.expr(node.args[1])
            finally:
                self.rows.pop()
            return f"_agg_{node.func}({rows}, lambda {var}: {body})"
        if get_function(node.func) is None:
            raise NotImplementedError(f"unknown function {node.func}")
        inline = compile_py_inline.call(self, node)
        if inline is not None:
            return inline
        args = "".join(", " + self.expr(a) for a in node.args)
        return f"_f_{node.func}(ctx{args})"

    # ------------------------------------------------------------ decisions

    def cond(self, node: ast.Expr | None) -> str:
        """Python for ``expr(node) is True``: a plain bool, for where a decision is made.

        Null counts as false there, so Kleene ``and`` / ``or`` become Python's
        (true only when every / some operand is true), and a comparison with a
        literal is written inline: null on the other side gives false, as
        ``_eq(...) is True`` does, without a helper call.
        """
        if node is None:
            return "True"
        if isinstance(node, ast.BoolOp) and node.operands:
            joiner = " and " if node.op == "and" else " or "
            return "(" + joiner.join(self.cond(o) for o in node.operands) + ")"
        if isinstance(node, ast.Binary) and (
            _literal(node.right) or isinstance(node.right, ast.ListLiteral)
        ):
            inline = self._inline_test(node)
            if inline is not None:
                return inline
        if isinstance(node, ast.Between) and _literal(node.low) and _literal(node.high):
            bound, v = self._bind(self.expr(node.value))
            if compile_py_special.non_null(self, v):
                return f"({self.expr(node.low)} <= {v} <= {self.expr(node.high)})"
            return (
                f"({bound} is not None and {self.expr(node.low)} <= {v} <= {self.expr(node.high)})"
            )
        return f"(({self.expr(node)}) is True)"

    def _temp(self) -> str:
        self._temps += 1
        return f"_v{self._temps}"

    def _bind(self, source: str) -> tuple[str, str]:
        """``(first use, later uses)`` of a value tested more than once: a local name
        as it is, anything else bound to a temporary by its first use."""
        if source.isidentifier():
            return source, source
        v = self._temp()
        return f"({v} := {source})", v

    def _inline_test(self, node: ast.Binary) -> str | None:
        op, right = node.op, node.right
        if op == "==" and _literal(right):
            # null equals no literal, so the plain test already gives false for it
            return f"({self.expr(node.left)} == {self.expr(right)})"
        if op in _INLINE_COMPARE and _literal(right):
            bound, v = self._bind(self.expr(node.left))
            if compile_py_special.non_null(self, v):
                return f"({v} {_INLINE_COMPARE[op]} {self.expr(right)})"
            return f"({bound} is not None and {v} {_INLINE_COMPARE[op]} {self.expr(right)})"
        if op in ("in", "not in") and isinstance(right, ast.ListLiteral):
            if not right.items or not all(_literal(i) for i in right.items):
                return None
            items = self.const(tuple(self._literal_value(i) for i in right.items))
            if op == "in":  # null is in no list of literals
                return f"({self.expr(node.left)} in {items})"
            bound, v = self._bind(self.expr(node.left))
            if compile_py_special.non_null(self, v):
                return f"({v} not in {items})"
            return f"({bound} is not None and {v} not in {items})"
        if (
            op == "contains"
            and self.checked.type_of(node.left).kind == "string"
            and isinstance(right, ast.Literal)
            and isinstance(right.value, str)
        ):
            # a text field holding a list at run time still gets the general answer
            bound, v = self._bind(self.expr(node.left))
            folded, text = self.const(fold(right.value)), self.const(str)
            general = f"_contains({v}, {self.expr(right)}) is True"
            if self.hoist is not None and bound == v:
                # a hoisted text field is folded once per call, however many tests read it
                low = self.hoist.get(("@fold", v))
                if compile_py_special.as_text(self, v):  # the guard proved it a str
                    if low is None:
                        low = self.hoist[("@fold", v)] = self.hoist_local()
                        self.hoisted.append(f"{low} = {v}.lower()")
                    return f"({folded} in {low})"
                if low is None:
                    low = self.hoist[("@fold", v)] = self.hoist_local()
                    # fold is str.lower (runtime.fold); the str's own method saves a call
                    self.hoisted.append(f"{low} = {v}.lower() if _type({v}) is {text} else None")
                return (
                    f"({folded} in {low} if {low} is not None else ({v} is not None and {general}))"
                )
            return (
                f"({bound} is not None and ({folded} in {v}.lower() "
                f"if _type({v}) is {text} else {general}))"
            )
        return None

    def _literal_value(self, node: ast.Expr) -> Any:
        assert isinstance(node, ast.Literal)
        value = node.value
        if isinstance(value, dt.datetime) and value.tzinfo is None:
            value = value.replace(tzinfo=self.tz)
        return value

    # ------------------------------------------------------------ messages and actions

    def template(self, owner: ast.Node, text: str) -> str:
        parts = self.checked.templates.get(id(owner))
        if not parts:
            return self.const(text)
        pieces = [self.const(p) if isinstance(p, str) else self.expr(p) for p in parts]
        return "_fmt(" + ", ".join(pieces) + ")"

    def action(self, node: ast.Action) -> str:
        if isinstance(node, ast.SetAction):
            return (
                f"{{'type': 'set', 'field': {self.const(node.target)}, "
                f"'value': {self.expr(node.value)}}}"
            )
        if isinstance(node, ast.AssignAction):
            return (
                f"{{'type': 'assign', 'to': {self.const(node.kind)}, "
                f"'target': {self.expr(node.target)}, 'strategy': {self.const(node.strategy)}}}"
            )
        if isinstance(node, ast.TaskAction):
            due = self.expr(node.due) if node.due is not None else "None"
            return (
                f"{{'type': 'task', 'title': {self.template(node, node.title)}, "
                f"'for': {self.expr(node.assignee)}, 'due_in': {due}}}"
            )
        if isinstance(node, ast.NotifyAction):
            return (
                f"{{'type': 'notify', 'to': {self.expr(node.recipient)}, "
                f"'message': {self.template(node, node.message)}}}"
            )
        if isinstance(node, ast.SimpleAction):
            return f"{{'type': {self.const(node.kind)}, 'name': {self.template(node, node.name)}}}"
        if isinstance(node, ast.CustomAction):
            args = "".join(f", {self.const(k)}: {self.expr(v)}" for k, v in node.args)
            return f"{{'type': {self.const(node.name)}{args}}}"
        raise NotImplementedError(type(node).__name__)


def _fmt(*parts: Any) -> str:
    """Message interpolation: values as text, null as nothing."""
    from engine.rules.functions import _text

    return "".join("" if p is None else (p if isinstance(p, str) else _text(p)) for p in parts)


def _hit(name: str, policy: str, matched: list[tuple[int, Any]], options: Any) -> Any:
    """Apply a decision table's hit policy to the rows that matched (in order)."""
    from engine.errors import RuleTypeError

    if policy == "first":
        return matched[0][1] if matched else None
    if policy == "unique":
        if len(matched) > 1:
            rows = " and ".join(str(i + 1) for i, _ in matched)
            raise RuleTypeError(
                f"Table '{name}' is 'unique' but rows {rows} all match this record."
            )
        return matched[0][1] if matched else None
    if policy == "collect":
        return [v for _, v in matched]
    if policy == "sum":
        return sum((v for _, v in matched if v is not None), 0) if matched else None
    if policy == "priority":
        if not matched:
            return None
        if options:
            order = {o: n for n, o in enumerate(options)}
            return min(matched, key=lambda m: (order.get(m[1], len(order)), m[0]))[1]
        return matched[0][1]
    raise ValueError(policy)


def _literal(node: ast.Expr) -> bool:
    """A literal that is not null (and not a list): a constant one side of a test can be."""
    return isinstance(node, ast.Literal) and node.kind != "null"


def _none(key: str) -> None:
    return None


def _getter(record: Any) -> Callable[[str], Any]:
    """How a compiled rule set reads fields of its record: ``dict.get``, or null for
    everything when the record is not a dict (as :func:`engine.rules.runtime.get`)."""
    return record.get if isinstance(record, dict) else _none


def _function_impls() -> dict[str, Callable[..., Any]]:
    from engine.rules.functions import functions

    return {name: fn.py for name, fn in functions().items()}


def compile_expression(checked: Checked, tz: dt.tzinfo) -> tuple[Callable[..., Any], str]:
    """A function ``(r, old, user, ctx) -> value`` for a checked expression, and its source."""
    compiler = PyCompiler(checked, tz)
    body = compiler.expr(checked.node)  # type: ignore[arg-type]
    source = f"def _expr({ARGS}):\n    return {body}\n"
    return compiler.build(source, "_expr"), source


__all__ = ["ARGS", "PyCompiler", "compile_expression"]
