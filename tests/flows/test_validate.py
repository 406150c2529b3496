"""Every validation rule refuses a bad flow with an entry that names the node and the rule."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from engine import BundleError
from tests.flows.defs import APPROVAL, PARALLEL, flow


def refused(p, definition: dict[str, Any]) -> list[dict[str, Any]]:
    with pytest.raises(BundleError) as info:
        p.flows.publish(definition)
    return info.value.errors


def about(errors: list[dict[str, Any]], node: str, words: str) -> dict[str, Any]:
    """The entry about ``node`` whose message contains ``words`` (fails with the listing)."""
    for e in errors:
        if e.get("node") == node and words in e["message"] and f"'{node}'" in e["message"]:
            return e
    listing = "\n".join(f"{e.get('node')}: {e['message']}" for e in errors)
    raise AssertionError(f"no entry about {node!r} with {words!r} among:\n{listing}")


def simple(**nodes_and_edges: Any) -> dict[str, Any]:
    return flow(APPROVAL, **nodes_and_edges)


def test_the_examples_are_valid(p):
    assert p.flows.publish(APPROVAL) == 1
    assert p.flows.publish(PARALLEL) == 1


def test_unknown_type_is_refused_with_a_suggestion(p):
    bad = copy.deepcopy(APPROVAL)
    bad["nodes"]["manager"]["type"] = "aproval"
    e = about(refused(p, bad), "manager", "unknown node type 'aproval@1'")
    assert "did you mean 'approval'" in e["message"]
    bad["nodes"]["manager"]["type"] = "approval@7"
    about(refused(p, bad), "manager", "unknown node type 'approval@7'")


def test_config_is_checked_against_the_type_schema(p):
    bad = copy.deepcopy(APPROVAL)
    bad["nodes"]["manager"]["config"] = {"approvers": {"user": "bob"}, "mode": "some"}
    e = about(refused(p, bad), "manager", "config:")
    assert "mode" in e["field"] and "any, all" in e["message"]
    bad["nodes"]["manager"]["config"] = {}
    about(refused(p, bad), "manager", "missing required key 'approvers'")


def test_exactly_one_start(p):
    bad = copy.deepcopy(APPROVAL)
    bad["nodes"]["start2"] = {"type": "start"}
    bad["edges"].append(["start2", "manager"])
    about(refused(p, bad), "start2", "exactly one start")
    bad = copy.deepcopy(APPROVAL)
    bad["nodes"]["start"]["type"] = "task"
    bad["nodes"]["start"]["config"] = {"assignee": {"user": "x"}}
    errors = refused(p, bad)
    assert any("no start node" in e["message"] for e in errors)


def test_start_takes_no_incoming_edge(p):
    bad = copy.deepcopy(APPROVAL)
    bad["edges"].append({"from": "check", "to": "start", "when": "amount < 0"})
    about(refused(p, bad), "start", "takes no incoming edge, it has 1")


def test_degree_rules_per_type(p):
    bad = copy.deepcopy(APPROVAL)
    bad["edges"].append(["end", "approved"])
    about(refused(p, bad), "end", "takes no outgoing edge, it has 1")
    bad = copy.deepcopy(APPROVAL)
    bad["nodes"]["approved"]["config"] = {"set": {"approval_status": '"approved"'}}
    bad["edges"].append(["approved", "end_rejected"])
    about(refused(p, bad), "approved", "exactly 1 outgoing edge, it has 2")


def test_every_node_is_reachable_from_start(p):
    bad = copy.deepcopy(APPROVAL)
    bad["nodes"]["orphan"] = {"type": "action", "config": {"set": {"reviewer": '"x"'}}}
    bad["edges"].append(["orphan", "end"])
    about(refused(p, bad), "orphan", "cannot be reached from the start 'start'")


def test_an_end_is_reachable_from_every_node(p):
    bad = copy.deepcopy(APPROVAL)
    bad["nodes"]["spin"] = {"type": "exclusive"}
    bad["nodes"]["poke"] = {"type": "action", "config": {"set": {"reviewer": '"x"'}}}
    bad["edges"] += [
        {"from": "check", "to": "spin", "when": "amount < 0"},
        {"from": "spin", "to": "poke", "default": True},
        ["poke", "spin"],
    ]
    errors = refused(p, bad)
    about(errors, "spin", "no end can be reached")
    about(errors, "poke", "no end can be reached")


def test_every_cycle_passes_an_exclusive_gateway(p):
    bad = copy.deepcopy(PARALLEL)
    bad["nodes"]["again"] = {"type": "action", "config": {"set": {"reviewer": '"x"'}}}
    bad["nodes"]["tell"] = {"type": "parallel"}
    bad["edges"] += [["tell", "again"], ["again", "tell"]]
    about(refused(p, bad), "tell", "does not pass an exclusive gateway")


def test_exclusive_gateway_needs_a_default_or_exhaustive(p):
    bad = copy.deepcopy(APPROVAL)
    bad["edges"][4] = {"from": "check", "to": "approved", "when": "amount <= 500000"}
    about(refused(p, bad), "check", "needs a default edge")
    bad["nodes"]["check"]["config"] = {"exhaustive": True}
    assert p.flows.publish(bad) == 1


def test_exclusive_edges_need_a_condition(p):
    bad = copy.deepcopy(APPROVAL)
    bad["edges"][4] = ["check", "approved"]
    errors = refused(p, bad)
    e = about(errors, "check", "needs a condition (when) or default: true")
    assert e["field"] == "edges[4]"


def test_conditions_only_on_gateway_edges(p):
    bad = copy.deepcopy(APPROVAL)
    bad["edges"][1] = {"from": "manager", "to": "check", "when": "amount > 1"}
    about(refused(p, bad), "manager", "cannot carry a condition")


@pytest.mark.parametrize(
    ("condition", "words"),
    [
        ("amout > 500000", "amount"),  # unknown field, with a suggestion
        ('amount > "big"', "compare"),  # a number against text
        ("amount + 1", "must be true or false"),  # not a condition
        ("amount >", "column"),  # a syntax error
    ],
)
def test_conditions_type_check_against_the_entity(p, condition, words):
    bad = copy.deepcopy(APPROVAL)
    bad["edges"][3]["when"] = condition
    e = about(refused(p, bad), "check", "condition:")
    assert words in e["message"]
    assert e["field"] == "edges[3].when"


def test_outcomes_are_outcomes_of_the_node(p):
    bad = copy.deepcopy(APPROVAL)
    bad["edges"][2]["outcome"] = "rejekt"
    e = about(refused(p, bad), "manager", "outcome 'rejekt' is not an outcome")
    assert "did you mean 'reject'" in e["message"]


def test_parallel_join_fed_by_an_exclusive_split_would_wait_forever(p):
    bad = copy.deepcopy(PARALLEL)
    bad["nodes"]["split"] = {"type": "exclusive"}
    bad["edges"][1] = {"from": "split", "to": "legal", "when": "amount > 5"}
    bad["edges"][2] = {"from": "split", "to": "finance", "default": True}
    about(refused(p, bad), "join", "wait forever for a branch not taken")


def test_parallel_split_must_meet_at_a_parallel_join(p):
    bad = copy.deepcopy(PARALLEL)
    bad["nodes"]["join"] = {"type": "exclusive"}
    about(refused(p, bad), "split", "not a parallel join")


def leaky(**changes):
    """PARALLEL with a choice inside the legal branch: legal -> pick -> (join | fix)."""
    bad = copy.deepcopy(PARALLEL)
    bad["nodes"]["pick"] = {"type": "exclusive"}
    bad["nodes"]["fix"] = {"type": "action", "config": {"set": {"reviewer": '"x"'}}}
    bad["nodes"].update(changes.get("nodes", {}))
    bad["edges"][3] = ["legal", "pick"]
    bad["edges"] += [
        {"from": "pick", "to": "join", "when": "amount > 5"},
        {"from": "pick", "to": "fix", "default": True},
        *changes.get("edges", []),
    ]
    return bad


def test_a_branch_that_reaches_the_join_twice_is_refused(p):
    about(refused(p, leaky(edges=[["fix", "join"]])), "split", "reaches join 'join' by 2 edges")


def test_a_branch_that_can_skip_the_join_is_refused(p):
    bad = leaky(nodes={"done2": {"type": "end"}}, edges=[["fix", "done2"]])
    about(refused(p, bad), "split", "never meet again")


def test_a_choice_merged_inside_its_branch_is_fine(p):
    ok = leaky(nodes={"merge": {"type": "exclusive"}}, edges=[["fix", "merge"], ["merge", "join"]])
    ok["edges"][-4] = {"from": "pick", "to": "merge", "when": "amount > 5"}
    assert p.flows.publish(ok) == 1


def test_action_fields_and_expressions_are_checked(p):
    bad = copy.deepcopy(APPROVAL)
    bad["nodes"]["approved"]["config"] = {"set": {"aproval_status": '"approved"'}}
    about(refused(p, bad), "approved", "'aproval_status' is not a field")
    bad["nodes"]["approved"]["config"] = {"set": {"approval_status": "amount >"}}
    about(refused(p, bad), "approved", "set.approval_status")


def test_unknown_entity_and_unknown_nodes_in_edges(p):
    errors = refused(p, simple(entity="dael"))
    assert any("entity 'dael' does not exist; did you mean 'deal'" in e["message"] for e in errors)
    bad = copy.deepcopy(APPROVAL)
    bad["edges"].append(["approved", "ned"])
    e = about(refused(p, bad), "ned", "there is no node 'ned'")
    assert "did you mean 'end'" in e["message"]


def test_assignee_field_must_exist(p):
    bad = copy.deepcopy(APPROVAL)
    bad["nodes"]["manager"]["config"] = {"approvers": {"field": "reviwer"}}
    about(refused(p, bad), "manager", "'reviwer' is not a field")
