"""A save that routes the record out of the user's view lands on the list with a notice.

QA: a rep saved a warm lead, routing sent it to the nurture queue and cleared the owner,
and the form redirected to the record page, which said "lead 501 does not exist".
"""

from __future__ import annotations

import re
import uuid

from tests.browser.conftest import shot


def _warm_lead(page, company: str) -> None:
    page.fill("#f-company", company)
    page.fill("#f-person_name", "测试员")
    page.fill("#f-title", "总经理")
    page.select_option("#f-industry", "it")
    page.fill("#f-company_size", "1500")
    page.select_option("#f-region", "east_china")
    page.select_option("#f-source", "referral")
    page.fill("#f-key_page_visits", "5")


def test_a_rep_saving_a_warm_lead_sees_where_routing_sent_it(page, crm_site):
    rep = crm_site.by_role["sales_rep"]
    crm_site.login(page, rep, lang="en")
    page.goto(crm_site.url + "/app/lead/new")
    page.wait_for_selector("#record-form")
    company = f"Routed Manufacturing {uuid.uuid4().hex[:6]}"
    _warm_lead(page, company)
    assert page.input_value("#f-grade") == "warm"
    page.click("#save")
    page.wait_for_url(re.compile(r"/app/lead\?routed=\d+$"))
    notice = page.wait_for_selector("#routed-notice")
    with crm_site.platform() as p:
        lead = p.records("lead").list(where=f'company == "{company}"')[0]
    assert lead["team"] == "nurture" and not lead["owner"]
    assert notice.inner_text() == (
        f"Saved lead #{lead['id']}; routing gave it to the nurture queue, "
        "so it is no longer in your view"
    )
    shot(page, "routed-save-notice")

    # The record page itself answers "not found or not visible", never "does not exist".
    answer = page.goto(f"{crm_site.url}/app/lead/{lead['id']}")
    assert answer.status == 404
    text = page.inner_text("body")
    assert "not found or not visible to you" in text and "does not exist" not in text

    # Someone else's id in the notice parameter says nothing.
    page.goto(crm_site.url + "/app/lead?routed=1")
    page.wait_for_selector("#new-record")
    assert page.locator("#routed-notice").count() == 0
