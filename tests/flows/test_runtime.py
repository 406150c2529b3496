"""The runtime end to end: approvals, gateways, parallel branches, cancel, versions, failures."""

from __future__ import annotations

import copy

import pytest
from sqlalchemy import select

from engine import ConflictError, FlowError, NotFound, PermissionDenied
from engine.store.system import outbox
from tests.flows.defs import APPROVAL, PARALLEL


@pytest.fixture
def approval(p):
    p.flows.publish(APPROVAL, user="admin")
    return p


def start_deal(p, amount, name="deal_approval"):
    deal = p.records("deal").create({"title": "Deal", "amount": amount})
    return deal["id"], p.flows.start(name, record=("deal", deal["id"]), user="alice")


def only_task(p, **who):
    (task,) = p.flows.tasks(**who)
    return task


def test_small_deal_manager_approves_and_the_record_is_marked(approval):
    p = approval
    deal_id, inst = start_deal(p, 1000)
    assert inst["status"] == "running" and inst["flow_version"] == 1
    task = only_task(p, user="bob")
    assert task["kind"] == "approval" and task["outcomes"] == ["approve", "reject"]
    result = p.flows.complete(task["id"], "approve", user="bob", comment="fine")
    assert result["status"] == "completed" and result["instance_outcome"] == "approved"
    assert p.records("deal").get(deal_id)["approval_status"] == "approved"
    history = p.flows.instance(inst["id"])["history"]
    entered = [h["node"] for h in history if h["kind"] == "entered"]
    assert entered == ["start", "manager", "check", "approved", "end"]
    done = next(h for h in history if h["kind"] == "task_completed")
    assert done["actor"] == "bob" and done["data"]["comment"] == "fine"


def test_large_deal_goes_to_the_director_role(approval):
    p = approval
    _, inst = start_deal(p, 900_000)
    p.flows.complete(only_task(p, user="bob")["id"], "approve", user="bob")
    assert p.flows.tasks(user="bob") == []
    director = only_task(p, roles=["director"])
    assert director["role"] == "director" and director["assignee"] is None
    p.flows.complete(director["id"], "approve", user="dora")
    assert p.flows.instance(inst["id"])["outcome"] == "approved"


def test_rejection_follows_the_reject_edge(approval):
    p = approval
    deal_id, inst = start_deal(p, 900_000)
    p.flows.complete(only_task(p, user="bob")["id"], "reject", user="bob")
    after = p.flows.instance(inst["id"])
    assert after["status"] == "completed" and after["outcome"] == "rejected"
    assert p.records("deal").get(deal_id)["approval_status"] == "rejected"


def test_rejection_without_a_reject_edge_ends_the_instance_rejected(p):
    plain = copy.deepcopy(APPROVAL)
    plain["name"] = "plain"
    plain["nodes"] = {k: v for k, v in plain["nodes"].items() if k in ("start", "manager", "end")}
    plain["edges"] = [["start", "manager"], ["manager", "end"]]
    p.flows.publish(plain)
    _, inst = start_deal(p, 5, name="plain")
    p.flows.complete(only_task(p, user="bob")["id"], "reject", user="bob")
    after = p.flows.instance(inst["id"])
    assert (after["status"], after["outcome"]) == ("completed", "rejected")


@pytest.mark.parametrize(
    ("mode", "decisions", "outcome"),
    [
        ("any", [("ann", "approve")], "approved"),
        ("any", [("ben", "reject")], "rejected"),
        ("all", [("ann", "approve"), ("ben", "approve")], "approved"),
        ("all", [("ann", "approve"), ("ben", "reject")], "rejected"),
    ],
)
def test_any_of_and_all_of_approvers(p, mode, decisions, outcome):
    multi = copy.deepcopy(APPROVAL)
    multi["nodes"]["manager"]["config"] = {"approvers": {"users": ["ann", "ben"]}, "mode": mode}
    p.flows.publish(multi)
    _, inst = start_deal(p, 5)
    for user, decision in decisions:
        p.flows.complete(only_task(p, user=user)["id"], decision, user=user)
    after = p.flows.instance(inst["id"])
    assert after["outcome"] == outcome
    assert [t for t in after["tasks"] if t["status"] == "open"] == []
    if mode == "any":
        assert {t["status"] for t in after["tasks"]} == {"completed", "cancelled"}


def test_all_of_waits_for_everyone(p):
    multi = copy.deepcopy(APPROVAL)
    multi["nodes"]["manager"]["config"] = {"approvers": {"users": ["ann", "ben"]}, "mode": "all"}
    p.flows.publish(multi)
    _, inst = start_deal(p, 5)
    p.flows.complete(only_task(p, user="ann")["id"], "approve", user="ann")
    assert p.flows.instance(inst["id"])["status"] == "running"
    assert len(p.flows.tasks(user="ben")) == 1


