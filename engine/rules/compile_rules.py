"""Rule sets to Python: one generated function per rule set, with an optional trace.

The function takes ``(r, old, user, ctx, t)``; when ``t`` is a list it
appends ``(rule_index, fired, value)`` for each rule it evaluated, so a
trace costs nothing when nobody asks for it.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from engine.rules import ast, compile_py_chain, compile_py_special
from engine.rules.check import Checked
from engine.rules.compile_py import ARGS, PyCompiler
from engine.rules.compile_py_numbers import clean
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
    #: Scoring, grading and routing: ``many(records, old, user, ctx, write)``, the values
    #: of the records in order, as ``run`` gives them one by one (no trace).
    many: Callable[..., list[Any]] | None = None
    #: Scoring: whether its special body always gives an ``int`` (see :func:`special_body`);
    #: None until a one-pass chain first asks, then kept for this version of the set.
    whole: bool | None = None

    def write_back(self, record: dict[str, Any], value: Any) -> None:
        """Write this rule set's ``value`` into ``record`` as a save does, for the rule sets
        after it (a chain run set by set, or fused: compile_py_pass)."""
        if self.kind == "routing" and isinstance(value, dict):
            if value.get("type") == "assign" and value.get("to") in ("user", "field"):
                record["owner"] = value.get("target")
            elif value.get("type") == "assign" and value.get("to") == "team":
                record["team"] = value.get("target")
            elif value.get("type") == "set":
                record[value["field"]] = value["value"]
        elif isinstance(self.target, list) and isinstance(value, dict):
            record.update(value)
        elif self.target is not None:
            record[self.target] = value


def _indent(lines: list[str]) -> str:
    return "".join(f"    {line}\n" for line in lines)


def _cond(c: PyCompiler, node: ast.Expr | None) -> str:
    return c.cond(node)


def _traced(lines: list[str], traced: bool) -> list[str]:
    """The body as generated, or without its trace bookkeeping (the fast body)."""
    if traced:
        return lines
    return [line for line in lines if not line.lstrip().startswith("if t is not None:")]


def _flush(c: PyCompiler) -> list[str]:
    """The reads hoisted while compiling one rule, to place just before it: a first-match
    rule set that returns early then skips the reads only later rules need."""
    lines = list(c.hoisted)
    c.hoisted.clear()
    return lines


def _exclusive(c: PyCompiler, node: ast.Expr | None) -> tuple[str, frozenset[Any]] | None:
    """``(field, values)`` for ``field == literal`` or ``field in [literals]``: two such
    tests of one field with no value in common can't both hold, so they chain with elif."""
    if not isinstance(node, ast.Binary) or node.op not in ("==", "in"):
        return None
    path = c.checked.paths.get(id(node.left))
    if not isinstance(node.left, ast.Name) or path is None or "." in path:
        return None
    items = node.right.items if isinstance(node.right, ast.ListLiteral) else (node.right,)
    if node.op == "in" and not isinstance(node.right, ast.ListLiteral):
        return None
    if not items or not all(isinstance(i, ast.Literal) and i.kind != "null" for i in items):
        return None
    try:
        return path, frozenset(i.value for i in items)  # type: ignore[union-attr]
    except TypeError:  # an unhashable literal: no chaining
        return None


#: What a body does with its value: ``return`` it (the per-record functions), or, in the
#: batch loop, append it (and write it into the record) and go on to the next record.
Emit = Callable[[str], list[str]]


def _returned(value: str) -> list[str]:
    return [f"return {value}"]


