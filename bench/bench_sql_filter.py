"""How fast is a rule-language filter in the database, next to the same filter written by hand?

Loads ``--n`` generated leads (bench/leads.py) into the lead table of a real
platform, then times, best of ``--runs`` and alternating which goes first,
``SELECT count(*), sum(id)`` with:

- the WHERE clause compiled from the rule language (``p.rules.compile(...).sql()``);
- the WHERE clause a developer would write by hand for the same question.

Both must select the same records (count and sum of ids are compared; the
script exits non-zero if they differ). Run on SQLite (default, a file in a
temporary directory) or PostgreSQL (``--url postgresql+psycopg://...``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import and_, func, insert, literal, select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.leads import LEAD_DEFINITION, generate_leads
from engine import Platform
from engine.clock import Clock
from engine.store.values import row_values

NOW = "2026-06-30T12:00:00+08:00"

#: The question, in the admin's words: recent, large leads from the website or an expo,
#: still open, whose company name mentions "acme".
CONDITION = (
    'source in ["website", "expo"] and company_size >= 20000 and company contains "acme" '
    'and days_since(created_at) < 365 and status in ["new", "contacted"]'
)


def hand_written(table: Any, today_start: dt.datetime, dialect: str) -> Any:
    """What a developer writes for CONDITION (ILIKE on PostgreSQL, lower/LIKE on SQLite)."""
    company = (
        table.c.company.ilike("%acme%")
        if dialect == "postgresql"
        else func.lower(table.c.company).like("%acme%")
    )
    return and_(
        table.c.source.in_(["website", "expo"]),
        table.c.company_size >= 20000,
        company,
        table.c.created_at >= today_start,
        table.c.status.in_(["new", "contacted"]),
    )


def load(p: Platform, n: int) -> None:
    live = p.entities.get("lead")
    table, model = live.table, live.model
    now = p.clock.now()
    batch: list[dict[str, Any]] = []
    done = 0
    for i, lead in enumerate(generate_leads(n, seed=1)):
        row = row_values(model, lead, complete=True)
        row.update(id=i + 1, version=1, created_on=now, modified_on=now)
        batch.append(row)
        if len(batch) == 20000:
            with p.db.transaction(write=True) as conn:
                conn.execute(insert(table), batch)
            done += len(batch)
            batch = []
            print(f"  loaded {done:,}", end="\r", file=sys.stderr)
    if batch:
        with p.db.transaction(write=True) as conn:
            conn.execute(insert(table), batch)
    with p.db.transaction(write=True) as conn:
        if p.db.dialect == "postgresql":
            conn.exec_driver_sql(f"ANALYZE {table.name}")
        else:
            conn.exec_driver_sql("ANALYZE")
    print(file=sys.stderr)


def timed(p: Platform, table: Any, where: Any) -> tuple[float, tuple[int, int]]:
    stmt = select(func.count(), func.coalesce(func.sum(table.c.id), literal(0))).where(where)
    with p.db.transaction(write=False) as conn:
        start = time.perf_counter()
        count, total = conn.execute(stmt).one()
        return time.perf_counter() - start, (int(count), int(total))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--url", default=None, help="database URL (default: SQLite in a temp dir)")
    args = parser.parse_args()

    tmp = tempfile.TemporaryDirectory()
    url = args.url or f"sqlite:///{tmp.name}/bench.db"
    clock = Clock("Asia/Shanghai")
    clock.set(NOW)
    p = Platform(url, clock=clock)
    p.meta.save("entity", "lead", LEAD_DEFINITION, user="bench")
    t0 = time.perf_counter()
    load(p, args.n)
    load_seconds = time.perf_counter() - t0

    table = p.entities.get("lead").table
    compiled = p.rules.compile(CONDITION, "lead").sql()
    today = clock.today() - dt.timedelta(days=364)
    start_of_window = dt.datetime(today.year, today.month, today.day, tzinfo=clock.timezone)
    manual = hand_written(table, start_of_window, p.db.dialect)

    best = {"compiled": float("inf"), "hand": float("inf")}
    answers: dict[str, tuple[int, int]] = {}
    for run in range(args.runs):
        order = [("compiled", compiled), ("hand", manual)]
        if run % 2:
            order.reverse()
        for name, where in order:
            seconds, answer = timed(p, table, where)
            best[name] = min(best[name], seconds)
            answers[name] = answer

    print(
        f"SQL filter bench, {dt.date.today()}, Python {sys.version.split()[0]}, "
        f"{p.db.dialect}, {args.n:,} leads (loaded in {load_seconds:.1f}s), best of {args.runs}"
    )
    print(f"condition: {CONDITION}")
    print(f"{'filter':<22}{'matches':>10}{'seconds':>10}{'vs hand-written':>18}")
    for name, label in (("compiled", "rule language"), ("hand", "hand-written SQL")):
        ratio = best[name] / best["hand"]
        print(f"{label:<22}{answers[name][0]:>10,}{best[name]:>10.3f}{ratio:>17.2f}x")
    same = answers["compiled"] == answers["hand"]
    print(f"same records selected: {'yes' if same else 'NO'}")
    p.close()
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
