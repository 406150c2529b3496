"""The customer answers the satisfaction survey through its one-time link (CRM.md, Service).

flows/survey_sent.yaml hands the ticket's owner a link to webforms/satisfaction_survey.yaml
for every survey waiting for its answer. The page fills in that survey through the
record's ordinary update, so rules/survey.rules stamps ``answered_at`` and
flows/survey_answered.yaml puts the scores and the average CSAT on the customer. A link
answers once and expires after the form's ``answers.expires_in``.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

import pytest

from engine.errors import NotFound
from engine.webforms.links import LinkExpired, LinkUsed

FORM = "satisfaction_survey"


@pytest.fixture(scope="module")
def web(crm) -> Any:
    from web.app import create_app

    return create_app(crm, config={"SECRET_KEY": "test-secret"}).test_client()


def survey_for(crm, owner: str = "guo_hao") -> tuple[dict[str, Any], dict[str, Any]]:
    """An account and a survey sent to it, as flows/ticket_survey.yaml creates one."""
    account = crm.records("account").create({"name": f"满意度链接测试{owner}有限公司"})
    survey = crm.records("survey_response").create(
        {"account": account["id"], "owner": owner, "sent_at": crm.clock.now().isoformat()}
    )
    crm.jobs.run_due()
    return account, survey


def link_in_inbox(crm, user: str, survey_id: int) -> str:
    """The answer link the survey's owner was sent (the path of the public page)."""
    found = [
        n["link"]
        for n in crm.notifications.list(user)
        if n["entity"] == "survey_response" and n["record_id"] == survey_id
    ]
    assert len(found) == 1, found
    assert re.fullmatch(rf"/f/{FORM}/a/[A-Za-z0-9_-]{{40,}}", found[0]), found[0]
    return found[0]


def page_token(page: str) -> str:
    return re.search(r'name="form_token" value="([^"]+)"', page).group(1)


def send(web, link: str, **values: Any) -> Any:
    page = web.get(link)
    assert page.status_code == 200, page.get_data(as_text=True)
    data = {"form_token": page_token(page.get_data(as_text=True)), **values}
    return web.post(link, data=data, environ_base={"REMOTE_ADDR": "10.9.0.1"})


def test_the_owner_gets_a_link_and_the_customer_answer_lands_on_the_account(crm, web):
    account, survey = survey_for(crm)
    link = link_in_inbox(crm, "guo_hao", survey["id"])
    page = web.get(link).get_data(as_text=True)
    # The page asks; it shows nothing of the record (no account name, no ticket).
    assert 'name="csat"' in page and 'name="nps"' in page and 'name="comment"' in page
    assert account["name"] not in page

    answered = send(web, link, csat="4", nps="9", comment="工程师很专业")
    assert answered.status_code == 200 and "Thank you for your answer!" in answered.get_data(
        as_text=True
    )
    crm.jobs.run_due()
    saved = crm.records("survey_response").get(survey["id"])
    assert (saved["csat"], saved["nps"], saved["comment"]) == (4, 9, "工程师很专业")
    assert saved["answered_at"] is not None and saved["nps_group"] == "promoter"
    customer = crm.records("account").get(account["id"])
    assert (customer["csat_last"], customer["nps_last"]) == (4, 9)
    assert Decimal(str(customer["csat_avg"])) == Decimal("4")


def test_a_link_answers_once(crm, web):
    _account, survey = survey_for(crm, "luo_xin")
    link = link_in_inbox(crm, "luo_xin", survey["id"])
    page = web.get(link).get_data(as_text=True)
    token = page_token(page)
    first = web.post(link, data={"form_token": token, "csat": "5", "nps": "10"})
    assert first.status_code == 200
    again = web.post(link, data={"form_token": token, "csat": "1", "nps": "0"})
    assert again.status_code == 410 and "This link has been used" in again.get_data(as_text=True)
    assert web.get(link).status_code == 410
    assert crm.records("survey_response").get(survey["id"])["csat"] == 5


def test_an_expired_or_unknown_link_opens_nothing(crm, web):
    _account, survey = survey_for(crm, "wu_di")
    link = link_in_inbox(crm, "wu_di", survey["id"])
    token = link.rsplit("/", 1)[1]
    crm.clock.set(crm.clock.now() + dt.timedelta(days=15))  # the form's expires_in is 14d
    try:
        gone = web.get(link)
        assert gone.status_code == 410 and "This link has expired" in gone.get_data(as_text=True)
        with pytest.raises(LinkExpired):
            crm.webforms.answer(FORM, token, {"csat": "3", "nps": "7"}, client="t")
    finally:
        crm.clock.set(None)
    assert web.get(f"/f/{FORM}/a/{'x' * 43}").status_code == 404
    assert web.get(f"/f/{FORM}/a/{token[:-2]}zz").status_code == 404
    # The form creates nothing on its own: it is reached through links only.
    assert web.get(f"/f/{FORM}").status_code == 404
    with pytest.raises(NotFound):
        crm.webforms.submit(FORM, {"csat": "3", "nps": "7"}, client="t")
    assert crm.records("survey_response").get(survey["id"])["csat"] is None


def test_a_bad_answer_is_shown_under_its_field_and_keeps_the_link_open(crm, web):
    _account, survey = survey_for(crm, "song_jia")
    link = link_in_inbox(crm, "song_jia", survey["id"])
    bad = send(web, link, csat="7", nps="")
    page = bad.get_data(as_text=True)
    assert bad.status_code == 422
    assert re.search(r'data-field="csat">.*?field-error[^>]*>[^<]+<', page, re.S)
    assert re.search(r'data-field="nps">.*?Please fill in this field', page, re.S)
    good = send(web, link, csat="3", nps="6")
    assert good.status_code == 200
    with pytest.raises(LinkUsed):
        crm.webforms.answer(FORM, link.rsplit("/", 1)[1], {"csat": "3", "nps": "6"}, client="t")


def test_a_stale_token_or_a_too_large_answer_keeps_the_link_open(crm, web):
    """The answer page refuses as the plain form does, and shows the form again on its link."""
    _account, survey = survey_for(crm)
    link = link_in_inbox(crm, "guo_hao", survey["id"])
    stale = web.post(link, data={"form_token": "forged.token.value", "csat": "4", "nps": "8"})
    page = stale.get_data(as_text=True)
    assert stale.status_code == 400 and "This form has expired" in page
    assert f'action="{link}' in page and 'value="4"' in page
    too_large = web.post(link, data={"form_token": page_token(page), "csat": "x" * 70_000})
    assert too_large.status_code == 413
    assert crm.records("survey_response").get(survey["id"])["csat"] is None
    assert send(web, link, csat="4", nps="8").status_code == 200


def test_a_link_is_issued_only_for_a_form_that_takes_answers(crm):
    with pytest.raises(NotFound):
        crm.webforms.issue_link("website_lead", 1)
    _account, survey = survey_for(crm, "tang_mei")
    made = crm.webforms.issue_link(FORM, survey["id"])
    assert made.path.startswith(f"/f/{FORM}/a/") and made.record_id == survey["id"]
    definition, record = crm.webforms.open_link(FORM, made.token)
    assert record["id"] == survey["id"] and definition["entity"] == "survey_response"
