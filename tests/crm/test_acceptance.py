"""CRM.md's five steps as users take them, over real HTTP, with the platform clock moved.

The approvals and the signed-contract hand-over (steps 3 and 4's sales half)
are tests/crm/test_flows.py's; this module covers what happens around them:
tasks as records and reminders, the ticket life cycle with SLA escalation and
the survey, the segments, and the row scopes everywhere a record shows (the
reports' figures are tests/crm/test_reports_figures.py's, on databases of their own).
The module's platform clock is frozen and moved by hand; ``p.jobs.run_due()``
is what a worker does on each tick.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any
from urllib.parse import quote, urlencode

import pytest

from engine.business_hours import BusinessCalendar
from tests.crm.conftest import CRM
from tests.crm.test_http import SHANGHAI, WEBSITE_LEAD, signed_in
from tests.web.conftest import Client

HOUR = dt.timedelta(hours=1)


@pytest.fixture(scope="module")
def clock(crm) -> Any:
    """The module's platform clock, frozen at a fixed working morning."""
    crm.clock.set(dt.datetime(2026, 11, 2, 1, 0, tzinfo=dt.UTC))
    yield crm.clock
    crm.clock.set(None)


def load_manifest() -> dict[str, Any]:
    """The CRM's bundle.yaml, for the data the tests compute from (the working calendar)."""
    import yaml

    return yaml.safe_load((CRM / "bundle.yaml").read_text(encoding="utf-8"))


def tick(p: Any, by: dt.timedelta = dt.timedelta(0)) -> None:
    """Move the clock on and let the worker do what is due."""
    if by:
        p.clock.set(p.clock.now() + by)
    p.jobs.run_due()


def inbox(client: Any) -> list[str]:
    status, answer, _ = client.get("/api/v1/notifications")
    assert status == 200, answer
    return [n["message"] for n in answer["items"]]


def notifications(client: Any) -> list[dict[str, Any]]:
    status, answer, _ = client.get("/api/v1/notifications")
    assert status == 200, answer
    return answer["items"]


def form_token(page: bytes) -> str:
    """The signed token a public form page carries (web/ui/public.py)."""
    return re.search(rb'name="form_token" value="([^"]+)"', page).group(1).decode()


def parse(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))


# ---------------------------------------------------------------- step 2: lead to task record


def test_a_hot_east_china_lead_gets_a_task_record_and_a_reminder_after_25_hours(
    crm, crm_server, clock
):
    marketing = signed_in(crm_server, "xu_jing")
    now = clock.now()
    lead = {
        **WEBSITE_LEAD,
        "company": "上海验收科技有限公司",
        "price_list_downloaded_at": (now - 3 * HOUR).isoformat(),
        "event_attended_at": (now - dt.timedelta(days=6)).isoformat(),
    }
    status, made, _ = marketing.post("/api/v1/records/lead", lead)
    assert status == 201, made
    assert (made["score"], made["grade"]) == (85, "hot")
    assert made["team"] == "shanghai" and made["owner"] in SHANGHAI
    tick(crm)

    owner = signed_in(crm_server, made["owner"])
    status, tasks, _ = owner.get(f"/api/v1/records/task?lead={made['id']}")
    assert status == 200, tasks
    [task] = [t for t in tasks["items"] if t["lead"] == made["id"]]
    assert task["owner"] == made["owner"] and task["team"] == "shanghai"
    assert task["subject"] == "首次联系 First contact: 上海验收科技有限公司"
    assert parse(task["due_at"]) == now + 24 * HOUR
    assert task["status"] == "open" and task["origin_rule"]
    tick(crm)  # delivered once: a second tick makes no second task
    _, again, _ = owner.get(f"/api/v1/records/task?lead={made['id']}")
    assert len([t for t in again["items"] if t["lead"] == made["id"]]) == 1

    reminder = "上海验收科技有限公司 not contacted within 24 hours"
    tick(crm, 23 * HOUR)
    assert not any(reminder in m for m in inbox(owner))
    tick(crm, 2 * HOUR)  # 25 hours without contact
    assert any(reminder in m for m in inbox(owner))
    status, stored, _ = owner.get(f"/api/v1/records/lead/{made['id']}")
    assert stored["sla_breached"] is True


