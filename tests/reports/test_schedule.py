"""Scheduled report e-mails: the schedule's checks, its timing in the platform's zone, and
delivery through the outbox to a local SMTP sink, each recipient seeing only their rows."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from engine.errors import NotFound, PermissionDenied, ValidationError
from engine.reports import schedule
from tests.reports.rtypes_data import seed
from tests.reports.smtp_sink import SMTPSink

BY_STAGE = {
    "name": "by_stage",
    "label": {"en": "Deals by stage", "zh-CN": "各阶段商机"},
    "source": "deal",
    "rows": ["stage"],
    "measures": [{"name": "n", "agg": "count"}],
}
DAILY = {"every": "daily", "at": "08:00", "format": "csv", "users": ["ann", "bob"]}


@pytest.fixture
def p(platform):
    seed(platform)
    platform.meta.save("report", "by_stage", BY_STAGE)
    for name in ("ann", "bob", "root"):
        platform.users.update(name, email=f"{name}@example.com")
    return platform


@pytest.fixture
def sink(monkeypatch):
    with SMTPSink() as server:
        monkeypatch.setenv("TESSERA_SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("TESSERA_SMTP_PORT", str(server.port))
        monkeypatch.setenv("TESSERA_SMTP_FROM", "reports@tessera.test")
        yield server


def test_bad_schedules_name_each_field(p):
    with pytest.raises(ValidationError) as err:
        schedule.create(
            p,
            "by_stage",
            {"every": "weekly", "at": "25:00", "format": "doc", "users": ["nobody"],
             "roles": ["wizard"]},
            user="ann",
        )  # fmt: skip
    fields = {e["field"] for e in err.value.errors}
    assert fields == {"at", "weekday", "format", "users[0]", "roles[0]"}
    with pytest.raises(ValidationError) as err:
        schedule.create(
            p, "by_stage", {"every": "hourly", "at": "08:00", "format": "csv"}, user="ann"
        )
    assert {e["field"] for e in err.value.errors} == {"every"}
    with pytest.raises(ValidationError) as err:
        schedule.create(p, "by_stage", {**DAILY, "users": []}, user="ann")
    assert err.value.errors[0]["field"] == "users"


def test_the_next_sending_time_is_in_the_platform_zone():
    zone = ZoneInfo("Asia/Shanghai")
    after = dt.datetime(2026, 3, 2, 1, 0, tzinfo=dt.UTC)  # Monday 09:00 in Shanghai
    daily = schedule.next_due({"every": "daily", "at": "08:00"}, after, zone)
    assert daily == dt.datetime(2026, 3, 3, 0, 0, tzinfo=dt.UTC)  # Tuesday 08:00 there
    weekly = schedule.next_due({"every": "weekly", "at": "10:30", "weekday": 0}, after, zone)
    assert weekly == dt.datetime(2026, 3, 2, 2, 30, tzinfo=dt.UTC)  # later the same Monday
    monthly = schedule.next_due({"every": "monthly", "at": "08:00", "day": 1}, after, zone)
    assert monthly == dt.datetime(2026, 4, 1, 0, 0, tzinfo=dt.UTC)


def test_only_a_reader_of_the_report_may_schedule_it_and_only_theirs_are_listed(p):
    p.users.add("eve", password="eve-secret-1", roles=[])
    with pytest.raises(PermissionDenied):
        schedule.create(p, "by_stage", DAILY, user="eve")
    mine = schedule.create(p, "by_stage", DAILY, user="ann")
    assert [s["id"] for s in schedule.for_report(p, "by_stage", user="ann")] == [mine["id"]]
    assert schedule.for_report(p, "by_stage", user="bob") == []
    assert len(schedule.for_report(p, "by_stage", user="root")) == 1  # an admin sees all
    with pytest.raises(NotFound):
        schedule.remove(p, mine["id"], user="bob")
    schedule.remove(p, mine["id"], user="ann")
    assert schedule.for_report(p, "by_stage", user="ann") == []


def test_due_schedules_mail_each_recipient_their_own_figures(p, sink):
    p.users.add("eve", password="eve-secret-1", roles=[], email="eve@example.com")
    made = schedule.create(p, "by_stage", {**DAILY, "users": ["ann", "bob", "eve"]}, user="ann")
    due = made["next_due"]
    early = p.jobs.run_due(due - dt.timedelta(minutes=1))
    assert early.reports == 0 and sink.messages == []
    tick = p.jobs.run_due(due)
    assert tick.reports == 3 and tick.failed == 0
    by_to = {to[0]: message for to, message in sink.messages}
    assert sorted(by_to) == ["ann@example.com", "bob@example.com"]  # eve may not read deals
    for who, count in (("ann", 5), ("bob", 6)):
        message = by_to[f"{who}@example.com"]
        assert message["From"] == "reports@tessera.test"
        assert message["Subject"].startswith("Deals by stage")
        (attachment,) = list(message.iter_attachments())
        assert attachment.get_filename() == "by_stage.csv"
        body = attachment.get_content()
        body = body.decode("utf-8-sig") if isinstance(body, bytes) else body.lstrip("\ufeff")
        assert body.splitlines()[-1].split(",")[-1] == str(count)  # the grand total row
    again = p.jobs.run_due(due)  # the period was claimed: nothing more is sent
    assert again.reports == 0 and len(sink.messages) == 2
    after = schedule.get(p, made["id"], user="ann")
    assert after["next_due"] == due + dt.timedelta(days=1) and after["last_sent"] == due


def test_xlsx_and_pdf_attachments(p, sink):
    for fmt in ("xlsx", "pdf"):
        schedule.create(p, "by_stage", {**DAILY, "users": ["root"], "format": fmt}, user="root")
    due = schedule.for_report(p, "by_stage", user="root")[0]["next_due"]
    p.jobs.run_due(due)
    names = sorted(next(m.iter_attachments()).get_filename() for _to, m in sink.messages)
    assert names == ["by_stage.pdf", "by_stage.xlsx"]
    content = {
        a.get_filename(): a.get_content() for _to, m in sink.messages for a in m.iter_attachments()
    }
    assert content["by_stage.xlsx"][:2] == b"PK" and content["by_stage.pdf"][:5] == b"%PDF-"


def test_without_smtp_settings_the_mail_waits_in_the_outbox(p, monkeypatch):
    monkeypatch.delenv("TESSERA_SMTP_HOST", raising=False)
    made = schedule.create(p, "by_stage", {**DAILY, "users": ["ann"]}, user="ann")
    tick = p.jobs.run_due(made["next_due"])
    assert tick.reports == 1 and tick.failed == 1 and tick.delivered == 0