def _scoring(
    c: PyCompiler, rs: ast.Scoring, rules: list[Any], traced: bool, emit: Emit = _returned
) -> list[str]:
    out = ["total = 0"]
    chain: tuple[str, set[Any]] | None = None  # the field and values of the open elif chain
    # the local and ranges of an open chain of disjoint ranges (compile_py_chain)
    ranges: tuple[str, list[compile_py_chain.Range]] | None = None
    for item in rs.items:
        group = isinstance(item, ast.ScoreGroup)
        acc = "g" if group else "total"
        if group:
            out.append("g = 0")
            chain = ranges = None
        for rule in item.rules if group else (item,):
            i = len(rules)
            rules.append(rule)
            if isinstance(rule.points, ast.Literal) and rule.points.kind == "number":
                # constant points: negated and made a number once, here
                value = as_number(rule.points.value)
                k = c.const(-value if rule.sign < 0 else value)
                cond = _cond(c, rule.when)
                hoisted = _flush(c)
                if not traced:
                    test = compile_py_chain.guarded(c, rule.when)
                    if test is not None and test.span is not None:
                        span = test.span
                        # a local the special body's guard proved never null needs no test
                        pad = "" if compile_py_special.non_null(c, test.local) else "    "
                        if (
                            not hoisted
                            and ranges
                            and ranges[0] == test.local
                            and all(span.disjoint(s) for s in ranges[1])
                        ):
                            kept = compile_py_chain.narrowed(c, test, ranges[1])
                            ranges[1].append(span)
                            out.append(f"{pad}elif {kept}: {acc} = {acc} + {k}")
                            continue
                        out += hoisted
                        if pad:
                            out.append(f"if {test.local} is not None:")
                        out.append(f"{pad}if {test.test}: {acc} = {acc} + {k}")
                        ranges, chain = (test.local, [test.span]), None
                        continue
                    ranges = None
                    excl = _exclusive(c, rule.when)
                    same = excl and not hoisted and chain and chain[0] == excl[0]
                    if same and not chain[1] & excl[1]:  # type: ignore[index]
                        chain[1].update(excl[1])  # type: ignore[index]
                        out.append(f"elif {cond}: {acc} = {acc} + {k}")
                        continue
                    out += hoisted
                    out.append(f"if {cond}: {acc} = {acc} + {k}")
                    chain = (excl[0], set(excl[1])) if excl else None
                    continue
                out += [
                    *hoisted,
                    f"f = {cond}",
                    f"if f: {acc} = {acc} + {k}",
                    f"if t is not None: t.append(({i}, f, {k} if f else None))",
                ]
                continue
            chain = ranges = None
            points = c.expr(rule.points)
            if rule.sign < 0:
                points = f"_neg({points})"
            if not clean(c, rule.points):
                points = f"_as_number({points})"
            if not traced and rule.when is None:
                if clean(c, rule.points) and compile_py_special.never_null(c, rule.points):
                    out += [*_flush(c), f"{acc} = {acc} + {points}"]
                    continue
                out += [*_flush(c), f"p = {points}", f"if p is not None: {acc} = {acc} + p"]
                continue
            cond = _cond(c, rule.when)
            out += [
                *_flush(c),
                f"f = {cond}",
                f"p = {points} if f else None",
                f"if p is not None: {acc} = {acc} + p",
                f"if t is not None: t.append(({i}, f, p))",
            ]
        if group:
            out.append(f"total = total + _clamp_total(g, {c.const(item.cap)})")
            chain = ranges = None
    if rs.cap is None:
        out += emit("total")  # never null: it starts at 0 and adds numbers only
    else:
        out += emit(f"_clamp_total(total, {c.const(rs.cap)})")
    return out


def _first_match(
    c: PyCompiler,
    items: list[Any],
    rules: list[Any],
    value: Callable[[Any], str],
    traced: bool,
    emit: Emit = _returned,
) -> list[str]:
    out = []
    guard = None  # the local whose null test the previous rule opened (compile_py_chain)
    for rule in items:
        i = len(rules)
        rules.append(rule)
        cond = _cond(c, rule.when)
        result = value(rule)
        hoisted = _flush(c)
        out += hoisted
        if not traced:
            if rule.when is None:
                out += emit(result)
                return out  # nothing after an unconditional rule runs
            test = compile_py_chain.guarded(c, rule.when)
            if test is None:
                guard = None
                out += [f"if {cond}:", *(f"    {line}" for line in emit(result))]
                continue
            if compile_py_special.non_null(c, test.local):  # the guard proved it: no test
                guard = None
                out += [f"if {test.test}:", *(f"    {line}" for line in emit(result))]
                continue
            if hoisted or guard != test.local:  # the first rule should it be null skips all
                out.append(f"if {test.local} is not None:")
            guard = test.local
            out += [f"    if {test.test}:", *(f"        {line}" for line in emit(result))]
            continue
        out += [
            f"f = {cond}",
            "if f:",
            f"    v = {result}",
            f"    if t is not None: t.append(({i}, True, v))",
            "    return v",
            f"if t is not None: t.append(({i}, False, None))",
        ]
    out += emit("None")
    return out


