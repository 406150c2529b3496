"""Pre-built plans for the common approval step, worked out once per (flow version, node, outcome).

Most completions are one approver's decision at a plain approval (mode
``any``, no timeout, no ``on_reject: initiator``) whose route is one edge to
another approval, to an end, or to an exclusive gateway whose edges lead to
approvals and ends, or no reject edge at all (the instance ends
``rejected``). For those the general runtime builds a context for the node,
asks the type's ``signal`` hook, makes a :class:`~engine.flows.nodes.base.Step`,
routes it through ``_apply`` and the run loop, and looks for joins to retry;
all of that always decides the same for the same node and outcome. A
:class:`Plan` keeps that decision, and :meth:`Runtime.signal` runs it with
the runtime's own primitives (``log``, the tasks' ``open_task``, ``stop``,
``_close``), in the order the general path calls them, so the rows written
are the same: tests/flows/test_step_plans.py plays every scenario both ways.
What the general path works out per step is kept here too: the token's
final columns (one UPDATE instead of a buffered change per column) and,
when the next approval names users or roles, its tasks' people, label and
outcomes (``openings``).

What a plan does not cover goes the general way: a timeout, a countersign
(mode ``all`` at the node decided on), added signers or any token state,
other open tasks of the token, a revise task, return, a sub-flow instance
(its end wakes the parent), any other gateway or a gateway leading elsewhere,
a plugin's type, a flow that may run two tokens or has an inclusive gateway.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson

from engine.flows.nodes import people
from engine.flows.nodes.approval import Approval, task_label
from engine.flows.nodes.events import End
from engine.flows.nodes.gateways import Exclusive
from engine.flows.registry import node_type

if TYPE_CHECKING:
    from engine.flows.spec import EdgeSpec, FlowSpec, NodeSpec

#: the outcomes a plan is built for (``return`` and a revise task's go the general way)
OUTCOMES = ("approve", "reject")


@dataclass(frozen=True)
class Plan:
    """What deciding ``outcome`` at an approval does, known before the step runs.

    ``action`` is ``approval`` (move the token along ``edge`` and open the
    next approval's tasks), ``end`` (move it to an end node, which finishes
    it and completes the instance with ``end_outcome``), ``gateway`` (move it
    to an exclusive gateway, whose first edge that holds, else its default,
    leads to an approval or an end: ``branches``) or ``terminate`` (no edge
    for a rejection: the instance ends ``rejected``).
    """

    action: str
    edge: EdgeSpec | None = None
    target: NodeSpec | None = None
    end_outcome: str | None = None
    #: an exclusive gateway's way on: its outgoing edges in order, each with the plan
    #: of the node it leads to (``approval`` or ``end``)
    branches: tuple[Plan, ...] = ()
    #: the tasks entering the target approval opens, as (assignee, role) in order, when
    #: its approvers name users or roles (a field, the initiator or a manager chain are
    #: resolved at the step): who holds a role is asked when the task is read, so the
    #: flow version alone decides them
    openings: tuple[tuple[str | None, str | None], ...] | None = None
    #: those tasks' ``label`` and ``outcomes`` as stored (JSON text)
    label: str | None = None
    outcomes: str = ""


def _exact(node: NodeSpec, cls: type) -> Any:
    """The node's installed type when it is exactly the built-in ``cls`` (a plugin's subclass is not)."""
    found = node_type(node.type, node.version)
    return found if type(found) is cls else None


def _build(
    spec: FlowSpec, node_id: str, outcome: str, single: bool, inclusive: bool
) -> Plan | None:
    if not single or inclusive or outcome not in OUTCOMES:
        return None
    node = spec.nodes.get(node_id)
    if node is None or _exact(node, Approval) is None:
        return None
    config = node.config
    if (
        config.get("mode", "any") != "any"
        or config.get("timeout")
        or config.get("on_reject") == "initiator"
    ):
        return None
    outgoing = spec.outgoing(node_id)
    edges = [e for e in outgoing if e.outcome == outcome]
    if not edges:
        if outcome == "reject":
            return Plan("terminate")
        edges = [e for e in outgoing if e.outcome is None]
    if len(edges) != 1:
        return None
    (edge,) = edges
    found = _target(spec, edge)
    if found is not None:
        return found
    gateway = spec.nodes[edge.target]
    if _exact(gateway, Exclusive) is None:
        return None
    branches = tuple(_target(spec, e) for e in spec.outgoing(gateway.id))
    if not branches or any(b is None for b in branches):
        return None
    return Plan("gateway", edge, gateway, branches=branches)  # type: ignore[arg-type]


def _target(spec: FlowSpec, edge: EdgeSpec) -> Plan | None:
    """How entering ``edge``'s target goes when it is an approval without a timeout or an end."""
    target = spec.nodes[edge.target]
    if _exact(target, Approval) is not None and not target.config.get("timeout"):
        found = people.static(target.config["approvers"])
        if found is None:
            return Plan("approval", edge, target)
        users, roles = found
        label = task_label(target)
        return Plan(
            "approval",
            edge,
            target,
            openings=tuple((u, None) for u in users) + tuple((None, r) for r in roles),
            label=None if label is None else orjson.dumps(label).decode(),
            outcomes=orjson.dumps(list(Approval.outcomes)).decode(),
        )
    if _exact(target, End) is not None:
        return Plan("end", edge, target, target.config.get("outcome"))
    return None


def plan_for(spec: FlowSpec, node_id: str, outcome: str, traits: tuple[bool, bool]) -> Plan | None:
    """The plan for deciding ``outcome`` at ``node_id``, or None (the general way); cached on the spec.

    ``traits`` is the runtime's (has an inclusive gateway, runs on one token).
    """
    cache: dict[tuple, Plan | None] = spec.__dict__.setdefault("_step_plans", {})
    key = (node_id, outcome, traits)
    if key not in cache:
        inclusive, single = traits
        cache[key] = _build(spec, node_id, outcome, single, inclusive)
    return cache[key]


__all__ = ["OUTCOMES", "Plan", "plan_for"]
