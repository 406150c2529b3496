"""An approval's ``comment_required``: a rejection (or every decision) must give its reason."""

from __future__ import annotations

import copy

import pytest

from engine import BundleError, ValidationError
from tests.flows.defs import APPROVAL


def _publish(p, rule):
    definition = copy.deepcopy(APPROVAL)
    if rule is not None:
        definition["nodes"]["manager"]["config"]["comment_required"] = rule
    p.flows.publish(definition)
    deal = p.records("deal").create({"title": "Deal", "amount": 5})
    inst = p.flows.start("deal_approval", record=("deal", deal["id"]), user="alice")
    (task,) = p.flows.tasks(user="bob")
    return inst, task


def test_on_reject_refuses_a_rejection_without_a_comment(p):
    inst, task = _publish(p, "on_reject")
    with pytest.raises(ValidationError) as caught:
        p.flows.complete(task["id"], "reject", user="bob", comment="  ")
    assert "a comment is required to reject" in str(caught.value)
    assert caught.value.errors[0]["field"] == "comment"
    assert p.flows.tasks(user="bob")[0]["status"] == "open"  # nothing changed
    p.flows.complete(task["id"], "reject", user="bob", comment="Margin too thin")
    assert p.flows.instance(inst["id"])["status"] == "completed"


def test_on_reject_lets_an_approval_go_without_a_comment(p):
    inst, task = _publish(p, "on_reject")
    p.flows.complete(task["id"], "approve", user="bob")
    assert p.flows.instance(inst["id"])["status"] == "completed"


def test_always_asks_every_decision(p):
    _, task = _publish(p, "always")
    with pytest.raises(ValidationError):
        p.flows.complete(task["id"], "approve", user="bob")


def test_the_default_needs_no_comment(p):
    inst, task = _publish(p, None)
    p.flows.complete(task["id"], "reject", user="bob")
    assert p.flows.instance(inst["id"])["status"] == "completed"


def test_an_unknown_value_is_refused_at_publish(p):
    definition = copy.deepcopy(APPROVAL)
    definition["nodes"]["manager"]["config"]["comment_required"] = "sometimes"
    with pytest.raises(BundleError) as caught:
        p.flows.publish(definition)
    assert "manager" in str(caught.value.errors)
