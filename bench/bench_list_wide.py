"""How fast is a wide list through the API: 100 rows x 50 fields from 500,000, filtered and sorted?

Run: ``python bench/bench_list_wide.py [--n 500000] [--db URL] [--requests 40]``.

Creates an entity of 50 fields (text, selects, integers, money, booleans,
dates, datetimes, e-mails; a select, an integer and a datetime indexed) and
``--n`` deterministic records with the engine's ``create_many``, on SQLite by
default or on the database ``--db`` names (PostgreSQL). Then, through the
Flask test client (no network), as an admin, it times
``GET /api/v1/records/wide?where=<select == v and integer >= k>&order_by=-<integer>&limit=100``
with the filter values rotating so no two consecutive requests ask the same,
and reports p50 and p99. The limit is a hand-written endpoint on the same
database: the bounded count and the ``SELECT ... ORDER BY ... LIMIT 100`` in
plain SQL through the driver, rows dumped to JSON. Both must return the same
ids (the script exits non-zero otherwise). The goal is a p50 under 200 ms.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import statistics
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

from flask import Flask, request
from sqlalchemy import create_engine, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("TESSERA_ARGON2_PROFILE", "CHEAPEST")

from engine import Platform

OPTIONS = ["alpha", "beta", "gamma", "delta", "epsilon"]
KINDS = (
    [("text", i) for i in range(10)]
    + [("select", i) for i in range(8)]
    + [("integer", i) for i in range(8)]
    + [("money", i) for i in range(6)]
    + [("flag", i) for i in range(6)]
    + [("day", i) for i in range(6)]
    + [("stamp", i) for i in range(4)]
    + [("mail", i) for i in range(2)]
)


def definition() -> dict[str, Any]:
    props: dict[str, Any] = {}
    for kind, i in KINDS:
        key = f"{kind}_{i}"
        props[key] = {
            "text": {"type": "string", "maxLength": 80},
            "select": {"type": "string", "enum": OPTIONS},
            "integer": {"type": "integer", "minimum": 0},
            "money": {"type": "number", "x-type": "currency"},
            "flag": {"type": "boolean"},
            "day": {"type": "string", "format": "date"},
            "stamp": {"type": "string", "format": "date-time"},
            "mail": {"type": "string", "format": "email", "maxLength": 120},
        }[kind]
    for key in ("select_0", "integer_0", "stamp_0"):
        props[key]["x-index"] = True
    assert len(props) == 50
    return {
        "name": "wide",
        "label": {"en": "Wide"},
        "schema": {"type": "object", "properties": props},
    }


def generate(first: int, count: int, seed: int = 5) -> list[dict[str, Any]]:
    """Records ``first`` .. ``first + count - 1``; each batch has its own seeded stream."""
    rnd = random.Random(seed * 1_000_003 + first)
    start = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    out = []
    for r in range(first, first + count):
        row: dict[str, Any] = {}
        for kind, i in KINDS:
            key = f"{kind}_{i}"
            if kind == "text":
                row[key] = f"text {r} {i} " + "x" * rnd.randrange(0, 30)
            elif kind == "select":
                row[key] = rnd.choice(OPTIONS)
            elif kind == "integer":
                row[key] = rnd.randrange(0, 1000)
            elif kind == "money":
                row[key] = Decimal(rnd.randrange(0, 10_000_000)) / 100
            elif kind == "flag":
                row[key] = rnd.random() < 0.5
            elif kind == "day":
                row[key] = (start + dt.timedelta(days=rnd.randrange(0, 900))).date()
            elif kind == "stamp":
                row[key] = start + dt.timedelta(seconds=rnd.randrange(0, 70_000_000))
            else:
                row[key] = f"user{r}.{i}@example.com"
        out.append(row)
    return out


def hand_written_app(url: str, table: str, columns: list[str], sel: str, num: str) -> Flask:
    """The limit: the same two statements in plain SQL, rows to JSON, nothing else."""
    app = Flask("hand")
    engine = create_engine(url)
    select_cols = ", ".join(["id", *columns])

    @app.get("/wide")
    def wide() -> Any:
        option, floor = request.args["option"], int(request.args["floor"])
        where = f"FROM {table} WHERE {sel} = :option AND {num} >= :floor"
        params = {"option": option, "floor": floor}
        with engine.connect() as conn:
            total = conn.execute(
                text(f"SELECT count(*) FROM (SELECT 1 {where} LIMIT 10001) AS t"), params
            ).scalar_one()
            rows = conn.execute(
                text(f"SELECT {select_cols} {where} ORDER BY {num} DESC, id LIMIT 100"),
                params,
            ).mappings()
            data = [dict(r) for r in rows]
        return app.response_class(
            json.dumps({"items": data, "total": total}, default=str), mimetype="application/json"
        )

    return app


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=500_000)
    parser.add_argument("--db", default=None, help="database URL (default: a SQLite temp file)")
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument("--batch", type=int, default=5000)
    args = parser.parse_args()

    from web.app import create_app

    tmp = tempfile.TemporaryDirectory()
    url = args.db or f"sqlite:///{tmp.name}/wide.db"
    p = Platform(url)
    p.meta.save("entity", "wide", definition(), user="bench")
    p.users.add("bench", password="bench-secret-1", roles=["admin"])
    service = p.records("wide")
    if service.count() < args.n:
        t0 = time.perf_counter()
        for start in range(service.count(), args.n, args.batch):
            service.create_many(generate(start, min(args.batch, args.n - start)))
            print(f"  created {min(start + args.batch, args.n):,}", end="\r", file=sys.stderr)
        print(f"\n  loaded in {time.perf_counter() - t0:.0f}s", file=sys.stderr)
        with p.db.transaction(write=True) as conn:
            conn.exec_driver_sql("ANALYZE")
    live = p.entities.get("wide")
    column_of = {f.key: f.column for f in live.model.stored_fields()}
    table = live.table.name
    hand_app = hand_written_app(
        url,
        table,
        [column_of[f"{k}_{i}"] for k, i in KINDS],
        column_of["select_0"],
        column_of["integer_0"],
    )
    app = create_app(p, config={"SECRET_KEY": "bench"})
    client = app.test_client()
    client.post("/login", json={"username": "bench", "password": "bench-secret-1"})
    hand = hand_app.test_client()

    def ours(option: str, floor: int) -> tuple[float, list[int]]:
        where = f'select_0 == "{option}" and integer_0 >= {floor}'
        start = time.perf_counter()
        response = client.get(
            "/api/v1/records/wide",
            query_string={"where": where, "order_by": "-integer_0", "limit": 100},
        )
        elapsed = time.perf_counter() - start
        assert response.status_code == 200, response.get_data(as_text=True)[:300]
        return elapsed, [r["id"] for r in response.get_json()["items"]]

    def theirs(option: str, floor: int) -> tuple[float, list[int]]:
        start = time.perf_counter()
        response = hand.get("/wide", query_string={"option": option, "floor": floor})
        elapsed = time.perf_counter() - start
        assert response.status_code == 200
        return elapsed, [r["id"] for r in response.get_json()["items"]]

    cases = [(OPTIONS[i % 5], (i * 37) % 600) for i in range(args.requests)]
    ours(*cases[0])
    theirs(*cases[0])
    a, b, same = [], [], True
    for case in cases:
        ta, ids_a = ours(*case)
        tb, ids_b = theirs(*case)
        a.append(ta)
        b.append(tb)
        same = same and ids_a == ids_b and len(ids_a) == 100
    dialect = p.db.dialect
    p.close()
    print(
        f"wide list bench, {dt.date.today()}, Python {sys.version.split()[0]}, {dialect}, "
        f"{args.n:,} records x 50 fields, 100 rows per request, {args.requests} requests"
    )
    print(f"{'':<14}{'p50 ms':>9}{'p99 ms':>9}{'mean ms':>9}")
    for name, samples in (("tessera API", a), ("hand-written", b)):
        print(
            f"{name:<14}{percentile(samples, 0.5) * 1000:>9.1f}"
            f"{percentile(samples, 0.99) * 1000:>9.1f}{statistics.mean(samples) * 1000:>9.1f}"
        )
    print(
        f"p50 ratio {percentile(a, 0.5) / percentile(b, 0.5):.2f}x; same rows: {'yes' if same else 'NO'}"
    )
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
