"""The two-stage grouping (raw date first, bucket per group) gives exactly the one-stage answers.

Each case runs the same report twice on the same database: once with the
two-stage form forced on for this dialect, once with it off, and compares the
whole shaped result (every cell, total, label and chart). The cases cover
every bucket kind on a date and on a datetime, nulls in the date, filters,
a joined dimension, a top-N dimension, a bucket as a row and every additive
measure. Amounts are quarters of a unit, exact in binary, so a float sum on
SQLite is the same in any order (see :mod:`engine.reports.two_stage`).
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

import pytest

from engine import Platform
from engine.clock import Clock
from engine.reports import two_stage as two_stage_module
from engine.reports.buckets import BUCKETS
from engine.reports.pivot import PivotQuery
from engine.reports.pivot_run import pivot_statement
from tests.floor_defs import save
from tests.rules.sql_defs import ACCOUNT, DEAL

ZONE = "Asia/Shanghai"

MEASURES = [
    {"name": "deals", "agg": "count"},
    {"name": "priced", "agg": "count", "field": "amount"},
    {"name": "amount", "agg": "sum", "field": "amount"},
    {"name": "qty", "agg": "sum", "field": "qty"},
    {"name": "avg_amount", "agg": "avg", "field": "amount"},
    {"name": "low", "agg": "min", "field": "amount"},
    {"name": "high", "agg": "max", "field": "qty"},
]


@pytest.fixture(scope="module")
def p(tmp_path_factory):
    from tests.conftest import database_url

    with database_url(tmp_path_factory.mktemp("two_stage"), "two") as url:
        clock = Clock(ZONE)
        clock.set("2025-06-30T12:00:00+08:00")
        platform = Platform(url, clock=clock)
        save(platform, ACCOUNT, DEAL)
        accounts = [
            platform.records("account").create({"name": n, "industry": i})["id"]
            for n, i in (("Acme", "制造"), ("Bee", "tech"), ("Cee", "tech"))
        ]
        rng = random.Random(11)
        platform.records("deal").create_many(
            [
                {
                    "title": f"deal {i}",
                    "region": rng.choice(["east", "west", "北方", None]),
                    "amount": str(rng.randint(4, 400_000) / 4) if i % 7 else None,
                    "qty": rng.randint(0, 9) if i % 5 else None,
                    # two years and a leap day; every tenth date missing
                    "closes_on": None
                    if i % 10 == 3
                    else (
                        dt.date(2023, 12, 25) + dt.timedelta(days=rng.randint(0, 800))
                    ).isoformat(),
                    # around midnight in Shanghai (16:00 UTC), so buckets need the zone
                    "seen_at": None
                    if i % 11 == 4
                    else f"2024-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
                    f"T1{rng.randint(5, 6)}:{rng.randint(0, 59):02d}:00Z",
                    "account": rng.choice([*accounts, None]),
                }
                for i in range(400)
            ]
        )
        yield platform
        platform.close()


def _report(rows: list[Any], columns: list[Any], **extra: Any) -> dict[str, Any]:
    return {
        "name": "staged",
        "type": "pivot",
        "source": "deal",
        "rows": rows,
        "columns": columns,
        "measures": MEASURES,
        "totals": {"rows": True, "columns": True},
        **extra,
    }


def _both(p: Platform, monkeypatch: Any, report: dict[str, Any], filters: str | None = None):
    """(one-stage result, two-stage result, whether the two-stage form applied)."""
    dialect = p.db.dialect
    monkeypatch.setattr(two_stage_module, "DIALECTS", ())
    one = p.reports.run(report, filters=filters, cached=False)
    monkeypatch.setattr(two_stage_module, "DIALECTS", (dialect,))
    spec = p.reports.spec(report)
    query: PivotQuery = pivot_statement(p.reports, spec, p.reports._where(spec, None, filters))[0]
    applied = two_stage_module.two_stage(query) is not None
    two = p.reports.run(report, filters=filters, cached=False)
    return one, two, applied


@pytest.mark.parametrize("bucket", BUCKETS)
def test_every_bucket_of_a_date_as_column(p, monkeypatch, bucket):
    report = _report(["region"], [{"field": "closes_on", "bucket": bucket}])
    one, two, applied = _both(p, monkeypatch, report)
    assert applied == (bucket != "day")
    assert two == one
    assert sum(c[0] for r in one["rows"] for c in r["cells"] if c) == 400


@pytest.mark.parametrize("bucket", BUCKETS)
def test_every_bucket_of_a_datetime_in_the_zone(p, monkeypatch, bucket):
    report = _report([{"field": "seen_at", "bucket": bucket}], ["region"])
    one, two, applied = _both(p, monkeypatch, report)
    # SQLite buckets a datetime with a Python call per row either way: one stage there.
    assert applied == (bucket != "day" and p.db.dialect == "postgresql")
    assert two == one


@pytest.mark.parametrize(
    "filters",
    ['region == "east"', "amount > 1000", "closes_on >= @2024-03-01 and qty > 2"],
)
def test_filters_joins_and_two_buckets(p, monkeypatch, filters):
    report = _report(
        [{"field": "closes_on", "bucket": "year"}, "account.industry"],
        [{"field": "closes_on", "bucket": "quarter_of_year"}],
        filters='title != "deal 5"',
    )
    one, two, applied = _both(p, monkeypatch, report, filters)
    assert applied
    assert two == one
    assert one["rows"], filters


def test_top_n_dimension_and_subtotals(p, monkeypatch):
    report = _report(
        [{"field": "account.name", "top": 2, "by": "amount"}, "region"],
        [{"field": "closes_on", "bucket": "month"}],
        totals={"rows": True, "columns": True, "subtotals": True},
    )
    one, two, applied = _both(p, monkeypatch, report)
    assert applied
    assert two == one


def test_count_distinct_and_a_day_keep_one_stage(p, monkeypatch):
    distinct = _report(
        ["region"],
        [{"field": "closes_on", "bucket": "month"}],
    )
    distinct["measures"] = [{"name": "accounts", "agg": "count_distinct", "field": "account"}]
    one, two, applied = _both(p, monkeypatch, distinct)
    assert not applied
    assert two == one
    by_day = _report(["region"], [{"field": "closes_on", "bucket": "day"}])
    assert not _both(p, monkeypatch, by_day)[2]


def test_the_cache_still_knows_what_a_two_stage_pivot_reads(p, monkeypatch):
    """The result cache finds the entities through the subquery: a write invalidates it."""
    monkeypatch.setattr(two_stage_module, "DIALECTS", (p.db.dialect,))
    report = _report(["account.industry"], [{"field": "closes_on", "bucket": "quarter"}])
    spec = p.reports.spec(report)
    sql, _, reads, _ = p.reports._identity(spec, p.reports._where(spec, None, None))
    assert " g" in sql  # the two-stage form
    assert reads == {"deal", "account"}
    before = p.reports.run(report)
    p.records("deal").create({"title": "late", "closes_on": "2024-05-05", "amount": "2.5"})
    after = p.reports.run(report)
    assert after["totals"]["total"][0] == before["totals"]["total"][0] + 1
