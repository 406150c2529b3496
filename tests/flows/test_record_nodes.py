"""Flows that write other records, countersigns by several roles, triggers on several events."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from engine import BundleError
from tests.floor_defs import save
from tests.flows.defs import APPROVAL, DEAL, flow

#: A project made from a deal, pointing back at it.
PROJECT: dict[str, Any] = {
    "name": "project",
    "label": {"en": "Project", "zh-CN": "项目"},
    "schema": {
        "type": "object",
        "required": ["title"],
        "properties": {
            "title": {"type": "string", "maxLength": 120},
            "deal": {"type": "integer", "x-ref": "deal"},
            "budget": {"type": "number"},
        },
    },
}

#: A signature on a deal: its flow marks the deal and opens a project.
SIGNATURE: dict[str, Any] = {
    "name": "signature",
    "label": "Signature",
    "schema": {
        "type": "object",
        "properties": {
            "deal": {"type": "integer", "x-ref": "deal"},
            "note": {"type": "string"},
        },
    },
}

ON_SIGN: dict[str, Any] = {
    "name": "on_sign",
    "label": {"en": "On signature", "zh-CN": "签署后"},
    "entity": "signature",
    "trigger": {"on": ["created", "updated"], "when": 'note == "signed"'},
    "nodes": {
        "start": {"type": "start"},
        "mark": {
            "type": "update_related",
            "config": {"field": "deal", "set": {"approval_status": '"approved"'}},
        },
        "project": {
            "type": "create_record",
            "config": {
                "entity": "project",
                "values": {"title": 'coalesce("Project for " + deal.title, "Project")', "deal": "deal",
                           "budget": "deal.amount * 0.1"},
            },
        },
        "end": {"type": "end"},
    },
    "edges": [["start", "mark"], ["mark", "project"], ["project", "end"]],
}  # fmt: skip


@pytest.fixture
def q(p):
    save(p, PROJECT, SIGNATURE)
    p.flows.publish(ON_SIGN)
    return p


def test_a_flow_creates_a_record_and_updates_the_related_one(q):
    deal = q.records("deal").create({"title": "Plant", "amount": 1000})
    sig = q.records("signature").create({"deal": deal["id"], "note": "signed"})
    assert q.records("deal").get(deal["id"])["approval_status"] == "approved"
    (project,) = q.records("project").list()
    assert (project["title"], project["deal"], float(project["budget"])) == (
        "Project for Plant",
        deal["id"],
        100.0,
    )
    (inst,) = q.flows.record_changed("signature", "updated", sig, old={**sig, "note": None})
    kinds = [e["kind"] for e in q.flows.instance(inst)["history"]]
    assert "record_created" in kinds and "record_updated" in kinds


def test_an_empty_reference_is_skipped_unless_required(q):
    q.records("signature").create({"note": "signed"})
    assert q.records("project").count() == 1  # created; nothing to mark
    strict = copy.deepcopy(ON_SIGN)
    strict["nodes"]["mark"]["config"]["required"] = True
    q.flows.publish(strict)
    from engine import FlowError

    sig = q.records("signature").create({"note": "draft"})
    with pytest.raises(FlowError, match="empty"):
        q.flows.start("on_sign", record=("signature", sig["id"]))


def test_a_refused_create_undoes_the_whole_step(q):
    bad = copy.deepcopy(ON_SIGN)
    del bad["trigger"]
    bad["nodes"]["project"]["config"]["values"]["title"] = '"x" * 1'  # not a string
    with pytest.raises(BundleError):
        q.flows.publish(bad)
    long = copy.deepcopy(ON_SIGN)
    del long["trigger"]
    long["nodes"]["project"]["config"]["values"]["title"] = 'deal.title + "' + "x" * 130 + '"'
    q.flows.publish(long)
    deal = q.records("deal").create({"title": "Plant"})
    sig = q.records("signature").create({"deal": deal["id"]})
    from engine import ValidationError

    with pytest.raises(ValidationError):
        q.flows.start("on_sign", record=("signature", sig["id"]))
    assert q.records("deal").get(deal["id"]).get("approval_status") is None
    assert q.records("project").count() == 0


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"entity": "projekt", "values": {"title": '"a"'}}, "'projekt' does not exist"),
        ({"entity": "project", "values": {"titel": '"a"'}}, "'titel' is not a field"),
        ({"entity": "project", "values": {"title": "nope"}}, "nope"),
    ],
)
def test_create_record_is_checked_before_publishing(q, config, message):
    bad = copy.deepcopy(ON_SIGN)
    bad["nodes"]["project"]["config"] = config
    with pytest.raises(BundleError) as info:
        q.flows.publish(bad)
    assert any(message in e["message"] for e in info.value.errors), info.value.errors


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"field": "note", "set": {"title": '"a"'}}, "not a reference"),
        ({"field": "deel", "set": {"title": '"a"'}}, "'deel' is not a field"),
        ({"field": "deal", "set": {"titel": '"a"'}}, "'titel' is not a field of 'deal'"),
        ({"field": "deal", "summarize": {"titel": {"count": "note"}}}, "'titel' is not a field"),
        ({"field": "deal", "summarize": {"amount": {"count": "nte"}}}, "'nte' is not a field of"),
        ({"field": "deal", "summarize": {"amount": {"median": "note"}}}, "median"),
        ({"field": "deal"}, "set"),
    ],
)
def test_update_related_is_checked_before_publishing(q, config, message):
    bad = copy.deepcopy(ON_SIGN)
    bad["nodes"]["mark"]["config"] = config
    with pytest.raises(BundleError) as info:
        q.flows.publish(bad)
    assert any(message in e["message"] for e in info.value.errors), info.value.errors


def test_a_trigger_on_several_events(q):
    sig = q.records("signature").create({"note": "draft"})
    assert q.records("project").count() == 0
    q.records("signature").update(sig["id"], {"note": "signed"})
    assert q.records("project").count() == 1


def test_a_countersign_by_several_roles_needs_every_role(p):
    save(p, DEAL)
    sign = flow(APPROVAL)
    sign["nodes"]["manager"]["config"] = {
        "approvers": {"roles": ["finance", "director"]},
        "mode": "all",
    }
    p.flows.publish(sign)
    deal = p.records("deal").create({"title": "D", "amount": 10})
    inst = p.flows.start("deal_approval", record=("deal", deal["id"]), user="alice")
    tasks = p.flows.tasks(roles=["finance", "director"])
    assert sorted(t["role"] for t in tasks) == ["director", "finance"]
    finance = next(t for t in tasks if t["role"] == "finance")
    p.flows.complete(finance["id"], "approve", user="fay")
    assert p.flows.instance(inst["id"])["status"] == "running"
    (director,) = p.flows.tasks(roles=["director"])
    p.flows.complete(director["id"], "approve", user="dan")
    done = p.flows.instance(inst["id"])
    assert (done["status"], done["outcome"]) == ("completed", "approved")


def test_a_triggered_start_that_fails_keeps_the_write_and_leaves_a_failed_instance(q):
    strict = copy.deepcopy(ON_SIGN)
    strict["edges"] = [["start", "project"], ["project", "mark"], ["mark", "end"]]
    strict["nodes"]["mark"]["config"]["required"] = True  # no deal: the step fails at mark
    q.flows.publish(strict)
    sig = q.records("signature").create({"note": "signed"})
    assert q.records("signature").get(sig["id"])["note"] == "signed"  # the write stands
    assert q.records("project").count() == 0  # the step, project included, is undone
    (failed,) = q.flows.record_changed("signature", "created", sig)
    got = q.flows.instance(failed)
    assert got["status"] == "failed" and "empty" in got["error"]
    assert [e["kind"] for e in got["history"]] == ["failed"]