def test_an_account_not_followed_up_for_3_days_reminds_its_owner(crm, crm_server, clock):
    rep = signed_in(crm_server, "chen_jie")
    status, account, _ = rep.post("/api/v1/records/account", {"name": "三日未跟进有限公司"})
    assert status == 201, account
    status, _, _ = rep.post(
        "/api/v1/records/follow_up",
        {"subject": "First call", "account": account["id"], "kind": "call"},
    )
    text = "No follow-up with 三日未跟进有限公司 for 3 days"
    tick(crm, 48 * HOUR)
    assert not any(text in m for m in inbox(rep))
    tick(crm, 26 * HOUR)
    assert any(text in m for m in inbox(rep))


# ---------------------------------------------------------------- step 4: tickets, SLA, survey


def ticket_for(client: Any, account_id: int, subject: str, **values: Any) -> dict[str, Any]:
    body = {"subject": subject, "account": account_id, "channel": "hotline", **values}
    status, made, _ = client.post("/api/v1/records/ticket", body)
    assert status == 201, made
    return made


def test_a_ticket_is_dispatched_escalated_closed_and_surveyed(crm, crm_server, clock):
    rep = signed_in(crm_server, "liu_yang")
    _, account, _ = rep.post("/api/v1/records/account", {"name": "售后验收制造有限公司"})
    desk = signed_in(crm_server, "wu_di")  # the hotline takes the call
    opened = clock.now()
    made = ticket_for(desk, account["id"], "设备无法启动", type="technical", urgency="p3")
    assert (made["dispatch_group"], made["team"]) == ("engineers", "engineers")
    assert made["owner"] in ("guo_hao", "luo_xin")
    assert (made["response_hours"], made["resolve_hours"]) == (8, 72)
    tick(crm)
    engineer = signed_in(crm_server, made["owner"])
    url = f"/api/v1/records/ticket/{made['id']}"
    _, ticket, _ = engineer.get(url)
    # 72 working hours (bundle.yaml's calendar): eight working days of nine hours.
    calendar = BusinessCalendar.from_config(load_manifest()["business_hours"])
    due = calendar.add_hours(opened, 72)
    assert parse(ticket["resolve_due_at"]) == due
    assert calendar.hours_between(opened, due) == 72 and due - opened > 72 * HOUR
    assert ticket["status"] == "new"

    for status_ in ("accepted", "diagnosing", "in_progress"):
        status, ticket, _ = engineer.patch(url, {"status": status_})
        assert status == 200, ticket
    assert ticket["accepted_at"] is not None

    # A billing question from the same customer goes to the billing desk.
    billing = ticket_for(desk, account["id"], "发票抬头错误", type="billing", urgency="p4")
    assert (billing["dispatch_group"], billing["team"]) == ("billing_desk", "billing_desk")

    escalation = f"Ticket {ticket['ticket_no']} is overdue and escalated"
    manager = signed_in(crm_server, "song_jia")
    tick(crm, due - crm.clock.now() - HOUR)  # calendar hours: the working clock has not run out
    assert not any(escalation in m for m in inbox(manager))
    tick(crm, 2 * HOUR)  # past the 72-working-hour resolution target
    assert any(escalation in m for m in inbox(manager))
    _, ticket, _ = engineer.get(url)
    assert ticket["escalated"] is True and ticket["breached"] is True

    status, ticket, _ = engineer.patch(url, {"status": "resolved", "resolution": "更换电源模块"})
    assert status == 200, ticket
    _, ticket, _ = engineer.get(url)  # resolved_at is the trigger's follow-up write
    assert ticket["resolved_at"] is not None and ticket["sla_met"] == 0  # after its SLA
    status, ticket, _ = engineer.patch(url, {"status": "closed"})
    assert status == 200, ticket

    def surveys() -> list[dict[str, Any]]:
        status, found, _ = desk.get(f"/api/v1/records/survey_response?ticket={made['id']}")
        assert status == 200, found
        return [s for s in found["items"] if s["ticket"] == made["id"]]

    tick(crm, 23 * HOUR)
    assert surveys() == []
    tick(crm, 2 * HOUR)  # a day after closing the survey is out
    [survey] = surveys()
    assert survey["account"] == account["id"] and survey["sent_at"] is not None
    assert survey["answered_at"] is None

    # The engineer was sent the one-time link to the survey page; the customer answers there.
    [link] = [
        n["link"]
        for n in notifications(engineer)
        if n["entity"] == "survey_response" and n["record_id"] == survey["id"]
    ]
    customer_page = Client(crm_server)  # no account, no session
    status, page, _ = customer_page.get(link)
    assert status == 200, page
    form = {"form_token": form_token(page), "csat": "2", "nps": "5", "comment": "等待时间较长"}
    status, page, _ = customer_page.call(
        "POST",
        link,
        raw=urlencode(form).encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert status == 200, page
    assert customer_page.get(link)[0] == 410  # the link answers once
    tick(crm)
    admin = signed_in(crm_server, "admin")
    _, answered, _ = admin.get(f"/api/v1/records/survey_response/{survey['id']}")
    assert answered["answered_at"] is not None and answered["nps_group"] == "detractor"
    status, customer, _ = rep.get(f"/api/v1/records/account/{account['id']}")
    assert status == 200
    assert (customer["csat_last"], customer["nps_last"]) == (2, 5)
    assert customer["last_survey_at"] is not None
    # A low score sets the account owner a customer-success task.
    _, tasks, _ = rep.get("/api/v1/records/task?limit=200")
    assert any(
        "Unhappy customer" in t["subject"] for t in tasks["items"] if t["owner"] == "liu_yang"
    )


# ---------------------------------------------------------------- step 5: the reports' figures


# The funnel, forecast and RFM figures: tests/crm/test_reports_figures.py (a database each).


# ---------------------------------------------------------------- roles: row scopes everywhere


def test_a_sales_rep_cannot_see_another_teams_leads_anywhere(crm, crm_server, clock):
    from engine.store.search import search
    from tests.web.conftest import Client

    marketing = signed_in(crm_server, "ma_lan")
    hot = {**WEBSITE_LEAD, "source": "referral",
           "price_list_downloaded_at": clock.now().isoformat()}  # fmt: skip
    _, east, _ = marketing.post("/api/v1/records/lead", {**hot, "company": "Eastscope Visible"})
    _, north, _ = marketing.post(
        "/api/v1/records/lead", {**hot, "company": "Northscope Hidden", "region": "north_china"}
    )
    assert (east["team"], north["team"]) == ("shanghai", "key_accounts")
    name = east["owner"]
    rep = signed_in(crm_server, name)

    # list and get by id
    status, listed, _ = rep.get("/api/v1/records/lead?limit=200")
    assert status == 200
    assert {r["team"] for r in listed["items"]} == {"shanghai"}
    ids = {r["id"] for r in listed["items"]}
    assert east["id"] in ids and north["id"] not in ids
    assert rep.get(f"/api/v1/records/lead/{north['id']}")[0] == 404

    # search, in the engine and on the search page
    assert [h.id for h in search(crm, name, "Eastscope") if h.entity == "lead"] == [east["id"]]
    assert [h for h in search(crm, name, "Northscope") if h.entity == "lead"] == []
    page = Client(crm_server)
    assert page.login(name, f"{name}-demo") in (200, 302, 303)
    status, html, _ = page.get("/search?q=scope")
    text = html.decode() if isinstance(html, bytes) else str(html)
    assert status == 200 and "Eastscope Visible" in text and "Northscope Hidden" not in text

    # a report and its drill-down: the total and the records behind it are the rep's
    status, report, _ = rep.get("/api/v1/reports/leads_by_grade")
    assert status == 200, report
    status, drill, _ = rep.get("/api/v1/reports/leads_by_grade/drill?key=[]&limit=200")
    assert status == 200, drill
    drilled = {r["id"] for r in drill["records"]}
    assert drill["count"] == len(ids) and drilled == ids and north["id"] not in drilled
    month = clock.now().date().replace(day=1).isoformat()
    key = quote(json.dumps([month, "hot"]))
    status, by_grade, _ = rep.get(f"/api/v1/reports/leads_by_grade/drill?key={key}")
    assert status == 200, by_grade
    hot_ids = {r["id"] for r in by_grade["records"]}
    assert east["id"] in hot_ids and north["id"] not in hot_ids

    # export: a rep may not export leads; their manager's export holds the team's only
    assert rep.get("/api/v1/records/lead/export?format=csv")[0] == 403
    manager = signed_in(crm_server, "li_na")
    status, csv_, _ = manager.get("/api/v1/records/lead/export?format=csv")
    text = csv_.decode("utf-8-sig") if isinstance(csv_, bytes) else str(csv_)
    assert status == 200 and "Eastscope Visible" in text and "Northscope Hidden" not in text

    # a rep of the other team sees theirs, not this one
    other = signed_in(crm_server, north["owner"])
    _, theirs, _ = other.get("/api/v1/records/lead?limit=200")
    assert north["id"] in {r["id"] for r in theirs["items"]}
    assert east["id"] not in {r["id"] for r in theirs["items"]}
    assert [h for h in search(crm, north["owner"], "Eastscope") if h.entity == "lead"] == []


# ---------------------------------------------------------------- step 5: marketing segments


def test_segments_viewed_not_bought_and_no_order_for_180_days(crm, crm_server, clock):
    director = signed_in(crm_server, "zhou_qiang")
    marketing = signed_in(crm_server, "xu_jing")
    _, products, _ = director.get("/api/v1/records/product?limit=2")
    product_a = products["items"][0]["id"]
    today = clock.now().date()

    def account(name: str) -> int:
        status, made, _ = director.post("/api/v1/records/account", {"name": name})
        assert status == 201, made
        return made["id"]

    def order(account_id: int, days_ago: int) -> None:
        line = {"product": product_a, "quantity": 1, "unit_price": 1000}
        day = (today - dt.timedelta(days=days_ago)).isoformat()
        status, made, _ = director.post(
            "/api/v1/records/order", {"account": account_id, "order_date": day, "lines": [line]}
        )
        assert status == 201, made

    def viewed(account_id: int, days_ago: int) -> None:
        when = (clock.now() - dt.timedelta(days=days_ago)).isoformat()
        status, made, _ = marketing.post(
            "/api/v1/records/touchpoint",
            {"subject": "产品页 Product page", "kind": "page_view", "account": account_id,
             "product": product_a, "occurred_at": when},
        )  # fmt: skip
        assert status == 201, made

    interested = account("关注未购买有限公司")
    viewed(interested, 3)
    bought = account("关注后已下单有限公司")
    viewed(bought, 10)
    order(bought, 2)
    long_ago = account("很久以前关注有限公司")
    viewed(long_ago, 45)
    dormant = account("休眠客户有限公司")
    order(dormant, 200)
    active = account("活跃客户有限公司")
    order(active, 20)
    tick(crm)

    def members(report: str, key: list[Any]) -> set[int]:
        status, drill, _ = director.get(
            f"/api/v1/reports/{report}/drill?limit=200&key={quote(json.dumps(key))}"
        )
        assert status == 200, drill
        return {r["id"] for r in drill["records"]}

    segment = members("viewed_not_bought", [product_a])
    assert interested in segment
    assert not segment & {bought, long_ago, dormant, active}
    asleep = members("dormant_customers", [])
    assert dormant in asleep and not asleep & {interested, bought, long_ago, active}
