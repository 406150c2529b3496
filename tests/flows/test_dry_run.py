"""The dry run walks a spec without running it; the designer's positions become the drawing."""

from __future__ import annotations

import copy

from engine.flows.dry_run import dry_run
from engine.flows.layout import layout, positioned
from engine.flows.spec import parse_flow
from tests.flows.defs import APPROVAL


def _compile(text):
    # ``amount > 500000`` is the only condition in APPROVAL
    assert text == "amount > 500000"
    return lambda record: (record.get("amount") or 0) > 500000


def _run(record, definition=APPROVAL, managers=None):
    spec, problems = parse_flow(definition)
    assert not problems
    return dry_run(
        spec,
        record,
        compile_=_compile,
        initiator="ann",
        manager=(managers or {}).get,
        holders=lambda role: {"director": ["dora"]}.get(role, []),
    )


def test_a_big_deal_goes_to_the_director_and_names_who_holds_the_role():
    out = _run({"amount": 900000})
    assert out["nodes"] == ["start", "manager", "check", "director", "approved", "end"]
    assert out["end"] == "end" and out["stuck"] == []
    asked = {a["node"]: a for a in out["people"]}
    assert asked["manager"]["users"] == ["bob"]
    assert asked["director"]["roles"] == [{"role": "director", "users": ["dora"]}]
    assert out["conditions"][0]["value"] is True


def test_a_small_deal_takes_the_default_edge():
    out = _run({"amount": 10})
    assert "director" not in out["nodes"]
    assert {"index": 4, "from": "check", "to": "approved"} in out["edges"]


def test_a_manager_chain_and_a_fallback_resolve_like_the_runtime():
    flow = copy.deepcopy(APPROVAL)
    flow["nodes"]["manager"]["config"] = {
        "approvers": {"manager_of": "initiator", "levels": 2},
        "fallback": {"role": "director"},
    }
    out = _run({"amount": 1}, flow, managers={"ann": "max", "max": "zed"})
    assert out["people"][0]["users"] == ["zed"]
    out = _run({"amount": 1}, flow, managers={"ann": "max"})  # the chain runs out
    assert out["people"][0]["fallback"] is True
    assert out["people"][0]["roles"] == [{"role": "director", "users": ["dora"]}]


def test_positions_from_the_designer_are_the_drawing():
    spec, _ = parse_flow(APPROVAL)
    assert positioned(spec) is None  # hand-written: laid out
    flow = copy.deepcopy(APPROVAL)
    for i, node in enumerate(flow["nodes"].values()):
        node["position"] = {"x": 100 + 200 * i, "y": 300}
    drawn = positioned(parse_flow(flow)[0])
    assert drawn is not None
    assert drawn.nodes["start"]["x"] == 24 and drawn.nodes["start"]["y"] == 24
    assert drawn.nodes["check"]["w"] == 52  # a gateway's diamond
    assert {e["index"] for e in drawn.edges} == {e["index"] for e in layout(spec).edges}
    assert not any(e["back"] for e in drawn.edges)  # every node stands right of the last
