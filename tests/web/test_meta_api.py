"""The metadata API over real HTTP: who may customize, plan before save, versions, conflicts."""

from __future__ import annotations

import copy

import pytest

from tests.floor_defs import ACCOUNT, save
from tests.test_security import PERMISSIONS


@pytest.fixture
def p(platform):
    save(platform, ACCOUNT)
    perms = copy.deepcopy(PERMISSIONS)
    perms["roles"]["marketing"]["customize"] = ["rules", "report"]
    platform.meta.save("permissions", "sales", perms)
    platform.users.add("root", password="root-secret", roles=["admin"])
    platform.users.add("ann", password="ann-secret-1", roles=["sales_rep"], team="east")
    platform.users.add("mo", password="mo-secret-12", roles=["marketing"])
    platform.records("account").create({"name": "Acme", "industry": "tech"})
    return platform


def _with_field(definition, key, prop):
    changed = copy.deepcopy(definition)
    changed["schema"]["properties"][key] = prop
    return changed


def test_an_admin_plans_then_saves_an_added_field(p, client):
    client.login("root", "root-secret")
    status, found, headers = client.get("/api/v1/meta/entity/account")
    assert status == 200 and headers["ETag"] == f'"{found["version"]}"'
    changed = _with_field(found["definition"], "website", {"type": "string", "format": "uri"})

    status, plan, _ = client.post("/api/v1/meta/entity/account/plan", {"definition": changed})
    assert status == 200 and plan["refused"] is False
    assert any(s["action"] == "add_column" and s["field"] == "website" for s in plan["steps"])
    assert "website" not in p.entities.get("account").model.fields  # a plan changes nothing

    status, saved, _ = client.call(
        "PUT", "/api/v1/meta/entity/account", {"definition": changed, "version": found["version"]}
    )
    assert status == 200 and saved["version"] == found["version"] + 1
    p.records("account").create({"name": "Globex", "website": "https://globex.example"})

    status, listed, _ = client.get("/api/v1/meta/entity/account/versions")
    assert [v["version"] for v in listed["versions"]][-2:] == [found["version"], saved["version"]]


def test_a_narrowing_change_is_refused_in_the_plan_and_on_save(p, client):
    client.login("root", "root-secret")
    _s, found, _h = client.get("/api/v1/meta/entity/account")
    narrowed = copy.deepcopy(found["definition"])
    narrowed["schema"]["properties"]["name"]["maxLength"] = 2  # "Acme" no longer fits
    status, plan, _ = client.post("/api/v1/meta/entity/account/plan", {"definition": narrowed})
    assert status == 200 and plan["refused"] is True
    status, problem, _ = client.call(
        "PUT", "/api/v1/meta/entity/account", {"definition": narrowed, "version": found["version"]}
    )
    assert status == 409, problem  # the stored records conflict with the change
    assert problem["errors"][0]["field"] == "name"
    assert p.meta.get("entity", "account")["version"] == found["version"]


def test_the_second_of_two_editors_gets_a_conflict(p, new_client):
    first, second = new_client(), new_client()
    first.login("root", "root-secret")
    second.login("root", "root-secret")
    _s, found, _h = first.get("/api/v1/meta/entity/account")
    one = _with_field(found["definition"], "one", {"type": "string"})
    two = _with_field(found["definition"], "two", {"type": "string"})
    assert first.call("PUT", "/api/v1/meta/entity/account",
                      {"definition": one, "version": found["version"]})[0] == 200  # fmt: skip
    status, problem, _ = second.call(
        "PUT", "/api/v1/meta/entity/account", {"definition": two},
        headers={"If-Match": f'"{found["version"]}"'},
    )  # fmt: skip
    assert status == 409 and "changed since version" in problem["detail"]
    assert "two" not in p.entities.get("account").model.fields


def test_bad_definitions_get_located_errors(p, client):
    client.login("root", "root-secret")
    _s, found, _h = client.get("/api/v1/meta/entity/account")
    broken = _with_field(found["definition"], "Bad Key", {"type": "string"})
    status, problem, _ = client.post("/api/v1/meta/entity/account/plan", {"definition": broken})
    assert status == 422 and problem["errors"]
    assert client.call("PUT", "/api/v1/meta/entity/account", {"nope": 1})[0] == 422
    assert client.get("/api/v1/meta/gadget/x")[0] == 404


def test_only_admins_and_granted_roles_may_customize(p, new_client):
    rep, marketing = new_client(), new_client()
    rep.login("ann", "ann-secret-1")
    marketing.login("mo", "mo-secret-12")
    assert rep.get("/api/v1/meta/entity/account")[0] == 403
    assert rep.get("/api/v1/meta")[1] == {}
    assert marketing.get("/api/v1/meta/entity/account")[0] == 403  # granted rules and reports only
    status, kinds, _ = marketing.get("/api/v1/meta")
    assert status == 200 and set(kinds) == {"rules", "report"}
    anonymous = new_client()
    assert anonymous.get("/api/v1/meta/entity/account")[0] == 401


def test_writes_need_the_csrf_token(p, client):
    client.login("root", "root-secret")
    _s, found, _h = client.get("/api/v1/meta/entity/account")
    client.csrf = None
    status, _b, _h = client.call(
        "PUT", "/api/v1/meta/entity/account", {"definition": found["definition"]}
    )
    assert status == 403
