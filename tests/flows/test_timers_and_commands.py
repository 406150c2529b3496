"""Timers fired by ``tick`` on an injected clock; idempotent and racing completions."""

from __future__ import annotations

import datetime as dt
import threading

import pytest

from engine import ConflictError, Platform, ValidationError
from engine.clock import Clock
from tests.floor_defs import save
from tests.flows.defs import APPROVAL, DEAL, TIMED

T0 = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def clocked(db_url):
    clock = Clock()
    clock.set(T0)
    p = Platform(db_url, clock=clock)
    save(p, DEAL)
    p.flows.publish(TIMED)
    p.flows.publish(APPROVAL)
    try:
        yield p
    finally:
        p.close()


def test_a_timer_fires_only_when_due(clocked):
    p = clocked
    deal = p.records("deal").create({"title": "Quiet"})
    inst = p.flows.start("deal_reminder", record=("deal", deal["id"]))
    assert p.flows.tick() == 0
    assert p.flows.tick(T0 + dt.timedelta(hours=47)) == 0
    p.clock.advance(dt.timedelta(days=2))
    assert p.flows.tick() == 1
    assert p.flows.tick() == 0  # fired once only
    after = p.flows.instance(inst["id"])
    assert after["status"] == "completed"
    assert p.records("deal").get(deal["id"])["reviewer"] == "timed out"
    fired = next(h for h in after["history"] if h["kind"] == "timer_fired")
    assert fired["at"] == T0 + dt.timedelta(days=2)


def test_cancelling_drops_the_timer(clocked):
    p = clocked
    deal = p.records("deal").create({"title": "Quiet"})
    inst = p.flows.start("deal_reminder", record=("deal", deal["id"]))
    p.flows.cancel(inst["id"])
    assert p.flows.tick(T0 + dt.timedelta(days=30)) == 0
    assert p.records("deal").get(deal["id"])["reviewer"] is None


def test_completing_twice_with_one_command_id_is_a_no_op(clocked):
    p = clocked
    deal = p.records("deal").create({"title": "Twice", "amount": 900_000})
    inst = p.flows.start("deal_approval", record=("deal", deal["id"]), user="alice")
    (task,) = p.flows.tasks(user="bob")
    first = p.flows.complete(task["id"], "approve", user="bob", command_id="cmd-1")
    again = p.flows.complete(task["id"], "approve", user="bob", command_id="cmd-1")
    assert first == again
    history = p.flows.instance(inst["id"])["history"]
    assert sum(h["kind"] == "task_completed" for h in history) == 1
    assert len(p.flows.tasks(roles=["director"])) == 1
    with pytest.raises(ConflictError) as info:
        p.flows.complete(task["id"], "reject", user="bob", command_id="cmd-2")
    assert "already completed by bob (approve)" in str(info.value)


def test_a_start_command_is_idempotent_too(clocked):
    p = clocked
    deal = p.records("deal").create({"title": "Once"})
    a = p.flows.start("deal_reminder", record=("deal", deal["id"]), command_id="s-1")
    b = p.flows.start("deal_reminder", record=("deal", deal["id"]), command_id="s-1")
    assert a["id"] == b["id"]