def test_parallel_split_and_join(p):
    p.flows.publish(PARALLEL)
    _, inst = start_deal(p, 5, name="deal_review")
    legal, finance = only_task(p, user="lee"), only_task(p, user="fay")
    assert finance["outcomes"] == ["ok", "redo"]
    p.flows.complete(legal["id"], "done", user="lee")
    waiting = p.flows.instance(inst["id"])
    assert waiting["status"] == "running"
    assert {t["node"] for t in waiting["tokens"] if t["status"] == "waiting"} == {"join", "finance"}
    p.flows.complete(finance["id"], "ok", user="fay")
    done = p.flows.instance(inst["id"])
    assert done["status"] == "completed"
    assert [h["node"] for h in done["history"] if h["kind"] == "entered"].count("tell") == 1
    with p.db.transaction(write=False) as conn:
        (message,) = conn.execute(select(outbox.c.kind, outbox.c.payload)).all()
    assert message.kind == "notify" and '"alice"' in message.payload


def test_cancel_withdraws_open_tasks(approval):
    p = approval
    _, inst = start_deal(p, 5)
    cancelled = p.flows.cancel(inst["id"], user="admin")
    assert cancelled["status"] == "cancelled"
    assert [t["status"] for t in cancelled["tasks"]] == ["cancelled"]
    assert p.flows.tasks(user="bob") == []
    with pytest.raises(ConflictError):
        p.flows.cancel(inst["id"])


def test_running_instances_keep_their_version(approval):
    p = approval
    _, old = start_deal(p, 900_000)
    newer = copy.deepcopy(APPROVAL)
    newer["edges"][3]["when"] = "amount > 5000000"
    assert p.flows.publish(newer) == 2
    _, new = start_deal(p, 900_000)
    assert (old["flow_version"], new["flow_version"]) == (1, 2)
    assert old["flow_hash"] != new["flow_hash"]
    for task in p.flows.tasks(user="bob"):
        p.flows.complete(task["id"], "approve", user="bob")
    assert p.flows.instance(old["id"])["status"] == "running"  # v1: director still to approve
    assert p.flows.instance(new["id"])["status"] == "completed"  # v2: under the new threshold


def test_only_the_assignee_completes_with_an_offered_outcome(approval):
    p = approval
    start_deal(p, 5)
    task = only_task(p, user="bob")
    with pytest.raises(PermissionDenied):
        p.flows.complete(task["id"], "approve", user="mallory")
    with pytest.raises(FlowError) as info:
        p.flows.complete(task["id"], "maybe", user="bob")
    assert "approve, reject" in str(info.value)
    with pytest.raises(NotFound):
        p.flows.complete(999, "approve", user="bob")


def test_a_failing_node_undoes_the_whole_step(p):
    strict = copy.deepcopy(APPROVAL)
    strict["nodes"]["check"]["config"] = {"exhaustive": True}
    strict["edges"][4] = {"from": "check", "to": "approved", "when": "amount <= 500000"}
    p.flows.publish(strict)
    deal = p.records("deal").create({"title": "No amount"})
    p.flows.start("deal_approval", record=("deal", deal["id"]), user="alice")
    task = only_task(p, user="bob")
    with pytest.raises(FlowError) as info:
        p.flows.complete(task["id"], "approve", user="bob")
    assert "no outgoing condition holds" in str(info.value)
    assert only_task(p, user="bob")["status"] == "open"  # the completion was rolled back


def test_start_refuses_the_wrong_entity_and_unknown_flows(approval):
    p = approval
    with pytest.raises(FlowError):
        p.flows.start("deal_approval", record=("account", 1))
    with pytest.raises(NotFound):
        p.flows.start("nope", record=("deal", 1))
    with pytest.raises(NotFound):
        p.flows.start("deal_approval", record=("deal", 12345))


def test_a_rejection_can_go_back_to_the_initiator(p):
    sent_back = copy.deepcopy(APPROVAL)
    sent_back["nodes"]["manager"]["config"]["on_reject"] = "initiator"
    p.flows.publish(sent_back)
    _, inst = start_deal(p, 5)
    p.flows.complete(only_task(p, user="bob")["id"], "reject", user="bob", comment="too cheap")
    revise = only_task(p, user="alice")
    assert (revise["kind"], revise["outcomes"]) == ("revise", ["resubmit", "withdraw"])
    p.flows.complete(revise["id"], "resubmit", user="alice")
    p.flows.complete(only_task(p, user="bob")["id"], "reject", user="bob")
    p.flows.complete(only_task(p, user="alice")["id"], "withdraw", user="alice")
    after = p.flows.instance(inst["id"])
    assert (after["status"], after["outcome"]) == ("completed", "rejected")
    assert [t["kind"] for t in after["tasks"]] == ["approval", "revise", "approval", "revise"]


def test_an_approval_falls_back_when_its_approvers_name_nobody(p):
    chain = copy.deepcopy(APPROVAL)
    chain["nodes"]["manager"]["config"] = {"approvers": {"manager_of": "initiator"}}
    p.flows.publish(chain)
    with pytest.raises(FlowError, match="nobody"):
        start_deal(p, 5)  # "alice" has no manager, and no fallback is named
    chain["nodes"]["manager"]["config"]["fallback"] = {"role": "director"}
    p.flows.publish(chain)
    _, inst = start_deal(p, 5)
    (task,) = p.flows.tasks(roles=["director"])
    assert task["instance_id"] == inst["id"] and task["assignee"] is None
