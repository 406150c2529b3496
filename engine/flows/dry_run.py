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
Steps that wait for a person are assumed to be approved (the ``approve`` edge
or the unmarked one); other nodes leave by their unmarked edges. Changes an
``action`` node would make to the record are not applied to the sample, so a
later condition sees the record as it was given.
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
        approve = [e for e in outgoing if e.outcome == "approve"]
        unmarked = [e for e in outgoing if e.outcome is None]
        return (approve or unmarked)[:1] if "approve" in t.outcomes else unmarked or outgoing[:1]
    return outgoing


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
) -> dict[str, Any]:
    """The path ``spec`` would take on ``record`` and who each person step would ask.

    Returns ``{"nodes": [ids in visiting order], "edges": [{"index", "from", "to"}],
    "people": [{"node", "type", "users", "roles", "nobody", "fallback"}],
    "conditions": [{"node", "edge", "when", "value", "error"}], "stuck": [...],
    "end": id | None}``. ``stuck`` names nodes where no edge could be chosen
    (an exclusive gateway with no condition holding and no default).
    """
    starts = spec.starts()
    out: dict[str, Any] = {
        "nodes": [],
        "edges": [],
        "people": [],
        "conditions": [],
        "stuck": [],
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
        edges = _choose(spec, node_id, record, compile_, out["conditions"])
        if not edges and spec.outgoing(node_id):
            out["stuck"].append(node_id)
        for edge in edges:
            out["edges"].append({"index": edge.index, "from": edge.source, "to": edge.target})
            queue.append(edge.target)
    return out


__all__ = ["dry_run"]
