"""Forecasts: open pipeline per close month, weighted by each stage's win rate from history."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.reports.rtypes_data import month, seed

FORECAST = {
    "name": "deal_forecast",
    "type": "forecast",
    "source": "deal",
    "stage": "stage",
    "won": "won",
    "lost": ["lost"],
    "amount": "amount",
    "close": "close",
}
OPEN = ["lead", "qualified", "proposal", "negotiation"]


@pytest.fixture
def deals(platform):
    return seed(platform)


def oracle(deals):
    """Independent: rate(s) = won / closed among closed deals that were ever in s."""
    closed = [d for d in deals if d["path"][-1] in ("won", "lost")]
    rates = {}
    for s in OPEN:
        been = [d for d in closed if s in d["path"]]
        if been:
            rates[s] = (len(been), sum(1 for d in been if d["path"][-1] == "won"))
    months: dict = {}
    for d in deals:
        if d["path"][-1] in ("won", "lost"):
            continue
        row = months.setdefault(
            month(d["close"]),
            {"month": month(d["close"]), "count": 0, "amount": Decimal(0), "weighted": Decimal(0)},
        )
        n, w = rates.get(d["path"][-1], (1, 0))
        row["count"] += 1
        row["amount"] += d["amount"]
        row["weighted"] += d["amount"] * Decimal(w) / Decimal(n)
    rows = sorted(months.values(), key=lambda r: (r["month"] is None, r["month"] or ""))
    for r in rows:
        r["weighted"] = r["weighted"].quantize(Decimal("0.01"))
    return rows, rates


def check(result, deals):
    rows, rates = oracle(deals)
    got = [{**r, "amount": Decimal(str(r["amount"]))} for r in result["rows"]]
    assert got == rows
    for r in result["rates"]:
        if r["stage"] in rates:
            n, w = rates[r["stage"]]
            assert (r["closed"], r["won"]) == (n, w)
            assert r["rate"] == (Decimal(w) * 100 / n).quantize(Decimal("0.1"))
        else:
            assert r["rate"] is None and r["closed"] == 0
    assert result["totals"]["weighted"] == sum((r["weighted"] for r in rows), Decimal(0))


def test_forecast_matches_the_history(platform, deals):
    result = platform.reports.run(FORECAST)
    check(result, deals)
    assert [r["stage"] for r in result["rates"]] == OPEN
    assert result["rows"][-1]["month"] is None  # the deal without a close date
    assert result["chart"]["categories"] == [r["month"] for r in result["rows"]]


def test_filters_and_row_scope(platform, deals):
    check(platform.reports.run({**FORECAST, "filters": "amount >= 100"}),
          [d for d in deals if d["amount"] >= 100])  # fmt: skip
    for who in ("ann", "bob"):
        check(platform.reports.run(FORECAST, user=who), [d for d in deals if d["owner"] == who])


def test_bad_forecasts_are_refused_with_paths(platform, deals):
    problems = platform.reports.problems(
        {**FORECAST, "won": "champagne", "lost": ["lost", "won", 3], "amount": "stage",
         "close": "amount", "stage": "stage"}
    )  # fmt: skip
    fields = {e["field"]: e["message"] for e in problems}
    assert "not an option" in fields["won"] and "not an option" in fields["lost[2]"]
    assert "not a number" in fields["amount"] and "not a date" in fields["close"]
    fields = {e["field"]: e["message"] for e in platform.reports.problems(
        {**FORECAST, "lost": ["won"]})}  # fmt: skip
    assert "both won and lost" in fields["lost[0]"]
    assert {e["field"] for e in platform.reports.problems({**FORECAST, "lost": []})} == {"lost"}


def test_a_datetime_close_is_bucketed_in_the_platform_zone(db_url):
    from engine import Platform
    from engine.clock import Clock
    from tests.floor_defs import save

    p = Platform(db_url, clock=Clock("Asia/Shanghai"))
    try:
        save(p, {"name": "opp", "schema": {"type": "object", "properties": {
            "stage": {"type": "string", "enum": ["open", "won", "lost"]},
            "amount": {"type": "number"},
            "close": {"type": "string", "format": "date-time"}}}})  # fmt: skip
        opps = p.records("opp")
        # 2026-01-31 20:00 UTC is already February 1st in Shanghai
        opps.create({"stage": "open", "amount": 10, "close": "2026-01-31T20:00:00Z"})
        opps.create({"stage": "open", "amount": 5, "close": "2026-01-31T10:00:00Z"})
        won = opps.create({"stage": "open", "amount": 1, "close": "2026-01-01T00:00:00Z"})
        opps.update(won["id"], {"stage": "won"})
        lost = opps.create({"stage": "open", "amount": 1, "close": "2026-01-01T00:00:00Z"})
        opps.update(lost["id"], {"stage": "lost"})
        result = p.reports.run({**FORECAST, "source": "opp"})
        assert [(r["month"], r["amount"], r["weighted"]) for r in result["rows"]] == [
            ("2026-01", Decimal(5), Decimal("2.50")),
            ("2026-02", Decimal(10), Decimal("5.00")),
        ]
        assert result["rates"] == [
            {"stage": "open", "closed": 2, "won": 1, "rate": Decimal("50.0")}
        ]
    finally:
        p.close()
