"""Check a flow spec before it may be published: graph rules, node configs, conditions.

Every rule below reports each node that breaks it, as a located entry whose
message starts with the node's name and says which rule it broke:

- every node's type is installed (``type@version``), and its ``config`` fits
  the type's JSON Schema and the type's own ``validate``;
- exactly one start, with no incoming edge; each type's degree rules;
- every node is reachable from the start, and an end is reachable from every node;
- every cycle passes an exclusive gateway (a loop without a decision never ends);
- conditions sit only on gateway edges, type-check against the flow's entity
  and are yes/no; an exclusive gateway has a default edge unless its config
  says ``exhaustive: true``;
- edge outcomes are outcomes of their node, one edge each;
- a trigger's condition type-checks like an edge's;
- parallel splits and joins are balanced (``balance.py``): a split's
  branches meet again at its parallel join, each by one edge, without
  leaking; a join's branches come from its split, or it would wait forever.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

import networkx as nx
from jsonschema import Draft202012Validator

from engine.errors import RuleSyntaxError, RuleTypeError
from engine.flows.balance import balance_errors
from engine.flows.nodes.base import NodeType, ValidationTools
from engine.flows.registry import node_type, node_types
from engine.flows.spec import FlowSpec
from engine.i18n import t as _t
from engine.meta.located import did_you_mean, schema_errors
from engine.meta.yamlpos import Marks


def _types(spec: FlowSpec) -> dict[str, NodeType]:
    found = {}
    for node in spec.nodes.values():
        t = node_type(node.type, node.version)
        if t is not None:
            found[node.id] = t
    return found


def _unknown_types(spec: FlowSpec, types: dict[str, NodeType]) -> list[dict]:
    out = []
    known = sorted(node_types())
    for node in spec.nodes.values():
        if node.id not in types:
            names = sorted({k.split("@")[0] for k in known})
            out.append(
                spec.node_entry(
                    node.id,
                    _t("unknown node type {type_ref!r}", type_ref=node.type_ref)
                    + (
                        did_you_mean(node.type, names)
                        or _t("; installed: {known}", known=", ".join(known))
                    ),
                    "type",
                )
            )
    return out


def _config_errors(spec: FlowSpec, types: dict[str, NodeType], tools: ValidationTools) -> list:
    out = []
    for node_id, t in types.items():
        node = spec.nodes[node_id]
        prefix = ("nodes", node_id, "config")
        if spec.marks is not None:
            marks = Marks(spec.file or "")
            for src, dst in ((spec.marks.values, marks.values), (spec.marks.keys, marks.keys)):
                for path, where in src.items():
                    if path[:3] == prefix:
                        dst[path[3:]] = where
            if () not in marks.values:
                marks.values[()] = spec.marks.locate(("nodes", node_id))
            found = schema_errors(node.config, marks, t.config_schema, spec.file or "")
            problems = [
                {**e, "field": ".".join(filter(None, ["nodes", node_id, "config", e["field"]])),
                 "message": _t("node {node!r}: config: {message}", node=node_id, message=e["message"]), "node": node_id}
                for e in found
            ]  # fmt: skip
        else:
            problems = [
                spec.node_entry(
                    node_id, _t("config: {message}", message=e.message), "config", *e.absolute_path
                )
                for e in Draft202012Validator(t.config_schema).iter_errors(node.config)
            ]
        out += problems
        if not problems:
            try:
                messages = t.validate(node, spec, tools)
            except Exception as exc:  # a plugin's bug must not hide the other problems
                messages = [
                    _t("node type {ref} failed to validate this node: {exc!r}", ref=t.ref, exc=exc)
                ]
            out += [spec.node_entry(node_id, message, "config") for message in messages]
    return out


def _edges_wanted(low: int, high: int | None, label: str) -> str:
    if high == 0:
        return _t("no {label} edge", label=label)
    if high is None:
        return _t(
            "at least {low} {label} edge{s}",
            low=low,
            label=label,
            s="s" if low != 1 else "",
        )
    if low == high:
        return _t("exactly {low} {label} edge{s}", low=low, label=label, s="s" if low != 1 else "")
    return _t("{low} to {high} {label} edges", low=low, high=high, label=label)


def _degree_errors(spec: FlowSpec, types: dict[str, NodeType]) -> list:
    out = []
    starts = spec.starts()
    if not starts:
        out.append(spec.entry(("nodes",), _t("the flow has no start node (type: start)")))
    for extra in starts[1:]:
        out.append(
            spec.node_entry(
                extra, _t("a flow has exactly one start; {starts!r} is the first", starts=starts[0])
            )
        )
    g = spec.graph
    for node_id, t in types.items():
        for label, count, (low, high) in (
            (_t("incoming"), g.in_degree(node_id), t.inputs),
            (_t("outgoing"), g.out_degree(node_id), t.outputs),
        ):
            if count < low or (high is not None and count > high):
                out.append(
                    spec.node_entry(
                        node_id,
                        _t(
                            "a {name} node takes {edges_wanted}, it has {count}",
                            name=t.name,
                            edges_wanted=_edges_wanted(low, high, label),
                            count=count,
                        ),
                    )
                )
    return out


def _reach_errors(spec: FlowSpec, types: dict[str, NodeType]) -> list:
    out: list[dict] = []
    g = spec.graph
    starts = spec.starts()
    if len(starts) == 1:
        reached = nx.descendants(g, starts[0]) | {starts[0]}
        for node_id in spec.nodes:
            if node_id not in reached:
                out.append(
                    spec.node_entry(
                        node_id, _t("cannot be reached from the start {starts!r}", starts=starts[0])
                    )
                )
    ends = [n for n, t in types.items() if t.outputs == (0, 0)]
    if not ends:
        out.append(spec.entry(("nodes",), _t("the flow has no end node (type: end)")))
        return out
    finishing = set(ends)
    for end in ends:
        finishing |= nx.ancestors(g, end)
    for node_id in spec.nodes:
        if node_id not in finishing:
            out.append(spec.node_entry(node_id, _t("no end can be reached from this node")))
    return out


def _cycle_errors(spec: FlowSpec, types: dict[str, NodeType]) -> list:
    """Cycles left once exclusive gateways are taken out are cycles with no way out."""
    deciders = [n for n, t in types.items() if t.gateway == "exclusive"]
    rest = spec.graph.subgraph(n for n in spec.graph if n not in deciders)
    out = []
    for component in nx.strongly_connected_components(rest):
        first = min(component, key=list(spec.nodes).index)
        if len(component) > 1 or rest.has_edge(first, first):
            loop = " -> ".join(sorted(component, key=list(spec.nodes).index))
            out.append(
                spec.node_entry(
                    first,
                    _t(
                        "the cycle {loop} does not pass an exclusive gateway, so it never ends",
                        loop=loop,
                    ),
                )
            )
    return out


def _edge_errors(spec: FlowSpec, types: dict[str, NodeType], tools: ValidationTools) -> list:
    out = []
    for edge in spec.edges:
        t = types.get(edge.source)
        if t is None:
            continue
        if (edge.when or edge.default) and not t.conditional:
            what = _t("a condition (when)") if edge.when else "default: true"
            out.append(
                spec.edge_entry(
                    edge,
                    _t(
                        "a {name} node's edges cannot carry {what}; put a gateway before them",
                        name=t.name,
                        what=what,
                    ),
                    "when" if edge.when else "default",
                )
            )
        elif edge.when:
            for message in tools.check_expression(edge.when, True):
                out.append(
                    spec.edge_entry(edge, _t("condition: {message}", message=message), "when")
                )
        if edge.outcome is not None and not t.open_outcomes:
            allowed = t.node_outcomes(spec.nodes[edge.source])
            if edge.outcome not in allowed:
                words = ", ".join(allowed) if allowed else "none"
                out.append(
                    spec.edge_entry(
                        edge,
                        _t(
                            "outcome {outcome!r} is not an outcome of node {source!r} (its outcomes: {words})",
                            outcome=edge.outcome,
                            source=edge.source,
                            words=words,
                        )
                        + did_you_mean(edge.outcome, allowed),
                        "outcome",
                    )
                )
    for node_id, t in types.items():
        outgoing = spec.outgoing(node_id)
        if t.node_outcomes(spec.nodes[node_id]) or t.open_outcomes:
            counts = Counter(e.outcome for e in outgoing)
            for outcome, count in counts.items():
                if count > 1:
                    which = (
                        _t("outcome {outcome!r}", outcome=outcome) if outcome else _t("no outcome")
                    )
                    out.append(
                        spec.node_entry(
                            node_id,
                            _t(
                                "{count} outgoing edges have {which}; one each",
                                count=count,
                                which=which,
                            ),
                        )
                    )
        if t.conditional and len(outgoing) > 1:
            defaults = [e for e in outgoing if e.default]
            bare = [e for e in outgoing if not e.default and not e.when]
            if t.gateway == "exclusive":
                for e in bare:
                    out.append(
                        spec.edge_entry(
                            e,
                            _t(
                                "an exclusive gateway's edge needs a condition (when) or default: true"
                            ),
                        )
                    )
            if len(defaults) > 1:
                out.append(spec.node_entry(node_id, _t("has more than one default edge")))
            if (
                t.gateway == "exclusive"
                and not defaults
                and not spec.nodes[node_id].config.get("exhaustive")
            ):
                out.append(
                    spec.node_entry(
                        node_id,
                        _t(
                            "an exclusive gateway needs a default edge (default: true) for when no condition holds, or config exhaustive: true"
                        ),
                    )
                )
    return out


def rule_tools(spec: FlowSpec, service: Any) -> tuple[ValidationTools, list[dict]]:
    """The tools node types validate with, over the flow's entity; errors if it is unknown."""
    problems: list[dict] = []
    entity = spec.entity
    if entity is not None and not service.catalog.exists(entity):
        hint = did_you_mean(entity, service.catalog.entity_names())
        problems.append(
            spec.entry(
                ("entity",), _t("entity {entity!r} does not exist{hint}", entity=entity, hint=hint)
            )
        )
        entity = None
    fields = set(service.catalog.fields(entity)) if entity else set()

    def check_expression(text: str, boolean: bool) -> list[str]:
        if spec.entity is None:
            return [_t("conditions and expressions need the flow to name its entity")]
        if entity is None:
            return []
        diagnostics = service.check(text, entity=entity)
        errors = [d for d in diagnostics if d.get("severity", "error") == "error"]
        if errors:
            return [
                _t(
                    "{message} (at column {column} of {text!r})",
                    message=d["message"],
                    column=d["column"],
                    text=text,
                )
                for d in errors
            ]
        if boolean:
            try:
                kind = service.compile(text, entity).type.kind
            except (RuleSyntaxError, RuleTypeError) as exc:
                return [exc.message]
            if kind not in ("boolean", "null", "any"):
                return [
                    _t(
                        "{text!r} gives a {kind}, but a condition must be true or false",
                        text=text,
                        kind=kind,
                    )
                ]
        return []

    def entity_fields(name: str) -> set[str] | None:
        return set(service.catalog.fields(name)) if service.catalog.exists(name) else None

    def reference(name: str) -> str | None:
        info = service.catalog.fields(entity).get(name) if entity else None
        if info is None or info.type.kind != "record" or info.type.entity == "@user":
            return None
        return info.type.entity

    return ValidationTools(check_expression, fields, entity_fields, reference), problems


