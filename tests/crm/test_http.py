"""CRM.md's lead step over real HTTP, and row scopes between sales teams."""

from __future__ import annotations

import datetime as dt

import orjson
import pytest
from sqlalchemy import select

from engine.store.system import outbox
from tests.web.conftest import Client

SHANGHAI = ["wang_lei", "chen_jie", "liu_yang"]


def signed_in(base: str, name: str) -> Client:
    client = Client(base)
    status, answer, _ = client.post(
        "/api/v1/auth/token", {"username": name, "password": f"{name}-demo"}
    )
    assert status == 201, answer
    client.token = answer["token"]
    return client


def messages(p, kind: str, record_id: int) -> list[dict]:
    with p.db.transaction(write=False) as conn:
        rows = conn.execute(select(outbox).where(outbox.c.kind == kind)).mappings().all()
    out = [orjson.loads(r["payload"]) for r in rows]
    return [m for m in out if m.get("entity") == "lead" and m.get("record_id") == record_id]


WEBSITE_LEAD = {
    "company": "上海云启科技有限公司",
    "person_name": "张伟",
    "title": "技术总监",
    "email": "zhangwei@yunqi-tech.cn",
    "source": "website",
    "region": "east_china",
    "city": "上海",
    "industry": "it",
    "company_size": 600,
    "key_page_visits": 4,
}


def test_a_website_lead_from_east_china_is_scored_graded_and_routed(crm, crm_server):
    marketing = signed_in(crm_server, "xu_jing")
    now = dt.datetime.now(dt.UTC)
    lead = {
        **WEBSITE_LEAD,
        "price_list_downloaded_at": (now - dt.timedelta(hours=3)).isoformat(),
        "event_attended_at": (now - dt.timedelta(days=6)).isoformat(),
    }
    status, made, _ = marketing.post("/api/v1/records/lead", lead)
    assert status == 201, made
    assert (made["score"], made["grade"]) == (85, "hot")
    assert made["team"] == "shanghai" and made["owner"] in SHANGHAI
    assert made["company_norm"] == "上海云启科技"

    # The trigger's follow-up write has run: the lead is assigned with a 24-hour SLA.
    status, stored, _ = marketing.get(f"/api/v1/records/lead/{made['id']}")
    assert status == 200
    assert stored["status"] == "assigned" and stored["sla_due_at"] is not None

    [task] = messages(crm, "task", made["id"])
    assert task["assignee"] == made["owner"]
    assert task["title"] == "首次联系 First contact: 上海云启科技有限公司"
    due = dt.datetime.fromisoformat(task["due"])
    assert abs(due - (now + dt.timedelta(hours=24))) < dt.timedelta(minutes=2)
    [note] = messages(crm, "notify", made["id"])
    assert note["to"] == made["owner"] and "85" in note["message"]

    # The owner sees it; the next East China hot lead goes to the next rep in turn.
    status, again, _ = marketing.post("/api/v1/records/lead", {**lead, "company": "苏州二号"})
    assert status == 201 and again["owner"] in SHANGHAI and again["owner"] != made["owner"]


def test_a_sales_rep_cannot_see_another_teams_leads(crm, crm_server):
    marketing = signed_in(crm_server, "ma_lan")
    now = dt.datetime.now(dt.UTC).isoformat()
    hot = {**WEBSITE_LEAD, "source": "referral", "price_list_downloaded_at": now}
    _, east, _ = marketing.post("/api/v1/records/lead", {**hot, "company": "East Co"})
    _, north, _ = marketing.post(
        "/api/v1/records/lead", {**hot, "company": "North Co", "region": "north_china"}
    )
    assert (east["team"], north["team"]) == ("shanghai", "key_accounts")

    rep = signed_in(crm_server, east["owner"])
    status, listed, _ = rep.get("/api/v1/records/lead?limit=200")
    assert status == 200
    teams = {r["team"] for r in listed["items"]}
    assert teams == {"shanghai"}
    ids = {r["id"] for r in listed["items"]}
    assert east["id"] in ids and north["id"] not in ids
    status, _, _ = rep.get(f"/api/v1/records/lead/{north['id']}")
    assert status == 404
    status, _, _ = rep.patch(f"/api/v1/records/lead/{north['id']}", {"notes": "mine now"})
    assert status in (403, 404)

    other = signed_in(crm_server, "yang_fan")  # key_accounts
    _, theirs, _ = other.get("/api/v1/records/lead?limit=200")
    assert {r["team"] for r in theirs["items"]} == {"key_accounts"}

    manager = signed_in(crm_server, "li_na")  # Shanghai's manager sees the team, not North
    _, seen, _ = manager.get("/api/v1/records/lead?limit=200")
    assert {r["team"] for r in seen["items"]} == {"shanghai"}


@pytest.mark.parametrize("name", ["qian_hui"])
def test_finance_reads_contracts_but_cannot_change_them(crm, crm_server, name):
    account = crm.records("account").create({"name": "Finance Check Ltd"})
    contract = crm.records("contract").create({"account": account["id"], "amount": 100000})
    finance = signed_in(crm_server, name)
    status, got, _ = finance.get(f"/api/v1/records/contract/{contract['id']}")
    assert status == 200 and got["amount"] in ("100000.00", 100000, "100000")
    status, _, _ = finance.patch(f"/api/v1/records/contract/{contract['id']}", {"amount": 1})
    assert status in (403, 404)
    status, _, _ = finance.get("/api/v1/records/lead")
    assert status in (403, 404)
