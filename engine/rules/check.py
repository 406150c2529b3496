"""Names and types: every refusal RULES_DSL.md section 3 promises, before anything is saved.

The checker walks the tree once, gives each expression node a type, records
what each name resolves to (the compilers read that, never the text), and
collects diagnostics ``{line, column, end, message, severity}`` written for
admins: they say what is wrong in business words and, where it helps, what
to write instead.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from engine.i18n import t as _t
from engine.periods import PERIODS
from engine.rules import ast
from engine.rules.catalog import (
    ANY,
    BOOLEAN,
    DATE,
    DATETIME,
    DURATION,
    EVENT_WORDS,
    NULL,
    NUMBER,
    STRING,
    USER_ENTITY,
    Catalog,
    T,
    closest,
)
from engine.rules.functions import AGGREGATE_NAMES, functions, get_function
from engine.rules.parse import parse_expression
from engine.rules.runtime import compile_pattern

_LITERAL_TYPES = {
    "null": NULL,
    "boolean": BOOLEAN,
    "number": NUMBER,
    "string": STRING,
    "date": DATE,
    "datetime": DATETIME,
    "duration": DURATION,
}
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")


@dataclass(frozen=True)
class Resolved:
    """What a name stands for: ``kind`` is field, old, user, it, or event."""

    kind: str
    key: str | None
    type: T
    owner: str | None = None


@dataclass
class Scope:
    entity: str
    variables: dict[str, T] = field(default_factory=dict)
    events: bool = False


@dataclass
class Checked:
    """The outcome of checking: the tree plus what the checker learned about it."""

    node: ast.Node
    entity: str | None
    types: dict[int, T] = field(default_factory=dict)
    resolved: dict[int, Resolved] = field(default_factory=dict)
    paths: dict[int, str] = field(default_factory=dict)
    aggregates: set[int] = field(default_factory=set)
    templates: dict[int, list[str | ast.Expr]] = field(default_factory=dict)
    diagnostics: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not any(d["severity"] == "error" for d in self.diagnostics)

    def type_of(self, node: ast.Node) -> T:
        return self.types.get(id(node), ANY)

    def reads(self, node: ast.Node | None) -> list[str]:
        """The record paths an expression reads (``source``, ``account.industry``, ``old.stage``)."""
        if node is None:
            return []
        found = {self.paths[id(n)] for n in ast.walk(node) if id(n) in self.paths}
        return sorted(p for p in found if not any(o.startswith(p + ".") for o in found))


def diagnostic(
    node: ast.Node | None,
    message: str,
    severity: str = "error",
    file: str | None = None,
) -> dict[str, Any]:
    """One located diagnostic as the editor and ``tessera check`` show it."""
    line = (node.line if node is not None else 0) or 1
    column = (node.column if node is not None else 0) or 1
    end_line = (node.end_line if node is not None else 0) or line
    end_column = (node.end_column if node is not None else 0) or column + 1
    return {
        "file": file,
        "line": line,
        "column": column,
        "end": {"line": end_line, "column": end_column},
        "message": message,
        "severity": severity,
    }


def _options_text(options: Iterable[str]) -> str:
    return ", ".join(f'"{o}"' for o in options)


class Checker:
    """Type inference and refusals over one expression or one rule file."""

    def __init__(self, catalog: Catalog, *, file: str | None = None) -> None:
        self.catalog = catalog
        self.file = file
        self.out: Checked = Checked(ast.Literal(None, "null"), None)

    # ------------------------------------------------------------ reporting

    def error(self, node: ast.Node | None, message: str, severity: str = "error") -> None:
        self.out.diagnostics.append(diagnostic(node, message, severity, self.file))

    def _set(self, node: ast.Node, t: T) -> T:
        self.out.types[id(node)] = t
        return t

    # ------------------------------------------------------------ entry points

    def check_expression(self, node: ast.Expr, entity: str, *, want: str | None = None) -> Checked:
        self.out = Checked(node, entity)
        if not self._entity_ok(entity, node):
            return self.out
        t = self.expr(node, Scope(entity))
        if want == "boolean":
            self._want_boolean(node, t)
        return self.out

    def _entity_ok(self, entity: str, node: ast.Node) -> bool:
        if self.catalog.exists(entity):
            return True
        hint = self.catalog.suggest_entity(entity)
        self.error(
            node,
            _t(
                "There is no entity called '{entity}'; did you mean '{hint}'?",
                entity=entity,
                hint=hint,
            )
            if hint
            else _t("There is no entity called '{entity}'.", entity=entity),
        )
        return False

    def _want_boolean(self, node: ast.Expr, t: T) -> None:
        if t.kind not in ("boolean", "null", "any"):
            self.error(
                node,
                _t(
                    "A condition must be true or false, but this gives a {kind}. "
                    'Compare it with something, for example: x == "value" or x > 0.',
                    kind=t.describe(),
                ),
            )

    # ------------------------------------------------------------ expressions

    def expr(self, node: ast.Expr, scope: Scope) -> T:
        method = getattr(self, f"_e_{type(node).__name__}", None)
        if method is None:  # pragma: no cover - a node the checker does not know is a bug
            raise TypeError(f"the checker has no rule for {type(node).__name__}")
        return self._set(node, method(node, scope))

    def _e_Literal(self, node: ast.Literal, scope: Scope) -> T:
        return _LITERAL_TYPES[node.kind]

    def _e_ListLiteral(self, node: ast.ListLiteral, scope: Scope) -> T:
        item = NULL
        for element in node.items:
            t = self.expr(element, scope)
            merged = _unify(item, t)
            if merged is None:
                self.error(element, _t("All items of a list must be of the same kind."))
            else:
                item = merged
        return T("list", item=item)

    def _e_Name(self, node: ast.Name, scope: Scope) -> T:
        name = node.name
        if not node.quoted:
            if name in scope.variables:
                t = scope.variables[name]
                self.out.resolved[id(node)] = Resolved("it", name, t)
                return t
            if name == "old" and self.catalog.lookup(scope.entity, "old") is None:
                t = T("record", entity=scope.entity)
                self.out.resolved[id(node)] = Resolved("old", None, t)
                self.out.paths[id(node)] = "old"
                return t
            if name == "user" and self.catalog.lookup(scope.entity, "user") is None:
                t = T("record", entity=USER_ENTITY)
                self.out.resolved[id(node)] = Resolved("user", None, t)
                self.out.paths[id(node)] = "user"
                return t
        info = self.catalog.lookup(scope.entity, name, quoted=node.quoted)
        if info is None:
            if scope.events and name in EVENT_WORDS:
                self.out.resolved[id(node)] = Resolved("event", name, BOOLEAN)
                return BOOLEAN
            hint = self.catalog.suggest(scope.entity, name)
            where = scope.entity.split(".")[-1]
            self.error(node, _not_a_field(name, where, hint))
            return ANY
        self.out.resolved[id(node)] = Resolved("field", info.key, info.type, scope.entity)
        if "." not in scope.entity or not scope.variables:
            self.out.paths[id(node)] = info.key
        return info.type

    def _e_Attr(self, node: ast.Attr, scope: Scope) -> T:
        base = self.expr(node.obj, scope)
        if base.kind == "any":
            return ANY
        if base.entity is None or base.kind not in ("record", "string"):
            self.error(
                node,
                _t(
                    "'{name}' cannot be read from a {kind}; only references, "
                    "users, old and child-table rows have fields.",
                    name=node.name,
                    kind=base.describe(),
                ),
            )
            return ANY
        info = self.catalog.lookup(base.entity, node.name, quoted=node.quoted)
        if info is None:
            hint = self.catalog.suggest(base.entity, node.name)
            where = _t("a user") if base.entity == USER_ENTITY else base.entity.split(".")[-1]
            self.error(node, _not_a_field(node.name, where, hint))
            return ANY
        self.out.resolved[id(node)] = Resolved("field", info.key, info.type, base.entity)
        parent = self.out.paths.get(id(node.obj))
        if parent is not None:
            self.out.paths[id(node)] = f"{parent}.{info.key}"
        return info.type

    def _e_Index(self, node: ast.Index, scope: Scope) -> T:
        base = self.expr(node.obj, scope)
        index = self.expr(node.index, scope)
        if index.kind not in ("number", "null", "any"):
            self.error(node.index, _t("A position in a list must be a number (0 is the first)."))
        if base.kind == "list":
            return base.item or ANY
        if base.kind == "rows":
            return T("record", entity=base.entity)
        if base.kind != "any":
            self.error(
                node,
                _t("Only lists can be indexed with [...], not a {kind}.", kind=base.describe()),
            )
        return ANY

    def _e_Unary(self, node: ast.Unary, scope: Scope) -> T:
        t = self.expr(node.operand, scope)
        if node.op == "not":
            self._want_boolean(node.operand, t)
            return BOOLEAN
        if t.kind not in ("number", "duration", "null", "any"):
            self.error(
                node,
                _t("Only numbers and durations can be negated, not a {kind}.", kind=t.describe()),
            )
            return ANY
        return t

    def _e_BoolOp(self, node: ast.BoolOp, scope: Scope) -> T:
        for operand in node.operands:
            self._want_boolean(operand, self.expr(operand, scope))
        return BOOLEAN

    def _e_If(self, node: ast.If, scope: Scope) -> T:
        self._want_boolean(node.cond, self.expr(node.cond, scope))
        a = self.expr(node.then, scope)
        b = self.expr(node.else_, scope)
        merged = _unify(a, b)
        if merged is None:
            self.error(
                node,
                _t(
                    "Both branches must give the same kind of value; 'then' gives a "
                    "{then} and 'else' a {else_}.",
                    then=a.describe(),
                    else_=b.describe(),
                ),
            )
            return ANY
        return merged

    def _e_Binary(self, node: ast.Binary, scope: Scope) -> T:
        op = node.op
        left = self.expr(node.left, scope)
        right = self.expr(node.right, scope)
        if op in ("+", "-", "*", "/", "%"):
            return self._arith(node, op, left, right)
        if op in ("==", "!=", "<", "<=", ">", ">="):
            self._compare(node, op, left, right)
            return BOOLEAN
        if op in ("in", "not in"):
            self._membership(node, left, right)
            return BOOLEAN
        if op == "contains":
            if left.kind == "list":
                self._same_kind(node, left.item or ANY, right, "look for")
                self._enum(left.item, node.right)
            else:
                self._texts(node, left, right)
            return BOOLEAN
        if op in ("starts with", "ends with"):
            self._texts(node, left, right)
            return BOOLEAN
        if op == "matches":
            self._texts(node, left, right)
            pattern = node.right
            if isinstance(pattern, ast.Literal) and isinstance(pattern.value, str):
                try:
                    compile_pattern(pattern.value)
                except ValueError as exc:
                    self.error(
                        pattern,
                        _t(
                            "This pattern is not a valid regular expression: {problem}.",
                            problem=exc,
                        ),
                    )
            return BOOLEAN
        raise TypeError(op)  # pragma: no cover

    def _texts(self, node: ast.Binary, left: T, right: T) -> None:
        for side, t in ((node.left, left), (node.right, right)):
            if t.kind not in ("string", "null", "any"):
                self.error(
                    side,
                    _t(
                        "'{op}' works on text, but this is a {kind}.", op=node.op, kind=t.describe()
                    ),
                )

    def _arith(self, node: ast.Binary, op: str, a: T, b: T) -> T:
        k = (a.kind, b.kind)
        if "any" in k:
            return ANY
        if "null" in k:
            return b if a.kind == "null" else a
        if k == ("number", "number"):
            return NUMBER
        if op == "+":
            if k == ("string", "string"):
                return STRING
            if a.kind in ("date", "datetime") and b.kind == "duration":
                return T(a.kind)
            if b.kind in ("date", "datetime") and a.kind == "duration":
                return T(b.kind)
            if k == ("duration", "duration"):
                return DURATION
        if op == "-":
            if a.kind in ("date", "datetime") and b.kind == "duration":
                return T(a.kind)
            if a.kind == b.kind and a.kind in ("date", "datetime", "duration"):
                return DURATION
        if op == "*" and sorted(k) == ["duration", "number"]:
            return DURATION
        if op == "/" and k == ("duration", "number"):
            return DURATION
        hint = ""
        if op == "+" and "string" in k:
            hint = " " + _t("To join text with a number, use concat(...).")
        elif "date" in k and "datetime" in k:
            hint = " " + _t("Turn the date and time into a date with date(...).")
        self.error(
            node,
            _t(
                "'{op}' cannot combine a {left} with a {right}.",
                op=op,
                left=a.describe(),
                right=b.describe(),
            )
            + hint,
        )
        return ANY

    def _compare(self, node: ast.Binary, op: str, a: T, b: T) -> None:
        for side, rest in ((node.left, node.right), (node.right, node.left)):
            if isinstance(side, ast.Literal) and side.kind == "null":
                other = "is not null" if op == "!=" else "is null"
                subject = self.out.paths.get(id(rest), "x")
                if op in ("==", "!="):
                    self.error(
                        node,
                        _t(
                            "Nothing is ever equal to null; write '{subject} {test}' "
                            "(or '{subject} {blank_test}' to include blank text).",
                            subject=subject,
                            test=other,
                            blank_test=other.replace("null", "empty"),
                        ),
                    )
                else:
                    self.error(
                        node, _t("A comparison with null is never true; check 'is null' instead.")
                    )
                return
        if not self._same_kind(node, a, b, "compare"):
            return
        if op not in ("==", "!=") and a.kind in ("boolean", "list", "record", "rows"):
            self.error(
                node,
                _t(
                    "'{op}' needs values that have an order; a {kind} has none.",
                    op=op,
                    kind=a.describe(),
                ),
            )
        self._enum(a, node.right)
        self._enum(b, node.left)

    def _same_kind(self, node: ast.Node, a: T, b: T, verb: str) -> bool:
        if _unify(a, b) is not None:
            return True
        hint = ""
        if {a.kind, b.kind} == {"date", "datetime"}:
            hint = " " + _t("Use date(...) to compare just the day.")
        elif {a.kind, b.kind} == {"string", "number"}:
            hint = " " + _t("A number is written without quotes.")
        template = (
            _t("Cannot compare a {left} with a {right}.", left=a.describe(), right=b.describe())
            if verb == "compare"
            else _t(
                "Cannot look for a {left} with a {right}.", left=a.describe(), right=b.describe()
            )
        )
        self.error(node, template + hint)
        return False

    def _enum(self, t: T | None, literal: ast.Expr) -> None:
        """A text literal compared with a select field must be one of its options."""
        if t is None or not t.options:
            return
        values = literal.items if isinstance(literal, ast.ListLiteral) else (literal,)
        for v in values:
            if isinstance(v, ast.Literal) and isinstance(v.value, str) and v.value not in t.options:
                hint = closest(v.value, t.options)
                self.error(
                    v,
                    (
                        _t(
                            '"{value}" is not one of the options; did you mean "{hint}"?',
                            value=v.value,
                            hint=hint,
                        )
                        if hint
                        else _t('"{value}" is not one of the options.', value=v.value)
                    )
                    + " "
                    + _t("The options are {options}.", options=_options_text(t.options)),
                )

    def _membership(self, node: ast.Binary, left: T, right: T) -> None:
        if right.kind in ("any", "null"):
            return
        if right.kind != "list":
            self.error(
                node.right,
                _t(
                    '\'{op}\' needs a list on its right, like ["a", "b"], not a {kind}.',
                    op=node.op,
                    kind=right.describe(),
                ),
            )
            return
        item = right.item or ANY
        self._same_kind(node, left, item, "look for")
        self._enum(left, node.right)
        if isinstance(node.left, ast.Literal):
            self._enum(item, node.left)

    def _e_Between(self, node: ast.Between, scope: Scope) -> T:
        v = self.expr(node.value, scope)
        lo = self.expr(node.low, scope)
        hi = self.expr(node.high, scope)
        same = self._same_kind(node, v, lo, "compare") and self._same_kind(node, v, hi, "compare")
        if same and v.kind in ("boolean", "list", "record", "rows"):
            self.error(
                node,
                _t("'between' needs values that have an order, not a {kind}.", kind=v.describe()),
            )
        return BOOLEAN

    def _e_IsTest(self, node: ast.IsTest, scope: Scope) -> T:
        self.expr(node.operand, scope)
        return BOOLEAN

    def _e_Changed(self, node: ast.Changed, scope: Scope) -> T:
        t = self.expr(node.operand, scope)
        resolved = self.out.resolved.get(id(node.operand))
        known = resolved is not None or t.kind != "any"
        if known and (
            not isinstance(node.operand, ast.Name) or resolved is None or resolved.kind != "field"
        ):
            self.error(
                node.operand, _t("'changed' applies to a field of the record, like stage changed.")
            )
        for part in (node.to, node.from_):
            if part is not None:
                pt = self.expr(part, scope)
                self._same_kind(part, t, pt, "compare")
                self._enum(t, part)
        return BOOLEAN

    def _e_Call(self, node: ast.Call, scope: Scope) -> T:
        name = node.func
        args = node.args
        if name in AGGREGATE_NAMES and args:
            first = self.expr(args[0], scope)
            if first.kind == "rows":
                return self._aggregate(node, first, scope)
            if name not in ("min", "max"):
                self.error(
                    node,
                    _t(
                        "{name}(...) works over a child table, like {name}(items, it.amount > 0).",
                        name=name,
                    ),
                )
                for arg in args[1:]:
                    self.expr(arg, scope)
                return ANY
        fn = get_function(name)
        if fn is None:
            hint = closest(name, [*functions(), *AGGREGATE_NAMES])
            self.error(
                node,
                _t(
                    "There is no function called '{name}'; did you mean '{hint}'?",
                    name=name,
                    hint=hint,
                )
                if hint
                else _t("There is no function called '{name}'.", name=name),
            )
            for arg in args:
                self.expr(arg, scope)
            return ANY
        types = [self.out.types.get(id(a)) or self.expr(a, scope) for a in args]
        if len(args) < fn.required or (not fn.variadic and len(args) > len(fn.params)):
            expected = (
                _t("at least {count}", count=fn.required)
                if fn.variadic
                else (
                    _t("{low} to {high}", low=fn.required, high=len(fn.params))
                    if fn.required != len(fn.params)
                    else str(fn.required)
                )
            )
            self.error(
                node,
                _t(
                    "{name}(...) takes {expected} value(s), but {given} were given.",
                    name=name,
                    expected=expected,
                    given=len(args),
                ),
            )
            return _result(fn.returns, types)
        for i, (arg, t) in enumerate(zip(args, types)):
            kind = fn.params[min(i, len(fn.params) - 1)]
            if not _accepts(kind, t):
                self.error(
                    arg,
                    _t(
                        "{name}(...) expects {expected} here, but this is a {kind}.",
                        name=name,
                        expected=_kind_phrase(kind),
                        kind=t.describe(),
                    ),
                )
        if name in ("start_of", "end_of") and len(args) == 2:
            unit = args[1]
            if isinstance(unit, ast.Literal) and str(unit.value).lower() not in PERIODS:
                self.error(
                    unit,
                    _t("The period must be one of {options}.", options=_options_text(PERIODS)),
                )
        result = _result(fn.returns, types)
        if result is None:
            self.error(
                node, _t("The values given to {name}(...) are not all of the same kind.", name=name)
            )
            return ANY
        return result

    def _aggregate(self, node: ast.Call, rows: T, scope: Scope) -> T:
        name = node.func
        self.out.aggregates.add(id(node))
        inner = Scope(rows.entity or "", {**scope.variables, "it": T("record", entity=rows.entity)})
        inner.events = scope.events
        if len(node.args) == 1:
            if name != "count":
                self.error(
                    node,
                    _t(
                        "{name}(...) needs a second part, like {name}(items, it.amount).", name=name
                    ),
                )
            return NUMBER if name == "count" else ANY
        if len(node.args) > 2:
            self.error(node, _t("{name}(...) takes a child table and one expression.", name=name))
        t = self.expr(node.args[1], inner)
        if name in ("any", "all", "count"):
            self._want_boolean(node.args[1], t)
            return BOOLEAN if name != "count" else NUMBER
        if name in ("sum", "avg") and t.kind not in ("number", "null", "any"):
            self.error(
                node.args[1],
                _t("{name}(...) adds numbers, but this is a {kind}.", name=name, kind=t.describe()),
            )
            return NUMBER
        if name in ("sum", "avg"):
            return NUMBER
        return t

    # ------------------------------------------------------------ templates

    def template(self, owner: ast.Node, text: str, scope: Scope) -> None:
        """``{field}`` placeholders in a message are expressions, checked like any other."""
        parts: list[str | ast.Expr] = []
        last = 0
        for m in _PLACEHOLDER.finditer(text):
            parts.append(text[last : m.start()])
            last = m.end()
            try:
                inner = parse_expression(m.group(1))
            except Exception as exc:
                message = getattr(exc, "message", str(exc))
                self.error(
                    owner,
                    _t(
                        "The placeholder {{{placeholder}}} is not valid: {problem}",
                        placeholder=m.group(1),
                        problem=message,
                    ),
                )
                continue
            inner = _relocate(inner, owner)
            self.expr(inner, scope)
            parts.append(inner)
        parts.append(text[last:])
        self.out.templates[id(owner)] = parts


def _relocate(node: ast.Expr, owner: ast.Node) -> ast.Expr:
    """Placeholders report at their message (their own positions are inside the string)."""
    import dataclasses

    return dataclasses.replace(
        node,
        line=owner.line,
        column=owner.column,
        end_line=owner.end_line,
        end_column=owner.end_column,
    )


def _unify(a: T, b: T) -> T | None:
    """The common type of two values, or None when they cannot meet."""
    if a.kind in ("null", "any"):
        return b
    if b.kind in ("null", "any"):
        return a
    if a.kind != b.kind:
        return None
    if a.kind == "list":
        item = _unify(a.item or NULL, b.item or NULL)
        return None if item is None else T("list", item=item)
    if a.kind == "record" and a.entity != b.entity:
        return None
    return a if a.options or a.entity else b


def _accepts(kind: str, t: T) -> bool:
    if kind in ("any", "common", "arg0") or t.kind in ("null", "any"):
        return True
    if kind == "temporal":
        return t.kind in ("date", "datetime")
    return t.kind == kind


def _kind_phrase(kind: str) -> str:
    phrases = {
        "number": _t("a number"),
        "string": _t("a text"),
        "temporal": _t("a date or a date and time"),
        "date": _t("a date"),
        "datetime": _t("a date and time"),
        "duration": _t("a duration"),
        "boolean": _t("a yes/no value"),
        "list": _t("a list"),
    }
    return phrases.get(kind) or _t("a value")


def _result(returns: str, types: list[T]) -> T | None:
    if returns == "arg0":
        return types[0] if types else ANY
    if returns == "common":
        out = NULL
        for t in types:
            merged = _unify(out, t)
            if merged is None:
                return None
            out = merged
        return T(out.kind, item=out.item) if out.kind != "null" else ANY
    return T(returns)


def _not_a_field(name: str, where: str, hint: str | None) -> str:
    if hint:
        return _t(
            "'{name}' is not a field of {where}; did you mean '{hint}'?",
            name=name,
            where=where,
            hint=hint,
        )
    return _t("'{name}' is not a field of {where}.", name=name, where=where)


__all__ = ["Checked", "Checker", "Resolved", "Scope", "diagnostic"]
