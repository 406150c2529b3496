"""Pivots: every cell, subtotal and total equals what a plain Python loop over the records says.

The oracle reads the records back through the record API and groups them by
hand, so these tests check the SQL (joins, buckets in the platform's zone,
the totals of non-additive measures) against an independent computation, on
SQLite and on PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from engine import Platform, ValidationError
from engine.clock import Clock
from tests.floor_defs import save
from tests.rules.sql_defs import ACCOUNT, DEAL

ZONE = "Asia/Shanghai"
REGIONS = ["east", "west", "北方", None]


@pytest.fixture
def p(db_url):
    clock = Clock(ZONE)
    clock.set("2025-06-30T12:00:00+08:00")
    platform = Platform(db_url, clock=clock)
    save(platform, ACCOUNT, DEAL)
    accounts = [
        platform.records("account").create({"name": n, "industry": i, "size": s})["id"]
        for n, i, s in (("Acme", "制造", 500), ("Bee", "tech", 5), ("Cee", "tech", 50))
    ]
    rng = random.Random(7)
    deals = [
        {
            "title": f"deal {i}",
            "region": rng.choice(REGIONS),
            "amount": str(Decimal(rng.randint(100, 100000)) / 100) if i % 9 else None,
            "qty": rng.randint(0, 5),
            "closes_on": (dt.date(2025, 1, 1) + dt.timedelta(days=rng.randint(0, 200))).isoformat(),
            # around midnight in Shanghai (16:00 UTC), so the day and month buckets need the zone
            "seen_at": f"2025-0{rng.randint(1, 5)}-28T1{rng.randint(5, 6)}:30:00Z",
            "account": rng.choice([*accounts, None]),
        }
        for i in range(60)
    ]
    platform.records("deal").create_many(deals)
    yield platform
    platform.close()


def _records(p: Platform) -> list[dict[str, Any]]:
    rows = p.records("deal").list(limit=None)
    industries = {a["id"]: a["industry"] for a in p.records("account").list(limit=None)}
    for r in rows:
        r["account.industry"] = industries.get(r["account"])
    return rows


def _month(day: dt.date) -> dt.date:
    return day.replace(day=1)


def _oracle(rows, row_keys, col_keys, measure):
    """Group by hand: {(row key, col key): value} for every level the pivot shows."""
    groups: dict[tuple, list] = {}
    for r in rows:
        rk = tuple(f(r) for f in row_keys)
        ck = tuple(f(r) for f in col_keys)
        for i in range(len(rk) + 1):
            for j in (0, len(ck)):
                groups.setdefault((rk[:i], ck[:j]), []).append(r)
    return {k: measure(v) for k, v in groups.items()}


def _cells(result: dict, n_rows: int) -> dict[tuple, list]:
    """The result's values keyed like the oracle: (row key prefix, column key)."""
    out = {}
    cols = [tuple(c["key"]) for c in result["columns"]]
    for row in result["rows"]:
        rk = tuple(row["key"][: row["level"]])
        for ck, cell in zip(cols, row["cells"]):
            out[(rk, ck)] = cell
        if row["total"] is not None:
            out[(rk, ())] = row["total"]
    if result["totals"]:
        for ck, cell in zip(cols, result["totals"]["cells"]):
            out[((), ck)] = cell
        if result["totals"]["total"] is not None:
            out[((), ())] = result["totals"]["total"]
    return out


def _as_date(value):
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


DEFINITION = {
    "name": "by_region",
    "source": "deal",
    "rows": ["region", "account.industry"],
    "columns": [{"field": "closes_on", "bucket": "month"}],
    "measures": [
        {"name": "amount", "agg": "sum", "field": "amount"},
        {"name": "deals", "agg": "count"},
        {"name": "avg_amount", "agg": "avg", "field": "amount"},
        {"name": "smallest", "agg": "min", "field": "amount"},
        {"name": "largest", "agg": "max", "field": "qty"},
        {"name": "per_deal", "expr": "amount / deals"},
    ],
    "totals": {"rows": True, "columns": True, "subtotals": True},
}


