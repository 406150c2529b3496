"""The inbox's API: transfer, add a signer, return, comment, my requests, notifications."""

from __future__ import annotations

import pytest

from engine.store.outbox import enqueue
from tests.floor_defs import save
from tests.flows.defs import APPROVAL, DEAL

PERMISSIONS = {
    "roles": {"sales_rep": {"label": "Sales rep"}, "director": {"label": "Director"}},
    "permissions": [
        {"role": "sales_rep", "entity": "deal", "create": True, "read": "own", "update": "own"},
        {"role": "director", "entity": "deal", "read": "all", "update": "all"},
    ],
}


@pytest.fixture
def p(platform):
    save(platform, DEAL)
    platform.meta.save("permissions", "sales", PERMISSIONS)
    platform.flows.publish(APPROVAL)
    platform.users.add("alice", roles=["sales_rep"])
    platform.users.add("bob", roles=["director"])
    platform.users.add("carol", roles=["director"])
    return platform


def _as(p, new_client, user):
    c = new_client()
    c.token = p.users.create_token(user)["token"]
    return c


def _started(p, alice):
    deal = alice.post("/api/v1/records/deal", {"title": "Deal", "amount": 10})[1]
    status, inst, _ = alice.post(
        "/api/v1/flows/deal_approval/start", {"entity": "deal", "id": deal["id"]}
    )
    assert status == 201
    return inst


def test_transfer_signer_return_and_comment(p, new_client):
    alice, bob, carol = (_as(p, new_client, u) for u in ("alice", "bob", "carol"))
    inst = _started(p, alice)
    [task] = bob.get("/api/v1/tasks")[1]["items"]
    assert carol.post(f"/api/v1/tasks/{task['id']}/transfer", {"to": "alice"})[0] == 404
    status, problem, _ = bob.post(f"/api/v1/tasks/{task['id']}/transfer", {"to": "zed"})
    assert status == 422 and problem["errors"][0]["field"] == "to"
    assert bob.post(f"/api/v1/tasks/{task['id']}/transfer", {"to": "carol"})[0] == 200
    assert bob.get("/api/v1/tasks")[1]["items"] == []
    status, added, _ = carol.post(f"/api/v1/tasks/{task['id']}/signers", {"to": "bob"})
    assert status == 201
    [signer] = bob.get("/api/v1/tasks")[1]["items"]
    assert signer["id"] == added["task_id"] and signer["kind"] == "signer"
    assert bob.post(f"/api/v1/tasks/{signer['id']}/complete", {"outcome": "return"})[0] == 200
    [revise] = alice.get("/api/v1/tasks")[1]["items"]
    assert revise["kind"] == "revise"
    assert carol.post(f"/api/v1/flows/instances/{inst['id']}/comments", {"comment": "ok"})[0] == 201
    mine = alice.get("/api/v1/flows/instances")[1]["items"]
    assert [i["id"] for i in mine] == [inst["id"]]
    assert bob.get("/api/v1/flows/instances")[1]["items"] == []
    history = alice.get(f"/api/v1/flows/instances/{inst['id']}")[1]["history"]
    kinds = [h["kind"] for h in history]
    assert "task_transferred" in kinds and "signer_added" in kinds and "comment" in kinds


def test_notifications_over_http(p, new_client):
    bob, carol = _as(p, new_client, "bob"), _as(p, new_client, "carol")
    with p.db.transaction(write=True) as conn:
        enqueue(conn, "notify", {"to": "bob", "message": "hello"}, now=p.clock.now())
    p.jobs.run_due()
    status, answer, _ = bob.get("/api/v1/notifications")
    assert status == 200 and answer["unread"] == 1
    [note] = answer["items"]
    assert note["message"] == "hello"
    assert carol.post(f"/api/v1/notifications/{note['id']}/read", {})[0] == 404
    assert bob.post(f"/api/v1/notifications/{note['id']}/read", {})[0] == 200
    assert bob.get("/api/v1/notifications?unread=1")[1] == {"items": [], "unread": 0}
    assert bob.post("/api/v1/notifications/read", {})[1] == {"marked": 0}
