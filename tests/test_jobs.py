"""The job runner ties timers, schedules, follow-ups and deliveries together."""

from __future__ import annotations

import datetime as dt

from click.testing import CliRunner

from engine.cli import main
from engine.store.outbox import register_deliverer
from tests.rules.test_compile_sql import make_platform
from tests.rules.test_schedules import RULES


def test_run_due_runs_schedules_and_delivers_registered_kinds(db_url):
    p = make_platform(db_url)
    try:
        p.meta.save("rules", "stale", {"name": "stale", "text": RULES})
        deal = p.records("deal").create(
            {"title": "old", "amount": "500", "closes_on": "2025-01-01"}
        )
        sent, broken = [], {"fail": True}

        def deliver(message):
            if broken["fail"]:
                raise ConnectionError("mail server down")
            sent.append(message.payload["message"])

        register_deliverer("notify", deliver)
        tick = p.jobs.run_due()
        assert tick.schedules == {"stale_deals": 1} and tick.failed == 1 and sent == []
        assert p.records("deal").get(deal["id"])["vip"] is True
        broken["fail"] = False
        assert p.jobs.run_due().delivered == 0  # still backing off
        p.clock.advance(dt.timedelta(minutes=1))
        assert p.jobs.run_due().delivered == 1
        assert sent == ["Deal old is stale"]
    finally:
        register_deliverer("notify", None)
        p.close()


def test_worker_once(tmp_path):
    db = tmp_path / "w.db"
    done = CliRunner().invoke(main, ["worker", "--once", "--db", str(db)])
    assert done.exit_code == 0, done.output
    assert "timers 0" in done.output
