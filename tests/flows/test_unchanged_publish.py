"""Publishing or saving a definition equal to the live version keeps that version."""

from __future__ import annotations

import copy

from tests.flows.defs import APPROVAL


def test_an_unchanged_flow_keeps_its_version_and_running_instances_stay_on_it(p):
    assert p.flows.publish(APPROVAL, user="admin") == 1
    deal = p.records("deal").create({"title": "Deal", "amount": 5})
    p.flows.start("deal_approval", record=("deal", deal["id"]), user="alice")
    assert p.flows.publish(copy.deepcopy(APPROVAL), user="admin") == 1
    stored = p.meta.store("flow", "deal_approval", copy.deepcopy(APPROVAL), user="admin")
    assert (stored.version, stored.changed) == (1, False)
    changed = copy.deepcopy(APPROVAL)
    changed["edges"][3]["when"] = "amount > 5000000"
    assert p.flows.publish(changed) == 2


def test_any_kind_saved_unchanged_keeps_its_version(p):
    definition = p.meta.get("entity", "deal")["definition"]
    version = p.meta.get("entity", "deal")["version"]
    assert p.meta.store("entity", "deal", definition) == (version, False)
