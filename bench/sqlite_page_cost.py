"""What one dirty page costs at COMMIT in SQLite (WAL, ``synchronous=NORMAL``), in CPU µs.

A flow completion's COMMIT writes every page the step dirtied to the WAL; to
know what cutting one page saves, this times commits that dirty 1, 2, 4, 8
and 16 pages (one row updated on each of that many distinct leaf pages of a
table of 4 KiB pages), interleaved in rounds, and fits CPU time per commit
against the page count: the slope is the cost of a page, the intercept the
commit's fixed cost. CPU time (``time.process_time``), not the wall clock.

    python bench/sqlite_page_cost.py [--commits 2000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import tempfile
import time

ROWS_PER_PAGE = 16  # rows of ~230 bytes: about 16 to a 4 KiB leaf
COUNTS = (1, 2, 4, 8, 16)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--commits", type=int, default=2000, help="commits per page count and round"
    )
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    tmp = tempfile.mkdtemp()
    db = sqlite3.connect(f"{tmp}/p.db", isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER, pad TEXT)")
    total = ROWS_PER_PAGE * 4000
    db.executemany("INSERT INTO t VALUES (?, 0, ?)", ((i, "x" * 220) for i in range(total)))
    rowids = [i * ROWS_PER_PAGE for i in range(4000)]  # one row on each of many pages
    per: dict[int, list[float]] = {k: [] for k in COUNTS}
    spot = 0
    for _ in range(args.rounds):
        for count in COUNTS:
            spent = 0.0
            for _ in range(args.commits):
                db.execute("BEGIN IMMEDIATE")
                for _ in range(count):
                    db.execute("UPDATE t SET n = n + 1 WHERE id = ?", (rowids[spot],))
                    spot = (spot + 37) % len(rowids)
                c0 = time.process_time()
                db.execute("COMMIT")
                spent += time.process_time() - c0
            per[count].append(spent / args.commits * 1e6)
    medians = {k: statistics.median(v) for k, v in per.items()}
    slope, intercept = statistics.linear_regression(list(medians), list(medians.values()))
    for k, m in medians.items():
        print(f"{k:3d} dirty pages: COMMIT {m:7.2f} CPU µs (median of {args.rounds} rounds)")
    print(f"per page {slope:.2f} CPU µs; fixed part of a COMMIT {intercept:.2f} CPU µs")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
