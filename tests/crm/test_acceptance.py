"""CRM.md's five steps as users take them, over real HTTP, with the platform clock moved.

The approvals and the signed-contract hand-over (steps 3 and 4's sales half)
are tests/crm/test_flows.py's; this module covers what happens around them:
tasks as records and reminders, the ticket life cycle with SLA escalation and
the survey, the reports' figures, and the row scopes everywhere a record shows.
The module's platform clock is frozen and moved by hand; ``p.jobs.run_due()``
is what a worker does on each tick.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from tests.crm.test_http import SHANGHAI, WEBSITE_LEAD, signed_in

HOUR = dt.timedelta(hours=1)


@pytest.fixture(scope="module")
def clock(crm) -> Any:
    """The module's platform clock, frozen at a fixed working morning."""
    crm.clock.set(dt.datetime(2026, 11, 2, 1, 0, tzinfo=dt.UTC))
    yield crm.clock
    crm.clock.set(None)


def tick(p: Any, by: dt.timedelta = dt.timedelta(0)) -> None:
    """Move the clock on and let the worker do what is due."""
    if by:
        p.clock.set(p.clock.now() + by)
    p.jobs.run_due()


def inbox(client: Any) -> list[str]:
    status, answer, _ = client.get("/api/v1/notifications")
    assert status == 200, answer
    return [n["message"] for n in answer["items"]]


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
    assert parse(ticket["resolve_due_at"]) == opened + 72 * HOUR
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
    tick(crm, 71 * HOUR)
    assert not any(escalation in m for m in inbox(manager))
    tick(crm, 2 * HOUR)  # 73 hours: past the 72-hour resolution target
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

    # The customer answers (the survey page writes the answer as the system would).
    admin = signed_in(crm_server, "admin")
    status, answered, _ = admin.patch(
        f"/api/v1/records/survey_response/{survey['id']}", {"csat": 2, "nps": 5}
    )
    assert status == 200, answered
    tick(crm)
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
