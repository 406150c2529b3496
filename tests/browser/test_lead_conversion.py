"""The Convert button on a lead's page: preview, convert, open the account; reuse and refusals."""

from __future__ import annotations

import re
from typing import Any

from tests.browser.conftest import shot


def _lead(p: Any, company: str, **extra: Any) -> dict[str, Any]:
    data = {
        "company": company,
        "person_name": "周明",
        "title": "采购经理",
        "email": "zhouming@example.cn",
        "source": "trade_show",
        "region": "east_china",
        "city": "上海",
        "industry": "manufacturing",
        "company_size": 800,
        "budget": 450000,
    }
    data.update(extra)
    return p.records("lead").create({k: v for k, v in data.items() if v is not None})


def _open_dialog(page: Any, site: Any, lead_id: int) -> Any:
    page.goto(site.url + f"/app/lead/{lead_id}")
    page.click("#action-convert")
    dialog = page.locator("#action-dialog-convert")
    dialog.wait_for(state="visible")
    return dialog


def test_convert_previews_creates_and_opens_the_account(page, crm_site):
    director = crm_site.by_role["sales_director"]
    with crm_site.platform() as p:
        lead = _lead(p, "常州恒达精密机械有限公司")
    crm_site.login(page, director, lang="en")
    dialog = _open_dialog(page, crm_site, lead["id"])
    account = dialog.locator(".action-target[data-target=account]")
    assert "常州恒达精密机械有限公司" in account.inner_text()
    assert dialog.locator(".action-target[data-target=contact]").inner_text().count("周明") == 1
    assert dialog.locator(".keep-target[value=opportunity]").is_checked()
    shot(page, "lead-convert-preview")

    with page.expect_response(re.compile(r"/actions/convert$")) as answer:
        dialog.locator("[data-run]").click()
    assert answer.value.status == 200
    page.wait_for_url(re.compile(r"/app/account/\d+$"))
    page.wait_for_selector("#record-title")
    assert page.inner_text("#record-title") == "常州恒达精密机械有限公司"
    shot(page, "lead-converted-account")

    account_id = int(page.url.rsplit("/", 1)[1])
    with crm_site.platform() as p:
        stored = p.records("lead").get(lead["id"])
        assert stored["status"] == "converted" and stored["account"] == account_id
        opportunity = p.records("opportunity").get(stored["opportunity"])
        assert opportunity["account"] == account_id and opportunity["lead"] == lead["id"]
    # The converted lead offers no Convert button any more.
    page.goto(crm_site.url + f"/app/lead/{lead['id']}")
    page.wait_for_selector("#record-title")
    assert page.locator("#action-convert").count() == 0


def test_a_known_company_is_reused_and_the_user_is_told(page, crm_site):
    director = crm_site.by_role["sales_director"]
    with crm_site.platform() as p:
        existing = p.records("account").create({"name": "无锡新材科技有限公司"})
        lead = _lead(p, "无锡新材科技公司", person_name="钱程")
    crm_site.login(page, director, lang="zh-CN")
    dialog = _open_dialog(page, crm_site, lead["id"])
    reuse = dialog.locator(".action-reuse")
    reuse.wait_for(state="visible")
    assert "无锡新材科技有限公司" in reuse.inner_text() and "已有同名" in reuse.inner_text()
    dialog.locator(".keep-target[value=opportunity]").uncheck()
    shot(page, "lead-convert-reuse-zh")
    dialog.locator("[data-run]").click()
    page.wait_for_url(re.compile(rf"/app/account/{existing['id']}$"))
    with crm_site.platform() as p:
        stored = p.records("lead").get(lead["id"])
        assert stored["account"] == existing["id"] and stored["opportunity"] is None
        assert p.records("account").count(filters={"name_norm": "无锡新材科技"}) == 1


def test_a_lead_without_a_name_cannot_be_converted_and_says_which_field(page, crm_site):
    director = crm_site.by_role["sales_director"]
    with crm_site.platform() as p:
        lead = _lead(p, "嘉兴无名电子有限公司", person_name=None)
    crm_site.login(page, director, lang="en")
    dialog = _open_dialog(page, crm_site, lead["id"])
    missing = dialog.locator(".action-missing[data-field=person_name]")
    assert "Name" in missing.inner_text()
    assert dialog.locator("[data-run]").is_disabled()
    shot(page, "lead-convert-missing-field")


def test_a_refusal_from_the_server_is_shown_on_the_field(page, crm_site):
    director = crm_site.by_role["sales_director"]
    with crm_site.platform() as p:
        lead = _lead(p, "湖州并发转化有限公司")
    crm_site.login(page, director, lang="en")
    dialog = _open_dialog(page, crm_site, lead["id"])
    # Someone else converts the lead while the dialog is open.
    with crm_site.platform() as p:
        from engine.record_actions.convert import RecordActions

        RecordActions(p).convert("lead", lead["id"], "convert", director)
    with page.expect_response(re.compile(r"/actions/convert$")) as answer:
        dialog.locator("[data-run]").click()
    assert answer.value.status == 409
    error = dialog.locator(".dialog-error")
    error.wait_for(state="visible")
    assert "already converted" in error.inner_text()
    page.wait_for_selector('#record .field-error[data-field="status"]', state="attached")
    shot(page, "lead-convert-refused")
