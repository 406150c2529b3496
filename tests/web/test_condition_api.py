"""The condition builder's HTTP side: text ↔ tree, the checker's messages, menus from
data, and no door to a field the user may not read."""

from __future__ import annotations

import pytest

from tests.floor_defs import ACCOUNT, CONTACT, save
from tests.test_security import PERMISSIONS


@pytest.fixture
def p(platform):
    save(platform, ACCOUNT, CONTACT)
    platform.meta.save("permissions", "sales", PERMISSIONS)
    platform.users.add("root", password="root-secret", roles=["admin"])
    platform.users.add("mo", password="mo-secret-12", roles=["marketing"])
    return platform


def _as(p, client, user):
    client.token = p.users.create_token(user)["token"]
    return client


def test_text_to_tree_to_text_round_trip(p, client):
    _as(p, client, "root")
    text = 'industry in ["tech", "retail"] and (revenue > 100000 or name contains "a\\"b")'
    status, answer, _ = client.post("/api/v1/rules/condition", {"entity": "account", "text": text})
    assert status == 200 and answer["reason"] is None and answer["errors"] == []
    tree = answer["tree"]
    assert tree["match"] == "all" and tree["items"][1]["match"] == "any"
    assert tree["items"][1]["items"][1] == {
        "type": "row",
        "field": "name",
        "op": "contains",
        "value": 'a"b',
    }
    status, back, _ = client.post("/api/v1/rules/condition", {"entity": "account", "tree": tree})
    assert status == 200 and back["text"] == text and back["errors"] == []


def test_text_the_builder_cannot_show_gives_a_reason_and_the_checkers_messages(p, client):
    _as(p, client, "root")
    status, answer, _ = client.post(
        "/api/v1/rules/condition", {"entity": "account", "text": "revenue * 2 > 10"}
    )
    assert status == 200 and answer["tree"] is None and "arithmetic" in answer["reason"]
    assert answer["errors"] == []
    status, answer, _ = client.post(
        "/api/v1/rules/condition", {"entity": "account", "text": 'industry == "tehc"'}
    )
    assert answer["tree"] is not None  # the shape fits; the value is wrong
    (error,) = answer["errors"]
    assert error["line"] == 1 and error["column"] == 13 and "tech" in error["message"]
    status, answer, _ = client.post(
        "/api/v1/rules/condition", {"entity": "account", "text": "revenue >"}
    )
    assert answer["tree"] is None and answer["errors"][0]["column"] == 10


def test_a_tree_that_does_not_fit_is_a_located_problem(p, client):
    _as(p, client, "root")
    tree = {
        "type": "group",
        "match": "all",
        "items": [{"type": "row", "field": "revenue", "op": "contains", "value": "x"}],
    }
    status, answer, _ = client.post("/api/v1/rules/condition", {"entity": "account", "tree": tree})
    assert status == 422 and answer["errors"][0]["field"] == "revenue"


def test_operators_come_from_data_and_hidden_fields_are_not_offered_or_read(p, client):
    _as(p, client, "root")
    status, answer, _ = client.get("/api/v1/rules/operators?entity=account")
    assert status == 200
    by_key = {f["key"]: f for f in answer["fields"]}
    assert by_key["name"]["label"] == "Name" and "contains" in by_key["name"]["operators"]
    assert [o["value"] for o in by_key["industry"]["options"]] == ["tech", "retail", "finance"]
    assert "between" in by_key["revenue"]["operators"]
    _as(p, client, "mo")  # revenue is hidden from marketing
    status, answer, _ = client.get("/api/v1/rules/operators?entity=account")
    assert status == 200 and "revenue" not in {f["key"] for f in answer["fields"]}
    status, answer, _ = client.post(
        "/api/v1/rules/condition", {"entity": "account", "text": "revenue > 1"}
    )
    assert status == 403 and answer["errors"][0]["field"] == "revenue"
    tree = {
        "type": "group",
        "match": "all",
        "items": [{"type": "row", "field": "revenue", "op": ">", "value": 1}],
    }
    status, answer, _ = client.post("/api/v1/rules/condition", {"entity": "account", "tree": tree})
    assert status == 422 and "revenue" in answer["errors"][0]["message"]
    assert client.get("/api/v1/rules/operators?entity=nothing")[0] == 404


def test_labels_follow_the_users_language(p, client):
    _as(p, client, "root")
    status, answer, _ = client.get(
        "/api/v1/rules/operators?entity=account", headers={"Accept-Language": "zh-CN"}
    )
    assert status == 200
    assert {f["key"]: f["label"] for f in answer["fields"]}["name"] == "名称"


def test_option_labels_in_every_language(p, client):
    definition = {
        **ACCOUNT,
        "schema": {
            **ACCOUNT["schema"],
            "properties": {
                **ACCOUNT["schema"]["properties"],
                "tier": {
                    "type": "string",
                    "enum": ["gold", "silver"],
                    "x-options-labels": {"gold": {"en": "Gold", "zh-CN": "金牌"}},
                },
            },
        },
    }
    save(p, definition)
    _as(p, client, "root")
    status, answer, _ = client.get(
        "/api/v1/rules/operators?entity=account", headers={"Accept-Language": "zh-CN"}
    )
    assert status == 200
    tier = {f["key"]: f for f in answer["fields"]}["tier"]
    assert tier["options"][0] == {
        "value": "gold",
        "label": "金牌",
        "labels": {"en": "Gold", "zh-CN": "金牌"},
    }
    assert tier["options"][1]["label"] == "silver"


def test_relative_dates_filter_records_in_the_database(p, client):
    import urllib.parse

    _as(p, client, "root")
    p.records("account", "root").create({"name": "Fresh", "industry": "tech"})
    for op, expected in (("in last days", 1), ("more than days ago", 0), ("in next days", 0)):
        tree = {
            "type": "group",
            "match": "all",
            "items": [{"type": "row", "field": "created_on", "op": op, "value": 30}],
        }
        status, answer, _ = client.post(
            "/api/v1/rules/condition", {"entity": "account", "tree": tree}
        )
        assert status == 200 and answer["errors"] == [], answer
        where = urllib.parse.quote(answer["text"])
        status, page, _ = client.get(f"/api/v1/records/account?where={where}")
        assert status == 200 and page["total"] == expected, (answer["text"], page)
        status, back, _ = client.post(
            "/api/v1/rules/condition", {"entity": "account", "text": answer["text"]}
        )
        assert back["tree"] == tree
