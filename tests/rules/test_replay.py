"""Replay: what a rule set version would change over stored records, without writing."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from engine import NotFound
from engine.store.system import outbox, rule_stamps, teams
from tests.rules.save_defs import LEAD_RULES, install


@pytest.fixture
def p(platform):
    install(platform)
    leads = platform.records("lead")
    leads.create_many(
        [
            {"company": "web", "source": "website"},
            {"company": "expo", "source": "expo"},
            {"company": "east", "source": "website", "region": "east"},
        ]
    )
    platform.meta.save("rules", "lead", {"name": "lead", "text": LEAD_RULES.replace("+20", "+5")})
    return platform


def snapshot(p):
    with p.db.transaction(write=False) as conn:
        counts = [
            conn.execute(select(func.count()).select_from(t)).scalar()
            for t in (outbox, rule_stamps)
        ]
        turns = conn.execute(select(teams.c.rr_turn).order_by(teams.c.name)).scalars().all()
    return p.records("lead").list(limit=None), counts, turns


def test_replay_of_the_live_version_reports_records_scored_by_the_old_one(p):
    before = snapshot(p)
    report = p.rules.replay("lead_score")
    assert (report["version"], report["live_version"], report["kind"]) == (2, 2, "scoring")
    assert report["checked"] == 3 and report["changed"] == 2
    web = report["changes"][0]
    assert web["before"] == {"score": 20} and web["after"] == {"score": 5}
    assert web["stamped_version"] == 1
    assert snapshot(p) == before  # nothing written, no turn taken


def test_replay_of_an_old_version_matches_what_it_stored(p):
    report = p.rules.replay("lead_score", version=1)
    assert report["version"] == 1 and report["changed"] == 0


def test_replay_limit_and_routing(p):
    assert p.rules.replay("lead_score", limit=1)["checked"] == 1
    routing = p.rules.replay("lead_routing")
    assert routing["changed"] == 0  # every lead is where its rule put it
    p.records("lead").update(1, {"owner": "zoe", "team": None})
    [moved] = p.rules.replay("lead_routing")["changes"]
    assert moved["before"] == {"owner": "zoe", "team": None}
    assert moved["after"]["target"] == "pool"


def test_replay_refuses_unknown_names_and_versions(p):
    with pytest.raises(NotFound):
        p.rules.replay("no_such_rules")
    with pytest.raises(NotFound):
        p.rules.replay("lead_score", version=9)
