"""What a flow would do with a record, worked out without running it.

The designer's dry run answers "which way would this quote go, and who would be
asked?" before anyone publishes. Running the real runtime inside a rolled-back
transaction would also work, but it would fire the node types' side effects
into that transaction (outbox rows, record updates) and stop at the first
approval; walking the spec instead touches nothing, follows every approval's
approve path to the end, and names the approvers each step would ask, exactly
as ``engine/flows/nodes/people.py`` resolves them at run time.

Gateways choose the way the runtime does (``gateways.py``): an exclusive
gateway takes the first edge whose condition holds, else its default; an
inclusive one every edge whose condition holds; a parallel split every edge.
Steps that wait for a person take the outcome the caller picked for them
(``outcomes``, by node id), else ``approve``; they leave as the approval node's
``route`` does: by the edges marked with that outcome, else a reject ends the
flow as rejected (or goes back to whoever started it when ``on_reject`` says
so) and any other outcome takes the unmarked edges. Other nodes leave by their
unmarked edges. The ``set`` of an ``action`` node is evaluated and applied to
the sample (a copy), so a later condition sees the record as the flow would
have changed it; a rule set is not run.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from engine.errors import RuleSyntaxError, RuleTypeError
from engine.flows.nodes import people
from engine.flows.registry import node_type
from engine.flows.spec import EdgeSpec, FlowSpec

#: Node config keys that hold an assignee block, in the order a step asks them.
ASSIGNEE_KEYS = ("approvers", "assignee", "to")
#: How many nodes a dry run visits at most (a loop back through a gateway stops here).
MAX_STEPS = 200


def _evaluate(
    compile_: Callable[[str], Any], text: str, record: dict[str, Any]
) -> tuple[bool | None, str | None]:
    try:
        return compile_(text)(record), None
    except (RuleSyntaxError, RuleTypeError) as exc:
        return None, exc.message
    except Exception as exc:  # a runtime error in the expression: report, keep going
        return None, str(exc)


def _choose(
    spec: FlowSpec,
    node_id: str,
    record: dict[str, Any],
    compile_: Callable[[str], Any],
    notes: list[dict[str, Any]],
    outcome: str | None = None,
) -> list[EdgeSpec]:
    """The edges a token would leave ``node_id`` by (see the module docstring)."""
    node = spec.nodes[node_id]
    t = node_type(node.type, node.version)
    outgoing = spec.outgoing(node_id)
    if t is not None and t.conditional:
        if t.gateway == "parallel":
            return outgoing
        chosen, default = [], None
        for edge in outgoing:
            if edge.default:
                default = edge
                continue
            holds = True
            if edge.when is not None:
                value, problem = _evaluate(compile_, edge.when, record)
                holds = value is True
                notes.append(
                    {"node": node_id, "edge": {"from": edge.source, "to": edge.target},
                     "when": edge.when, "value": value, "error": problem}
                )  # fmt: skip
            if holds:
                chosen.append(edge)
                if t.gateway == "exclusive":
                    break
        return chosen or ([default] if default is not None else [])
    if t is not None and (t.outcomes or t.open_outcomes):
        if outcome is None:
            outcome = "approve" if "approve" in t.outcomes else None
        marked = [e for e in outgoing if outcome is not None and e.outcome == outcome]
        unmarked = [e for e in outgoing if e.outcome is None]
        if marked:
            return marked
        if outcome == "reject":
            return []  # the runtime ends the flow as rejected (see approval.route)
        return unmarked or ([] if outcome is not None else outgoing[:1])
    return outgoing


def _apply_set(
    node_id: str,
    config: dict[str, Any],
    record: dict[str, Any],
    compile_: Callable[[str], Any],
    changes: list[dict[str, Any]],
) -> None:
    """Evaluate an action's ``set`` over the sample and write the values into it."""
    values = {}
    for key, expr in (config.get("set") or {}).items():
        value, problem = _evaluate(compile_, str(expr), record)
        changes.append({"node": node_id, "field": key, "value": value, "error": problem})
        if problem is None:
            values[key] = value
    record.update(values)  # all at once, as the record service applies them


