"""Funnels: records per stage now, and reached/conversion from the audit trail, in SQL."""

from __future__ import annotations

from decimal import Decimal

import pytest

from engine.errors import ValidationError
from tests.reports.rtypes_data import seed

OPEN = ["lead", "qualified", "proposal", "negotiation", "won"]
FUNNEL = {
    "name": "deal_funnel",
    "type": "funnel",
    "source": "deal",
    "stage": "stage",
    "stages": OPEN,
    "amount": "amount",
}


@pytest.fixture
def deals(platform):
    return seed(platform)


def oracle(deals, stages):
    """Independent: reached = entered this stage or a later one (of the listed stages)."""
    out = []
    for k, s in enumerate(stages):
        now = [d for d in deals if d["path"][-1] == s]
        reached = sum(
            1 for d in deals if any(st in stages and stages.index(st) >= k for st in d["path"])
        )
        out.append(
            {
                "stage": s,
                "count": len(now),
                "amount": sum((d["amount"] for d in now), Decimal(0)) if now else None,
                "entered": sum(1 for d in deals if s in d["path"]),
                "reached": reached,
            }
        )
    for k, row in enumerate(out):
        nxt = out[k + 1]["reached"] if k + 1 < len(out) else None
        row["conversion"] = (
            (Decimal(nxt) * 100 / row["reached"]).quantize(Decimal("0.1"))
            if nxt is not None and row["reached"]
            else None
        )
        first = out[0]["reached"]
        row["of_first"] = (Decimal(row["reached"]) * 100 / first).quantize(Decimal("0.1"))
    return out


def plain(rows):
    return [
        {k: (Decimal(str(v)) if isinstance(v, float) else v) for k, v in r.items()} for r in rows
    ]


def test_funnel_matches_the_history(platform, deals):
    result = platform.reports.run(FUNNEL)
    assert plain(result["rows"]) == oracle(deals, OPEN)
    # a skipped stage counts as reached: deal 3 went lead -> proposal
    by = {r["stage"]: r for r in result["rows"]}
    assert by["qualified"]["reached"] >= by["proposal"]["reached"] >= by["won"]["reached"]
    assert by["qualified"]["entered"] < by["qualified"]["reached"]
    assert result["chart"]["type"] == "funnel" and result["chart"]["categories"] == OPEN


def test_default_stages_are_the_options_in_order(platform, deals):
    from tests.reports.rtypes_data import STAGES

    result = platform.reports.run({k: v for k, v in FUNNEL.items() if k != "stages"})
    assert [r["stage"] for r in result["rows"]] == STAGES
    assert plain(result["rows"]) == oracle(deals, STAGES)


def test_window_and_filters(platform, deals):
    empty = platform.reports.run({**FUNNEL, "window": {"from": "2000-01-01", "to": "2000-12-31"}})
    assert all(r["reached"] == 0 and r["count"] == 0 for r in empty["rows"])
    today = platform.clock.now().date().isoformat()
    all_ = platform.reports.run({**FUNNEL, "window": {"from": today}})
    assert plain(all_["rows"]) == oracle(deals, OPEN)
    big = platform.reports.run({**FUNNEL, "filters": "amount >= 100"})
    assert plain(big["rows"]) == oracle([d for d in deals if d["amount"] >= 100], OPEN)


def test_a_rep_sees_only_their_deals(platform, deals):
    for who in ("ann", "bob"):
        result = platform.reports.run(FUNNEL, user=who)
        assert plain(result["rows"]) == oracle([d for d in deals if d["owner"] == who], OPEN)


def test_bad_funnels_are_refused_with_paths(platform, deals):
    problems = platform.reports.problems(
        {**FUNNEL, "stage": "amount", "stages": ["lead", "nope", "lead"], "amount": "title",
         "window": {"from": "yesterday"}, "filters": "nope > 1"}
    )  # fmt: skip
    fields = {e["field"]: e["message"] for e in problems}
    assert "not a select" in fields["stage"] and "not a number" in fields["amount"]
    assert "listed twice" in fields["stages[2]"] and "not a date" in fields["window.from"]
    assert "filters" in fields
    fields = {e["field"] for e in platform.reports.problems({**FUNNEL, "stages": ["lead", "x"]})}
    assert fields == {"stages[1]"}
    assert platform.reports.problems({**FUNNEL, "source": "nope"})[0]["field"] == "source"


def test_funnel_exports_as_csv(platform, deals):
    import io

    out = io.StringIO()
    platform.reports.export(FUNNEL, "csv", out)
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("Stage,Count,Amount,Entered,Reached") and len(lines) == 6


def test_a_stage_drills_to_the_records_at_it_in_the_viewers_scope(platform, deals):
    for who in (None, "ann"):
        mine = [d for d in deals if who is None or d["owner"] == who]
        at = [d for d in mine if d["path"][-1] == "proposal"]
        answer = platform.reports.drill(FUNNEL, ["proposal"], user=who)
        assert answer["count"] == len(at) > 0
        assert sorted(r["amount"] for r in answer["records"]) == sorted(d["amount"] for d in at)
        assert all(r["owner"] == who for r in answer["records"] if who)
    with pytest.raises(ValidationError) as refused:
        platform.reports.drill(FUNNEL, ["proposal", "won"])
    assert refused.value.errors[0]["field"] == "key"
