"""In-process A/B of SQLite connection keeping on flow completions.

``Database.transaction`` on SQLite keeps the connection of a finished
transaction for the next one (``Database._take`` / ``_give_back``) instead of
a pool check-out and return each time. This runs the bench's approval workload
once and completes the tasks in alternating chunks, with connections kept (A)
and with the old check-out per transaction (B), so both halves see the same
machine load; it prints the median CPU ms per completion of each. It also
times an empty write transaction both ways against a raw ``BEGIN IMMEDIATE`` /
``COMMIT`` on a sqlite3 connection (alternating rounds, CPU µs each).

    python bench/flows_connections.py [--n 1200] [--chunk 50]
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import bench_flows as b

from engine import Platform
from engine.store.db import Database


def _checkout_take(self: Database, write: bool) -> tuple[Any, int]:
    """Before: a pool check-out per transaction."""
    return (self._write_engine if write else self.engine).connect(), self._generation


def _checkin(self: Database, conn: Any, generation: int) -> None:
    """Before: the connection goes back to the pool."""
    conn.close()


def empty_transactions(tmp: str, rounds: int = 6, each: int = 5000) -> dict[str, float]:
    """Median CPU µs of an empty write transaction: kept, checked out, raw sqlite3."""
    db = Database(f"sqlite:///{tmp}/empty.db")
    with db.transaction() as conn:
        conn.exec_driver_sql("CREATE TABLE t (a INTEGER)")
    raw = sqlite3.connect(f"{tmp}/empty.db", isolation_level=None)
    kept = (Database._take, Database._give_back)
    times: dict[str, list[float]] = {"kept connection": [], "pool check-out": [], "raw sqlite3": []}
    try:
        for _ in range(rounds):
            for name in times:
                Database._take, Database._give_back = (
                    kept if name != "pool check-out" else (_checkout_take, _checkin)
                )
                c0 = time.process_time()
                if name == "raw sqlite3":
                    for _ in range(each):
                        raw.execute("BEGIN IMMEDIATE")
                        raw.commit()
                else:
                    for _ in range(each):
                        with db.transaction():
                            pass
                times[name].append((time.process_time() - c0) / each * 1e6)
    finally:
        Database._take, Database._give_back = kept
        raw.close()
        db.dispose()
    return {name: statistics.median(values) for name, values in times.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1200, help="approval instances (one step each)")
    parser.add_argument("--chunk", type=int, default=50, help="completions per timed chunk")
    args = parser.parse_args()
    kept = (Database._take, Database._give_back)
    modes = {"kept connection": kept, "pool check-out": (_checkout_take, _checkin)}
    with tempfile.TemporaryDirectory() as tmp:
        p = Platform(f"sqlite:///{tmp}/tessera.db")
        p.meta.save("entity", "deal", b.DEAL, user="bench")
        p.flows.publish(b.APPROVAL_FLOW, user="bench")
        deals = p.records("deal")
        for i in range(args.n):
            rid = deals.create({"title": f"Deal {i}", "amount": 10})["id"]
            p.flows.start("bench_approval", record=("deal", rid), user="alice")
        tasks = p.flows.tasks(status="open")
        figures: dict[str, list[float]] = {name: [] for name in modes}
        try:
            for k in range(0, len(tasks), args.chunk):
                name = list(modes)[(k // args.chunk) % 2]
                Database._take, Database._give_back = modes[name]
                part = tasks[k : k + args.chunk]
                c0 = time.process_time()
                for task in part:
                    p.flows.complete(task["id"], "approve", user=task["assignee"])
                figures[name].append((time.process_time() - c0) / len(part) * 1000)
        finally:
            Database._take, Database._give_back = kept
            p.close()
        empty = empty_transactions(tmp)
    print(f"command: python bench/flows_connections.py --n {args.n} --chunk {args.chunk}")
    for name, us in empty.items():
        print(f"empty write transaction, {name:16} median {us:.1f} CPU µs")
    for name, values in figures.items():
        print(
            f"{name:16} median {statistics.median(values):.3f} CPU ms per completion "
            f"over {len(values)} chunks of {args.chunk}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
