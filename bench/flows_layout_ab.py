"""CPU per completion under the previous flow indexes and the current ones, alternately.

Runs the Tessera side of ``bench_flows.py`` (the same flow, deals and
decisions) on two SQLite files in one process: one keeps the indexes this
version declares, the other is given back the token and inbox indexes of the
version before (``ix_flow_token_instance`` and ``ix_flow_task_*_open`` with
the status in the key). Completions run in chunks of 50, one chunk on each in
turn, so both see the same load; the medians of the chunks' CPU time
(``time.process_time``) per completion are printed with their ratio.

    python bench/flows_layout_ab.py [--n 600]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_flows as b

from engine import Platform
from engine.flows.tables import flow_tasks, flow_tokens

#: the token and task indexes of the version before the open-task indexes
PREVIOUS = (
    "CREATE INDEX ix_flow_token_instance ON ts_flow_token (instance_id, status)",
    "CREATE INDEX ix_flow_task_assignee_open ON ts_flow_task (assignee, status) "
    "WHERE assignee IS NOT NULL",
    "CREATE INDEX ix_flow_task_role_open ON ts_flow_task (role, status) WHERE role IS NOT NULL",
    "CREATE INDEX ix_flow_task_step ON ts_flow_task (instance_id, token_id, status)",
)
CHUNK = 50


def _platform(path: str, n: int, previous: bool) -> tuple[Platform, dict[int, int]]:
    p = Platform(f"sqlite:///{path}")
    p.meta.save("entity", "deal", b.DEAL, user="bench")
    p.flows.publish(b.APPROVAL_FLOW, user="bench")  # opens p.flows: its indexes are made
    if previous:  # after the flow service's migration, which would undo it
        with p.db.transaction() as conn:
            for table in (flow_tokens, flow_tasks):
                for index in table.indexes:
                    conn.execute(text(f"DROP INDEX {index.name}"))
            for ddl in PREVIOUS:
                conn.execute(text(ddl))
    index_of = b.start_deals(p, n)
    return p, index_of


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=600, help="approval instances on each side")
    args = parser.parse_args()
    tmp = tempfile.mkdtemp()
    sides = {
        name: _platform(f"{tmp}/{name}.db", args.n, name == "previous")
        for name in ("previous", "current")
    }
    queues = {name: [] for name in sides}
    chunks: dict[str, list[float]] = {name: [] for name in sides}
    busy = True
    while busy:
        busy = False
        for name, (p, index_of) in sides.items():
            if not queues[name]:
                queues[name] = p.flows.tasks(status="open")
            batch, queues[name] = queues[name][:CHUNK], queues[name][CHUNK:]
            if not batch:
                continue
            busy = True
            c0 = time.process_time()
            for task in batch:
                who = "director" if task["node"] == "director" else "manager"
                p.flows.complete(
                    task["id"], b.decide(index_of[task["instance_id"]], who), user=task["assignee"]
                )
            if len(batch) == CHUNK:
                chunks[name].append((time.process_time() - c0) / CHUNK * 1000)
    for p, _ in sides.values():
        p.close()
    medians = {name: statistics.median(values) for name, values in chunks.items()}
    for name, values in chunks.items():
        print(f"{name:<9} CPU ms per completion, median of {len(values)} chunks of {CHUNK}: "
              f"{medians[name]:.3f} (min {min(values):.3f})")  # fmt: skip
    print(f"current / previous: {medians['current'] / medians['previous']:.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
