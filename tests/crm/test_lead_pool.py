"""Website-form and cold leads go to the pool (公海池): status pool, no owner (CRM.md step 2).

The form is the bundle's own ``webforms/website_lead.yaml``, submitted as a
visitor would; the routing rules (``rules/lead.rules``) decide. Each test uses
its own client address and company names, so the order of tests does not matter.
"""

from __future__ import annotations

import datetime as dt


def submit(crm, client: str, **values: str) -> dict:
    answer = crm.webforms.submit("website_lead", values, client=client)
    assert answer.saved
    return crm.records("lead").get(answer.record["id"])


def test_a_plain_website_form_lead_goes_to_the_pool_without_an_owner(crm):
    lead = submit(
        crm,
        "198.51.100.21",
        company="温州小型贸易商行",
        person_name="林晓",
        email="linxiao@example.cn",
        region="east_china",
        industry="retail",
    )
    assert lead["source"] == "website"
    assert (lead["score"], lead["grade"]) == (15, "cold")
    assert lead["status"] == "pool" and lead["owner"] is None
    assert lead["assigned_at"] is None and lead["sla_due_at"] is None
    # No first-contact task for a pooled lead: nobody owns it.
    tasks = crm.records("task").list(
        filters={"subject": "首次联系 First contact: 温州小型贸易商行"}
    )
    assert tasks == []


def test_a_warm_lead_is_nurtured_not_pooled(crm):
    # A website lead only reaches warm with behaviour, which the form cannot send,
    # so this lead comes in through the API as a fair comparison.
    marketing = signed_in_marketing(crm)
    status, lead, _ = marketing.post(
        "/api/v1/records/lead",
        {
            "company": "佛山培育测试有限公司",
            "source": "trade_show",
            "industry": "retail",
            "company_size": 120,
            "key_page_visits": 3,
            "price_list_downloaded_at": dt.datetime.now(dt.UTC).isoformat(),
        },
    )
    assert status == 201, lead
    assert lead["grade"] == "warm" and lead["owner"] is None
    stored = crm.records("lead").get(lead["id"])  # the trigger's follow-up write has run
    assert stored["status"] == "nurturing" and "nurture" in (stored["tags"] or [])


def test_a_cold_lead_from_any_channel_goes_to_the_pool(crm):
    for source in ("campaign", "social", "cold_call", "import"):
        lead = crm.records("lead").create({"company": f"冷线索{source}有限公司", "source": source})
        stored = crm.records("lead").get(lead["id"])
        assert stored["grade"] == "cold", source
        assert (stored["status"], stored["owner"]) == ("pool", None), source


def test_a_pooled_website_lead_leaves_the_pool_once_it_turns_hot(crm):
    lead = submit(
        crm,
        "198.51.100.22",
        company="上海热线索科技有限公司",
        person_name="陈晨",
        email="chenchen@rexian.cn",
        region="east_china",
        industry="it",
        budget="800000",
    )
    # The form alone scores 15 + 15 (target industry): cold, so it is pooled too,
    # until behaviour (a price-list download, visits) raises the score.
    assert lead["status"] == "pool" and lead["owner"] is None
    raised = crm.records("lead").update(
        lead["id"],
        {
            "company_size": 600,
            "title": "技术总监",
            "price_list_downloaded_at": crm.clock.now(),
            "event_attended_at": crm.clock.now(),
            "key_page_visits": 4,
        },
    )
    stored = crm.records("lead").get(raised["id"])
    assert stored["grade"] == "hot" and stored["owner"] is not None
    assert stored["status"] == "assigned" and stored["team"] == "shanghai"


def signed_in_marketing(crm):
    from web.app import create_app

    return _Direct(create_app(crm, config={"SECRET_KEY": "t"}), "xu_jing")


class _Direct:
    """A tiny JSON client over Flask's test client, signed in with a bearer token."""

    def __init__(self, app, user: str) -> None:
        self.client = app.test_client()
        answer = self.client.post(
            "/api/v1/auth/token", json={"username": user, "password": f"{user}-demo"}
        )
        assert answer.status_code == 201, answer.json
        self.headers = {"Authorization": f"Bearer {answer.json['token']}"}

    def post(self, path: str, data: dict):
        answer = self.client.post(path, json=data, headers=self.headers)
        return answer.status_code, answer.json, dict(answer.headers)
