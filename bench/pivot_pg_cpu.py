"""Server CPU time of the pivot bench's statement in PostgreSQL, per variant and setting.

On a machine shared with other work, wall-clock seconds of one statement
swing by 2x; the CPU time the server spends on it swings much less. This
reads it from ``/proc`` (so the server must run on this machine): the
backend's user + system time before and after, plus that of each parallel
worker (``parallel worker for PID <backend>``), sampled every 20 ms while the
statement runs (a worker's last 20 ms may be missed).

Run it on a database ``bench_pivot.py --keep NAME`` loaded::

    python bench/pivot_pg_cpu.py --url postgresql://postgres@127.0.0.1:54330/NAME --rounds 3

Variants (alternating order each round, psycopg's prepared statements off so
every setting is planned afresh):

- ``one-stage``: the statement Tessera ran before 2026-12-02 (GROUP BY the
  cast bucket);
- ``bare-key``: GROUP BY the bare ``date_trunc``, cast once per group (Tessera now);
- ``two-stage``: GROUP BY the raw date, then bucket the groups;
- ``no-bucket``: region and stage only, what the bucket costs;
- and the one-stage statement with ``jit = off``, with JIT's inlining and
  optimisation off, and with one parallel worker instead of two.
"""

from __future__ import annotations

import argparse
import os
import threading
import time
from pathlib import Path
from typing import Any

TICK = os.sysconf("SC_CLK_TCK")
Q = "date_trunc('quarter', CAST(close_date AS TIMESTAMP WITHOUT TIME ZONE))"
QI = Q.replace("close_date", "d")
ONE = (
    f"SELECT region, stage, CAST({Q} AS DATE), sum(amount), count(*) FROM t_opportunity "
    f"GROUP BY region, stage, CAST({Q} AS DATE)"
)
VARIANTS: dict[str, tuple[str, list[str]]] = {
    "one-stage": (ONE, []),
    "bare-key": (
        f"SELECT region, stage, CAST({Q} AS DATE), sum(amount), count(*) FROM t_opportunity "
        f"GROUP BY region, stage, {Q}",
        [],
    ),
    "two-stage": (
        f"SELECT region, stage, CAST({QI} AS DATE), sum(s), CAST(sum(c) AS BIGINT) FROM "
        "(SELECT close_date AS d, region, stage, sum(amount) AS s, count(*) AS c "
        "FROM t_opportunity GROUP BY close_date, region, stage) AS g "
        f"GROUP BY region, stage, {QI}",
        [],
    ),
    "no-bucket": (
        "SELECT region, stage, sum(amount), count(*) FROM t_opportunity GROUP BY region, stage",
        [],
    ),
    "one-stage jit off": (ONE, ["SET LOCAL jit = off"]),
    "one-stage jit no inline/opt": (
        ONE,
        ["SET LOCAL jit_inline_above_cost = -1", "SET LOCAL jit_optimize_above_cost = -1"],
    ),
    "one-stage 1 worker": (ONE, ["SET LOCAL max_parallel_workers_per_gather = 1"]),
}


def _cpu(pid: int) -> float | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / TICK


def _workers(backend: int) -> list[int]:
    mark = f"parallel worker for PID {backend}".encode()
    out = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                if mark in Path(f"/proc/{name}/cmdline").read_bytes():
                    out.append(int(name))
            except OSError:
                continue
    return out


def measure(conn: Any, sql: str, settings: list[str]) -> tuple[float, float, int]:
    """(wall seconds, server CPU seconds, rows) of one run of ``sql`` after ``settings``."""
    with conn.cursor() as cur:
        cur.execute("BEGIN")
        for statement in settings:
            cur.execute(statement)
        backend = cur.execute("SELECT pg_backend_pid()").fetchone()[0]
        seen: dict[int, float] = {}
        done = threading.Event()

        def poll() -> None:
            while not done.is_set():
                for pid in _workers(backend):
                    value = _cpu(pid)
                    if value is not None:
                        seen[pid] = value
                time.sleep(0.02)

        sampler = threading.Thread(target=poll)
        sampler.start()
        before, start = _cpu(backend) or 0.0, time.perf_counter()
        rows = cur.execute(sql).fetchall()
        wall, after = time.perf_counter() - start, _cpu(backend) or 0.0
        done.set()
        sampler.join()
        cur.execute("ROLLBACK")
    return wall, after - before + sum(seen.values()), len(rows)


def main() -> int:
    import psycopg

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="postgresql://... of a --keep database")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("variants", nargs="*", help=f"default: all of {list(VARIANTS)}")
    args = parser.parse_args()
    names = args.variants or list(VARIANTS)
    conn = psycopg.connect(args.url, autocommit=True, prepare_threshold=None)
    cpu: dict[str, list[float]] = {name: [] for name in names}
    for n in range(args.rounds):
        for name in names if n % 2 == 0 else names[::-1]:
            sql, settings = VARIANTS[name]
            wall, seconds, rows = measure(conn, sql, settings)
            cpu[name].append(seconds)
            print(
                f"{name:<30} rows {rows:>4}  wall {wall:6.2f}  server cpu {seconds:6.2f}  "
                f"load {os.getloadavg()[0]:.1f}",
                flush=True,
            )
    conn.close()
    print(f"{'variant':<30}{'min cpu s':>10}  every round")
    for name, values in cpu.items():
        print(f"{name:<30}{min(values):>10.2f}  {', '.join(f'{v:.2f}' for v in values)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
