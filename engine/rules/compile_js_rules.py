"""Rule sets to JavaScript: one function per rule set, the twin of compile_rules.

Every kind compiles (scoring, grading, routing, tables, validation, triggers,
schedules), so the editor can show what a rule set would do to the record on
screen before it is saved. The function takes ``(r, old, user, ctx, t)`` and,
when ``t`` is an array, pushes ``[rule_index, fired, value]`` for each rule it
evaluated, as the Python function appends to its trace list. The value has
the shape the Python rule set returns (scores, grades, action objects,
validation messages), with the runtime's values inside (see
``TesseraRules.exact``). A ``unique`` table with two matching rows throws.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from engine.rules import ast
from engine.rules.check import Checked
from engine.rules.compile_js import JsCompiler
from engine.rules.compile_rules import shown_on

_TESTS = {"==": "T.eq", "!=": "T.ne", "<": "T.lt", "<=": "T.le", ">": "T.gt", ">=": "T.ge"}


def _cond(c: JsCompiler, node: ast.Expr | None) -> str:
    return "true" if node is None else f"({c.expr(node)}) === true"


def _trace(i: int, fired: str, value: str) -> str:
    return f"if (t) t.push([{i}, {fired}, {value}]);"


def _scoring(c: JsCompiler, rs: ast.Scoring) -> list[str]:
    out, n = ["let total = 0n, f, p, g;"], 0
    for item in rs.items:
        group = isinstance(item, ast.ScoreGroup)
        acc = "g" if group else "total"
        if group:
            out.append("g = 0n;")
        for rule in item.rules if group else (item,):
            points = c.expr(rule.points)
            if rule.sign < 0:
                points = f"T.neg({points})"
            out += [
                f"f = {_cond(c, rule.when)};",
                f"p = f ? T.asNumber({points}) : null;",
                f"if (p !== null) {acc} = T.add({acc}, p);",
                _trace(n, "f", "p"),
            ]
            n += 1
        if group:
            out.append(f"total = T.add(total, T.clampTotal(g, {_number(c, item.cap)}));")
    out.append(f"return T.clampTotal(total, {_number(c, rs.cap)});")
    return out


def _number(c: JsCompiler, value: Any) -> str:
    return "null" if value is None else c.expr(ast.Literal(value, "number"))


def _first_match(c: JsCompiler, items: list[Any], value: Callable[[Any], str]) -> list[str]:
    out = ["let v;"]
    for i, rule in enumerate(items):
        out += [
            f"if ({_cond(c, rule.when)}) {{",
            f"  v = {value(rule)};",
            f"  {_trace(i, 'true', 'v')}",
            "  return v;",
            "}",
            _trace(i, "false", "null"),
        ]
    out.append("return null;")
    return out


def _object(c: JsCompiler, pairs: list[tuple[str, str]]) -> str:
    return "{" + ", ".join(f"[{c.text(k)}]: {v}" for k, v in pairs) + "}"


def action(c: JsCompiler, node: ast.Action) -> list[tuple[str, str]]:
    """The fields of an action object, as compile_py's ``action`` builds them."""
    if isinstance(node, ast.SetAction):
        return [
            ("type", c.text("set")),
            ("field", c.text(node.target)),
            ("value", c.expr(node.value)),
        ]
    if isinstance(node, ast.AssignAction):
        return [
            ("type", c.text("assign")),
            ("to", c.text(node.kind)),
            ("target", c.expr(node.target)),
            ("strategy", c.text(node.strategy)),
        ]
    if isinstance(node, ast.TaskAction):
        due = c.expr(node.due) if node.due is not None else "null"
        return [
            ("type", c.text("task")),
            ("title", template(c, node, node.title)),
            ("for", c.expr(node.assignee)),
            ("due_in", due),
        ]
    if isinstance(node, ast.NotifyAction):
        return [
            ("type", c.text("notify")),
            ("to", c.expr(node.recipient)),
            ("message", template(c, node, node.message)),
        ]
    if isinstance(node, ast.SimpleAction):
        return [("type", c.text(node.kind)), ("name", template(c, node, node.name))]
    raise NotImplementedError(type(node).__name__)


