"""Rule sets to Python: one generated function per rule set, with an optional trace.

The function takes ``(r, old, user, ctx, t)``; when ``t`` is a list it
appends ``(rule_index, fired, value)`` for each rule it evaluated, so a
trace costs nothing when nobody asks for it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from engine.rules import ast
from engine.rules.check import Checked
from engine.rules.compile_py import ARGS, PyCompiler
from engine.rules.runtime import as_number

#: The local the generated functions read record fields through (``rg(key)``).
GETTER = "rg"


@dataclass
class CompiledRuleSet:
    """A rule set ready to run, plus what a trace needs to explain it."""

    node: ast.RuleSet
    kind: str
    run: Callable[..., Any]
    source: str
    labels: list[str]
    lines: list[int]
    reads: list[list[str]]
    readers: dict[str, Callable[..., Any]] = field(default_factory=dict)
    target: Any = None


def _indent(lines: list[str]) -> str:
    return "".join(f"    {line}\n" for line in lines)


def _cond(c: PyCompiler, node: ast.Expr | None) -> str:
    return c.cond(node)


def _scoring(c: PyCompiler, rs: ast.Scoring, rules: list[Any]) -> list[str]:
    out = ["total = 0"]
    for item in rs.items:
        group = isinstance(item, ast.ScoreGroup)
        acc = "g" if group else "total"
        if group:
            out.append("g = 0")
        for rule in item.rules if group else (item,):
            i = len(rules)
            rules.append(rule)
            if isinstance(rule.points, ast.Literal) and rule.points.kind == "number":
                # constant points: negated and made a number once, here
                value = as_number(rule.points.value)
                k = c.const(-value if rule.sign < 0 else value)
                out += [
                    f"f = {_cond(c, rule.when)}",
                    f"if f: {acc} = {acc} + {k}",
                    f"if t is not None: t.append(({i}, f, {k} if f else None))",
                ]
                continue
            points = c.expr(rule.points)
            if rule.sign < 0:
                points = f"_neg({points})"
            out += [
                f"f = {_cond(c, rule.when)}",
                f"p = _as_number({points}) if f else None",
                f"if p is not None: {acc} = {acc} + p",
                f"if t is not None: t.append(({i}, f, p))",
            ]
        if group:
            out.append(f"total = total + _clamp_total(g, {c.const(item.cap)})")
    out.append(f"return _clamp_total(total, {c.const(rs.cap)})")
    return out


def _first_match(
    c: PyCompiler, items: list[Any], rules: list[Any], value: Callable[[Any], str]
) -> list[str]:
    out = []
    for rule in items:
        i = len(rules)
        rules.append(rule)
        out += [
            f"f = {_cond(c, rule.when)}",
            "if f:",
            f"    v = {value(rule)}",
            f"    if t is not None: t.append(({i}, True, v))",
            "    return v",
            f"if t is not None: t.append(({i}, False, None))",
        ]
    out.append("return None")
    return out


def _route_value(c: PyCompiler, rule: ast.RouteRule) -> str:
    action = c.action(rule.action)  # always a dict display: "{'type': ...}"
    return f"{{'rule': {c.const(rule.label)}, {action[1:]}"


def _table(c: PyCompiler, rs: ast.DecisionTable, rules: list[Any], options: Any) -> list[str]:
    out = [f"v{n} = {c.expr(e)}" for n, e in enumerate(rs.inputs)]
    out.append("m = []")
    for row in rs.rows:
        i = len(rules)
        rules.append(row)
        cells = []
        for n, cell in enumerate(row.inputs):
            if cell.any:
                continue
            tests = []
            for test in cell.tests:
                if test.op == "range":
                    tests.append(
                        f"_between(v{n}, {c.expr(test.value)}, {c.expr(test.high)})"  # type: ignore[arg-type]
                    )
                else:
                    helper = {"==": "_eq", "!=": "_ne", "<": "_lt", "<=": "_le", ">": "_gt",
                              ">=": "_ge"}[test.op]  # fmt: skip
                    tests.append(f"{helper}(v{n}, {c.expr(test.value)})")
            joined = tests[0] if len(tests) == 1 else "_or_(" + ", ".join(tests) + ")"
            cells.append(f"_not_({joined})" if cell.negated else joined)
        cond = "True" if not cells else "_and_(" + ", ".join(cells) + ") is True"
        outputs = [c.expr(o) for o in row.outputs]
        if len(outputs) == 1:
            value = outputs[0]
        else:
            value = "{" + ", ".join(f"{c.const(k)}: {v}" for k, v in zip(rs.targets, outputs)) + "}"
        out += [
            f"f = {cond}",
            f"if f: m.append(({i}, {value}))",
            f"if t is not None: t.append(({i}, f, m[-1][1] if f else None))",
        ]
    out.append(f"return _hit({c.const(rs.name)}, {c.const(rs.policy)}, m, {c.const(options)})")
    return out


def _validation(c: PyCompiler, rs: ast.Validation, rules: list[Any], checked: Checked) -> list[str]:
    out = ["msgs = []"]
    for rule in rs.rules:
        i = len(rules)
        rules.append(rule)
        fields = shown_on(checked, rule)
        out += [
            f"f = {_cond(c, rule.when)}",
            f"if f: msgs.append({{'severity': {c.const(rule.severity)}, "
            f"'message': {c.template(rule, rule.message)}, 'fields': {c.const(fields)}, "
            f"'rule': {c.const(rule.message)}}})",
            f"if t is not None: t.append(({i}, f, None))",
        ]
    out.append("return msgs")
    return out


def shown_on(checked: Checked, rule: ast.CheckRule) -> list[str]:
    """The fields a validation message is shown at: its ``on FIELD``, else every field of
    the record its condition reads."""
    if rule.field:
        return [rule.field]
    return [p for p in checked.reads(rule.when) if "." not in p]


def _actions_run(
    c: PyCompiler,
    cond: ast.Expr | None,
    actions: tuple[ast.Action, ...],
    rules: list[Any],
    owner: ast.Node,
) -> list[str]:
    rules.append(owner)
    listed = ", ".join(c.action(a) for a in actions)
    return [
        f"f = {_cond(c, cond)}",
        "if t is not None: t.append((0, f, None))",
        f"return {{'fired': f, 'actions': [{listed}] if f else []}}",
    ]


def compile_ruleset(
    rs: ast.RuleSet, checked: Checked, tz: dt.tzinfo, options: Any = None
) -> CompiledRuleSet:
    """Generate, compile and wrap one rule set. ``options`` are the enum options of a
    table's target (its order is the ``priority`` policy's order)."""
    c = PyCompiler(checked, tz)
    c.record_getter = GETTER
    prologue = f"{GETTER} = _getter(r)"
    rules: list[Any] = []
    if not isinstance(rs, ast.Trigger | ast.Schedule):  # actions may change the record
        c.hoist = {}
    if isinstance(rs, ast.Scoring):
        body, kind, target = _scoring(c, rs, rules), "scoring", rs.target
    elif isinstance(rs, ast.Grading):
        body = _first_match(c, list(rs.rules), rules, lambda r: c.expr(r.output))
        kind, target = "grading", rs.target
    elif isinstance(rs, ast.Routing):
        body = _first_match(c, list(rs.rules), rules, lambda r: _route_value(c, r))
        kind, target = "routing", None
    elif isinstance(rs, ast.DecisionTable):
        body, kind = _table(c, rs, rules, options), "table"
        target = rs.targets[0] if len(rs.targets) == 1 else list(rs.targets)
    elif isinstance(rs, ast.Validation):
        body, kind, target = _validation(c, rs, rules, checked), "validation", None
    elif isinstance(rs, ast.Trigger):
        body, kind, target = _actions_run(c, rs.when, rs.actions, rules, rs), "trigger", None
    elif isinstance(rs, ast.Schedule):
        body, kind, target = _actions_run(c, rs.where, rs.actions, rules, rs), "schedule", None
    else:  # pragma: no cover
        raise NotImplementedError(type(rs).__name__)
    source = f"def _ruleset({ARGS}, t=None):\n" + _indent([prologue, *c.hoisted, *body])
    c.hoist = None  # the readers below read one field each
    readers_src = []
    read_names = {}
    for n, (path, node) in enumerate(sorted(c.reads.items())):
        read_names[path] = f"_read{n}"
        readers_src.append(
            f"def _read{n}({ARGS}):\n    {prologue}\n    return {c.expr(node)}\n"  # type: ignore[arg-type]
        )
    full = source + "".join(readers_src)
    run = c.build(full, "_ruleset")
    readers = {path: c.build(full, name) for path, name in read_names.items()}
    labels, lines, reads = [], [], []
    for rule in rules:
        labels.append(_label(rule))
        lines.append(rule.line)
        reads.append(_rule_reads(checked, rule, rs))
    return CompiledRuleSet(rs, kind, run, full, labels, lines, reads, readers, target)


def _label(rule: Any) -> str:
    if isinstance(rule, ast.ScoreRule | ast.RouteRule):
        return rule.label
    if isinstance(rule, ast.GradeRule):
        out = rule.output
        return str(out.value) if isinstance(out, ast.Literal) else "(computed)"
    if isinstance(rule, ast.CheckRule):
        return rule.message
    if isinstance(rule, ast.TableRow):
        return f"row {rule.line}"
    return getattr(rule, "name", "rule")


def _rule_reads(checked: Checked, rule: Any, rs: ast.RuleSet) -> list[str]:
    found: set[str] = set()
    if isinstance(rule, ast.TableRow) and isinstance(rs, ast.DecisionTable):
        for e in rs.inputs:
            found.update(checked.reads(e))
    for child in rule.children():
        if isinstance(child, ast.Expr):
            found.update(checked.reads(child))
    if isinstance(rule, ast.ScoreRule):
        found.update(checked.reads(rule.points))
    if isinstance(rule, ast.RouteRule | ast.Trigger | ast.Schedule):
        for a in ast.walk(rule):
            if isinstance(a, ast.Expr) and id(a) in checked.paths:
                found.add(checked.paths[id(a)])
    return sorted(p for p in found if not any(o.startswith(p + ".") for o in found))


__all__ = ["CompiledRuleSet", "compile_ruleset", "shown_on"]