def test_two_people_completing_one_task_at_once_one_wins(clocked):
    p = clocked
    multi = {**APPROVAL, "name": "race"}
    multi["nodes"] = {
        **APPROVAL["nodes"],
        "manager": {"type": "approval", "config": {"approvers": {"role": "managers"}}},
    }
    p.flows.publish(multi)
    deal = p.records("deal").create({"title": "Race", "amount": 10})
    inst = p.flows.start("race", record=("deal", deal["id"]), user="alice")
    (task,) = p.flows.tasks(roles=["managers"])
    barrier = threading.Barrier(2)
    results: dict[str, object] = {}

    def act(user: str, outcome: str) -> None:
        barrier.wait()
        try:
            results[user] = p.flows.complete(task["id"], outcome, user=user)
        except ConflictError as exc:
            results[user] = exc

    threads = [
        threading.Thread(target=act, args=a) for a in (("ann", "approve"), ("ben", "reject"))
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    errors = [r for r in results.values() if isinstance(r, ConflictError)]
    wins = [r for r in results.values() if isinstance(r, dict)]
    assert len(errors) == 1 and len(wins) == 1
    assert "already completed by" in str(errors[0])
    after = p.flows.instance(inst["id"])
    assert after["status"] == "completed"
    assert sum(h["kind"] == "task_completed" for h in after["history"]) == 1


def escalating(p, action: str) -> dict:
    timed = {**APPROVAL, "name": f"esc_{action}"}
    timeout = {"after": "48h", "action": action}
    if action == "escalate":
        timeout["to"] = {"role": "admin"}
    timed["nodes"] = {
        **APPROVAL["nodes"],
        "manager": {
            "type": "approval",
            "config": {"approvers": {"user": "bob"}, "timeout": timeout},
        },
    }
    p.flows.publish(timed)
    deal = p.records("deal").create({"title": "Slow", "amount": 10})
    return p.flows.start(timed["name"], record=("deal", deal["id"]), user="alice")


def test_an_unanswered_approval_escalates(clocked):
    p = clocked
    inst = escalating(p, "escalate")
    (task,) = p.flows.tasks(user="bob")
    assert task["due_on"] == T0 + dt.timedelta(hours=48)
    assert p.flows.tick(T0 + dt.timedelta(hours=49)) == 1
    assert p.flows.tasks(user="bob") == []
    (admin,) = p.flows.tasks(roles=["admin"])
    p.flows.complete(admin["id"], "approve", user="root")
    assert p.flows.instance(inst["id"])["outcome"] == "approved"


def test_a_timeout_can_decide_and_a_decision_stops_the_timer(clocked):
    p = clocked
    inst = escalating(p, "reject")
    p.flows.tick(T0 + dt.timedelta(days=3))
    assert p.flows.instance(inst["id"])["outcome"] == "rejected"
    other = escalating(p, "approve")
    (task,) = p.flows.tasks(user="bob")
    p.flows.complete(task["id"], "reject", user="bob")
    assert p.flows.tick(T0 + dt.timedelta(days=3)) == 0
    assert p.flows.instance(other["id"])["outcome"] == "rejected"


def test_escalation_needs_a_target(clocked):
    from engine import BundleError

    bad = {**APPROVAL, "name": "esc_bad"}
    bad["nodes"] = {
        **APPROVAL["nodes"],
        "manager": {
            "type": "approval",
            "config": {
                "approvers": {"user": "bob"},
                "timeout": {"after": "2d", "action": "escalate"},
            },
        },
    }
    with pytest.raises(BundleError) as info:
        clocked.flows.publish(bad)
    assert "node 'manager'" in str(info.value) and "'to'" in str(info.value)


def test_a_timer_step_that_fails_marks_the_instance_failed(clocked):
    p = clocked
    broken = {**TIMED, "name": "broken"}
    broken["nodes"] = {
        **TIMED["nodes"],
        "mark": {"type": "action", "config": {"set": {"region": '"north"'}}},
    }
    p.flows.publish(broken)
    deal = p.records("deal").create({"title": "Quiet"})
    inst = p.flows.start("broken", record=("deal", deal["id"]))
    assert p.flows.tick(T0 + dt.timedelta(days=3)) == 0
    after = p.flows.instance(inst["id"])
    assert after["status"] == "failed" and "region" in after["error"]
    assert after["history"][-1]["kind"] == "failed"


def test_tasks_of_a_failed_instance_are_closed(clocked):
    p = clocked
    p.flows.publish(
        {
            "name": "half_broken",
            "label": "Half broken",
            "entity": "deal",
            "nodes": {
                "start": {"type": "start"},
                "split": {"type": "parallel"},
                "look": {"type": "task", "config": {"assignee": {"user": "lee"}}},
                "wait": {"type": "timer", "config": {"after": "1h"}},
                "bad": {"type": "action", "config": {"set": {"region": '"north"'}}},
                "join": {"type": "parallel"},
                "end": {"type": "end"},
            },
            "edges": [
                ["start", "split"],
                ["split", "look"],
                ["split", "wait"],
                ["wait", "bad"],
                ["look", "join"],
                ["bad", "join"],
                ["join", "end"],
            ],
        }
    )
    deal = p.records("deal").create({"title": "Half"})
    inst = p.flows.start("half_broken", record=("deal", deal["id"]))
    p.flows.tick(T0 + dt.timedelta(hours=2))
    (task,) = p.flows.tasks(user="lee")
    with pytest.raises(ConflictError) as info:
        p.flows.complete(task["id"], "done", user="lee")
    assert "is failed" in str(info.value)
    assert p.flows.instance(inst["id"])["status"] == "failed"


def test_only_the_initiator_withdraws_a_running_request(clocked):
    from engine import PermissionDenied

    p = clocked
    deal = p.records("deal").create({"title": "Maybe", "amount": 10})
    inst = p.flows.start("deal_approval", record=("deal", deal["id"]), user="alice")
    assert len(p.flows.tasks(user="bob")) == 1
    with pytest.raises(PermissionDenied, match="only 'alice'"):
        p.flows.withdraw(inst["id"], user="bob")
    done = p.flows.withdraw(inst["id"], user="alice", command_id="w-1")
    assert done["status"] == "withdrawn"
    assert p.flows.withdraw(inst["id"], user="alice", command_id="w-1")["status"] == "withdrawn"
    assert p.flows.tasks(user="bob") == []
    with pytest.raises(ConflictError, match="already ended"):
        p.flows.withdraw(inst["id"], user="alice")
    kinds = [h["kind"] for h in p.flows.instance(inst["id"])["history"]]
    assert "withdrawn" in kinds


def test_approvers_by_manager_chain(clocked):
    p = clocked
    p.users.add("cto")
    p.users.add("vp", manager="cto")
    p.users.add("lead", manager="vp")
    p.users.add("dev", manager="lead")
    chain = {**APPROVAL, "name": "chain"}
    chain["nodes"] = {
        **APPROVAL["nodes"],
        "manager": {"type": "approval", "config": {"approvers": {"manager_of": "initiator"}}},
        "director": {
            "type": "approval",
            "config": {"approvers": {"manager_of": "initiator", "levels": 3}},
        },
    }
    p.flows.publish(chain)
    deal = p.records("deal").create({"title": "Big", "amount": 900000})
    p.flows.start("chain", record=("deal", deal["id"]), user="dev")
    (first,) = p.flows.tasks(user="lead")
    p.flows.complete(first["id"], "approve", user="lead")
    (second,) = p.flows.tasks(user="cto")
    assert second["node"] == "director"
    bad = {**chain, "name": "bad_chain"}
    bad["nodes"] = {
        **chain["nodes"],
        "manager": {"type": "approval", "config": {"approvers": {"levels": 2}}},
    }
    from engine import BundleError, FlowError

    with pytest.raises((BundleError, FlowError, ValidationError)):
        p.flows.publish(bad)
