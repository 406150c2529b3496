"""The flow designer's API over real HTTP: palette, check, dry run, versions, refusals."""

from __future__ import annotations

import copy

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
BASE = "/api/v1/flows/design"


@pytest.fixture
def p(platform):
    save(platform, DEAL)
    platform.meta.save("permissions", "sales", PERMISSIONS)
    platform.flows.publish(APPROVAL)
    platform.users.add("root", password="root-secret", roles=["admin"])
    platform.users.add("dora", password="dora-secret", roles=["director"])
    platform.users.add("bob", password="bob-secret-1", roles=["sales_rep"], manager="dora")
    return platform


@pytest.fixture
def admin(p, client):
    assert client.login("root", "root-secret") == 200
    return client


def test_the_palette_is_the_registry(admin):
    status, answer, _ = admin.get(BASE + "/node-types")
    assert status == 200
    by_name = {t["name"]: t for t in answer["items"]}
    assert {"start", "end", "approval", "exclusive"} <= set(by_name)
    approval = by_name["approval"]
    assert approval["label"]["zh-CN"] == "审批" and approval["icon"]
    assert "approvers" in approval["config_schema"]["properties"]
    assert approval["outputs"] == {"min": 1, "max": 2} and approval["outcomes"] == [
        "approve",
        "reject",
    ]
    assert by_name["start"]["inputs"] == {"min": 0, "max": 0}


def test_check_locates_errors_on_nodes_and_edges(admin):
    draft = copy.deepcopy(APPROVAL)
    draft["nodes"]["lonely"] = {"type": "notify", "config": {"to": {"user": "bob"}, "message": "x"}}
    draft["edges"][3] = {"from": "check", "to": "director", "when": "amount > "}
    status, answer, _ = admin.post(BASE + "/deal_approval/check", {"definition": draft})
    assert status == 200 and answer["ok"] is False
    nodes = {e.get("node") for e in answer["errors"] if "edge" not in e}
    assert "lonely" in nodes
    [edge_error] = [e for e in answer["errors"] if "edge" in e]
    assert edge_error["edge"] == {"index": 3, "from": "check", "to": "director"}
    status, answer, _ = admin.post(BASE + "/deal_approval/check", {"definition": APPROVAL})
    assert answer == {"ok": True, "errors": []}


def test_dry_run_follows_the_record_and_names_the_approvers(p, admin):
    status, answer, _ = admin.post(
        BASE + "/deal_approval/dry-run", {"values": {"title": "Big", "amount": 900000}}
    )
    assert status == 200
    assert answer["nodes"] == ["start", "manager", "check", "director", "approved", "end"]
    asked = {a["node"]: a for a in answer["people"]}
    assert asked["manager"]["users"] == ["bob"]
    assert asked["director"]["roles"] == [{"role": "director", "users": ["dora"]}]

    deal = p.records("deal").create({"title": "Small", "amount": 10})
    draft = copy.deepcopy(APPROVAL)
    draft["nodes"]["manager"]["config"]["approvers"] = {"manager_of": "initiator"}
    before = p.flows.instances()
    status, answer, _ = admin.post(
        BASE + "/deal_approval/dry-run", {"definition": draft, "record_id": deal["id"]}
    )
    assert status == 200 and answer["record_id"] == deal["id"]
    assert "director" not in answer["nodes"] and answer["end"] == "end"
    assert {"from": "check", "to": "approved", "index": 4} in answer["edges"]
    assert p.flows.instances() == before  # nothing ran, nothing was written


def test_dry_run_takes_the_outcomes_picked_and_refuses_unknown_ones(admin):
    url = BASE + "/deal_approval/dry-run"
    values = {"title": "Big", "amount": 900000}
    status, answer, _ = admin.post(url, {"values": values, "outcomes": {"manager": "reject"}})
    assert status == 200
    assert answer["nodes"] == ["start", "manager", "rejected", "end_rejected"]
    assert answer["record"]["approval_status"] == "rejected"
    assert answer["changes"][0]["field"] == "approval_status"
    status, problem, _ = admin.post(url, {"values": values, "outcomes": {"manager": "maybe"}})
    assert status in (400, 422)
    assert problem["errors"][0]["field"] == "outcomes.manager"
    status, problem, _ = admin.post(url, {"values": values, "outcomes": {"ghost": "approve"}})
    assert status in (400, 422) and problem["errors"][0]["field"] == "outcomes.ghost"


def test_dry_run_refuses_an_invalid_draft(admin):
    draft = copy.deepcopy(APPROVAL)
    del draft["nodes"]["end"]
    status, problem, _ = admin.post(BASE + "/deal_approval/dry-run", {"definition": draft})
    assert status in (400, 422) and problem["errors"]


def test_versions_count_instances_per_version(p, admin):
    deal = p.records("deal").create({"title": "A", "amount": 5})
    p.flows.start("deal_approval", record=("deal", deal["id"]), user="root")
    changed = copy.deepcopy(APPROVAL)
    changed["nodes"]["start"]["position"] = {"x": 40, "y": 80}
    p.meta.save("flow", "deal_approval", changed)
    status, answer, _ = admin.get(BASE + "/deal_approval/versions")
    assert status == 200
    first, second = answer["versions"][-2:]
    assert (first["running"], first["finished"]) == (1, 0)
    assert (second["running"], second["finished"]) == (0, 0)
    # positions round-trip through the metadata API
    found = admin.get("/api/v1/meta/flow/deal_approval")[1]
    assert found["definition"]["nodes"]["start"]["position"] == {"x": 40, "y": 80}


def test_publish_is_refused_when_stale_or_invalid(p, admin):
    found = admin.get("/api/v1/meta/flow/deal_approval")[1]
    draft = copy.deepcopy(found["definition"])
    draft["label"] = {"en": "Deal approval 2"}
    ok = admin.call(
        "PUT", "/api/v1/meta/flow/deal_approval", {"definition": draft, "version": found["version"]}
    )
    assert ok[0] == 200
    stale = admin.call(
        "PUT", "/api/v1/meta/flow/deal_approval", {"definition": draft, "version": found["version"]}
    )
    assert stale[0] == 409
    del draft["nodes"]["end"]
    bad = admin.call(
        "PUT", "/api/v1/meta/flow/deal_approval", {"definition": draft, "version": ok[1]["version"]}
    )
    assert bad[0] in (400, 422) and any("end" in e["message"] for e in bad[1]["errors"])


def test_only_flow_customizers_may_use_the_designer(p, new_client):
    rep = new_client()
    assert rep.login("bob", "bob-secret-1") == 200
    for method, path in (
        ("GET", BASE + "/node-types"),
        ("GET", BASE + "/people?entity=deal"),
        ("POST", BASE + "/deal_approval/check"),
        ("POST", BASE + "/deal_approval/dry-run"),
        ("GET", BASE + "/deal_approval/versions"),
    ):
        status, _, _ = rep.call(
            method, path, {"definition": APPROVAL} if method == "POST" else None
        )
        assert status == 403, (method, path)
    assert rep.get("/build/flows/deal_approval")[0] == 403


def test_people_lists_users_roles_and_fields(admin):
    status, answer, _ = admin.get(BASE + "/people?entity=deal")
    assert status == 200
    assert {"bob", "dora", "root"} <= {u["name"] for u in answer["users"]}
    assert {"admin", "director", "sales_rep"} <= {r["name"] for r in answer["roles"]}
    assert "reviewer" in {f["key"] for f in answer["fields"]}
