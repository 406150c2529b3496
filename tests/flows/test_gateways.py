"""Inclusive gateways, webhooks through the outbox, and human-task outcomes."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from engine.store.system import outbox

INCLUSIVE = {
    "name": "deal_checks",
    "label": "Deal checks",
    "entity": "deal",
    "nodes": {
        "start": {"type": "start"},
        "fork": {"type": "inclusive"},
        "big": {"type": "task", "config": {"assignee": {"user": "lee"}}},
        "east": {"type": "task", "config": {"assignee": {"user": "fay"}}},
        "merge": {"type": "inclusive"},
        "hook": {
            "type": "webhook",
            "config": {"url": "https://example.org/h", "fields": ["title"]},
        },
        "end": {"type": "end"},
    },
    "edges": [
        ["start", "fork"],
        {"from": "fork", "to": "big", "when": "amount > 10"},
        {"from": "fork", "to": "east", "when": 'region == "east"'},
        {"from": "fork", "to": "merge", "default": True},
        ["big", "merge"],
        ["east", "merge"],
        ["merge", "hook"],
        ["hook", "end"],
    ],
}


@pytest.fixture
def checks(p):
    p.flows.publish(INCLUSIVE)
    return p


def run(p, **deal):
    record = p.records("deal").create({"title": "T", **deal})
    return p.flows.start("deal_checks", record=("deal", record["id"]), user="alice")


def webhooks(p):
    with p.db.transaction(write=False) as conn:
        return conn.execute(select(outbox.c.payload).where(outbox.c.kind == "webhook")).all()


def test_inclusive_join_waits_for_every_branch_taken(checks):
    p = checks
    inst = run(p, amount=50, region="east")
    assert {t["assignee"] for t in p.flows.tasks()} == {"lee", "fay"}
    p.flows.complete(p.flows.tasks(user="lee")[0]["id"], "done", user="lee")
    assert p.flows.instance(inst["id"])["status"] == "running"
    assert webhooks(p) == []
    p.flows.complete(p.flows.tasks(user="fay")[0]["id"], "done", user="fay")
    assert p.flows.instance(inst["id"])["status"] == "completed"
    (hook,) = webhooks(p)
    assert '"title":"T"' in hook.payload


def test_inclusive_join_fires_when_no_other_branch_can_come(checks):
    p = checks
    inst = run(p, amount=50, region="west")
    (task,) = p.flows.tasks()
    p.flows.complete(task["id"], "done", user="lee")
    assert p.flows.instance(inst["id"])["status"] == "completed"


def test_inclusive_default_when_nothing_holds(checks):
    p = checks
    inst = run(p, amount=1, region="west")
    assert inst["status"] == "completed" and len(webhooks(p)) == 1


def test_a_task_outcome_picks_its_edge(p):
    p.flows.publish(
        {
            "name": "triage",
            "label": "Triage",
            "entity": "deal",
            "nodes": {
                "start": {"type": "start"},
                "look": {
                    "type": "task",
                    "config": {"assignee": {"field": "reviewer"}, "outcomes": ["keep", "drop"]},
                },
                "dropped": {"type": "action", "config": {"set": {"approval_status": '"rejected"'}}},
                "end": {"type": "end"},
            },
            "edges": [
                ["start", "look"],
                ["look", "end"],
                {"from": "look", "to": "dropped", "outcome": "drop"},
                ["dropped", "end"],
            ],
        }
    )
    record = p.records("deal").create({"title": "T", "reviewer": "rita"})
    p.flows.start("triage", record=("deal", record["id"]))
    (task,) = p.flows.tasks(user="rita")
    p.flows.complete(task["id"], "drop", user="rita")
    assert p.records("deal").get(record["id"])["approval_status"] == "rejected"


CHILD = {
    "name": "legal_review",
    "label": "Legal review",
    "entity": "deal",
    "nodes": {
        "start": {"type": "start"},
        "legal": {"type": "approval", "config": {"approvers": {"user": "lee"}}},
        "ok": {"type": "end", "config": {"outcome": "cleared"}},
    },
    "edges": [["start", "legal"], ["legal", "ok"]],
}

PARENT = {
    "name": "contract",
    "label": "Contract",
    "entity": "deal",
    "nodes": {
        "start": {"type": "start"},
        "review": {"type": "subflow", "config": {"flow": "legal_review"}},
        "signed": {"type": "action", "config": {"set": {"approval_status": '"approved"'}}},
        "end": {"type": "end"},
    },
    "edges": [
        ["start", "review"],
        {"from": "review", "to": "signed", "outcome": "cleared"},
        ["review", "end"],
        ["signed", "end"],
    ],
}


@pytest.fixture
def contracts(p):
    p.flows.publish(CHILD)
    p.flows.publish(PARENT)
    return p


def test_a_subflow_runs_and_wakes_its_parent(contracts):
    p = contracts
    record = p.records("deal").create({"title": "Contract"})
    parent = p.flows.start("contract", record=("deal", record["id"]), user="alice")
    (task,) = p.flows.tasks(user="lee")
    assert task["instance_id"] != parent["id"]
    p.flows.complete(task["id"], "approve", user="lee")
    after = p.flows.instance(parent["id"])
    assert after["status"] == "completed"
    assert p.records("deal").get(record["id"])["approval_status"] == "approved"
    child = p.flows.instance(task["instance_id"])
    assert (child["parent_id"], child["outcome"]) == (parent["id"], "cleared")


def test_a_rejected_subflow_takes_the_unmarked_edge_and_cancel_reaches_the_child(contracts):
    p = contracts
    record = p.records("deal").create({"title": "Contract"})
    parent = p.flows.start("contract", record=("deal", record["id"]))
    (task,) = p.flows.tasks(user="lee")
    p.flows.complete(task["id"], "reject", user="lee")
    assert p.flows.instance(task["instance_id"])["outcome"] == "rejected"
    assert p.flows.instance(parent["id"])["status"] == "completed"  # by the unmarked edge
    assert p.records("deal").get(record["id"])["approval_status"] is None
    second = p.flows.start("contract", record=("deal", record["id"]))
    (task,) = p.flows.tasks(user="lee")
    p.flows.cancel(second["id"])
    assert p.flows.instance(task["instance_id"])["status"] == "cancelled"
    assert p.flows.tasks(user="lee") == []


def test_a_flow_cannot_call_itself(p):
    from engine import BundleError

    with pytest.raises(BundleError) as info:
        p.flows.publish(
            {
                **PARENT,
                "nodes": {
                    **PARENT["nodes"],
                    "review": {"type": "subflow", "config": {"flow": "contract"}},
                },
            }
        )
    assert "node 'review'" in str(info.value) and "itself" in str(info.value)


def test_an_action_runs_a_loaded_rule_set(p):
    p.flows.publish(
        {
            "name": "pick_reviewer",
            "label": "Pick a reviewer",
            "entity": "deal",
            "nodes": {
                "start": {"type": "start"},
                "pick": {"type": "action", "config": {"ruleset": "deal_reviewer"}},
                "review": {"type": "task", "config": {"assignee": {"field": "reviewer"}}},
                "end": {"type": "end"},
            },
            "edges": [["start", "pick"], ["pick", "review"], ["review", "end"]],
        }
    )
    # Loaded after the publish: a metadata change rebuilds p.rules (rule sets are not
    # yet loaded from the database by the platform itself).
    p.rules.load_ruleset(
        "grading deal_reviewer on deal from amount into reviewer:\n"
        '    "dora" when amount > 1000\n'
        '    "bob" otherwise\n',
        path="deal.rules",
    )
    record = p.records("deal").create({"title": "T", "amount": 5000})
    p.flows.start("pick_reviewer", record=("deal", record["id"]))
    assert p.records("deal").get(record["id"])["reviewer"] == "dora"
    assert len(p.flows.tasks(user="dora")) == 1


def test_a_trigger_starts_matching_flows(p):
    from tests.flows.defs import TIMED

    p.flows.publish({**TIMED, "trigger": {"on": "updated", "when": 'region changed to "east"'}})
    record = p.records("deal").create({"title": "T", "region": "west"})
    after = p.records("deal").update(record["id"], {"region": "east"})
    assert p.flows.record_changed("deal", "created", after) == []
    assert p.flows.record_changed("deal", "updated", after, old=after) == []
    # the update itself started it; the same event again finds it running and skips
    (started,) = [i["id"] for i in p.flows.instances(status="running")]
    assert p.flows.record_changed("deal", "updated", after, old=record) == []
    assert p.flows.instance(started)["flow"] == "deal_reminder"


def test_a_trigger_condition_is_type_checked(p):
    from engine import BundleError
    from tests.flows.defs import TIMED

    with pytest.raises(BundleError) as info:
        p.flows.publish({**TIMED, "trigger": {"on": "updated", "when": 'regoin == "east"'}})
    (entry,) = [e for e in info.value.errors if "trigger" in e["message"]]
    assert entry["field"] == "trigger.when" and "region" in entry["message"]
    with pytest.raises(BundleError):
        p.flows.publish({**TIMED, "trigger": {"on": "saved"}})


def test_record_writes_start_triggered_flows_after_the_commit(p):
    import pytest
    from sqlalchemy import func, select

    from engine.flows.tables import flow_instances
    from tests.flows.defs import TIMED

    def started() -> int:
        with p.db.transaction(write=False) as conn:
            return conn.execute(select(func.count()).select_from(flow_instances)).scalar_one()

    p.flows.publish({**TIMED, "trigger": {"on": "updated", "when": 'region changed to "east"'}})
    record = p.records("deal").create({"title": "T", "region": "west"})
    assert started() == 0
    p.records("deal").update(record["id"], {"region": "east"})
    assert started() == 1
    p.records("deal").update(record["id"], {"title": "renamed"})  # region did not change
    assert started() == 1
    with pytest.raises(RuntimeError), p.db.transaction(write=True):
        p.records("deal").update(record["id"], {"region": "west"})
        p.records("deal").update(record["id"], {"region": "east"})
        raise RuntimeError("the write fails")
    assert started() == 1  # a rolled-back write starts nothing
