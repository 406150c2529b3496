"""What an approver can do besides deciding: return, transfer, add a signer, comment."""

from __future__ import annotations

import pytest

from engine import ConflictError, FlowError, PermissionDenied, ValidationError
from tests.flows.defs import APPROVAL


@pytest.fixture
def approval(p):
    for name in ("alice", "bob", "carol", "dave"):
        p.users.add(name, roles=["director"] if name == "dave" else [])
    p.flows.publish(APPROVAL, user="admin")
    return p


def start(p, amount=1000):
    deal = p.records("deal").create({"title": "Deal", "amount": amount})
    return p.flows.start("deal_approval", record=("deal", deal["id"]), user="alice")


def open_tasks(p, user):
    return p.flows.tasks(user=user)


def test_a_transferred_task_is_the_new_assignees(approval):
    p = approval
    inst = start(p)
    (task,) = open_tasks(p, "bob")
    with pytest.raises(PermissionDenied):
        p.flows.transfer(task["id"], "carol", user="carol")
    with pytest.raises(ValidationError):
        p.flows.transfer(task["id"], "nobody", user="bob")
    p.flows.transfer(task["id"], "carol", user="bob", comment="you know this client")
    assert open_tasks(p, "bob") == []
    (moved,) = open_tasks(p, "carol")
    assert moved["id"] == task["id"]
    with pytest.raises(PermissionDenied):
        p.flows.complete(task["id"], "approve", user="bob")
    p.flows.complete(task["id"], "approve", user="carol")
    after = p.flows.instance(inst["id"])
    assert after["status"] == "completed"
    moved_event = next(h for h in after["history"] if h["kind"] == "task_transferred")
    assert moved_event["actor"] == "bob" and moved_event["data"]["to"] == "carol"


def test_an_added_signer_must_approve_too(approval):
    p = approval
    inst = start(p)
    (task,) = open_tasks(p, "bob")
    added = p.flows.add_signer(task["id"], "carol", user="bob")
    (signer,) = open_tasks(p, "carol")
    assert signer["id"] == added["task_id"] and signer["kind"] == "signer"
    p.flows.complete(task["id"], "approve", user="bob")
    assert p.flows.instance(inst["id"], history=False)["status"] == "running"
    p.flows.complete(signer["id"], "approve", user="carol")
    assert p.flows.instance(inst["id"], history=False)["status"] == "completed"


def test_a_signer_can_reject_at_once(approval):
    p = approval
    inst = start(p)
    (task,) = open_tasks(p, "bob")
    p.flows.add_signer(task["id"], "carol", user="bob")
    (signer,) = open_tasks(p, "carol")
    p.flows.complete(signer["id"], "reject", user="carol")
    after = p.flows.instance(inst["id"], history=False)
    assert after["outcome"] == "rejected"
    assert open_tasks(p, "bob") == []


def test_a_signer_approving_first_still_waits_for_the_approver(approval):
    p = approval
    inst = start(p)
    (task,) = open_tasks(p, "bob")
    p.flows.add_signer(task["id"], "carol", user="bob")
    (signer,) = open_tasks(p, "carol")
    p.flows.complete(signer["id"], "approve", user="carol")
    assert p.flows.instance(inst["id"], history=False)["status"] == "running"
    p.flows.complete(task["id"], "approve", user="bob")
    assert p.flows.instance(inst["id"], history=False)["status"] == "completed"


def test_return_sends_the_request_back_to_the_initiator(approval):
    p = approval
    inst = start(p)
    (task,) = open_tasks(p, "bob")
    p.flows.complete(task["id"], "return", user="bob", comment="add the discount")
    (revise,) = open_tasks(p, "alice")
    assert revise["kind"] == "revise"
    p.flows.complete(revise["id"], "resubmit", user="alice")
    (again,) = open_tasks(p, "bob")
    p.flows.complete(again["id"], "approve", user="bob")
    assert p.flows.instance(inst["id"], history=False)["status"] == "completed"


def test_return_is_only_for_approvals(approval):
    p = approval
    start(p)
    (task,) = open_tasks(p, "bob")
    p.flows.complete(task["id"], "return", user="bob")
    (revise,) = open_tasks(p, "alice")
    with pytest.raises(FlowError):
        p.flows.complete(revise["id"], "return", user="alice")


def test_comments_join_the_history_and_closed_tasks_cannot_move(approval):
    p = approval
    inst = start(p)
    (task,) = open_tasks(p, "bob")
    p.flows.comment(inst["id"], "looking at it", user="bob")
    with pytest.raises(ValidationError):
        p.flows.comment(inst["id"], "  ", user="bob")
    p.flows.complete(task["id"], "approve", user="bob")
    with pytest.raises(ConflictError):
        p.flows.transfer(task["id"], "carol", user="bob")
    with pytest.raises(ConflictError):
        p.flows.add_signer(task["id"], "carol", user="bob")
    history = p.flows.instance(inst["id"])["history"]
    said = [h for h in history if h["kind"] == "comment"]
    assert said[0]["actor"] == "bob" and said[0]["data"]["comment"] == "looking at it"
    mine = p.flows.instances(started_by="alice")
    assert [i["id"] for i in mine] == [inst["id"]]
    assert p.flows.instances(started_by="bob") == []