def _trigger_errors(spec: FlowSpec, tools: ValidationTools) -> list[dict[str, Any]]:
    trigger = spec.definition.get("trigger")
    if not isinstance(trigger, dict):
        return []
    if not spec.entity:
        return [spec.entry(("trigger",), _t("a trigger needs the flow to name its entity"))]
    when = trigger.get("when")
    if not isinstance(when, str):
        return []
    return [
        spec.entry(("trigger", "when"), _t("trigger condition: {message}", message=message))
        for message in tools.check_expression(when, True)
    ]


def validate_spec(
    spec: FlowSpec,
    parse_errors: list[dict[str, Any]],
    service: Any,
    *,
    extra: Callable[[FlowSpec], list[dict]] | None = None,
) -> list[dict[str, Any]]:
    """Every problem of ``spec`` as located entries (empty: it may be published).

    ``service`` is a rule service over the entities the flow may name
    (``p.rules``, or one built over a bundle's entities).
    """
    types = _types(spec)
    tools, errors = rule_tools(spec, service)
    errors = parse_errors + errors + _unknown_types(spec, types)
    errors += _config_errors(spec, types, tools)
    errors += _degree_errors(spec, types)
    errors += _reach_errors(spec, types)
    errors += _cycle_errors(spec, types)
    errors += _edge_errors(spec, types, tools)
    errors += balance_errors(spec, types)
    errors += _trigger_errors(spec, tools)
    if extra is not None:
        errors += extra(spec)
    errors.sort(key=lambda e: (e.get("line") or 0, e.get("column") or 0))
    return errors


__all__ = ["rule_tools", "validate_spec"]
