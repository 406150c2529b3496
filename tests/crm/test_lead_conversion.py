"""Lead conversion (线索转化) over HTTP: one transaction, a field map kept as data, duplicates reused.

The lead entity declares a ``convert`` action (apps/crm/entities/lead.yaml); the
engine runs it (engine/record_actions). Each test makes its own leads, with
company names of its own, so the tests do not depend on one another's order.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from tests.crm.test_http import WEBSITE_LEAD, signed_in


def hot_lead(crm_server: str, company: str, **extra: Any) -> dict[str, Any]:
    """A hot East China lead made by marketing, routed to a Shanghai rep."""
    marketing = signed_in(crm_server, "xu_jing")
    now = dt.datetime.now(dt.UTC).isoformat()
    data = {
        **WEBSITE_LEAD,
        "company": company,
        "source": "referral",
        "price_list_downloaded_at": now,
    }
    data.update(extra)
    status, made, _ = marketing.post("/api/v1/records/lead", data)
    assert status == 201, made
    assert made["owner"], made
    return made


def accounts_named(crm: Any, name_norm: str) -> list[dict[str, Any]]:
    return crm.records("account").list(filters={"name_norm": name_norm}, limit=None)


def convert(client: Any, lead_id: int, **body: Any) -> tuple[int, Any]:
    status, answer, _ = client.post(f"/api/v1/records/lead/{lead_id}/actions/convert", body)
    return status, answer


def test_a_lead_becomes_an_account_a_contact_and_an_opportunity(crm, crm_server):
    lead = hot_lead(crm_server, "杭州明远智能科技有限公司", budget=300000)
    rep = signed_in(crm_server, lead["owner"])

    status, listed, _ = rep.get(f"/api/v1/records/lead/{lead['id']}/actions")
    assert status == 200 and [a["name"] for a in listed["items"]] == ["convert"]
    status, preview, _ = rep.get(f"/api/v1/records/lead/{lead['id']}/actions/convert")
    assert status == 200, preview
    assert [p["target"] for p in preview["plan"]] == ["account", "contact", "opportunity"]
    assert preview["plan"][0]["values"]["name"] == "杭州明远智能科技有限公司"
    assert preview["plan"][0]["reuse"] is None

    status, done = convert(rep, lead["id"])
    assert status == 200, done
    made = {c["target"]: c for c in done["created"]}
    assert not any(c["reused"] for c in done["created"])
    assert done["open"] == {"entity": "account", "id": made["account"]["id"]}

    account = crm.records("account").get(made["account"]["id"])
    assert (
        account["name"] == "杭州明远智能科技有限公司" and account["name_norm"] == "杭州明远智能科技"
    )
    assert (account["industry"], account["region"], account["employees"]) == (
        "it",
        "east_china",
        600,
    )
    assert account["owner"] == lead["owner"]
    contact = crm.records("contact").get(made["contact"]["id"])
    assert (contact["full_name"], contact["account"], contact["primary"]) == (
        "张伟",
        account["id"],
        True,
    )
    assert contact["email"] == WEBSITE_LEAD["email"]
    opportunity = crm.records("opportunity").get(made["opportunity"]["id"])
    assert opportunity["account"] == account["id"] and opportunity["contact"] == contact["id"]
    assert opportunity["lead"] == lead["id"] and opportunity["stage"] == "initial_contact"
    assert float(opportunity["amount"]) == 300000

    stored = crm.records("lead").get(lead["id"])
    assert stored["status"] == "converted"
    assert (stored["account"], stored["contact"], stored["opportunity"]) == (
        account["id"],
        contact["id"],
        opportunity["id"],
    )

    # A converted lead is refused, naming the field that says so; the action is no longer offered.
    status, again = convert(rep, lead["id"])
    assert status == 409, again
    assert again["errors"][0]["field"] == "status" and "already converted" in again["detail"]
    assert f"account {account['id']}" in again["detail"]
    _, listed, _ = rep.get(f"/api/v1/records/lead/{lead['id']}/actions")
    assert listed["items"] == []
    assert len(accounts_named(crm, "杭州明远智能科技")) == 1


def test_a_second_lead_of_the_same_company_reuses_its_account(crm, crm_server):
    first = hot_lead(crm_server, "宁波海澜材料有限公司")
    rep = signed_in(crm_server, first["owner"])
    status, done = convert(rep, first["id"], skip=["opportunity"])
    assert status == 200, done
    account_id = done["open"]["id"]

    # Another spelling of the same company normalises to the same name.
    second = hot_lead(
        crm_server, "宁波海澜材料股份有限公司", person_name="李静", email="lijing@hailan.cn"
    )
    other = signed_in(crm_server, second["owner"])
    _, preview, _ = other.get(f"/api/v1/records/lead/{second['id']}/actions/convert")
    assert preview["plan"][0]["reuse"] == {"id": account_id, "title": "宁波海澜材料有限公司"}
    status, done = convert(other, second["id"], skip=["opportunity"])
    assert status == 200, done
    account = next(c for c in done["created"] if c["target"] == "account")
    assert account["reused"] and account["id"] == account_id
    assert len(accounts_named(crm, "宁波海澜材料")) == 1

    contacts = crm.records("contact").list(filters={"account": account_id}, limit=None)
    assert sorted(c["full_name"] for c in contacts) == ["张伟", "李静"]
    stored = crm.records("lead").get(second["id"])
    assert stored["account"] == account_id and stored["opportunity"] is None


def test_a_missing_required_target_field_is_named_and_nothing_is_created(crm, crm_server):
    lead = hot_lead(crm_server, "无名联系人科技有限公司", person_name=None)
    rep = signed_in(crm_server, lead["owner"])
    status, refused = convert(rep, lead["id"])
    assert status == 422, refused
    [entry] = refused["errors"]
    assert entry["field"] == "person_name" and entry["target"] == "contact"
    assert "full_name" in entry["message"]
    assert accounts_named(crm, "无名联系人科技") == []
    assert crm.records("lead").get(lead["id"])["status"] == "assigned"


def test_a_failure_in_a_later_target_rolls_back_the_earlier_ones(crm, crm_server):
    lead = hot_lead(crm_server, "回滚测试电子有限公司")
    rep = signed_in(crm_server, lead["owner"])
    status, refused = convert(rep, lead["id"], values={"opportunity": {"amount": -5}})
    assert status == 422, refused
    assert accounts_named(crm, "回滚测试电子") == []
    assert (
        crm.records("contact").list(
            filters={"email": WEBSITE_LEAD["email"], "full_name": "张伟", "account": None}, limit=1
        )
        == []
    )
    stored = crm.records("lead").get(lead["id"])
    assert stored["status"] != "converted" and stored["account"] is None


def test_the_user_must_be_allowed_to_create_every_target(crm, crm_server):
    # Marketing may change a lead that has no owner (the pool) but may not create accounts.
    marketing = signed_in(crm_server, "xu_jing")
    status, pooled, _ = marketing.post(
        "/api/v1/records/lead",
        {"company": "公海池权限测试有限公司", "person_name": "王芳", "source": "social"},
    )
    assert status == 201 and pooled["owner"] is None, pooled
    _, listed, _ = marketing.get(f"/api/v1/records/lead/{pooled['id']}/actions")
    assert listed["items"] == []
    status, refused = convert(marketing, pooled["id"])
    assert status == 403, refused
    assert "account" in refused["detail"]
    assert accounts_named(crm, "公海池权限测试") == []

    # A rep of another team cannot even see the lead.
    lead = hot_lead(crm_server, "他组线索有限公司")
    outsider = signed_in(crm_server, "gao_yu")  # North team
    status, _ = convert(outsider, lead["id"])
    assert status == 404


def test_unknown_actions_and_bad_bodies_are_named(crm, crm_server):
    lead = hot_lead(crm_server, "请求校验有限公司")
    rep = signed_in(crm_server, lead["owner"])
    status, answer, _ = rep.post(f"/api/v1/records/lead/{lead['id']}/actions/merge", {})
    assert status == 404 and answer["errors"][0]["field"] == "action"
    status, answer = convert(rep, lead["id"], skip=["account"])
    assert status == 422 and answer["errors"][0]["field"] == "skip"
    status, answer = convert(rep, lead["id"], values={"opportunity": 5})
    assert status == 422 and answer["errors"][0]["field"] == "values"


def test_the_api_document_lists_the_declared_actions(crm):
    from web.openapi import openapi_document

    paths = openapi_document(crm)["paths"]
    run = paths["/api/v1/records/lead/{id}/actions/{action}"]["post"]
    assert run["parameters"][1]["schema"]["enum"] == ["convert"]
    assert "/api/v1/records/lead/{id}/actions" in paths
    assert "/api/v1/records/account/{id}/actions" not in paths


def test_fuzzed_action_calls_never_answer_with_a_server_error(crm, crm_server):
    """Schemathesis over the action operations of the API document: no 5xx."""
    schemathesis = pytest.importorskip("schemathesis")
    from web.openapi import openapi_document

    lead = hot_lead(crm_server, "模糊测试转化有限公司")
    token = signed_in(crm_server, "admin").token
    schema = schemathesis.openapi.from_dict(openapi_document(crm))
    failures: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        if "/actions" in operation.path:
            _fuzz(operation, crm_server, token, lead["id"], failures)
    assert failures == [], "\n".join(failures[:10])


def _fuzz(operation: Any, server: str, token: str, lead_id: int, failures: list[str]) -> None:
    from hypothesis import HealthCheck, given, settings

    @settings(max_examples=25, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))  # fmt: skip
    @given(case=operation.as_strategy())
    def check(case):
        case.path_parameters = {**(case.path_parameters or {}), "id": lead_id}
        response = case.call(base_url=server, headers={"Authorization": f"Bearer {token}"})
        if response.status_code >= 500:
            failures.append(f"{operation.label}: {response.status_code} {case.body!r}"[:300])

    check()
