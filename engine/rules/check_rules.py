"""Checks that belong to rule sets rather than to one expression.

Targets exist and take the values written into them, ``otherwise`` closes
its block, ``unique`` tables have no overlapping rows, examples name real
fields, and no field is computed (through computed fields and rule sets)
from itself.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from engine.i18n import t as _t
from engine.rules import ast
from engine.rules.catalog import NUMBER, T, closest
from engine.rules.check import Checked, Checker, Scope, _unify
from engine.rules.parse import parse_expression


def check_file(
    tree: ast.RuleFile,
    checker: Checker,
    *,
    existing: Mapping[str, ast.RuleSet] | None = None,
) -> Checked:
    """Check every rule set and example of ``tree``; ``existing`` are rule sets already
    saved (from other files), used for duplicate names and cycles."""
    out = Checked(tree, None)
    checker.out = out
    seen: dict[str, ast.RuleSet] = {}
    for rs in tree.rulesets:
        if rs.name in seen:
            checker.error(
                rs, _t("Another rule set in this file is already called '{name}'.", name=rs.name)
            )
        seen[rs.name] = rs
        if not checker._entity_ok(rs.entity, rs):
            continue
        method = globals()[f"_check_{type(rs).__name__.lower()}"]
        method(checker, rs, Scope(rs.entity))
    for example in tree.examples:
        _check_example(checker, example)
    others = {k: v for k, v in (existing or {}).items() if k not in seen}
    if out.ok:
        _check_cycles(checker, [*tree.rulesets], list(others.values()))
    return out


def _target(checker: Checker, node: ast.Node, entity: str, path: str) -> T | None:
    info = checker.catalog.lookup(entity, path)
    if info is None:
        hint = checker.catalog.suggest(entity, path)
        checker.error(
            node,
            _t(
                "The target '{path}' is not a field of {entity}; did you mean '{hint}'?",
                path=path,
                entity=entity,
                hint=hint,
            )
            if hint
            else _t("The target '{path}' is not a field of {entity}.", path=path, entity=entity),
        )
        return None
    return info.type


def _value_into(
    checker: Checker, target: T | None, node: ast.Expr, scope: Scope, what: str
) -> None:
    t = checker.expr(node, scope)
    if target is None:
        return
    if _unify(target, t) is None:
        checker.error(
            node,
            _t(
                "{what} takes a {expected}, but this is a {kind}.",
                what=what,
                expected=target.describe(),
                kind=t.describe(),
            ),
        )
    checker._enum(target, node)


def _condition(checker: Checker, node: ast.Expr | None, scope: Scope) -> None:
    if node is not None:
        checker._want_boolean(node, checker.expr(node, scope))


def _check_scoring(checker: Checker, rs: ast.Scoring, scope: Scope) -> None:
    target = _target(checker, rs, rs.entity, rs.target)
    if target is not None and target.kind not in ("number", "any"):
        checker.error(
            rs,
            _t(
                "A score goes into a number field; '{target}' holds a {kind}.",
                target=rs.target,
                kind=target.describe(),
            ),
        )
    groups: set[str] = set()
    for item in rs.items:
        rules = item.rules if isinstance(item, ast.ScoreGroup) else (item,)
        if isinstance(item, ast.ScoreGroup):
            if item.name in groups:
                checker.error(item, _t("There is already a group called '{name}'.", name=item.name))
            groups.add(item.name)
        for rule in rules:
            _value_into(checker, NUMBER, rule.points, scope, _t("Points"))
            _condition(checker, rule.when, scope)


def _check_otherwise(checker: Checker, rules: Iterable[Any]) -> None:
    closed = False
    for rule in rules:
        if closed:
            checker.error(
                rule,
                _t(
                    "This rule can never apply: the 'otherwise' line above already catches "
                    "every record. Move 'otherwise' to the end."
                ),
            )
            return
        if rule.when is None:
            closed = True


def _check_grading(checker: Checker, rs: ast.Grading, scope: Scope) -> None:
    target = _target(checker, rs, rs.entity, rs.target)
    if rs.source is not None:
        _target(checker, rs, rs.entity, rs.source)
    for rule in rs.rules:
        _value_into(checker, target, rule.output, scope, f"'{rs.target}'")
        _condition(checker, rule.when, scope)
    _check_otherwise(checker, rs.rules)


def _check_routing(checker: Checker, rs: ast.Routing, scope: Scope) -> None:
    for rule in rs.rules:
        _condition(checker, rule.when, scope)
        _check_action(checker, rule.action, scope)
    _check_otherwise(checker, rs.rules)


def _check_trigger(checker: Checker, rs: ast.Trigger, scope: Scope) -> None:
    _condition(checker, rs.when, Scope(rs.entity, events=True))
    for action in rs.actions:
        _check_action(checker, action, scope)


def _check_schedule(checker: Checker, rs: ast.Schedule, scope: Scope) -> None:
    if rs.every.value.total_seconds() <= 0:
        checker.error(rs.every, _t("A schedule must run every positive period, like every 1h."))
    _condition(checker, rs.where, scope)
    for action in rs.actions:
        _check_action(checker, action, scope)


def _check_validation(checker: Checker, rs: ast.Validation, scope: Scope) -> None:
    for rule in rs.rules:
        _condition(checker, rule.when, scope)
        checker.template(rule, rule.message, scope)
        if rule.field is not None:
            _shown_on(checker, rule, rs.entity)


def _shown_on(checker: Checker, rule: ast.CheckRule, entity: str) -> None:
    """``on FIELD`` must name a field of the entity itself (the form shows the message there)."""
    field = rule.field or ""
    if checker.catalog.lookup(entity, field) is None or "." in field:
        hint = checker.catalog.suggest(entity, field)
        checker.error(
            rule,
            f"The message is shown on '{field}', which is not a field of {entity}"
            + (f"; did you mean '{hint}'?" if hint else "."),
        )


def _check_action(checker: Checker, action: ast.Action, scope: Scope) -> None:
    if isinstance(action, ast.SetAction):
        target = _target(checker, action, scope.entity, action.target)
        _value_into(checker, target, action.value, scope, f"'{action.target}'")
    elif isinstance(action, ast.AssignAction):
        t = checker.expr(action.target, scope)
        if action.kind == "field":
            if t.kind not in ("string", "any", "null") or (t.entity and t.entity != "@user"):
                checker.error(action.target, _t("'assign field' needs a field that holds a user."))
        elif t.kind not in ("string", "any"):
            checker.error(
                action.target, _t("Assign to a {kind} by its name, in quotes.", kind=action.kind)
            )
    elif isinstance(action, ast.TaskAction):
        checker.expr(action.assignee, scope)
        if action.due is not None:
            t = checker.expr(action.due, scope)
            if t.kind not in ("duration", "any"):
                checker.error(action.due, _t("'due in' takes a duration, like 24h or 3d."))
        checker.template(action, action.title, scope)
    elif isinstance(action, ast.NotifyAction):
        checker.expr(action.recipient, scope)
        checker.template(action, action.message, scope)
    elif isinstance(action, ast.SimpleAction) and action.kind == "tag":
        checker.template(action, action.name, scope)
    elif isinstance(action, ast.CustomAction):
        _check_custom(checker, action, scope)


def _check_custom(checker: Checker, action: ast.CustomAction, scope: Scope) -> None:
    """The action must be registered, and its settings must be the ones its schema names."""
    from engine.rules.actions import action_types

    types = action_types()
    found = types.get(action.name)
    if found is None:
        hint = closest(action.name, types)
        checker.error(
            action,
            _t(
                "There is no action named '{name}'; did you mean '{hint}'?",
                name=action.name,
                hint=hint,
            )
            if hint
            else _t(
                "There is no action named '{name}'. Actions: {actions}.",
                name=action.name,
                actions=", ".join(sorted(types)),
            ),
        )
        return
    schema = found.config_schema
    props = schema.get("properties") or {}
    given = [k for k, _ in action.args]
    for key, value in action.args:
        checker.expr(value, scope)
        if props and key not in props and schema.get("additionalProperties") is False:
            checker.error(
                value,
                _t(
                    "'{name}' has no setting '{key}' (settings: {settings}).",
                    name=action.name,
                    key=key,
                    settings=", ".join(props),
                ),
            )
    missing = [k for k in schema.get("required") or () if k not in given]
    if missing:
        checker.error(
            action, _t("'{name}' needs {missing}.", name=action.name, missing=", ".join(missing))
        )


def _check_decisiontable(checker: Checker, rs: ast.DecisionTable, scope: Scope) -> None:
    if list(rs.targets) != list(rs.output_columns):
        checker.error(
            rs,
            _t(
                "The header's outputs ({outputs}) must match 'into' ({targets}).",
                outputs=", ".join(rs.output_columns),
                targets=", ".join(rs.targets),
            ),
        )
    targets = [_target(checker, rs, rs.entity, t) for t in rs.targets]
    input_types = [checker.expr(e, scope) for e in rs.inputs]
    for row in rs.rows:
        for cell, t in zip(row.inputs, input_types):
            for test in cell.tests:
                for part in (test.value, test.high):
                    if part is None:
                        continue
                    pt = checker.expr(part, scope)
                    if _unify(t, pt) is None:
                        checker.error(
                            part,
                            _t(
                                "This column holds a {expected}, but this is a {kind}.",
                                expected=t.describe(),
                                kind=pt.describe(),
                            ),
                        )
                    elif test.op == "==":
                        checker._enum(t, part)
        for value, target in zip(row.outputs, targets):
            _value_into(checker, target, value, scope, "This output")
    if rs.policy == "unique":
        _check_overlaps(checker, rs)


# ---------------------------------------------------------------- unique tables


def _intervals(cell: ast.Cell) -> list[tuple[Any, bool, Any, bool]] | None:
    """The cell as a union of intervals over literal values; None when it cannot be known."""
    if cell.any:
        return [(None, False, None, False)]
    if cell.negated:
        return None
    out = []
    for test in cell.tests:
        value = test.value
        if not isinstance(value, ast.Literal) or value.kind == "null":
            return None
        v = value.value
        if test.op == "==":
            out.append((v, True, v, True))
        elif test.op == "<":
            out.append((None, False, v, False))
        elif test.op == "<=":
            out.append((None, False, v, True))
        elif test.op == ">":
            out.append((v, False, None, False))
        elif test.op == ">=":
            out.append((v, True, None, False))
        elif test.op == "range" and isinstance(test.high, ast.Literal):
            out.append((v, True, test.high.value, True))
        else:
            return None
    return out


def _meet(a: tuple[Any, bool, Any, bool], b: tuple[Any, bool, Any, bool]) -> bool:
    try:
        lo, lo_in = a[0], a[1]
        if b[0] is not None and (lo is None or b[0] > lo or (b[0] == lo and not b[1])):
            lo, lo_in = b[0], b[1]
        hi, hi_in = a[2], a[3]
        if b[2] is not None and (hi is None or b[2] < hi or (b[2] == hi and not b[3])):
            hi, hi_in = b[2], b[3]
        if lo is None or hi is None:
            return True
        return lo < hi or (lo == hi and lo_in and hi_in)
    except TypeError:
        return False


def _check_overlaps(checker: Checker, rs: ast.DecisionTable) -> None:
    cells = [[_intervals(c) for c in row.inputs] for row in rs.rows]
    for j in range(len(rs.rows)):
        for i in range(j):
            overlap = True
            for a, b in zip(cells[i], cells[j]):
                if a is None or b is None or not any(_meet(x, y) for x in a for y in b):
                    overlap = False
                    break
            if overlap:
                checker.error(
                    rs.rows[j],
                    _t(
                        "Under 'unique' only one row may match, but a record can match both row "
                        "{first} and row {second}. Narrow one of them or use 'first'.",
                        first=i + 1,
                        second=j + 1,
                    ),
                )
                break


# ---------------------------------------------------------------- examples


def _check_example(checker: Checker, example: ast.Example) -> None:
    entity = None
    for given in example.given:
        if not checker._entity_ok(given.entity, given):
            return
        entity = given.entity
        for key, value in given.values:
            target = _target(checker, value, given.entity, key)
            _value_into(checker, target, value, Scope(given.entity), f"'{key}'")
    if entity is None:
        checker.error(example, _t("An example needs a 'given' line with a record."))
        return
    for expect in example.expect:
        _condition(checker, expect, Scope(entity))


# ---------------------------------------------------------------- cycles


def _writes(rs: ast.RuleSet) -> list[str]:
    if isinstance(rs, ast.Scoring | ast.Grading):
        return [rs.target]
    if isinstance(rs, ast.DecisionTable):
        return list(rs.targets)
    if isinstance(rs, ast.Routing):
        return [r.action.target for r in rs.rules if isinstance(r.action, ast.SetAction)]
    return []


def _names_read(node: ast.Node) -> set[str]:
    """Top-level field names an expression mentions (no type information needed)."""
    out = set()
    for n in ast.walk(node):
        if isinstance(n, ast.Name) and n.name not in ("old", "user", "it"):
            out.add(n.name)
    return out


def _check_cycles(checker: Checker, mine: list[ast.RuleSet], others: list[ast.RuleSet]) -> None:
    """A field computed (by a computed field or a rule set) from itself cannot be ordered."""
    graph: dict[tuple[str, str], set[tuple[str, str]]] = {}
    origin: dict[tuple[str, str], ast.RuleSet] = {}
    entities = {rs.entity for rs in [*mine, *others]}
    for entity in entities:
        for key, info in checker.catalog.fields(entity).items():
            if info.computed:
                try:
                    expr = parse_expression(info.computed)
                except Exception:
                    continue
                graph.setdefault((entity, key), set()).update(
                    (entity, n) for n in _names_read(expr)
                )
    for rs in [*others, *mine]:
        reads = {(rs.entity, n) for n in _names_read(rs)}
        for target in _writes(rs):
            node = (rs.entity, target)
            graph.setdefault(node, set()).update(reads)
            if rs in mine or node not in origin:
                origin[node] = rs
    for rs in mine:
        for target in _writes(rs):
            path = _find_cycle(graph, (rs.entity, target))
            if path:
                chain = " → ".join(p[1] for p in path)
                checker.error(
                    rs,
                    _t(
                        "These rules go round in a circle: {chain}. A value cannot be "
                        "computed from itself; remove one of the links.",
                        chain=chain,
                    ),
                )
                return


def _find_cycle(
    graph: dict[tuple[str, str], set[tuple[str, str]]], start: tuple[str, str]
) -> list[tuple[str, str]] | None:
    stack: list[tuple[tuple[str, str], list[tuple[str, str]]]] = [(start, [start])]
    seen: set[tuple[str, str]] = set()
    while stack:
        node, path = stack.pop()
        for nxt in graph.get(node, ()):
            if nxt == start:
                return [*path, start]
            if nxt not in seen:
                seen.add(nxt)
                stack.append((nxt, [*path, nxt]))
    return None


__all__ = ["check_file"]
