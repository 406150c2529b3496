"""The CRM's public website lead form, used by a visitor who is not signed in."""

from __future__ import annotations

import uuid

from tests.browser.conftest import shot

FORM = "/f/website_lead"


def _company(prefix: str) -> str:
    return f"{prefix} {uuid.uuid4().hex[:8]} 有限公司"


def _leads(crm_site, company: str) -> list[dict]:
    with crm_site.platform() as p:
        return p.records("lead").list(filters={"company": company}, limit=None)


def _fill(page, company: str, email: str) -> None:
    page.fill("#pf-company", company)
    page.fill("#pf-person_name", "王小明")
    page.fill("#pf-email", email)
    page.fill("#pf-phone", "13800138000")
    page.select_option("#pf-region", "east_china")
    page.select_option("#pf-industry", "it")
    page.fill("#pf-budget", "800,000")
    page.fill("#pf-notes", "We need a CRM for 50 sales reps. <b>Not bold</b>")


def test_a_visitor_from_east_china_sends_a_lead_that_is_scored_and_routed(page, crm_site):
    company = _company("Website")
    page.goto(crm_site.url + FORM + "?lang=en")
    assert page.locator("#who").count() == 0  # nobody is signed in
    assert page.inner_text("h1") == "Talk to our sales team"
    _fill(page, company, "wang.xm@yunqi-tech.cn")
    shot(page, "public-form")
    page.click("button[type=submit]")
    page.wait_for_selector(".public-thanks")
    assert "Our sales team will contact you shortly" in page.inner_text(".thanks")
    main = page.inner_text("main")
    assert "score" not in main.lower() and "owner" not in main.lower() and "30" not in main

    (lead,) = _leads(crm_site, company)
    assert lead["source"] == "website" and lead["region"] == "east_china"
    assert lead["person_name"] == "王小明" and str(lead["budget"]) in ("800000", "800000.00")
    assert lead["notes"].endswith("<b>Not bold</b>")  # stored as typed, shown escaped
    # lead.rules: website +15, target industry (IT) +15 → 30, graded cold, and the routing
    # rule "otherwise → queue pool" put it in the lead pool (no single owner for a cold lead).
    assert lead["score"] == 30 and lead["grade"] == "cold"
    assert lead["team"] == "pool" and lead["owner"] is None
    assert lead["status"] == "pool"  # the trigger lead_to_pool ran in the same save
    assert lead["created_by"] is None  # saved by the system, as the form says (submit_as)
    with crm_site.platform() as p:
        history = p.records("lead").history(lead["id"])
    assert history, "the save was audited"


def test_a_bad_email_is_shown_on_its_field_and_nothing_is_saved(page, crm_site):
    company = _company("Typo")
    page.goto(crm_site.url + FORM + "?lang=en")
    _fill(page, company, "not-an-address")
    page.click("button[type=submit]")
    page.wait_for_selector("#pf-email-error")
    assert page.inner_text("#pf-email-error") == "Enter a valid e-mail address."
    assert page.get_attribute("#pf-email", "aria-invalid") == "true"
    assert page.input_value("#pf-company") == company  # what was typed is kept
    assert page.locator(".pf-field.has-error").count() == 1
    shot(page, "public-form-error")
    assert _leads(crm_site, company) == []


def test_a_filled_honeypot_is_thanked_but_saves_nothing(page, crm_site):
    company = _company("Bot")
    page.goto(crm_site.url + FORM + "?lang=en")
    assert not page.is_visible("text=Leave this field empty") or page.evaluate(
        "document.querySelector('.pf-hp').getBoundingClientRect().right < 0"
    )
    _fill(page, company, "bot@spam.example")
    page.locator("input[name=homepage_url]").fill("http://spam.example", force=True)
    page.click("button[type=submit]")
    page.wait_for_selector(".public-thanks")
    assert "Thank you" in page.inner_text(".thanks")
    assert _leads(crm_site, company) == []


def test_the_chinese_form_has_chinese_labels(page, crm_site, browser):
    page.goto(crm_site.url + FORM + "?lang=zh-CN")
    labels = page.inner_text("form.public-form")
    wanted = [
        "联系我们的销售团队",
        "公司",
        "您的姓名",
        "工作邮箱",
        "区域",
        "行业",
        "预算（人民币）",
    ]
    assert all(text in labels for text in wanted), labels
    assert "Company" not in labels
    assert page.inner_text("button[type=submit]") == "提交"
    assert "华东" in page.inner_text("#pf-region")
    shot(page, "public-form-zh")

    # without ?lang, the browser's Accept-Language decides
    context = browser.new_context(locale="zh-CN")
    try:
        visitor = context.new_page()
        visitor.goto(crm_site.url + FORM)
        assert visitor.inner_text("button[type=submit]") == "提交"
    finally:
        context.close()
