"""Properties of the validator: well-formed flows pass, and what passes never deadlocks.

Hypothesis builds acyclic flows of automatic nodes from well-formed blocks
(sequences, exclusive choices, parallel blocks), then sometimes adds stray
conditional edges out of exclusive gateways. Whatever passes validation
must run to completion in one step on any record: no token may be left
waiting at a join for a branch that was never taken. The runs use an
in-memory SQLite platform: this is about the engine's logic, not the dialect.
"""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine import Platform
from engine.flows.spec import parse_flow
from engine.flows.validate import validate_spec
from engine.rules.service import RuleService
from tests.floor_defs import save
from tests.flows.defs import DEAL

_names = itertools.count()


class _Builder:
    """Well-formed blocks (sequence, exclusive choice, parallel block) plus random extra edges."""

    def __init__(self, draw):
        self.draw = draw
        self.nodes: dict = {"start": {"type": "start"}, "end": {"type": "end"}}
        self.edges: list = []
        self.order: list[str] = []
        self.joins: set[str] = set()

    def node(self, kind: str) -> str:
        name = f"n{len(self.order)}"
        self.nodes[name] = {"type": kind}
        if kind == "action":
            self.nodes[name]["config"] = {"set": {"reviewer": f'"{name}"'}}
        self.order.append(name)
        return name

    def block(self, depth: int) -> tuple[str, str]:
        shape = self.draw(st.sampled_from(["action", "seq", "xor", "and"] if depth else ["action"]))
        if shape == "action":
            one = self.node("action")
            return one, one
        if shape == "seq":
            first, middle = self.block(depth - 1)
            second, last = self.block(depth - 1)
            self.edges.append([middle, second])
            return first, last
        gateway = "exclusive" if shape == "xor" else "parallel"
        split = self.node(gateway)
        branches = [self.block(depth - 1) for _ in range(self.draw(st.integers(2, 3)))]
        join = self.node(gateway)
        self.joins.add(join)
        for k, (entry, leave) in enumerate(branches):
            if shape == "xor" and k == len(branches) - 1:
                self.edges.append({"from": split, "to": entry, "default": True})
            elif shape == "xor":
                self.edges.append({"from": split, "to": entry, "when": f"amount > {10 * (k + 1)}"})
            else:
                self.edges.append([split, entry])
            self.edges.append([leave, join])
        return split, join

    def perturb(self) -> None:
        """A few extra conditional edges out of exclusive gateways, forward only (no cycles)."""
        splits = [n for n in self.order if self.nodes[n]["type"] == "exclusive"]
        for _ in range(self.draw(st.integers(0, 2)) if splits else 0):
            source = self.draw(st.sampled_from(splits))
            later = [*self.order[self.order.index(source) + 1 :], "end"]
            joins = [n for n in later if n in self.joins] or later
            # Mostly towards a join: where a stray edge does its harm.
            target = self.draw(st.sampled_from(joins) | st.sampled_from(later))
            taken = {(e["from"], e["to"]) if isinstance(e, dict) else tuple(e) for e in self.edges}
            if (source, target) not in taken:
                # First in order, so an exclusive gateway tries it before its own branches.
                self.edges.insert(0, {"from": source, "to": target, "when": "amount > 50"})


@st.composite
def flows(draw, perturb: bool = True):
    b = _Builder(draw)
    entry, leave = b.block(3)
    b.edges += [["start", entry], [leave, "end"]]
    if perturb:
        b.perturb()
    return {"name": "f", "label": "F", "entity": "deal", "nodes": b.nodes, "edges": b.edges}


SERVICE = RuleService({"deal": DEAL}.get, entities=["deal"])


@pytest.fixture(scope="module")
def memory():
    p = Platform("sqlite://")
    save(p, DEAL)
    try:
        yield p
    finally:
        p.close()


@settings(max_examples=60)
@given(definition=flows(perturb=False))
def test_well_formed_flows_pass(definition):
    spec, problems = parse_flow(definition)
    assert validate_spec(spec, problems, SERVICE) == []


@settings(max_examples=20)
@given(definition=flows())
def test_a_valid_flow_runs_to_completion(memory, definition):
    p = memory
    spec, problems = parse_flow(definition)
    if validate_spec(spec, problems, SERVICE):
        return
    definition["name"] = f"f{next(_names)}"
    with p.db.transaction() as conn:  # already validated above: store the version directly
        p.repo.add_version(conn, "flow", definition["name"], definition, origin="edit")
    for amount in (0, 15, 60):  # the default, a first branch, and the stray edges
        deal = p.records("deal").create({"title": "T", "amount": amount})
        inst = p.flows.start(definition["name"], record=("deal", deal["id"]))
        stuck = [t["node"] for t in inst["tokens"] if t["status"] == "waiting"]
        assert inst["status"] == "completed", f"amount {amount}: stuck at {stuck} in {definition}"
