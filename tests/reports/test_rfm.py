"""RFM: recency, frequency and monetary value per customer, NTILE(5) scores, segments."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

import pytest

from tests.floor_defs import save

ACCOUNT = {
    "name": "account",
    "schema": {"type": "object", "properties": {"name": {"type": "string"}}},
}
ORDER = {
    "name": "order",
    "schema": {
        "type": "object",
        "properties": {
            "account": {"type": "integer", "x-ref": "account"},
            "ordered_on": {"type": "string", "format": "date"},
            "total": {"type": "number"},
        },
    },
}
SEGMENTS = {
    "champions": "r >= 4 and f >= 4",
    "at_risk": "r <= 2 and f >= 3",
    "big_spenders": "m == 5",
}
RFM = {
    "name": "customers",
    "type": "rfm",
    "source": "order",
    "customer": "account",
    "date": "ordered_on",
    "amount": "total",
    "segments": SEGMENTS,
    "top": 5,
}
PERMISSIONS = {
    "roles": {"rep": {"label": "Rep"}},
    "permissions": [{"role": "rep", "entity": "order", "create": True, "read": "own"}],
}


@pytest.fixture
def orders(platform):
    save(platform, ACCOUNT, ORDER)
    platform.meta.save("permissions", "sales", PERMISSIONS)
    platform.users.add("ann", password="ann-secret-1", roles=["rep"], team="east")
    platform.users.add("bob", password="bob-secret-1", roles=["rep"], team="east")
    rng = random.Random(7)
    out = []
    start = dt.date(2025, 1, 1)
    for i in range(23):
        account = platform.records("account").create({"name": f"c{i}"})["id"]
        for _ in range(rng.randint(1, 6)):
            owner = rng.choice(["ann", "bob"])
            day = (start + dt.timedelta(days=rng.randint(0, 400))).isoformat()
            total = rng.randint(1, 50) * 10
            platform.records("order", owner).create(
                {"account": account, "ordered_on": day, "total": total}
            )
            out.append({"owner": owner, "account": account, "day": day, "total": Decimal(total)})
    return out


def ntile(keys):
    """NTILE(5) over keys (already sorted): the first n % 5 groups get one extra row."""
    n = len(keys)
    sizes = [n // 5 + (1 if g < n % 5 else 0) for g in range(5)]
    out, i = {}, 0
    for g, size in enumerate(sizes, start=1):
        for key in keys[i : i + size]:
            out[key[-1]] = g
        i += size
    return out


def segment(r, f, m):
    if r >= 4 and f >= 4:
        return "champions"
    if r <= 2 and f >= 3:
        return "at_risk"
    if m == 5:
        return "big_spenders"
    return "other"


def oracle(orders):
    per: dict = {}
    for o in orders:
        last, n, total = per.get(o["account"], ("", 0, Decimal(0)))
        per[o["account"]] = (max(last, o["day"]), n + 1, total + o["total"])
    r = ntile(sorted((v[0], c) for c, v in per.items()))
    f = ntile(sorted((v[1], c) for c, v in per.items()))
    m = ntile(sorted((v[2], c) for c, v in per.items()))
    rows = {s: {"segment": s, "customers": 0, "monetary": Decimal(0)} for s in [*SEGMENTS, "other"]}
    for c, (_, _, total) in per.items():
        rows[segment(r[c], f[c], m[c])]["customers"] += 1
        rows[segment(r[c], f[c], m[c])]["monetary"] += total
    top = sorted(per, key=lambda c: (-per[c][2], c))[:5]
    customers = [
        (c, per[c][1], per[c][2], r[c], f[c], m[c], segment(r[c], f[c], m[c])) for c in top
    ]
    return list(rows.values()), customers


def check(result, orders):
    rows, customers = oracle(orders)
    assert [{**r, "monetary": Decimal(str(r["monetary"]))} for r in result["rows"]] == rows
    got = [
        (c["customer"], c["frequency"], c["monetary"], c["r"], c["f"], c["m"], c["segment"])
        for c in result["customers"]
    ]
    assert got == customers
    assert [str(c["last"])[:10] for c in result["customers"]] == [
        max(o["day"] for o in orders if o["account"] == c[0]) for c in customers
    ]


def test_rfm_scores_and_segments(platform, orders):
    result = platform.reports.run(RFM)
    check(result, orders)
    assert sum(r["customers"] for r in result["rows"]) == 23
    assert {r["segment"] for r in result["rows"] if r["customers"]} > {"other"}
    assert result["chart"]["categories"] == [*SEGMENTS, "other"]


def test_filters_and_row_scope(platform, orders):
    check(platform.reports.run({**RFM, "filters": "total >= 100"}),
          [o for o in orders if o["total"] >= 100])  # fmt: skip
    for who in ("ann", "bob"):
        check(platform.reports.run(RFM, user=who), [o for o in orders if o["owner"] == who])


def test_bad_rfm_definitions_are_refused_with_paths(platform, orders):
    problems = platform.reports.problems(
        {**RFM, "customer": "total", "date": "account", "amount": "ordered_on", "top": -1,
         "segments": {"a": "r >=", "b": "x > 1", "c": 3, "other": "r > 1", "d": "r + 1"}}
    )  # fmt: skip
    fields = {e["field"]: e["message"] for e in problems}
    assert {"customer", "date", "amount", "top", "segments.a", "segments.b", "segments.c",
            "segments.other"} <= set(fields)  # fmt: skip
    assert "'x'" in fields["segments.b"] and "not a condition" in fields["segments.d"]
