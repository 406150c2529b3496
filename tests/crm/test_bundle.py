"""The CRM bundle checks clean, installs on SQLite and PostgreSQL, and upgrades in place."""

from __future__ import annotations

from click.testing import CliRunner
from sqlalchemy import inspect

from engine.cli import main
from tests.crm.conftest import CRM

ENTITIES = {
    "lead", "account", "contact", "opportunity", "follow_up", "task", "product", "quote",
    "contract", "order", "payment", "ticket", "survey_response", "campaign",
    "knowledge_article", "sales_target", "service_project", "touchpoint",
}  # fmt: skip


def test_tessera_check_is_clean():
    result = CliRunner().invoke(main, ["check", str(CRM)])
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"{CRM}: ok")


def test_install_creates_every_entity_with_its_child_tables_and_seed(platform):
    report = platform.install(CRM)
    assert report.applied
    assert set(platform.meta.names("entity")) == ENTITIES
    with platform.db.transaction(write=False) as conn:
        tables = set(inspect(conn).get_table_names())
    assert {"t_lead", "t_quote__lines", "t_order__lines"} <= tables
    assert platform.records("product").count() == 10
    assert platform.records("knowledge_article").count() == 6
    label = platform.meta.get("entity", "lead")["definition"]["label"]
    assert label == {"en": "Lead", "zh-CN": "线索"}
    assert {r for r in platform.meta.names("report")} >= {
        "pipeline_by_region", "lead_sources", "leads_by_grade", "tickets_by_type", "sales_by_owner"
    }  # fmt: skip

    again = platform.install(CRM)  # the same version again: nothing changes, no seed twice
    assert again.applied
    assert platform.records("product").count() == 10
    assert platform.meta.get("entity", "lead")["version"] == 1


def test_rules_act_on_save(platform):
    platform.install(CRM)
    account = platform.records("account").create(
        {"name": "杭州某零售有限公司", "revenue_12m": 350000, "lifecycle": "customer"}
    )
    assert account["level"] == "a" and account["name_norm"] == "杭州某零售"
    opp = platform.records("opportunity").create(
        {"name": "Big deal", "account": account["id"], "stage": "proposal", "amount": 800000}
    )
    assert (opp["probability"], opp["weighted_amount"], opp["approval_level"]) == (
        50,
        400000,
        "sales_director",
    )
    import pytest

    from engine import ValidationError

    with pytest.raises(ValidationError) as info:
        platform.records("opportunity").update(opp["id"], {"stage": "lost"})
    assert "lost reason" in info.value.errors[0]["message"]
    ticket = platform.records("ticket").create(
        {"subject": "Line down", "type": "technical", "urgency": "p1", "account": account["id"]}
    )
    assert (ticket["dispatch_group"], ticket["team"], ticket["response_hours"]) == (
        "senior_engineers",
        "senior_engineers",
        1,
    )
    stored = platform.records("ticket").get(ticket["id"])
    assert stored["response_due_at"] is not None and stored["resolve_due_at"] is not None


def test_first_contact_sla_notifies_the_owner_then_the_manager(platform):
    import datetime as dt

    from engine.rules.schedules import run_due_schedules
    from engine.store.outbox import due_messages

    platform.install(CRM)
    platform.clock.set("2026-03-02T09:00:00+08:00")
    platform.users.add("mia", roles=["sales_manager"], team="shanghai")
    platform.users.add("ann", roles=["sales_rep"], team="shanghai", manager="mia")
    platform.teams.create("shanghai", ["ann"])
    lead = platform.records("lead").create(
        {
            "company": "Late Co",
            "source": "referral",
            "region": "east_china",
            "industry": "it",
            "company_size": 1200,
            "title": "CTO",
            "price_list_downloaded_at": "2026-03-01T10:00:00+08:00",
        }
    )
    assert (lead["grade"], lead["owner"]) == ("hot", "ann")

    def notes(at):
        with platform.db.transaction() as conn:
            return [m.payload for m in due_messages(conn, at) if m.kind == "notify"]

    start = platform.clock.now()
    for hours, breached, escalated in [(23, None, None), (25, True, None), (49, True, True)]:
        now = start + dt.timedelta(hours=hours)
        platform.clock.set(now)
        run_due_schedules(platform, now)
        stored = platform.records("lead").get(lead["id"])
        assert (stored["sla_breached"], stored["escalated"]) == (breached, escalated), hours
    sent = notes(start + dt.timedelta(hours=50))
    assert [n["to"] for n in sent if "24" in n["message"]] == ["ann"]
    assert [n["to"] for n in sent if "48" in n["message"]] == ["mia"]


#: The State Council's notice on the 2026 public holidays (国务院办公厅关于2026年部分节假日
#: 安排的通知): each period off, first to last day, and the weekend days worked instead.
HOLIDAYS_2026 = [
    ("元旦", "2026-01-01", "2026-01-03", ["2026-01-04"]),
    ("春节", "2026-02-15", "2026-02-23", ["2026-02-14", "2026-02-28"]),
    ("清明节", "2026-04-04", "2026-04-06", []),
    ("劳动节", "2026-05-01", "2026-05-05", ["2026-05-09"]),
    ("端午节", "2026-06-19", "2026-06-21", []),
    ("中秋节", "2026-09-25", "2026-09-27", []),
    ("国庆节", "2026-10-01", "2026-10-07", ["2026-09-20", "2026-10-10"]),
]


def test_the_working_calendar_follows_the_2026_holiday_notice():
    import datetime as dt

    import yaml

    from engine.business_hours import BusinessCalendar

    config = yaml.safe_load((CRM / "bundle.yaml").read_text(encoding="utf-8"))["business_hours"]
    calendar = BusinessCalendar.from_config(config)
    for name, first, last, worked in HOLIDAYS_2026:
        day, end = dt.date.fromisoformat(first), dt.date.fromisoformat(last)
        while day <= end:
            assert not calendar.is_working_day(day), f"{name}: {day} is a day off"
            day += dt.timedelta(days=1)
        after = end + dt.timedelta(days=1)
        while after.weekday() >= 5 and after.isoformat() not in worked:
            after += dt.timedelta(days=1)
        assert calendar.is_working_day(after), f"{name}: work resumes on {after}"
        for w in worked:
            assert calendar.is_working_day(dt.date.fromisoformat(w)), f"{name}: {w} is worked"
    # an ordinary week is Monday to Friday
    assert [calendar.is_working_day(dt.date(2026, 3, d)) for d in range(2, 9)] == [True] * 5 + [
        False
    ] * 2
