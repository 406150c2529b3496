"""The dry run walks a spec without running it; the designer's positions become the drawing."""

from __future__ import annotations

import copy

from engine.flows.dry_run import dry_run
from engine.flows.layout import layout, positioned
from engine.flows.spec import parse_flow
from tests.flows.defs import APPROVAL

#: The expressions the flows here use, as Python (the rules engine has its own tests).
EXPRESSIONS = {
    "amount > 500000": lambda record: (record.get("amount") or 0) > 500000,
    '"approved"': lambda record: "approved",
    '"rejected"': lambda record: "rejected",
    "amount * 100": lambda record: (record.get("amount") or 0) * 100,
}


def _compile(text):
    return EXPRESSIONS[text]


def _run(record, definition=APPROVAL, managers=None, outcomes=None):
    spec, problems = parse_flow(definition)
    assert not problems
    return dry_run(
        spec,
        record,
        compile_=_compile,
        initiator="ann",
        manager=(managers or {}).get,
        holders=lambda role: {"director": ["dora"]}.get(role, []),
        outcomes=outcomes,
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


def test_each_approval_takes_the_outcome_picked_and_set_steps_change_the_sample():
    sample = {"amount": 900000}
    out = _run(sample)
    assert out["record"]["approval_status"] == "approved"
    assert out["changes"] == [
        {"node": "approved", "field": "approval_status", "value": "approved", "error": None}
    ]
    assert [d["node"] for d in out["decisions"]] == ["manager", "director"]
    assert out["decisions"][0] == {
        "node": "manager",
        "outcome": "approve",
        "choices": ["approve", "reject"],
    }
    assert sample == {"amount": 900000}  # the caller's sample is left as it was

    out = _run({"amount": 900000}, outcomes={"director": "reject"})
    assert out["nodes"] == ["start", "manager", "check", "director", "rejected", "end_rejected"]
    assert out["record"]["approval_status"] == "rejected"
    assert out["end"] == "end_rejected" and out["rejected"] is None


def test_a_rejection_with_no_reject_edge_ends_the_flow_or_goes_back():
    flow = copy.deepcopy(APPROVAL)
    flow["edges"] = [e for e in flow["edges"] if not (isinstance(e, dict) and e.get("outcome"))]
    out = _run({"amount": 1}, flow, outcomes={"manager": "reject"})
    assert out["nodes"] == ["start", "manager"] and out["rejected"] == "manager"
    assert out["stuck"] == [] and out["end"] is None
    flow["nodes"]["manager"]["config"]["on_reject"] = "initiator"
    out = _run({"amount": 1}, flow, outcomes={"manager": "reject"})
    assert out["returned"] == "manager" and out["rejected"] is None


def test_a_later_condition_sees_what_a_set_step_wrote():
    flow = copy.deepcopy(APPROVAL)
    flow["nodes"]["scale"] = {"type": "action", "config": {"set": {"amount": "amount * 100"}}}
    flow["edges"][0] = ["start", "scale"]
    flow["edges"].append(["scale", "manager"])
    out = _run({"amount": 10000}, flow)
    assert out["record"]["amount"] == 1000000
    assert "director" in out["nodes"]  # 10000 alone would have taken the default path
