"""What SQLite writes per flow completion: WAL frames (pages) per commit, by table or index.

Runs the Tessera side of ``bench_flows.py`` (the same flow, deals and
decisions) on a SQLite file with automatic checkpoints off, so the WAL keeps
every frame the completions wrote; then reads the frame headers (the page
number of each, the commit marker) and names each page's B-tree with the
``dbstat`` table. Also prints the CPU time per completion: the minimum and
median over chunks of 50, steadier than the whole on a shared machine.

    python bench/flows_pages.py [--n 400]
"""

from __future__ import annotations

import argparse
import collections
import sqlite3
import struct
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import event

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_flows as b

from engine import Platform

FRAME_HEADER = 24
PAGE = 4096


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=400, help="approval instances")
    args = parser.parse_args()
    tmp = tempfile.mkdtemp()
    p = Platform(f"sqlite:///{tmp}/t.db")

    @event.listens_for(p.db.engine, "connect")
    def _no_checkpoints(dbapi_conn, _record) -> None:
        dbapi_conn.execute("PRAGMA wal_autocheckpoint=0")

    p.db.dispose()  # the kept connections too: every connection gets the pragma
    p.meta.save("entity", "deal", b.DEAL, user="bench")
    p.flows.publish(b.APPROVAL_FLOW, user="bench")
    index_of = b.start_deals(p, args.n)
    with p.db.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")

    done, chunk, chunks = 0, [], []
    while True:
        tasks = p.flows.tasks(status="open")
        if not tasks:
            break
        for task in tasks:
            who = "director" if task["node"] == "director" else "manager"
            c0 = time.process_time()
            p.flows.complete(
                task["id"], b.decide(index_of[task["instance_id"]], who), user=task["assignee"]
            )
            chunk.append(time.process_time() - c0)
            if len(chunk) == 50:
                chunks.append(sum(chunk) / 50)
                chunk.clear()
            done += 1
    chunks.sort()

    raw = Path(f"{tmp}/t.db-wal").read_bytes()
    with sqlite3.connect(f"{tmp}/t.db") as db:
        tree_of = dict((page, name) for name, page in db.execute("SELECT name, pageno FROM dbstat"))
    per: collections.Counter[str] = collections.Counter()
    commits, pages, offset = 0, set(), 32
    while offset + FRAME_HEADER <= len(raw):
        page, size_after_commit = struct.unpack(">II", raw[offset : offset + 8])
        pages.add(page)
        if size_after_commit:
            commits += 1
            for q in pages:
                per[tree_of.get(q, "?")] += 1
            pages = set()
        offset += FRAME_HEADER + PAGE
    frames = (len(raw) - 32) / (FRAME_HEADER + PAGE)
    p.close()
    print(f"{done} completions in {commits} commits: {frames / done:.2f} WAL frames per completion")
    print(f"CPU ms per completion over chunks of 50: min {chunks[0] * 1000:.3f}, "
          f"median {chunks[len(chunks) // 2] * 1000:.3f}")  # fmt: skip
    for name, count in per.most_common():
        print(f"  {name:<32}{count / commits:6.2f} pages per commit")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