def _route_value(c: PyCompiler, rule: ast.RouteRule) -> str:
    a = rule.action
    target = a.target if isinstance(a, ast.AssignAction) else None
    if isinstance(target, ast.Literal) and target.kind in ("string", "null"):
        # every value known here: a fresh copy of one dict, cheaper than building it
        value = {"rule": rule.label, "type": "assign", "to": a.kind}  # type: ignore[union-attr]
        value.update(target=target.value, strategy=a.strategy)  # type: ignore[union-attr]
        return f"{c.const(value)}.copy()"
    action = c.action(a)  # always a dict display: "{'type': ...}"
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


_KINDS: dict[type, str] = {
    ast.Scoring: "scoring",
    ast.Grading: "grading",
    ast.Routing: "routing",
    ast.DecisionTable: "table",
    ast.Validation: "validation",
    ast.Trigger: "trigger",
    ast.Schedule: "schedule",
}


def _body(
    c: PyCompiler,
    rs: ast.RuleSet,
    rules: list[Any],
    options: Any,
    checked: Checked,
    traced: bool,
    emit: Emit = _returned,
) -> list[str]:
    """The statements of one rule set's function, with or without its trace; ``emit``
    (scoring, grading, routing) says what becomes of the value."""
    if isinstance(rs, ast.Scoring):
        return _scoring(c, rs, rules, traced, emit)
    if isinstance(rs, ast.Grading):
        return _first_match(c, list(rs.rules), rules, lambda r: c.expr(r.output), traced, emit)
    if isinstance(rs, ast.Routing):
        return _first_match(c, list(rs.rules), rules, lambda r: _route_value(c, r), traced, emit)
    if isinstance(rs, ast.DecisionTable):
        return _traced(_table(c, rs, rules, options), traced)
    if isinstance(rs, ast.Validation):
        return _traced(_validation(c, rs, rules, checked), traced)
    if isinstance(rs, ast.Trigger):
        return _traced(_actions_run(c, rs.when, rs.actions, rules, rs), traced)
    if isinstance(rs, ast.Schedule):
        return _traced(_actions_run(c, rs.where, rs.actions, rules, rs), traced)
    raise NotImplementedError(type(rs).__name__)  # pragma: no cover