def template(c: JsCompiler, owner: ast.Node, text: str) -> str:
    """A message with ``{field}`` placeholders: the parts the checker split, joined by T.fmt."""
    parts = c.checked.templates.get(id(owner))
    if not parts:
        return c.text(text)
    pieces = [c.text(p) if isinstance(p, str) else c.expr(p) for p in parts]
    return "T.fmt(" + ", ".join(pieces) + ")"


def _table(c: JsCompiler, rs: ast.DecisionTable, options: Any) -> list[str]:
    out = [f"const v{n} = {c.expr(e)};" for n, e in enumerate(rs.inputs)]
    out.append("const m = [];")
    out.append("let f;")
    for i, row in enumerate(rs.rows):
        cells = []
        for n, cell in enumerate(row.inputs):
            if cell.any:
                continue
            tests = []
            for test in cell.tests:
                if test.op == "range":
                    high = c.expr(test.high)  # type: ignore[arg-type]
                    tests.append(f"T.between(v{n}, {c.expr(test.value)}, {high})")
                else:
                    tests.append(f"{_TESTS[test.op]}(v{n}, {c.expr(test.value)})")
            joined = tests[0] if len(tests) == 1 else "T.or(" + ", ".join(tests) + ")"
            cells.append(f"T.not({joined})" if cell.negated else joined)
        cond = "true" if not cells else "T.and(" + ", ".join(cells) + ") === true"
        outputs = [c.expr(o) for o in row.outputs]
        value = outputs[0] if len(outputs) == 1 else _object(c, list(zip(rs.targets, outputs)))
        out += [
            f"f = {cond};",
            f"if (f) m.push([{i}, {value}]);",
            _trace(i, "f", "f ? m[m.length - 1][1] : null"),
        ]
    name, policy, opts = c.text(rs.name), c.text(rs.policy), c.text(options)
    out.append(f"return T.hit({name}, {policy}, m, {opts});")
    return out


def _validation(c: JsCompiler, rs: ast.Validation, checked: Checked) -> list[str]:
    out = ["const msgs = [];", "let f;"]
    for i, rule in enumerate(rs.rules):
        fields = shown_on(checked, rule)
        message = _object(
            c,
            [
                ("severity", c.text(rule.severity)),
                ("message", template(c, rule, rule.message)),
                ("fields", c.text(fields)),
                ("rule", c.text(rule.message)),
            ],
        )
        out += [
            f"f = {_cond(c, rule.when)};",
            f"if (f) msgs.push({message});",
            _trace(i, "f", "null"),
        ]
    out.append("return msgs;")
    return out


def _actions_run(
    c: JsCompiler, cond: ast.Expr | None, actions: tuple[ast.Action, ...]
) -> list[str]:
    listed = ", ".join(_object(c, action(c, a)) for a in actions)
    return [
        f"const f = {_cond(c, cond)};",
        _trace(0, "f", "null"),
        f"return {{fired: f, actions: f ? [{listed}] : []}};",
    ]


def compile_js_ruleset(
    rs: ast.RuleSet, checked: Checked, tz: dt.tzinfo | str = "UTC", options: Any = None
) -> str:
    """JavaScript source of ``(r, old, user, ctx, t) => value`` for one checked rule set.

    ``options`` are the enum options of a table's target (the ``priority``
    order), as for :func:`engine.rules.compile_rules.compile_ruleset`.
    Raises :class:`~engine.rules.compile_js.JsUnsupported` for a function
    with no JavaScript spelling.
    """
    c = JsCompiler(checked, tz)
    if isinstance(rs, ast.Scoring):
        body = _scoring(c, rs)
    elif isinstance(rs, ast.Grading):
        body = _first_match(c, list(rs.rules), lambda r: c.expr(r.output))
    elif isinstance(rs, ast.Routing):
        body = _first_match(
            c,
            list(rs.rules),
            lambda r: _object(c, [("rule", c.text(r.label)), *action(c, r.action)]),
        )
    elif isinstance(rs, ast.DecisionTable):
        body = _table(c, rs, options)
    elif isinstance(rs, ast.Validation):
        body = _validation(c, rs, checked)
    elif isinstance(rs, ast.Trigger):
        body = _actions_run(c, rs.when, rs.actions)
    elif isinstance(rs, ast.Schedule):
        body = _actions_run(c, rs.where, rs.actions)
    else:  # pragma: no cover
        raise NotImplementedError(type(rs).__name__)
    return c.function(body, "r, old, user, ctx, t")


__all__ = ["action", "compile_js_ruleset", "template"]
