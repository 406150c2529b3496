"""One running instance of a flow per record: a second start is refused, a trigger skips it."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from engine import ConflictError
from engine.flows.tables import flow_instances
from tests.flows.defs import APPROVAL, flow


@pytest.fixture
def approval(p):
    p.flows.publish(APPROVAL, user="admin")
    return p


def test_a_second_start_on_the_same_record_is_refused(approval):
    p = approval
    deal = p.records("deal").create({"title": "Deal", "amount": 5})
    first = p.flows.start("deal_approval", record=("deal", deal["id"]), user="alice")
    with pytest.raises(ConflictError) as caught:
        p.flows.start("deal_approval", record=("deal", deal["id"]), user="alice")
    assert f"instance {first['id']}" in str(caught.value)
    assert "deal_approval" in str(caught.value)
    other = p.records("deal").create({"title": "Other", "amount": 5})
    assert p.flows.start("deal_approval", record=("deal", other["id"]))["status"] == "running"


def test_an_ended_instance_lets_the_flow_start_again(approval):
    p = approval
    deal = p.records("deal").create({"title": "Deal", "amount": 5})
    first = p.flows.start("deal_approval", record=("deal", deal["id"]), user="alice")
    p.flows.cancel(first["id"], user="admin")
    again = p.flows.start("deal_approval", record=("deal", deal["id"]), user="alice")
    assert again["status"] == "running"


def test_a_trigger_skips_a_flow_already_running_on_the_record(p):
    p.flows.publish(flow(APPROVAL, trigger={"on": ["created", "updated"]}))
    deal = p.records("deal").create({"title": "Deal", "amount": 5})
    p.records("deal").update(deal["id"], {"title": "Deal 2"})  # the save succeeds
    with p.db.transaction(write=False) as conn:
        statuses = [
            r.status
            for r in conn.execute(
                select(flow_instances.c.status).where(flow_instances.c.record_id == deal["id"])
            )
        ]
    assert statuses == ["running"]  # neither a second instance nor a failed one