def compile_ruleset(
    rs: ast.RuleSet, checked: Checked, tz: dt.tzinfo, options: Any = None, special: bool = True
) -> CompiledRuleSet:
    """Generate, compile and wrap one rule set. ``options`` are the enum options of a
    table's target (its order is the ``priority`` policy's order). ``special=False``
    leaves out the specialised body (compile_py_special), for tests that compare the two."""
    c = PyCompiler(checked, tz)
    c.record_getter = GETTER
    # dict records, the usual case, need no call to find their reader
    prologue = f"{GETTER} = r.get if _type(r) is _dict else _getter(r)"
    rules: list[Any] = []
    if not isinstance(rs, ast.Trigger | ast.Schedule):  # actions may change the record
        c.hoist = {}
    kind, target = _KINDS[type(rs)], None
    if isinstance(rs, ast.Scoring | ast.Grading):
        target = rs.target
    elif isinstance(rs, ast.DecisionTable):
        target = rs.targets[0] if len(rs.targets) == 1 else list(rs.targets)
    # Two bodies from one compiler (so one set of hoisted reads): the traced one appends an
    # entry per rule to ``t``; the fast one, run when nobody asks for a trace, has none of
    # that bookkeeping.
    traced = _body(c, rs, rules, options, checked, traced=True)
    traced_head = list(c.hoisted)  # what the body did not place itself
    if c.hoist is not None:  # each body reads its fields afresh
        c.hoist, c.hoisted = {}, []
    fast = _body(c, rs, [], options, checked, traced=False)
    fast = [*c.hoisted, *fast]  # what the body did not place itself goes first
    special = _special(c, rs, options, checked, _returned) if _specialised(rs, special) else []
    fast_head = ["if t is not None: return _ruleset_traced(r, old, user, ctx, t)", *special]
    source = (
        f"def _ruleset({ARGS}, t=None):\n"
        + _indent([*fast_head, prologue, *fast])
        + f"def _ruleset_traced({ARGS}, t):\n"
        + _indent([prologue, *traced_head, *traced])
    )
    many_name = None
    if isinstance(rs, BATCHED):
        c.hoist, c.hoisted = {}, []
        source += _batch_source(c, rs, options, checked, prologue, target, special)
        many_name = "_ruleset_many"
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
    many = c.build(full, many_name) if many_name else None
    readers = {path: c.build(full, name) for path, name in read_names.items()}
    labels, lines, reads = [], [], []
    for rule in rules:
        labels.append(_label(rule))
        lines.append(rule.line)
        reads.append(_rule_reads(checked, rule, rs))
    return CompiledRuleSet(rs, kind, run, full, labels, lines, reads, readers, target, many)


#: The rule sets that also get a batch function (one value per record, no trace).
BATCHED = (ast.Scoring, ast.Grading, ast.Routing)


def _specialised(rs: ast.RuleSet, wanted: bool) -> bool:
    """Whether ``rs`` gets a specialised body: scoring, grading and routing (pure, and
    ending every path in a value), unless the caller asked for the general body only."""
    return wanted and isinstance(rs, BATCHED)


@dataclass
class SpecialBody:
    """The parts of a specialised body (compile_py_special), before they are put together:
    the subscript reads, the guard tests and the body lines. A one-pass chain of rule
    sets (compile_py_pass) renames and merges the parts of several rule sets."""

    #: ``(local, field key)`` of each subscript read, in order
    keys: list[tuple[str, str]]
    #: the read lines (``local = r[_k3]``), one per entry of ``keys``
    reads: list[str]
    #: the guard's tests, in order
    guards: list[str]
    #: each guarded local's test (one of ``guards``)
    known: dict[str, str]
    #: the body: hoisted lines, then the rules, every path ending in ``emit``
    lines: list[str]
    #: whether every value the body gives is an ``int`` (compile_py_special.whole_total);
    #: None when the caller did not ask
    whole: bool | None = None


def special_body(
    c: PyCompiler,
    rs: ast.RuleSet,
    options: Any,
    checked: Checked,
    emit: Emit,
    prefix: str = "_s",
    *,
    whole: bool = False,
) -> SpecialBody:
    """Compile ``rs``'s specialised body with ``c``, its locals named ``prefix`` + n; with
    ``whole``, also say whether a scoring body always gives an ``int`` (a walk over its
    rules that only a one-pass chain needs, once per version: ``CompiledRuleSet.whole``)."""
    saved = c.hoist, c.hoisted, c.prefix
    c.hoist, c.hoisted, c.prefix = {}, [], prefix
    c.known, c.special_reads, c.guards, c.raw_locals = {}, [], [], set()
    c.special_keys, c.integral = [], set()
    try:
        body = _body(c, rs, [], options, checked, traced=False, emit=emit)
        total = None
        if whole:
            total = isinstance(rs, ast.Scoring) and compile_py_special.whole_total(c, rs)
        lines = [*c.hoisted, *body]
        return SpecialBody(c.special_keys, c.special_reads, c.guards, c.known, lines, total)
    finally:
        c.hoist, c.hoisted, c.prefix = saved
        c.known, c.special_reads, c.guards, c.raw_locals = None, [], [], set()
        c.special_keys, c.integral = [], set()


