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
    assert status == 404 and "account 99999 not found or not visible to you" in page.decode()
    status, refused, _ = eve.get("/api/v1/reports/anything/export?format=doc")
    assert refused["detail"] == "cannot export a report as 'doc'"


# ------------------------------------------------------------ the builders' checks


@pytest.fixture
def builder(p):
    """An admin who prefers Chinese, and one who keeps English, at the builders' APIs."""
    p.users.add("root", password="root-secret-1", roles=["admin"])
    p.users.add("ada", password="ada-secret-1", roles=["admin"])
    p.users.settings.set("root", "lang", "zh-CN")
    return p


def test_a_report_definition_error_reads_in_chinese_in_the_report_builder(builder, new_client):
    root = _as(builder, new_client, "root")
    draft = {"type": "pivot", "source": "account", "rows": [{"field": "industry", "bucket": "day"}]}
    status, refused, _ = root.post("/api/v1/reports/builder/preview", {"definition": draft})
    assert status == 422
    [error] = [e for e in refused["errors"] if e["field"] == "rows[0]"]
    assert _chinese(error["message"]) == "'industry' 不是日期，因此不能按 day 分组"
    assert refused["detail"] == "报表无法运行：rows[0]：'industry' 不是日期，因此不能按 day 分组"

    draft = {"type": "pivot", "source": "acount", "rows": ["industry"]}
    status, refused, _ = root.post("/api/v1/reports/builder/preview", {"definition": draft})
    assert status == 422
    assert refused["errors"][0] | {"message": "'acount' 不是实体"} == refused["errors"][0]

    ada = _as(builder, new_client, "ada")
    status, refused, _ = ada.post("/api/v1/reports/builder/preview", {"definition": draft})
    assert refused["errors"][0]["message"] == "'acount' is not an entity"
    assert refused["detail"].startswith("the report cannot run: source: ")


def test_a_flow_validation_error_reads_in_chinese_in_the_flow_designer(builder, new_client):
    root = _as(builder, new_client, "root")
    draft = {
        "entity": "deal",
        "label": "Draft",
        "nodes": {"start": {"type": "start"}, "review": {"type": "task", "config": {}}},
        "edges": [["start", "review"]],
    }
    status, answer, _ = root.post("/api/v1/flows/design/draft/check", {"definition": draft})
    assert status == 200 and answer["ok"] is False
    messages = [e["message"] for e in answer["errors"]]
    assert "流程没有结束节点（type: end）" in messages
    assert all(HAN.search(m) for m in messages), messages

    ada = _as(builder, new_client, "ada")
    answer = ada.post("/api/v1/flows/design/draft/check", {"definition": draft})[1]
    assert "the flow has no end node (type: end)" in [e["message"] for e in answer["errors"]]


def test_an_entity_definition_error_reads_in_chinese_in_the_entity_designer(builder, new_client):
    root = _as(builder, new_client, "root")
    found = root.get("/api/v1/meta/entity/account")[1]
    definition = found["definition"]
    bad = {**definition, "schema": {**definition["schema"], "required": ["nmae"]}}
    status, refused, _ = root.call(
        "PUT", "/api/v1/meta/entity/account", {"definition": bad, "version": found["version"]}
    )
    assert status == 422
    [error] = [e for e in refused["errors"] if "required" in (e.get("field") or "")]
    assert (
        _chinese(error["message"]) == "required 指明了 'nmae'，但它不是字段；您是想用 'name' 吗？"
    )

    props = definition["schema"]["properties"]
    changed = {**props, "industry": {**props["industry"], "type": "integer"}}
    changed.pop("x-options-labels", None)
    retyped = {**definition, "schema": {**definition["schema"], "properties": changed}}
    status, plan, _ = root.post("/api/v1/meta/entity/account/plan", {"definition": retyped})
    if status == 200:
        refusals = [s for s in plan["steps"] if s["action"] == "refuse"]
        assert refusals and all(HAN.search(s["detail"]) for s in refusals), plan
    else:
        assert status == 422 and HAN.search(refused["errors"][0]["message"])
