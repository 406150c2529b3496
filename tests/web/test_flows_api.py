"""Approvals over HTTP: start on a record you may change, see and complete only your tasks."""

from __future__ import annotations

import pytest

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
    platform.users.add("ann", password="ann-secret-1", roles=["sales_rep"])
    platform.users.add("bob", password="bob-secret-1", roles=["sales_rep"])
    platform.users.add("dora", password="dora-secret", roles=["director"])
    return platform


def _as(p, new_client, user):
    c = new_client()
    c.token = p.users.create_token(user)["token"]
    return c


def test_a_big_deal_waits_for_the_director(p, new_client):
    ann, bob, dora = (_as(p, new_client, u) for u in ("ann", "bob", "dora"))
    status, deal, _ = ann.post("/api/v1/records/deal", {"title": "Big", "amount": 800000})
    assert status == 201
    assert (
        bob.post("/api/v1/flows/deal_approval/start", {"entity": "deal", "id": deal["id"]})[0]
        == 404
    )
    status, instance, _ = ann.post(
        "/api/v1/flows/deal_approval/start", {"entity": "deal", "id": deal["id"]}
    )
    assert status == 201
    status, tasks, _ = bob.get("/api/v1/tasks")
    [task] = tasks["items"]
    assert ann.post(f"/api/v1/tasks/{task['id']}/complete", {"outcome": "approve"})[0] == 404
    status, _, _ = bob.post(
        f"/api/v1/tasks/{task['id']}/complete", {"outcome": "approve", "command_id": "c-1"}
    )
    assert status == 200
    [director_task] = dora.get("/api/v1/tasks")[1]["items"]
    assert bob.get("/api/v1/tasks")[1]["items"] == []
    assert (
        dora.post(f"/api/v1/tasks/{director_task['id']}/complete", {"outcome": "approve"})[0] == 200
    )
    assert p.records("deal").get(deal["id"])["approval_status"] == "approved"
    assert p.flows.instance(instance["id"])["status"] == "completed"


def test_the_initiator_withdraws_over_http_and_others_cannot_look(p, new_client):
    ann, bob = (_as(p, new_client, u) for u in ("ann", "bob"))
    status, deal, _ = ann.post("/api/v1/records/deal", {"title": "Small", "amount": 10})
    status, instance, _ = ann.post(
        "/api/v1/flows/deal_approval/start", {"entity": "deal", "id": deal["id"]}
    )
    iid = instance["id"]
    assert bob.get(f"/api/v1/flows/instances/{iid}")[0] == 404  # bob cannot read ann's deal
    assert bob.post(f"/api/v1/flows/instances/{iid}/withdraw", {})[0] == 404
    status, seen, _ = ann.get(f"/api/v1/flows/instances/{iid}")
    assert status == 200 and seen["history"]
    status, done, _ = ann.post(f"/api/v1/flows/instances/{iid}/withdraw", {})
    assert status == 200 and done["status"] == "withdrawn"
    assert ann.post(f"/api/v1/flows/instances/{iid}/withdraw", {})[0] == 409


def test_a_second_start_on_a_record_answers_409_naming_the_running_instance(p, new_client):
    ann = _as(p, new_client, "ann")
    _, deal, _ = ann.post("/api/v1/records/deal", {"title": "Twice", "amount": 5})
    start = ("/api/v1/flows/deal_approval/start", {"entity": "deal", "id": deal["id"]})
    status, first, _ = ann.post(*start)
    assert status == 201
    status, problem, _ = ann.post(*start)
    assert status == 409
    assert f"instance {first['id']}" in str(problem)
    browser = new_client()
    assert browser.login("ann", "ann-secret-1") == 200
    status, page, _ = browser.get(f"/app/deal/{deal['id']}")
    assert status == 200
    assert b'data-flow="deal_approval"' not in page  # the box no longer offers it
    other = ann.post("/api/v1/records/deal", {"title": "Once", "amount": 5})[1]
    assert b'data-flow="deal_approval"' in browser.get(f"/app/deal/{other['id']}")[1]


def test_publishing_an_unchanged_flow_answers_unchanged_and_keeps_the_version(p, new_client):
    root = new_client()
    p.users.add("root", password="root-secret", roles=["admin"])
    assert root.login("root", "root-secret") == 200
    status, found, _ = root.get("/api/v1/meta/flow/deal_approval")
    body = {"definition": found["definition"], "version": found["version"]}
    status, answer, _ = root.call("PUT", "/api/v1/meta/flow/deal_approval", body)
    assert status == 200
    assert (answer["version"], answer["unchanged"]) == (found["version"], True)
    body["definition"]["label"] = {"en": "Deal approval (new)"}
    status, answer, _ = root.call("PUT", "/api/v1/meta/flow/deal_approval", body)
    assert (answer["version"], answer["unchanged"]) == (found["version"] + 1, False)
