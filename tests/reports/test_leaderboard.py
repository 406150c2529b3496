"""Leaderboards: owners ranked in SQL (ties share a rank), with targets from an entity."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest

from tests.floor_defs import save

DEAL = {
    "name": "deal",
    "schema": {
        "type": "object",
        "properties": {
            "title": {"type": "string"},
            "stage": {"type": "string", "enum": ["open", "won", "lost"]},
            "amount": {"type": "number"},
            "rep": {"type": "string"},
        },
    },
}
TARGET = {
    "name": "target",
    "schema": {
        "type": "object",
        "properties": {"rep": {"type": "string"}, "amount": {"type": "number"}},
    },
}
BOARD = {
    "name": "top_reps",
    "type": "leaderboard",
    "source": "deal",
    "filters": 'stage == "won"',
    "by": "rep",
    "measure": {"agg": "sum", "field": "amount"},
    "limit": 3,
    "targets": {"entity": "target", "key": "rep", "value": "amount"},
}


@pytest.fixture
def p(platform):
    save(platform, DEAL, TARGET)
    deals = platform.records("deal")
    for rep, amount, stage in [
        ("ann", 100, "won"), ("ann", 50, "won"), ("bob", 150, "won"), ("cat", 90, "won"),
        ("dan", 10, "won"), ("bob", 999, "lost"), ("eve", None, "won"),
    ]:  # fmt: skip
        deals.create({"title": "d", "rep": rep, "amount": amount, "stage": stage})
    for rep, amount in [("ann", 100), ("ann", 100), ("bob", 300)]:
        platform.records("target").create({"rep": rep, "amount": amount})
    return platform


def test_ranked_with_ties_and_attainment(p):
    result = p.reports.run(BOARD)
    rows = [(r["rank"], r["key"], r["value"]) for r in result["rows"]]
    assert rows == [(1, "ann", Decimal(150)), (1, "bob", Decimal(150)), (3, "cat", Decimal(90))]
    ann = result["rows"][0]
    assert ann["target"] == Decimal(200) and ann["attainment"] == Decimal("75.0")
    assert result["rows"][2]["target"] is None and result["chart"]["type"] == "bar"
    out = io.StringIO()
    p.reports.export(BOARD, "csv", out)
    assert out.getvalue().splitlines()[0] == "Rank,Who,Value,Target,Attainment %"


def test_a_bad_leaderboard_names_its_problems(p):
    problems = p.reports.problems(
        {**BOARD, "by": "amount", "measure": {"agg": "sum", "field": "title"}, "limit": 0,
         "targets": {"entity": "target", "key": "who", "value": "amount"}}
    )  # fmt: skip
    fields = {e["field"]: e["message"] for e in problems}
    assert "not a text" in fields["by"] and "adds numbers" in fields["measure.field"]
    assert "'who'" in fields["targets.key"] and "1 to 1,000" in fields["limit"]
    assert "not a report type" in p.reports.problems({**BOARD, "type": "funnelx"})[0]["message"]


def test_an_entry_drills_to_its_records_under_the_report_filter(p):
    answer = p.reports.drill(BOARD, ["bob"])
    assert answer["count"] == 1  # the lost deal is not on the board, nor in the drill
    assert [(r["rep"], r["amount"]) for r in answer["records"]] == [("bob", Decimal(150))]
    assert p.reports.drill(BOARD, ["nobody"]) == {"count": 0, "records": []}
