"""On the Chinese record form every validation message is Chinese and names the field by
its Chinese label (the QA walk saw "Company is required" on a Chinese page)."""

from __future__ import annotations

from tests.browser.conftest import shot
from tests.browser.test_engine_messages_zh import chinese


def test_an_invalid_lead_is_refused_in_chinese_with_chinese_labels(page, crm_site):
    admin = crm_site.by_role["admin"]
    with crm_site.platform() as p:
        lead = p.records("lead").list(limit=1)[0]
    with chinese(crm_site, admin):
        crm_site.login(page, admin)
        page.goto(f"{crm_site.url}/app/lead/{lead['id']}/edit")
        page.wait_for_selector("#record-form")
        page.fill("#f-company", "")
        page.fill("#f-email", "not-an-email")
        page.fill("#f-company_size", "-5")
        with page.expect_response(lambda r: "/api/v1/records/lead" in r.url):
            page.click("#save")
        page.wait_for_selector(".field.invalid .field-error:not([hidden])")
        errors = {
            box.get_attribute("data-field"): box.locator(".field-error").inner_text()
            for box in page.locator(".field.invalid").all()
        }
        assert errors["company"] == "公司 为必填项"
        assert errors["email"] == "邮箱 不是有效的电子邮件地址"
        assert errors["company_size"] == "员工人数 不能小于 0"
        assert page.inner_text("#form-error") == "记录无效"
        shot(page, "form-invalid-lead-zh")
