"""A customer answers the satisfaction survey on the page its one-time link opens.

The survey is created as flows/ticket_survey.yaml creates one a day after a ticket
closes; flows/survey_sent.yaml hands its owner the link (webforms/satisfaction_survey.yaml).
The customer is nobody in the system: the page works without signing in.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from tests.browser.conftest import shot


def _survey_link(crm_site) -> tuple[dict[str, Any], dict[str, Any], str]:
    """A new account, a survey sent to it, and the link its owner was notified of."""
    with crm_site.platform() as p:
        account = p.records("account").create(
            {"name": f"满意度页面测试 {uuid.uuid4().hex[:6]} 有限公司"}
        )
        survey = p.records("survey_response").create(
            {"account": account["id"], "owner": "guo_hao", "sent_at": p.clock.now().isoformat()}
        )
        p.jobs.run_due()  # the worker's turn: the flow's notification is delivered
        [link] = [
            n["link"]
            for n in p.notifications.list("guo_hao")
            if n["entity"] == "survey_response" and n["record_id"] == survey["id"]
        ]
    return account, survey, link


def _account(crm_site, account_id: int) -> dict[str, Any]:
    with crm_site.platform() as p:
        p.jobs.run_due()
        return p.records("account").get(account_id)


def test_the_customer_answers_and_the_scores_land_on_the_account(page, crm_site):
    account, survey, link = _survey_link(crm_site)
    page.goto(crm_site.url + link + "?lang=en")
    assert page.locator("#who").count() == 0  # nobody is signed in
    page.wait_for_selector("form.public-form")
    assert page.inner_text("h1") == "How did we do?"
    assert account["name"] not in page.inner_text("main")
    assert page.locator("input[name=csat][type=radio]").count() == 5
    assert page.locator("input[name=nps][type=radio]").count() == 11

    page.click("button[type=submit]")  # nothing chosen: each score says so under itself
    page.wait_for_selector("#pf-csat-error")
    assert page.inner_text("#pf-csat-error") == "Please fill in this field."
    assert page.inner_text("#pf-nps-error") == "Please fill in this field."
    shot(page, "survey-answer-error")

    page.check("input[name=csat][value='5']")
    page.check("input[name=nps][value='9']")
    page.fill("#pf-comment", "工程师很专业，响应很快")
    shot(page, "survey-answer")
    page.click("button[type=submit]")
    page.wait_for_selector(".public-thanks")
    assert "Thank you for your answer!" in page.inner_text(".thanks")
    shot(page, "survey-answer-thanks")

    with crm_site.platform() as p:
        saved = p.records("survey_response").get(survey["id"])
    assert (saved["csat"], saved["nps"]) == (5, 9) and saved["answered_at"] is not None
    customer = _account(crm_site, account["id"])
    assert (customer["csat_last"], customer["nps_last"]) == (5, 9)
    assert Decimal(str(customer["csat_avg"])) == Decimal("5")

    page.goto(crm_site.url + link + "?lang=zh-CN")  # the link answered once
    page.wait_for_selector("main")
    assert "此链接已使用" in page.inner_text("main")
    shot(page, "survey-answer-used")
