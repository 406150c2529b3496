"""How fast is bulk insertion? ``create_many`` against raw inserts into the same table.

Run: ``python bench/bench_insert.py [--n 100000] [--batch 5000] [--steps] [--ids]``.

Three ways to put the same leads into the same SQLite table, in one run:

- ``create_many``: what the platform does for an import: validate every
  record, fill defaults, allocate ids, insert, write one audit row per record,
  all in one transaction per batch;
- raw ``sqlite3`` ``executemany`` in one transaction (the limit: no checks,
  no audit);
- SQLAlchemy Core ``executemany`` in one transaction;
- with ``--ids``, also ``create_many(..., returning="ids")``, the importer's
  call: the same work, without the returned dicts (an extra line; the three
  above are unchanged).

Each runs on a fresh database file. The ratios are against raw sqlite3.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sqlite3
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, insert

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from leads import LEAD_DEFINITION, generate_leads

from engine import Platform

_timer = time.perf_counter


def fresh_platform(folder: Path, name: str) -> Platform:
    p = Platform(f"sqlite:///{folder / name}")
    p.meta.save("entity", "lead", LEAD_DEFINITION)
    return p


def db_value(value: Any) -> Any:
    """What the raw drivers get: the values sqlite3 stores for our column types."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list):
        return str(value)
    return value


def run_create_many(
    folder: Path,
    leads: list[dict[str, Any]],
    batch: int,
    profile: Any = None,
    returning: str = "records",
) -> float:
    p = fresh_platform(folder, "platform.db")
    p.users.add("bench", roles=["admin"])
    service = p.records("lead", user="bench")
    if profile is not None:
        profile.enable()
    start = _timer()
    for i in range(0, len(leads), batch):
        service.create_many(leads[i : i + batch], returning=returning)  # type: ignore[call-overload]
    elapsed = _timer() - start
    if profile is not None:
        profile.disable()
    assert service.count() == len(leads)
    p.close()
    return elapsed


def run_steps(folder: Path, leads: list[dict[str, Any]], batch: int) -> dict[str, float]:
    """CPU seconds of create_many's steps, measured in place on one more run.

    Only batch-level calls are wrapped (the lead INSERT, the audit write and
    the driver calls inside them), so the timers add a few calls per batch
    and nothing per record; the rest of create_many is what remains of the
    whole, split into its batch-level parts (the prepare pass, the system
    fields, the returned dicts, the driver's COMMIT) and what is left of it
    (ids, hooks, events, the transaction, the bench's loop).
    """
    from sqlalchemy.dialects.sqlite.base import SQLiteDialect
    from sqlalchemy.engine import Connection

    from engine.store import audit, records

    spent: dict[str, float] = {"driver: lead INSERT": 0.0, "driver: audit INSERT": 0.0}

    def timed(name: str, fn: Any) -> Any:
        def call(*args: Any, **kwargs: Any) -> Any:
            start = time.process_time()
            try:
                return fn(*args, **kwargs)
            finally:
                spent[name] = spent.get(name, 0.0) + time.process_time() - start

        return call

    def driver(conn: Connection, sql: str, *args: Any, **kwargs: Any) -> Any:
        if sql.startswith("INSERT INTO ts_audit "):
            name = "driver: audit INSERT"
        elif sql.startswith("INSERT INTO t_lead "):
            name = "driver: lead INSERT"
        else:
            return exec_driver_sql(conn, sql, *args, **kwargs)
        start = time.process_time()
        try:
            return exec_driver_sql(conn, sql, *args, **kwargs)
        finally:
            spent[name] += time.process_time() - start

    exec_driver_sql = Connection.exec_driver_sql
    insert_records, write_created = records.insert_records, audit.write_created
    records.insert_records = timed("lead INSERT (parameters + driver)", insert_records)
    audit.write_created = timed("audit (JSON text + parameters + driver)", write_created)
    Connection.exec_driver_sql = driver  # type: ignore[method-assign]
    # The parts of the rest, each one call per batch: the prepare pass, the system fields,
    # the returned dicts and the driver's COMMIT.
    service = records.RecordService
    parts = {
        "_prepared_rows": "  prepare (checks, defaults, Python form)",
        "_with_system_fields": "  system fields (id, owner, team, times)",
        "_returned": "  returned dicts",
    }
    kept = {name: getattr(service, name) for name in parts}
    for name, label in parts.items():
        setattr(service, name, timed(label, kept[name]))
    do_commit = SQLiteDialect.do_commit
    SQLiteDialect.do_commit = timed("  COMMIT (the driver's)", do_commit)  # type: ignore[method-assign]
    try:
        whole = run_create_many(folder, leads, batch)
    finally:
        records.insert_records, audit.write_created = insert_records, write_created
        Connection.exec_driver_sql = exec_driver_sql  # type: ignore[method-assign]
        for name, fn in kept.items():
            setattr(service, name, fn)
        SQLiteDialect.do_commit = do_commit  # type: ignore[method-assign]
    lead = spent["lead INSERT (parameters + driver)"]
    audit_write = spent["audit (JSON text + parameters + driver)"]
    rest = whole - lead - audit_write
    split = {label: spent.get(label, 0.0) for label in (*parts.values(), "  COMMIT (the driver's)")}
    return {
        "create_many, whole": whole,
        "lead INSERT (parameters + driver)": lead,
        "  the driver's executemany": spent["driver: lead INSERT"],
        "audit (JSON text + parameters + driver)": audit_write,
        "  the driver's executemany ": spent["driver: audit INSERT"],
        "the rest (prepare, records, returned dicts, commit)": rest,
        **split,
        "  other (ids, hooks, events, transaction, loop)": rest - sum(split.values()),
    }