def _special(
    c: PyCompiler, rs: ast.RuleSet, options: Any, checked: Checked, emit: Emit
) -> list[str]:
    """The specialised body (compile_py_special) behind its test of the record: a plain
    dict holding every field read, each of the class the guard asks for; else nothing, and
    the general body after it runs. The body always ends in ``emit``: it never falls
    through to the general body. ``[]`` when the rule set reads no field."""
    special = special_body(c, rs, options, checked, emit)
    lines, reads, guards = special.lines, special.reads, special.guards
    if not reads:
        return []
    if guards:
        lines = [f"if {' and '.join(guards)}:", *(f"    {line}" for line in lines)]
    return [
        "if _type(r) is _dict:",
        "    try:",
        *(f"        {line}" for line in reads),
        "    except _KeyError:",
        "        pass",
        "    else:",
        *(f"        {line}" for line in lines),
    ]


def _batch_source(
    c: PyCompiler,
    rs: ast.RuleSet,
    options: Any,
    checked: Checked,
    prologue: str,
    target: Any,
    special: bool = True,
) -> str:
    """``_ruleset_many(recs, old, user, ctx, w)``: the fast body in a loop over the records.

    What a caller with many records would otherwise pay per record goes: a call with its
    arguments, the trace test and the context's today and zone (read once before the
    loop). With ``w``, scoring and grading write their target field into each record
    after the loop, as ``evaluate_many(write=True)`` did: a record that raises leaves every
    record as it was, and a record listed twice reads its own value as it was.
    """

    def emit(value: str) -> list[str]:
        return [f"_ap({value})", "continue"]

    body = _body(c, rs, [], options, checked, traced=False, emit=emit)
    fast = _special(c, rs, options, checked, emit) if _specialised(rs, special) else []
    # a context line is never indented in its body (the reads are flushed at its top
    # level, the special body's under its guard): run once, before the loop
    lines = [*c.hoisted, *body]
    context = {f"{pad}{line}" for line in c.context_lines for pad in ("", " " * 8, " " * 12)}
    once = [line.strip() for line in [*fast, *lines] if line in context]
    each = [
        *(line for line in fast if line not in context),
        prologue,
        *(line for line in lines if line not in context),
    ]
    aliases, each = localised(each)
    write = []
    if isinstance(target, str) and not isinstance(rs, ast.Routing):
        write = [
            "if w:",
            "    for r, _res in _zip(recs, _out):",
            f"        r[{c.const(target)}] = _res",
        ]
    return (
        "def _ruleset_many(recs, old, user, ctx, w=False):\n"
        + _indent(["_out = []", "_ap = _out.append", *once, *aliases, "for r in recs:"])
        + _indent(_indent(each).splitlines())
        + _indent([*write, "return _out"])
    )


#: The names of the namespace a loop body reads: constants (``_k3``) and the helpers
#: every body uses. Only names of the generator's own making match (admin text never
#: reaches the source).
_GLOBAL = re.compile(r"\b(_k\d+|_type|_dict|_getter|_KeyError|_ERRS|_as_number)\b")


def localised(lines: list[str]) -> tuple[list[str], list[str]]:
    """The loop body with the namespace names it reads turned into locals (``_k3`` ->
    ``_k3_``), and the assignments that bind them once before the loop: a local is read
    faster than a global, which the body reads some forty times per record."""
    names = sorted({m for line in lines for m in _GLOBAL.findall(line)})
    return [f"{n}_ = {n}" for n in names], [_GLOBAL.sub(r"\1_", line) for line in lines]


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


__all__ = [
    "BATCHED",
    "CompiledRuleSet",
    "Emit",
    "SpecialBody",
    "compile_ruleset",
    "localised",
    "shown_on",
    "special_body",
]