def _sum(rs):
    vals = [r["amount"] for r in rs if r["amount"] is not None]
    return sum(vals) if vals else None


def _measures(rs):
    amounts = [r["amount"] for r in rs if r["amount"] is not None]
    total = _sum(rs)
    return [
        total,
        len(rs),
        (sum(amounts) / len(amounts)) if amounts else None,
        min(amounts) if amounts else None,
        max(r["qty"] for r in rs),
        (Decimal(total) / len(rs)) if total is not None else None,
    ]


def _close(a, b):
    if a is None or b is None:
        return a is None and b is None
    return abs(Decimal(str(a)) - Decimal(str(b))) < Decimal("0.0001")


def test_every_cell_and_total_matches_the_records(p):
    result = p.reports.run(DEFINITION)
    rows = _records(p)
    expected = _oracle(
        rows,
        [lambda r: r["region"], lambda r: r["account.industry"]],
        [lambda r: _month(r["closes_on"])],
        _measures,
    )
    got = _cells(result, 2)
    got = {(rk, tuple(_as_date(c) for c in ck)): v for (rk, ck), v in got.items()}
    for key, values in expected.items():
        assert key in got, key
        assert all(_close(a, b) for a, b in zip(got[key], values)), (key, got[key], values)
    # filled cells that have no records show zero deals
    empty = [v for k, v in got.items() if k not in expected]
    assert all(v[1] == 0 and v[0] is None for v in empty)
    assert result["chart"]["type"] == "stacked_bar"
    assert len(result["chart"]["categories"]) == len(result["columns"])