def table_rows(
    p: Platform, leads: list[dict[str, Any]], *, raw: bool
) -> tuple[Any, list[dict[str, Any]]]:
    """Rows for the lead table: driver values for raw sqlite3, Python values for Core."""
    live = p.entities.get("lead")
    convert = db_value if raw else (lambda v: v)
    now = convert(dt.datetime.now(dt.UTC))
    rows = []
    for i, lead in enumerate(leads, start=1):
        row = {c.name: None for c in live.table.columns}
        row.update(id=i, created_on=now, modified_on=now, version=1, owner="bench")
        for f in live.model.stored_fields():
            if f.key in lead:
                row[f.column] = convert(lead[f.key])
        rows.append(row)
    return live.table, rows


def run_sqlite3(folder: Path, leads: list[dict[str, Any]]) -> float:
    p = fresh_platform(folder, "raw.db")
    table, rows = table_rows(p, leads, raw=True)
    p.close()
    cols = list(rows[0])
    sql = f"INSERT INTO {table.name} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"
    values = [tuple(r[c] for c in cols) for r in rows]
    conn = sqlite3.connect(folder / "raw.db", isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    start = _timer()
    conn.execute("BEGIN")
    conn.executemany(sql, values)
    conn.execute("COMMIT")
    elapsed = _timer() - start
    conn.close()
    return elapsed


def run_core(folder: Path, leads: list[dict[str, Any]]) -> float:
    p = fresh_platform(folder, "core.db")
    table, rows = table_rows(p, leads, raw=False)
    p.close()
    engine = create_engine(f"sqlite:///{folder / 'core.db'}")
    start = _timer()
    with engine.begin() as conn:
        conn.exec_driver_sql("PRAGMA synchronous=NORMAL")
        conn.execute(insert(table), rows)
    elapsed = _timer() - start
    engine.dispose()
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=5_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--clock",
        choices=("wall", "cpu"),
        default="wall",
        help="cpu: this process's CPU time, steadier when other jobs share the machine",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="also profile create_many (cProfile, once, after the timed runs) and print the top",
    )
    parser.add_argument(
        "--steps",
        action="store_true",
        help="also time create_many's steps in place (CPU, one more run after the timed ones)",
    )
    parser.add_argument(
        "--ids",
        action="store_true",
        help="also time create_many(..., returning='ids'), an import's call (an extra line)",
    )
    parser.add_argument(
        "--audit-rows",
        choices=("batch", "per-record"),
        default="batch",
        help="per-record: create_many's creation entries one audit row each (before session 10)",
    )
    args = parser.parse_args()
    from engine.store import audit

    audit.BATCH_ROWS = args.audit_rows == "batch"
    global _timer
    _timer = time.process_time if args.clock == "cpu" else time.perf_counter
    leads = generate_leads(args.n, seed=1)
    results: dict[str, float] = {}
    for _ in range(args.repeat):
        for name, run in (
            ("raw sqlite3 executemany", lambda d: run_sqlite3(d, leads)),
            ("SQLAlchemy Core executemany", lambda d: run_core(d, leads)),
            (
                "create_many (validate+insert+audit)",
                lambda d: run_create_many(d, leads, args.batch),
            ),
            *(
                [
                    (
                        "create_many, returning ids",
                        lambda d: run_create_many(d, leads, args.batch, returning="ids"),
                    )
                ]
                if args.ids
                else []
            ),
        ):
            with tempfile.TemporaryDirectory() as folder:
                seconds = run(Path(folder))
            results[name] = min(results.get(name, seconds), seconds)
    limit = results["raw sqlite3 executemany"]
    print(
        f"insert bench, {dt.date.today()}, Python {sys.version.split()[0]}, "
        f"{args.n} leads, SQLite file, best of {args.repeat}, {args.clock} clock"
    )
    print(f"{'method':<38}{'seconds':>9}{'records/s':>12}{'vs sqlite3':>12}")
    for name, seconds in results.items():
        print(f"{name:<38}{seconds:>9.2f}{args.n / seconds:>12,.0f}{limit / seconds:>11.2f}x")
    if args.steps:
        with tempfile.TemporaryDirectory() as folder:
            steps = run_steps(Path(folder), leads, args.batch)
        print(
            f"create_many steps, in place, one run, CPU µs per record (raw sqlite3: "
            f"{limit / args.n * 1e6:.1f})"
        )
        for name, seconds in steps.items():
            print(f"  {name:<52}{seconds / args.n * 1e6:>7.1f}")
    if args.profile:
        import cProfile
        import pstats

        profile = cProfile.Profile()
        with tempfile.TemporaryDirectory() as folder:
            run_create_many(Path(folder), leads, args.batch, profile)
        pstats.Stats(profile).sort_stats("cumulative").print_stats(30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
