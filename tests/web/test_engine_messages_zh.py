"""A Chinese user reads the engine's own refusals and diagnostics in Chinese.

Each kind of message the pages show comes from the engine, not from the web
layer: a permission refusal, a record that does not exist, a stale save, a
unique value taken twice, the rule checker's diagnostic in the filter builder,
a refused task action in the inbox and a report error. The user's saved
language reaches the engine per request; an English user keeps the English text.
"""

from __future__ import annotations

import re

import pytest

from tests.floor_defs import ACCOUNT, save
from tests.flows.defs import APPROVAL, DEAL
from tests.test_security import PERMISSIONS

PAGE = {"Accept": "text/html"}
HAN = re.compile(r"[\u4e00-\u9fff]")
DEAL_RIGHTS = [
    {"role": "sales_rep", "entity": "deal", "create": True, "read": "own", "update": "own"},
    {"role": "sales_manager", "entity": "deal", "read": "all", "update": "all"},
]


@pytest.fixture
def p(platform):
    save(platform, ACCOUNT, DEAL)
    rights = {**PERMISSIONS, "permissions": [*PERMISSIONS["permissions"], *DEAL_RIGHTS]}
    platform.meta.save("permissions", "sales", rights)
    platform.flows.publish({**APPROVAL, "nodes": {**APPROVAL["nodes"]}})
    platform.users.add("ann", password="ann-secret-1", roles=["sales_rep"], team="east")
    platform.users.add("bob", password="bob-secret-1", roles=["sales_manager"], team="east")
    platform.users.add("eve", password="eve-secret-1", roles=["sales_rep"], team="east")
    platform.users.settings.set("ann", "lang", "zh-CN")
    platform.users.settings.set("bob", "lang", "zh-CN")
    return platform


def _as(p, new_client, user):
    c = new_client()
    assert c.login(user, f"{user}-secret-1") == 200
    return c


def _chinese(text):
    assert HAN.search(str(text)), f"no Chinese in {text!r}"
    return text


def test_record_service_and_permission_errors_read_in_chinese(p, new_client):
    ann = _as(p, new_client, "ann")
    status, created, _ = ann.post("/api/v1/records/account", {"name": "Acme", "industry": "tech"})
    assert status == 201
    rid = created["id"]

    status, refused, _ = ann.delete(f"/api/v1/records/account/{rid}")
    assert status == 403
    assert _chinese(refused["detail"]) == "ann 无权删除 account 记录"

    status, page, _ = ann.get("/app/account/99999", headers=PAGE)
    assert status == 404 and "account 99999 不存在" in page.decode()

    ann.patch(f"/api/v1/records/account/{rid}", {"industry": "retail"}, headers={"If-Match": '"1"'})
    status, stale, _ = ann.patch(
        f"/api/v1/records/account/{rid}", {"industry": "tech"}, headers={"If-Match": '"1"'}
    )
    assert status == 409 and "已被他人修改" in stale["detail"]

    status, twice, _ = ann.post("/api/v1/records/account", {"name": "Acme"})
    assert status in (409, 422)
    assert "name 必须唯一" in twice["detail"]
    assert twice["errors"][0]["message"] == "此值已被另一条记录使用"

    status, hidden, _ = ann.patch(f"/api/v1/records/account/{rid}", {"revenue": 5})
    assert status == 403 and _chinese(hidden["errors"][0]["message"]) == "revenue 对 ann 只读"


def test_checker_flow_and_report_errors_read_in_chinese(p, new_client):
    ann, bob = _as(p, new_client, "ann"), _as(p, new_client, "bob")
    status, answer, _ = ann.post(
        "/api/v1/rules/condition", {"entity": "account", "text": 'industry == "tehc"'}
    )
    assert status == 200
    (error,) = answer["errors"]
    assert "不是可选项之一" in error["message"] and "tech" in error["message"]
    status, answer, _ = ann.post(
        "/api/v1/rules/condition", {"entity": "account", "text": "nmae == 1"}
    )
    assert "不是 account 的字段" in answer["errors"][0]["message"]

    deal = ann.post("/api/v1/records/deal", {"title": "Deal", "amount": 10})[1]
    status, _inst, _ = ann.post(
        "/api/v1/flows/deal_approval/start", {"entity": "deal", "id": deal["id"]}
    )
    assert status == 201
    [task] = [t for t in p.flows.tasks(user="bob", roles=["sales_manager"])]
    status, refused, _ = bob.post(f"/api/v1/tasks/{task['id']}/complete", {"outcome": "maybe"})
    assert status >= 400 and _chinese(refused["detail"]).startswith(f"任务 {task['id']} 没有结果")
    status, refused, _ = ann.post(f"/api/v1/tasks/{task['id']}/complete", {"outcome": "approve"})
    assert status >= 400 and HAN.search(refused["detail"])

    status, refused, _ = ann.get("/api/v1/reports/anything/export?format=doc")
    assert status == 422 and _chinese(refused["detail"]) == "无法将报表导出为 'doc'"


def test_an_english_user_keeps_the_english_text(p, new_client):
    eve = _as(p, new_client, "eve")
    status, page, _ = eve.get("/app/account/99999", headers=PAGE)
    assert status == 404 and "account 99999 does not exist" in page.decode()
    status, refused, _ = eve.get("/api/v1/reports/anything/export?format=doc")
    assert refused["detail"] == "cannot export a report as 'doc'"