def test_count_distinct_totals_are_counted_not_added(p):
    definition = {
        "name": "accounts",
        "source": "deal",
        "rows": ["region"],
        "columns": [{"field": "closes_on", "bucket": "quarter"}],
        "measures": [
            {"name": "accounts", "agg": "count_distinct", "field": "account"},
            {"name": "deals", "agg": "count"},
        ],
    }
    result = p.reports.run(definition)
    rows = _records(p)

    def measure(rs):
        return [len({r["account"] for r in rs if r["account"] is not None}), len(rs)]

    def quarter(r):
        d = r["closes_on"]
        return d.replace(month=(d.month - 1) // 3 * 3 + 1, day=1)

    expected = _oracle(rows, [lambda r: r["region"]], [quarter], measure)
    got = {(rk, tuple(_as_date(c) for c in ck)): v for (rk, ck), v in _cells(result, 1).items()}
    for key, values in expected.items():
        assert got[key] == values, key
    grand = got[((), ())]
    per_region = [got[((r,), ())][0] for r in REGIONS if ((r,), ()) in got]
    assert grand[0] == 3 and sum(per_region) > grand[0]  # summing would over-count


def test_datetime_buckets_use_the_platform_time_zone(p):
    definition = {
        "name": "seen",
        "source": "deal",
        "rows": [],
        "columns": [{"field": "seen_at", "bucket": "day"}],
        "measures": [{"name": "n", "agg": "count"}],
        "options": {"fill_empty": False},
    }
    result = p.reports.run(definition)
    zone = ZoneInfo(ZONE)
    counts: dict[dt.date, int] = {}
    for r in _records(p):
        day = r["seen_at"].astimezone(zone).date()
        counts[day] = counts.get(day, 0) + 1
    got = {
        _as_date(c["key"][0]): cell[0]
        for c, cell in zip(result["columns"], result["rows"][0]["cells"])
    }
    assert got == counts
    assert any(d.day == 29 for d in got)  # 16:30 UTC on the 28th is the 29th in Shanghai


def test_empty_months_are_filled(p):
    definition = {
        "name": "months",
        "source": "deal",
        "filters": "closes_on < @2025-02-01 or closes_on >= @2025-05-01",
        "columns": [{"field": "closes_on", "bucket": "month"}],
        "rows": [],
        "measures": [{"name": "n", "agg": "count"}],
    }
    result = p.reports.run(definition)
    labels = [c["labels"][0] for c in result["columns"]]
    assert labels[:5] == ["2025-01", "2025-02", "2025-03", "2025-04", "2025-05"]
    assert [cell[0] for cell in result["rows"][0]["cells"]][1:4] == [0, 0, 0]


def test_viewer_filters_and_drill_down(p):
    result = p.reports.run(DEFINITION, filters='region == "east"')
    assert {r["key"][0] for r in result["rows"]} == {"east"}
    east = [r for r in _records(p) if r["region"] == "east"]
    assert result["totals"]["total"][1] == len(east)
    cell = p.reports.drill(DEFINITION, ["east"], filters="qty >= 0", limit=5)
    assert cell["count"] == len(east) and len(cell["records"]) == min(5, len(east))
    month = result["columns"][0]["key"][0]
    first = result["rows"][0]
    behind = p.reports.drill(DEFINITION, [*first["key"], month])
    assert behind["count"] == first["cells"][0][1]


def test_pivot_without_columns_and_the_cell_cap(p):
    definition = {
        "name": "flat",
        "source": "deal",
        "rows": ["title"],
        "measures": [{"name": "n", "agg": "count"}],
        "options": {"max_cells": 10},
    }
    result = p.reports.run(definition)
    assert result["truncated"] is True and len(result["rows"]) == 10
    assert result["chart"]["type"] == "bar"


def test_bad_definitions_name_every_problem(p):
    problems = p.reports.problems(
        {
            "name": "bad",
            "source": "deal",
            "rows": ["regoin"],
            "columns": [{"field": "title", "bucket": "month"}],
            "measures": [
                {"name": "s", "agg": "sum", "field": "title"},
                {"name": "e", "expr": "s / nope"},
                {"name": "m", "agg": "median", "field": "amount"},
            ],
            "filters": 'amount > "x"',
        }
    )
    by_field = {e["field"]: e["message"] for e in problems}
    assert "did you mean 'region'" in by_field["rows[0]"]
    assert "not a date" in by_field["columns[0]"]
    assert "adds numbers" in by_field["measures[0].field"]
    assert "'nope'" in by_field["measures[1].expr"]
    assert "median" in by_field["measures[2].agg"]
    assert "Cannot compare a number with a text" in by_field["filters"]
    with pytest.raises(ValidationError):
        p.reports.run({"name": "bad", "source": "dael"})


def test_sqlite_date_buckets_in_sql_agree_with_ts_bucket():
    """On SQLite a plain date is bucketed in SQL (no Python call per row): same text as
    ``ts_bucket`` for every day of four years (a leap year included) and for NULL."""

    from sqlalchemy import Column, Date, Integer, MetaData, Table, create_engine, select

    from engine.reports.buckets import _sqlite_bucket
    from engine.reports.pivot import _SQLITE_DATE_BUCKETS, _sqlite_date_bucket

    table = Table("d", MetaData(), Column("id", Integer, primary_key=True), Column("day", Date))
    engine = create_engine("sqlite://")
    days = [dt.date(2023, 1, 1) + dt.timedelta(days=i) for i in range(4 * 366)]
    with engine.begin() as conn:
        table.create(conn)
        conn.execute(table.insert(), [{"id": i, "day": d} for i, d in enumerate(days)])
        conn.execute(table.insert(), [{"id": -1, "day": None}])
        for unit in _SQLITE_DATE_BUCKETS:
            stmt = select(table.c.day, _sqlite_date_bucket(table.c.day, unit)).order_by(table.c.id)
            raw = conn.execute(stmt).all()
            for day, bucket in raw:
                text = None if day is None else day.isoformat()
                expected = _sqlite_bucket(text, unit, "")
                assert (bucket.isoformat() if bucket else None) == expected, (unit, day)
