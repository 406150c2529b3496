"""What SQLite's WAL checkpoint costs a flow completion, and whether a larger autocheckpoint helps.

Part 1 runs the Tessera side of ``bench_flows.py`` (same flow, deals and
decisions) with automatic checkpoints off, then times one checkpoint of
everything the completions wrote: its CPU and wall time per completion.
Part 2 plays the completions with ``wal_autocheckpoint`` at SQLite's default
(1,000 pages) and at each ``--pages`` value, alternately, and prints the CPU
milliseconds per completion of each (medians of ``--rounds``). Tessera's own
setting is not changed: the pragma is added per connection here.

    python bench/flows_checkpoint.py [--n 400] [--pages 4000,10000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import event

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_flows as b

from engine import Platform


def _platform(pages: int | None):
    """A ``Platform`` factory whose connections set ``wal_autocheckpoint`` (None: the default)."""

    def make(url: str, *args, **kwargs) -> Platform:
        p = Platform(url, *args, **kwargs)
        if pages is not None:

            @event.listens_for(p.db.engine, "connect")
            def _pragma(dbapi_conn, _record) -> None:
                dbapi_conn.execute(f"PRAGMA wal_autocheckpoint={int(pages)}")

            p.db.dispose()  # the kept connections too
        return p

    return make


def checkpoint_cost(n: int) -> None:
    p = _platform(0)(f"sqlite:///{tempfile.mkdtemp()}/t.db")
    p.meta.save("entity", "deal", b.DEAL, user="bench")
    p.flows.publish(b.APPROVAL_FLOW, user="bench")
    index_of = b.start_deals(p, n)
    with p.db.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    done = 0
    while tasks := p.flows.tasks(status="open"):
        for task in tasks:
            who = "director" if task["node"] == "director" else "manager"
            i = index_of[task["instance_id"]]
            p.flows.complete(task["id"], b.decide(i, who), user=task["assignee"])
            done += 1
    with p.db.engine.connect() as conn:
        w0, c0 = time.perf_counter(), time.process_time()
        (row,) = conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        wall, cpu = time.perf_counter() - w0, time.process_time() - c0
    p.close()
    print(f"{done} completions wrote {row[1]} WAL frames ({row[1] / done:.2f} each); "
          f"one checkpoint of all of them: {cpu * 1000:.1f} CPU ms, {wall * 1000:.1f} wall ms, "
          f"per completion {cpu / done * 1000:.4f} CPU ms, {wall / done * 1000:.4f} wall ms")  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=400, help="approval instances")
    parser.add_argument("--pages", default="4000,10000", help="autocheckpoint values to try")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    checkpoint_cost(args.n)
    settings = [None, *(int(x) for x in args.pages.split(","))]
    cpu: dict = {s: [] for s in settings}
    wall: dict = {s: [] for s in settings}
    real = b.Platform
    try:
        for _ in range(args.rounds):
            for pages in settings:
                b.Platform = _platform(pages)
                res = b.run_tessera(args.n, tempfile.mkdtemp(), False)
                cpu[pages].append(res.complete_cpu / res.completions * 1000)
                wall[pages].append(res.complete_seconds / res.completions * 1000)
    finally:
        b.Platform = real
    for pages in settings:
        name = "default (1000)" if pages is None else str(pages)
        print(f"wal_autocheckpoint {name:>15}: CPU ms per completion "
              f"{' '.join(f'{x:.3f}' for x in cpu[pages])} (median {statistics.median(cpu[pages]):.3f}), "
              f"wall median {statistics.median(wall[pages]):.3f}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
