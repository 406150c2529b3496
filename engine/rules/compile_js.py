"""Checked tree to JavaScript: the browser twin of compile_py.

This module compiles expressions (computed fields, filters, visibility and
flow conditions, which the editor previews as the admin types);
compile_js_rules builds every kind of rule set on top of it.

The output is one JavaScript expression that evaluates to a function
``(r, old, user, ctx) => value``. Like compile_py it is generated from the
checked tree only: names are resolved by the checker, and every literal,
field key and entity name is emitted as a JSON constant with ``<``, ``>``,
``&``, U+2028 and U+2029 escaped, so no admin text can close a ``<script>``
or leave a string. Generated code calls the runtime in ``engine/rules/js/``
(``globalThis.TesseraRules``) and the spellings the function registry gives;
a function without one makes :func:`compile_js` raise :class:`JsUnsupported`.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

from engine.rules import ast
from engine.rules.check import Checked
from engine.rules.functions import get_function

_BINARY = {
    "+": "T.add",
    "-": "T.sub",
    "*": "T.mul",
    "/": "T.div",
    "%": "T.mod",
    "==": "T.eq",
    "!=": "T.ne",
    "<": "T.lt",
    "<=": "T.le",
    ">": "T.gt",
    ">=": "T.ge",
    "in": "T.inList",
    "not in": "T.notIn",
    "contains": "T.contains",
    "starts with": "T.startsWith",
    "ends with": "T.endsWith",
    "matches": "T.matches",
}
_COERCE = {
    "number": "T.asNumber({})",
    "date": "T.asDate({}, ctx)",
    "datetime": "T.asDatetime({}, ctx)",
    "duration": "T.asDuration({})",
}
_UNSAFE = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}


class JsUnsupported(NotImplementedError):
    """The expression uses something the browser runtime cannot do (a function with no JS)."""


def js_literal(value: Any) -> str:
    """JSON text that is also safe inside an HTML ``<script>`` and in any JS source."""
    text = json.dumps(value, ensure_ascii=False)
    for char, escaped in _UNSAFE.items():
        text = text.replace(char, escaped)
    return text


def _zone(tz: dt.tzinfo | str) -> Any:
    """A zone as the runtime names it: an IANA key, or a fixed offset in milliseconds."""
    if isinstance(tz, str):
        return tz
    key = getattr(tz, "key", None)
    if key:
        return key
    offset = tz.utcoffset(None)
    return 0 if offset is None else int(offset.total_seconds() * 1000)


class JsCompiler:
    """Generates one JavaScript function per expression; dispatches on node class."""

    def __init__(self, checked: Checked, tz: dt.tzinfo | str = "UTC") -> None:
        self.checked = checked
        self.zone = _zone(tz)
        self.consts: list[str] = []
        self._names: dict[str, str] = {}
        self.rows: list[str] = []

    def const(self, source: str) -> str:
        """Hoist a constant out of the function, so it is built once (and named once)."""
        if source not in self._names:
            self.consts.append(source)
            self._names[source] = f"k{len(self.consts) - 1}"
        return self._names[source]

    def text(self, value: Any) -> str:
        return self.const(js_literal(value))

    # ------------------------------------------------------------ expressions

    def expr(self, node: ast.Expr) -> str:
        method = getattr(self, f"_c_{type(node).__name__}", None)
        if method is None:
            raise JsUnsupported(f"no JavaScript for {type(node).__name__}")
        return method(node)

    def _c_Literal(self, node: ast.Literal) -> str:
        value = node.value
        if node.kind == "null" or value is None:
            return "null"
        if node.kind == "boolean":
            return "true" if value else "false"
        if node.kind == "number":
            if isinstance(value, int):
                return f"({int(value)}n)"
            return self.const(f"T.dec({js_literal(str(Decimal(value)))})")
        if node.kind == "string":
            return self.text(value)
        if node.kind == "date":
            return self.const(f"T.time.parseDay({js_literal(value.isoformat())})")
        if node.kind == "datetime":
            if value.tzinfo is None:
                zone = js_literal(self.zone)
                return self.const(f"T.time.parseMoment({js_literal(value.isoformat())}, {zone})")
            return self.const(f"T.time.parseMoment({js_literal(value.isoformat())}, null)")
        if node.kind == "duration":
            return self.const(f"new T.Span({value // dt.timedelta(microseconds=1)})")
        raise JsUnsupported(f"no JavaScript for a {node.kind} literal")

    def _c_ListLiteral(self, node: ast.ListLiteral) -> str:
        return "[" + ", ".join(self.expr(i) for i in node.items) + "]"

    def _coerce(self, node: ast.Expr, source: str) -> str:
        pattern = _COERCE.get(self.checked.type_of(node).kind)
        return pattern.format(source) if pattern else source

    def _c_Name(self, node: ast.Name) -> str:
        res = self.checked.resolved[id(node)]
        if res.kind == "old":
            return "old"
        if res.kind == "user":
            return "user"
        if res.kind == "it":
            return self.rows[-1] if self.rows else "null"
        if res.kind == "event":
            return f"T.event(ctx, {self.text(res.key)})"
        record = self.rows[-1] if (res.owner and "." in res.owner and self.rows) else "r"
        return self._coerce(node, f"T.get({record}, {self.text(res.key)})")

    def _c_Attr(self, node: ast.Attr) -> str:
        res = self.checked.resolved[id(node)]
        nav = f"T.nav({self.expr(node.obj)}, {self.text(res.owner)}, ctx)"
        return self._coerce(node, f"T.get({nav}, {self.text(res.key)})")

    def _c_Index(self, node: ast.Index) -> str:
        return f"T.index({self.expr(node.obj)}, {self.expr(node.index)})"

    def _c_Unary(self, node: ast.Unary) -> str:
        helper = "T.not" if node.op == "not" else "T.neg"
        return f"{helper}({self.expr(node.operand)})"

    def _c_Binary(self, node: ast.Binary) -> str:
        return f"{_BINARY[node.op]}({self.expr(node.left)}, {self.expr(node.right)})"

    def _c_BoolOp(self, node: ast.BoolOp) -> str:
        helper = "T.and" if node.op == "and" else "T.or"
        return f"{helper}(" + ", ".join(self.expr(o) for o in node.operands) + ")"

    def _c_Between(self, node: ast.Between) -> str:
        return f"T.between({self.expr(node.value)}, {self.expr(node.low)}, {self.expr(node.high)})"

    def _c_IsTest(self, node: ast.IsTest) -> str:
        helper = "T.isNull" if node.what == "null" else "T.isEmpty"
        test = f"{helper}({self.expr(node.operand)})"
        return f"(!{test})" if node.negated else test

    def _c_Changed(self, node: ast.Changed) -> str:
        res = self.checked.resolved[id(node.operand)]
        new = self.expr(node.operand)
        key = self.text(res.key)
        before = self._coerce(node.operand, f"T.get(old, {key})")
        parts = [f"T.changed({new}, old, {before})"]
        if node.from_ is not None:
            parts.append(f"T.eq({before}, {self.expr(node.from_)})")
        if node.to is not None:
            parts.append(f"T.eq({new}, {self.expr(node.to)})")
        return parts[0] if len(parts) == 1 else "T.and(" + ", ".join(parts) + ")"

    def _c_If(self, node: ast.If) -> str:
        return (
            f"({self.expr(node.cond)} === true ? {self.expr(node.then)} : {self.expr(node.else_)})"
        )

    def _c_Call(self, node: ast.Call) -> str:
        if id(node) in self.checked.aggregates:
            rows = self.expr(node.args[0])
            if len(node.args) == 1:
                return f"T.agg.count({rows})"
            var = f"it{len(self.rows)}"
            self.rows.append(var)
            try:
                body = self.expr(node.args[1])
            finally:
                self.rows.pop()
            return f"T.agg[{self.text(node.func)}]({rows}, ({var}) => {body})"
        fn = get_function(node.func)
        if fn is None:
            raise JsUnsupported(f"unknown function {node.func}")
        if not fn.js:
            raise JsUnsupported(
                f"the function {node.func}(...) has no JavaScript implementation, so this "
                "expression cannot run in the browser; register it with a `js` spelling"
            )
        # A name in the runtime's table, or a developer's inline function (trusted registry code).
        inline = not fn.js.isidentifier()
        target = self.const(f"({fn.js})") if inline else f"T.fn[{self.text(fn.js)}]"
        args = "".join(", " + self.expr(a) for a in node.args)
        return f"{target}(ctx{args})"

    # ------------------------------------------------------------ output

    def module(self, body: str) -> str:
        """An expression's function: ``(r, old, user, ctx) => body``."""
        return self.function([f"return {body};"], "r, old, user, ctx")

    def function(self, statements: list[str], params: str) -> str:
        """Wrap statements in a function of ``params``, with the constants hoisted around it."""
        consts = "".join(f"  const k{i} = {c};\n" for i, c in enumerate(self.consts))
        lines = "".join(f"    {line}\n" for line in statements)
        return (
            "(function (T) {\n"
            '  "use strict";\n'
            f"{consts}"
            f"  return function ({params}) {{\n"
            f"{lines}"
            "  };\n"
            "})(globalThis.TesseraRules)"
        )


def compile_js(checked: Checked, tz: dt.tzinfo | str = "UTC") -> str:
    """JavaScript source of a function ``(r, old, user, ctx) => value`` for a checked expression.

    ``tz`` is the platform's zone, which datetime literals without an offset
    belong to (pass the same zone to the runtime's ``context``). Raises
    :class:`JsUnsupported` naming a function that has no JavaScript spelling.
    """
    compiler = JsCompiler(checked, tz)
    body = compiler.expr(checked.node)  # type: ignore[arg-type]
    return compiler.module(body)


__all__ = ["JsCompiler", "JsUnsupported", "compile_js", "js_literal"]
