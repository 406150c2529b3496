"""``POST /api/v1/records/<entity>/bulk``: one transaction, every record checked as the
single-record doors check it, and a refusal names each refused record by its id."""

from __future__ import annotations

import pytest

from tests.floor_defs import ACCOUNT, CONTACT, save
from tests.test_security import PERMISSIONS


@pytest.fixture
def p(platform):
    save(platform, ACCOUNT, CONTACT)
    platform.meta.save("permissions", "sales", PERMISSIONS)
    platform.users.add("root", password="root-secret", roles=["admin"])
    platform.users.add("ann", password="ann-secret-1", roles=["sales_rep"], team="east")
    platform.users.add("bob", password="bob-secret-1", roles=["sales_rep"], team="east")
    platform.users.add("cat", password="cat-secret-1", roles=["sales_rep"], team="west")
    platform.users.add("mia", password="mia-secret-1", roles=["sales_manager"], team="east")
    return platform


def _made(p, user: str, *names: str) -> list[int]:
    service = p.records("account", user)
    return [service.create({"name": n, "industry": "tech"})["id"] for n in names]


def _as(p, client, user: str):
    client.token = p.users.create_token(user)["token"]
    return client


def _industries(p, ids: list[int]) -> list[str]:
    return [p.records("account").get(i)["industry"] for i in ids]


def test_one_refused_record_changes_nothing_and_is_named(p, client):
    mine = _made(p, "ann", "Ann 1", "Ann 2")
    (bobs,) = _made(p, "bob", "Bob 1")  # ann reads her team's records but updates her own only
    _as(p, client, "ann")
    status, answer, headers = client.post(
        "/api/v1/records/account/bulk",
        {"action": "update", "ids": [*mine, bobs], "values": {"industry": "retail"}},
    )
    assert status == 403 and headers["Content-Type"] == "application/problem+json"
    assert {e["id"] for e in answer["errors"]} == {bobs}
    assert "1 of 3 records refused" in answer["detail"]
    assert _industries(p, [*mine, bobs]) == ["tech", "tech", "tech"]  # all or nothing

    status, answer, _ = client.post(
        "/api/v1/records/account/bulk",
        {"action": "update", "ids": mine, "values": {"industry": "retail"}},
    )
    assert status == 200 and answer == {"done": 2, "ids": mine}
    assert _industries(p, mine) == ["retail", "retail"]


def test_field_permissions_apply_to_each_record(p, client):
    mine = _made(p, "ann", "Ann 3")
    _as(p, client, "ann")  # revenue is read-only for a sales rep
    status, answer, _ = client.post(
        "/api/v1/records/account/bulk",
        {"action": "update", "ids": mine, "values": {"revenue": 5}},
    )
    assert status == 403 and answer["errors"][0]["id"] == mine[0]
    assert p.records("account").get(mine[0])["revenue"] is None


def test_a_record_outside_the_row_scope_is_not_found_and_nothing_changes(p, client):
    mine = _made(p, "ann", "Ann 4")
    (cats,) = _made(p, "cat", "Cat 1")  # another team: ann cannot even read it
    _as(p, client, "ann")
    status, answer, _ = client.post(
        "/api/v1/records/account/bulk",
        {"action": "update", "ids": [mine[0], cats], "values": {"industry": "finance"}},
    )
    assert status == 404 and [e["id"] for e in answer["errors"]] == [cats]
    assert "Cat 1" not in str(answer)  # a refusal never shows what the user may not read
    assert _industries(p, mine) == ["tech"]


def test_mixed_reasons_answer_422_with_every_refused_id(p, client):
    ids = _made(p, "mia", "Mia 1", "Mia 2", "Mia 3")
    _as(p, client, "mia")
    status, _, _ = client.patch(f"/api/v1/records/account/{ids[0]}", {"industry": "retail"})
    assert status == 200
    # ids[0] is stale (version 1 was seen); ids[1] gets a name ids[2] will clash with
    status, answer, _ = client.post(
        "/api/v1/records/account/bulk",
        {"action": "update", "ids": ids, "values": {"name": "Same name"},
         "versions": {str(ids[0]): 1}},
    )  # fmt: skip
    assert status == 422, answer
    refused = {e["id"] for e in answer["errors"]}
    assert ids[0] in refused and ids[2] in refused and ids[1] not in refused
    assert [p.records("account").get(i)["name"] for i in ids] == ["Mia 1", "Mia 2", "Mia 3"]


def test_assign_and_delete_in_one_request_each(p, client):
    ids = _made(p, "mia", "Mia 4", "Mia 5")
    _as(p, client, "mia")
    status, answer, _ = client.post(
        "/api/v1/records/account/bulk",
        {"action": "assign", "ids": ids, "values": {"owner": "bob"}},
    )
    assert status == 200 and answer["done"] == 2
    assert {p.records("account").get(i)["owner"] for i in ids} == {"bob"}
    _as(p, client, "ann")  # a sales rep may not delete
    status, answer, _ = client.post(
        "/api/v1/records/account/bulk", {"action": "delete", "ids": ids}
    )
    assert status == 403 and {e["id"] for e in answer["errors"]} == set(ids)
    assert len(p.records("account").list(where=f"id in [{ids[0]}, {ids[1]}]")) == 2
    _as(p, client, "mia")
    status, answer, _ = client.post(
        "/api/v1/records/account/bulk", {"action": "delete", "ids": ids}
    )
    assert status == 200 and answer["done"] == 2
    assert p.records("account").list(where=f"id in [{ids[0]}, {ids[1]}]") == []


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"action": "merge", "ids": [1]}, "action"),
        ({"action": "delete", "ids": []}, "ids"),
        ({"action": "delete", "ids": ["1"]}, "ids[0]"),
        ({"action": "delete", "ids": [1, 1]}, "ids"),
        ({"action": "delete", "ids": list(range(1, 502))}, "ids"),
        ({"action": "update", "ids": [1]}, "values"),
        ({"action": "assign", "ids": [1], "values": {"owner": "bob", "name": "x"}}, "values"),
        ({"action": "update", "ids": [1], "values": {"name": "x"}, "versions": []}, "versions"),
        ({"action": "update", "ids": [1], "values": {"name": "x"}, "versions": {"1": "v"}},
         "versions.1"),
    ],
)  # fmt: skip
def test_bad_requests_name_the_bad_part(p, client, payload, field):
    _as(p, client, "root")
    status, answer, _ = client.post("/api/v1/records/account/bulk", payload)
    assert status == 422 and answer["errors"][0]["field"] == field


def test_a_browser_session_needs_its_csrf_token(p, client):
    ids = _made(p, "ann", "Ann 5")
    assert client.login("ann", "ann-secret-1") == 200
    client.csrf = None
    status, _, _ = client.post("/api/v1/records/account/bulk", {"action": "delete", "ids": ids})
    assert status == 403
    assert client.post("/api/v1/records/account/bulk", {"action": "delete", "ids": ids})[0] == 403
    client.csrf = "wrong"
    assert client.post("/api/v1/records/account/bulk", {"action": "delete", "ids": ids})[0] == 403
    assert p.records("account").get(ids[0])["name"] == "Ann 5"


def test_signed_out_is_401(p, client):
    status, _, _ = client.post("/api/v1/records/account/bulk", {"action": "delete", "ids": [1]})
    assert status == 401
