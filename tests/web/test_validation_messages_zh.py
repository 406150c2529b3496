"""A Chinese user reads record validation messages in Chinese, naming fields and entities by label.

The QA walk of the CRM demo found "Company is required" and "ticket 中有 3 个问题"
on the Chinese record form: the validator worded its messages in English because
nobody passed it the request's language, and the summary named the entity by key.
"""

from __future__ import annotations

import pytest

from engine import ValidationError
from engine.i18n import language
from tests.floor_defs import ACCOUNT, save


@pytest.fixture
def p(platform):
    save(platform, ACCOUNT)
    platform.users.add("ann", password="ann-secret-1", roles=["admin"])
    platform.users.add("ed", password="ed-secret-1-x", roles=["admin"])
    platform.users.settings.set("ann", "lang", "zh-CN")
    return platform


def test_invalid_record_reads_in_chinese_with_labels(p, new_client):
    ann = new_client()
    assert ann.login("ann", "ann-secret-1") == 200
    status, body, _ = ann.post("/api/v1/records/account", {"industry": "nope"})
    assert status == 422
    messages = {e["field"]: e["message"] for e in body["errors"]}
    assert messages["name"] == "名称 为必填项"
    assert messages["industry"].startswith("industry 必须是以下选项之一")
    assert body["detail"] == "客户 中有 2 个问题"


def test_the_summary_names_the_entity_by_its_label(p):
    with language("zh-CN"), pytest.raises(ValidationError) as info:
        p.records("account").create_many([{"industry": "tech"}, {"name": "x" * 101}])
    assert str(info.value.args[0]) == "客户 中有 2 个问题"
    assert {e["message"] for e in info.value.errors} == {
        "名称 为必填项",
        "名称 最多 100 个字符",
    }


def test_an_english_user_keeps_english(p, new_client):
    ed = new_client()
    assert ed.login("ed", "ed-secret-1-x") == 200
    status, body, _ = ed.post("/api/v1/records/account", {})
    assert status == 422
    assert body["errors"][0]["message"] == "Name is required"


def test_the_entity_designer_names_the_entity_by_its_label(p, new_client):
    ann = new_client()
    assert ann.login("ann", "ann-secret-1") == 200
    status, html, _ = ann.get("/build/entities/account", headers={"Accept": "text/html"})
    assert status == 200
    crumbs = html.decode().split('<p class="crumbs">', 1)[1].split("</p>", 1)[0]
    assert "› 客户" in crumbs and "account" not in crumbs.split("›", 1)[1]
