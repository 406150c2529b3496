"""`tessera demo --no-serve --size small` sets up a working CRM, and a second run reuses it.

The full size is too big for a test run: its recipe is checked without loading it (counts,
people, the two years the deals span), and the batching and stage history are checked on
the small and medium sizes, which run the same code.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter
from typing import Any

import pytest
from click.testing import CliRunner

from engine.cli import main
from engine.demo import Generator, Planned, batches, count_planned, load_recipe
from tests.conftest import database_url
from tests.crm.conftest import CRM

RECIPE = load_recipe(CRM)


def load(url: str, size: str) -> CliRunner:
    args = ["demo", "--db", url, "--bundle", str(CRM), "--no-serve", "--size", size]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert "refused" not in result.output, result.output
    return result


def test_demo_loads_data_as_the_users_and_a_second_run_reuses_the_database(db_url):
    args = ["demo", "--db", db_url, "--bundle", str(CRM), "--no-serve", "--size", "small"]
    first = CliRunner().invoke(main, args)
    assert first.exit_code == 0, first.output
    assert "installed crm" in first.output
    assert "lead                   30 created" in first.output
    assert "refused" not in first.output
    for role, name in [("sales_rep", "wang_lei"), ("finance", "qian_hui"), ("admin", "admin")]:
        assert f"{name}-demo" in first.output and role in first.output

    from engine import Platform

    p = Platform(db_url)
    try:
        leads = p.records("lead").list(limit=None)
        assert len(leads) == 30
        # The rules acted: every lead is scored and graded, hot ones are owned by a rep.
        assert all(r["grade"] in ("hot", "warm", "cold") for r in leads)
        assert all(r["owner"] for r in leads if r["grade"] == "hot")
        assert {r["team"] for r in leads if r["grade"] == "warm"} <= {"nurture"}
        # Rows are scoped: a rep sees only their team's accounts.
        mine = p.records("account", user="wang_lei").list(limit=None)
        assert mine and {a["team"] for a in mine} == {"shanghai"}
        snapshot = sorted((r["id"], r["company"], r["score"]) for r in leads)
        # Every shipped report runs over the demo data, for the director and for a rep.
        for name in p.meta.names("report"):
            assert p.reports.run(name, user="zhou_qiang")["rows"], name
            p.reports.run(name, user="wang_lei")
        [won] = [r for r in [p.reports.run("sales_by_owner", user="wang_lei")]]
        assert {row["labels"][0] for row in won["rows"]} <= set(
            RECIPE["teams"]["shanghai"]["members"]
        )
    finally:
        p.close()

    second = CliRunner().invoke(main, args)
    assert second.exit_code == 0, second.output
    assert "database reused" in second.output
    p = Platform(db_url)
    try:
        again = sorted(
            (r["id"], r["company"], r["score"]) for r in p.records("lead").list(limit=None)
        )
        assert again == snapshot
    finally:
        p.close()


def count_of(entity: str, size: str) -> int:
    return sum(
        s["count"][size] for s in RECIPE["records"] if s["entity"] == entity and "count" in s
    )


def test_the_full_recipe_has_the_people_and_the_volumes_issue_9_asks_for():
    users = RECIPE["users"]
    assert 45 <= len(users) <= 55
    roles = Counter(r for u in users for r in u["roles"])
    assert roles["sales_rep"] >= 20 and roles["sales_manager"] >= 4
    assert {"admin", "sales_director", "marketing", "service_agent", "finance", "legal"} <= set(
        roles
    )
    # Every sales team (regions east, north, south, central/west, key accounts) has reps.
    for team in ("shanghai", "north", "south", "central_west", "key_accounts"):
        assert len(RECIPE["teams"][team]["members"]) >= 3, team
    assert count_of("lead", "full") == 5000
    assert count_of("account", "full") == 1000
    assert count_of("opportunity", "full") == 2000
    assert count_of("order", "full") >= 1000 and count_of("survey_response", "full") > 0
    assert count_planned(RECIPE, "full") > 19000


class _Clock:
    def now(self) -> dt.datetime:
        return dt.datetime(2026, 12, 1, 12, tzinfo=dt.UTC)


class _Platform:
    """Just enough of a platform for planning without a database."""

    clock = _Clock()


def test_full_deals_span_two_years_with_a_move_per_stage():
    gen = Generator(_Platform(), RECIPE, "full")
    created, closed, moves = [], [], Counter()
    for step in (s for s in RECIPE["records"] if s["entity"] == "opportunity"):
        for _ in range(step["count"]["full"]):
            moment = gen._moment(step)
            row = {"stage": gen.value(step["fields"]["stage"], {}, {}, {"moment": moment})}
            row["amount"] = 1000
            planned = gen._moves(step, row, {}, {"moment": moment, "parent": None})
            assert row["stage"] == "initial_contact"  # created at the first stage
            created.append(moment)
            moments = [m for m, _c in planned]
            assert moments == sorted(moments) and all(m <= gen.anchor for m in moments)
            moves.update(c["stage"] for _m, c in planned)
            if planned and planned[-1][1]["stage"] in ("won", "lost"):
                closed.append(planned[-1][1]["closed_on"])
    span = (gen.anchor - min(created)).days
    assert 700 <= span <= 731
    months = {(m.year, m.month) for m in created}
    assert len(months) >= 24
    assert len({d[:7] for d in closed}) >= 22  # deals close in every month of two years
    assert moves["needs_analysis"] > moves["proposal"] > moves["negotiation"] > 0
    assert moves["won"] > 0 and moves["lost"] > 0


def test_batches_keep_time_order_and_one_user_within_the_window():
    anchor = dt.datetime(2026, 12, 1, 9, tzinfo=dt.UTC)
    rng = random.Random(1)
    planned = [
        Planned(anchor - dt.timedelta(days=rng.uniform(0, 30)), rng.choice("ab"), {}, {}, [])
        for _ in range(500)
    ]
    groups = batches(planned, 2, anchor)
    assert sum(len(g) for g in groups) == 500
    assert [g[0].moment for g in groups] == sorted(g[0].moment for g in groups)
    for g in groups:
        assert len({p.user for p in g}) == 1 and len(g) <= 200
        assert (g[-1].moment - g[0].moment) < dt.timedelta(days=2)


def _summary(url: str) -> tuple[Any, ...]:
    from engine import Platform

    p = Platform(url)
    try:
        counts = tuple(
            (e, p.records(e).count()) for e in ("lead", "account", "contact", "opportunity")
        )
        first = tuple(
            (r["company"], r["score"], r["owner"])
            for r in p.records("lead").list(order_by="id", limit=5)
        )
        opps = p.records("opportunity").list(order_by="id", limit=None)
        stages = tuple((r["name"], r["stage"], r["owner"]) for r in opps[:5])
        return counts, first, stages
    finally:
        p.close()


def test_two_runs_give_the_same_records(tmp_path):
    summaries = []
    for run in ("one", "two"):
        folder = tmp_path / run
        folder.mkdir()
        with database_url(folder, run) as url:
            load(url, "small")
            summaries.append(_summary(url))
    assert summaries[0] == summaries[1]


@pytest.mark.slow
def test_medium_loads_two_years_of_stage_history_and_the_rules_act(db_url):
    from engine import Platform

    load(db_url, "medium")
    p = Platform(db_url)
    try:
        opps = p.records("opportunity").list(limit=None)
        assert len(opps) == count_of("opportunity", "medium")
        created = [r["created_on"] for r in opps]
        assert (max(created) - min(created)).days > 600
        won = [r for r in opps if r["stage"] == "won"]
        assert won and all(r["closed_on"] and r["probability"] == 100 for r in won)
        # The stage history is the audit trail: a row for each move.
        history = p.records("opportunity").history(won[0]["id"])
        stages = [(h["after"] or {}).get("stage") for h in history]
        assert [s for s in stages if s] == [
            "initial_contact",
            "needs_analysis",
            "proposal",
            "negotiation",
            "won",
        ]
        # Large deals were approved by the director through the flow, not written around it.
        big = [r for r in won if r["approval_level"] == "sales_director"]
        assert big and all(r["approval_status"] == "approved" for r in big)
        funnel = p.reports.run("opportunity_funnel", user="zhou_qiang")
        assert funnel["rows"]
        # Hot leads were spread over the key accounts team, as single creates would.
        owners = Counter(
            r["owner"]
            for r in p.records("lead").list(limit=None)
            if r["team"] == "key_accounts" and r["owner"]
        )
        assert owners and max(owners.values()) - min(owners.values()) <= 1
    finally:
        p.close()
