"""Schedules select in SQL and act on each record at most once per period."""

from __future__ import annotations

import datetime as dt

import pytest

from engine import NotFound
from engine.rules.schedules import claim, period_of
from tests.rules.test_compile_sql import make_platform

RULES = """
schedule stale_deals on deal every 1h where amount > 100 and days_since(closes_on) > 30:
    notify "sales" "Deal {title} is stale"
    set vip = true
"""


@pytest.fixture
def p(db_url):
    platform = make_platform(db_url)
    platform.rules.load_ruleset(RULES, path="stale.rules")
    deals = platform.records("deal")
    deals.create({"title": "old big", "amount": "500", "closes_on": "2025-01-01"})
    deals.create({"title": "old small", "amount": "50", "closes_on": "2025-01-01"})
    deals.create({"title": "new big", "amount": "500", "closes_on": "2025-03-29"})
    deals.create({"title": "no date", "amount": "500"})
    yield platform
    platform.close()


def test_a_schedule_claims_its_records_once_per_period(p):
    now = p.clock.now()
    first = p.rules.run_schedule("stale_deals", now)
    assert first.claimed == [1]
    assert first.actions[1][0]["type"] == "notify"
    assert first.actions[1][0]["message"] == "Deal old big is stale"
    assert first.actions[1][1] == {"type": "set", "field": "vip", "value": True}
    again = p.rules.run_schedule("stale_deals", now + dt.timedelta(minutes=5))
    assert again.claimed == [] and again.period == first.period
    next_hour = p.rules.run_schedule("stale_deals", now + dt.timedelta(hours=1))
    assert next_hour.claimed == [1] and next_hour.period == first.period + 1


def test_two_claims_of_one_period_split_the_records(p):
    now = p.clock.now()
    with p.db.transaction(write=True) as conn:
        assert claim(conn, "stale_deals", [1, 2], 7, now) == [1, 2]
        assert claim(conn, "stale_deals", [2, 3], 7, now) == [3]
        assert claim(conn, "stale_deals", [2], 8, now) == [2]


def test_periods_start_on_the_hour():
    hour = dt.timedelta(hours=1)
    a = dt.datetime(2025, 3, 30, 10, 0, tzinfo=dt.UTC)
    assert period_of(a, hour) == period_of(a + dt.timedelta(minutes=59), hour)
    assert period_of(a + hour, hour) == period_of(a, hour) + 1


def test_an_unknown_schedule_is_named(p):
    with pytest.raises(NotFound, match="no schedule called 'nope'"):
        p.rules.run_schedule("nope")


def test_the_job_runner_carries_out_schedule_actions_once_per_period(db_url):
    from engine.rules.schedules import run_due_schedules
    from engine.store.outbox import due_messages

    platform = make_platform(db_url)
    try:
        platform.meta.save("rules", "stale", {"name": "stale", "text": RULES})
        deals = platform.records("deal")
        old = deals.create({"title": "old big", "amount": "500", "closes_on": "2025-01-01"})
        fresh = deals.create({"title": "new big", "amount": "500", "closes_on": "2025-03-29"})
        now = platform.clock.now()
        [run] = run_due_schedules(platform, now)
        assert run.claimed == [old["id"]]
        assert deals.get(old["id"])["vip"] is True
        assert deals.get(fresh["id"])["vip"] is None
        with platform.db.transaction() as conn:
            notes = [m for m in due_messages(conn, now) if m.kind == "notify"]
        assert [n.payload["message"] for n in notes] == ["Deal old big is stale"]
        [again] = run_due_schedules(platform, now)
        assert again.claimed == []
        with platform.db.transaction() as conn:
            assert len([m for m in due_messages(conn, now) if m.kind == "notify"]) == 1
    finally:
        platform.close()
