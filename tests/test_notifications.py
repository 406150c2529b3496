"""The ``notify`` deliverer: outbox messages become rows in each recipient's inbox."""

from __future__ import annotations

import pytest

from engine import NotFound
from engine.store.outbox import enqueue
from tests.floor_defs import save
from tests.flows.defs import DEAL


@pytest.fixture
def p(platform):
    save(platform, DEAL)
    platform.users.add("alice", roles=["sales_rep"])
    platform.users.add("bob", roles=["sales_manager"])
    platform.users.add("fran", roles=["finance"])
    platform.users.add("fiona", roles=["finance"])
    return platform


def send(p, payload, key=None):
    with p.db.transaction(write=True) as conn:
        enqueue(conn, "notify", payload, now=p.clock.now(), key=key)


def test_a_rule_notification_reaches_the_named_user_or_role(p):
    deal = p.records("deal").create({"title": "Big one", "amount": 9})
    send(p, {"to": "bob", "message": "Deal won", "entity": "deal", "record_id": deal["id"]})
    send(p, {"to": "finance", "message": "Invoice it"})
    send(p, {"to": None, "message": "nobody"})
    send(p, {"to": "ghost", "message": "nobody either"})
    tick = p.jobs.run_due()
    assert tick.delivered == 4 and tick.failed == 0
    (won,) = p.notifications.list("bob")
    assert (won["message"], won["kind"]) == ("Deal won", "notify")
    assert won["link"] == f"/app/deal/{deal['id']}" and won["read_on"] is None
    assert [n["message"] for n in p.notifications.list("fran")] == ["Invoice it"]
    assert [n["message"] for n in p.notifications.list("fiona")] == ["Invoice it"]
    assert p.notifications.list("alice") == []
    assert p.jobs.run_due().delivered == 0  # delivered once


def test_a_flow_notify_node_copies_people_in(p):
    p.flows.publish(
        {
            "name": "cc_flow",
            "label": {"en": "CC flow", "zh-CN": "抄送流程"},
            "entity": "deal",
            "nodes": {
                "start": {"type": "start"},
                "cc": {"type": "notify", "config": {"to": {"role": "finance"},
                                                    "message": "FYI: new deal"}},
                "end": {"type": "end"},
            },
            "edges": [["start", "cc"], ["cc", "end"]],
        }
    )  # fmt: skip
    deal = p.records("deal").create({"title": "Copied", "amount": 1})
    inst = p.flows.start("cc_flow", record=("deal", deal["id"]), user="alice")
    p.jobs.run_due()
    (cc,) = p.notifications.list("fran", kind="cc")
    assert cc["flow"] == "cc_flow" and cc["instance_id"] == inst["id"]
    assert cc["link"] == f"/flows/instances/{inst['id']}"
    assert p.notifications.list("fran", kind="notify") == []


def test_delivering_the_same_message_twice_adds_nothing(p):
    send(p, {"to": "bob", "message": "once"})
    from engine.store.outbox import due_messages

    with p.db.transaction(write=False) as conn:
        (message,) = due_messages(conn, p.clock.now())
    assert p.notifications.deliver(message) == 1
    assert p.notifications.deliver(message) == 0
    assert len(p.notifications.list("bob")) == 1


def test_reading_notifications(p):
    send(p, {"to": "bob", "message": "one"})
    send(p, {"to": "bob", "message": "two"})
    p.jobs.run_due()
    assert p.notifications.unread("bob") == 2
    newest, older = p.notifications.list("bob")
    assert newest["message"] == "two"
    assert p.notifications.mark_read(newest["id"], user="bob")["read_on"] is not None
    assert p.notifications.unread("bob") == 1
    assert [n["message"] for n in p.notifications.list("bob", unread=True)] == ["one"]
    with pytest.raises(NotFound):
        p.notifications.mark_read(older["id"], user="alice")
    assert p.notifications.mark_all_read("bob") == 1
    assert p.notifications.unread("bob") == 0