def _who(
    block: Any,
    record: dict[str, Any],
    initiator: str | None,
    manager: Callable[[str], str | None],
    holders: Callable[[str], list[str]],
) -> dict[str, Any] | None:
    if not isinstance(block, dict):
        return None
    users, roles = people.resolve(block, record, initiator, manager)
    return {
        "users": users,
        "roles": [{"role": r, "users": holders(r)} for r in roles],
        "nobody": not users and not roles,
    }


def dry_run(
    spec: FlowSpec,
    record: dict[str, Any],
    *,
    compile_: Callable[[str], Any],
    initiator: str | None,
    manager: Callable[[str], str | None],
    holders: Callable[[str], list[str]],
    outcomes: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The path ``spec`` would take on ``record`` and who each person step would ask.

    ``outcomes`` picks what each person step answers (node id → ``approve``,
    ``reject`` ...; ``approve`` where not given). ``record`` itself is not changed.

    Returns ``{"nodes": [ids in visiting order], "edges": [{"index", "from", "to"}],
    "people": [{"node", "type", "users", "roles", "nobody", "fallback"}],
    "conditions": [{"node", "edge", "when", "value", "error"}], "stuck": [...],
    "decisions": [{"node", "outcome", "choices"}], "changes": [{"node", "field",
    "value", "error"}], "rejected": id | None, "returned": id | None,
    "record": the sample after the steps' changes, "end": id | None}``. ``stuck``
    names nodes where no edge could be chosen (an exclusive gateway with no
    condition holding and no default); ``rejected`` the step whose rejection ends
    the flow, ``returned`` the one that sends it back to whoever started it.
    """
    outcomes = outcomes or {}
    record = dict(record)
    starts = spec.starts()
    out: dict[str, Any] = {
        "nodes": [],
        "edges": [],
        "people": [],
        "conditions": [],
        "stuck": [],
        "decisions": [],
        "changes": [],
        "rejected": None,
        "returned": None,
        "end": None,
    }
    if not starts:
        return out
    queue, seen = [starts[0]], set()
    while queue and len(out["nodes"]) < MAX_STEPS:
        node_id = queue.pop(0)
        if node_id in seen:
            continue
        seen.add(node_id)
        out["nodes"].append(node_id)
        node = spec.nodes[node_id]
        t = node_type(node.type, node.version)
        for key in ASSIGNEE_KEYS:
            asked = _who(node.config.get(key), record, initiator, manager, holders)
            if asked is None:
                continue
            if asked["nobody"] and isinstance(node.config.get("fallback"), dict):
                asked = _who(node.config["fallback"], record, initiator, manager, holders) or asked
                asked["fallback"] = True
            out["people"].append({"node": node_id, "type": node.type, "key": key, **asked})
            break
        if t is not None and t.outputs == (0, 0):
            out["end"] = out["end"] or node_id
            continue
        if node.type == "action" and isinstance(node.config.get("set"), dict):
            _apply_set(node_id, node.config, record, compile_, out["changes"])
        outcome = None
        if t is not None and t.outcomes and not t.conditional:
            outcome = outcomes.get(node_id) or ("approve" if "approve" in t.outcomes else None)
            choices = list(t.node_outcomes(node))
            out["decisions"].append({"node": node_id, "outcome": outcome, "choices": choices})
        edges = _choose(spec, node_id, record, compile_, out["conditions"], outcome)
        if outcome == "reject" and not edges:
            if node.config.get("on_reject") == "initiator" and initiator:
                out["returned"] = out["returned"] or node_id
            else:
                out["rejected"] = out["rejected"] or node_id
            continue
        if not edges and spec.outgoing(node_id):
            out["stuck"].append(node_id)
        for edge in edges:
            out["edges"].append({"index": edge.index, "from": edge.source, "to": edge.target})
            queue.append(edge.target)
    out["record"] = record
    return out


__all__ = ["dry_run"]
