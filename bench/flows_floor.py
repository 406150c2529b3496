"""What Tessera's own rows cost when written by hand: the floor of its storage layout.

``bench_flows.py`` compares Tessera with a hand-written state machine that keeps
one row per request. Tessera keeps what issue 5 asks for: an instance, its
tokens, its tasks (an inbox by assignee), an append-only history and the
instance's version. This script asks how much of the gap is the engine and
how much is those rows themselves: it starts the same instances with Tessera,
then completes their tasks with plain ``sqlite3`` statements that write
exactly the rows one of Tessera's steps writes (the task closed with its
version checked, the step's history events, the token moved or ended, the
next task, the instance's version bumped, the instance ended), on the same
database file with the same tables, indexes and settings. No Python engine
is around them: parameters are built inline, each statement is one driver
call. It is the least CPU any engine can spend on that layout.

In the same run, alternately, ``--rounds`` times: the hand-written limit of
``bench_flows.py`` (unchanged), the floor, and Tessera ``p.flows.complete``.
Printed: CPU milliseconds per completion (``time.process_time``), their
medians and ratios. Every run's outcomes are checked against the expected ones.

    python bench/flows_floor.py [--n 1000] [--rounds 3] [--events N] [--lean]

``--events`` sets how many history rows the floor writes per step (default:
as many as Tessera writes for that step). ``--lean`` adds a fourth run: one
history row per step, and no write of the instance while it keeps running
(the token's visit number guards the step): the least a layout with the
same tables, indexes and history could write.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_flows as b

from engine import Platform

NEXT = {"director": "manager"}  # an approval by the director goes on to the manager
ASSIGNEE = {"director": "dora", "manager": "bob"}


def started(n: int, tmp: str) -> tuple[str, dict[int, int]]:
    """A database where Tessera has started ``n`` approval instances (the bench's deals)."""
    path = f"{tmp}/floor.db"
    p = Platform(f"sqlite:///{path}")
    p.meta.save("entity", "deal", b.DEAL, user="bench")
    p.flows.publish(b.APPROVAL_FLOW, user="bench")
    index_of = b.start_deals(p, n)
    p.close()
    return path, index_of


def stamp() -> str:
    """A UTC time as Tessera stores it on SQLite."""
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def finish(conn: sqlite3.Connection, iid: int, version: int, outcome: str, at: str):
    """The instance ends with ``outcome``, its version checked and bumped."""
    return conn.execute(
        "UPDATE ts_flow_instance SET version = version + 1, status = 'completed', outcome = ?,"
        " ended_on = ? WHERE id = ? AND version = ?",
        (outcome, at, iid, version),
    )


def run_floor(n: int, tmp: str, events: int | None, lean: bool = False) -> b.Result:
    """Complete every task with hand-written statements writing Tessera's rows.

    ``lean``: one history row per step, and a step that leaves the instance running
    does not write the instance (the token's visit number guards it instead): the
    least a layout with the same tables could write.
    """
    path, index_of = started(n, tmp)
    res = b.Result("lean rows, hand-written" if lean else "Tessera's rows, hand-written (floor)")
    if lean:
        events = 1
    conn = b.sqlite_connect(path)
    ev = (
        "INSERT INTO ts_flow_event (instance_id, at, kind, node, token_id, actor, data, visit, via)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
    )
    c0 = time.process_time()
    t0 = time.perf_counter()
    while True:
        waiting = conn.execute(
            "SELECT id, instance_id, node, assignee FROM ts_flow_task"
            " WHERE assignee IS NOT NULL AND status = 'open' ORDER BY id"
        ).fetchall()
        if not waiting:
            break
        for task_id, iid, node, who in waiting:
            conn.execute("BEGIN IMMEDIATE")
            tok, version, visit, iver = conn.execute(
                "SELECT t.token_id, t.version, t.visit, i.version FROM ts_flow_task t"
                " JOIN ts_flow_instance i ON i.id = t.instance_id"
                " WHERE t.id = ? AND t.status = 'open' AND i.status = 'running'",
                (task_id,),
            ).fetchone()
            decision = b.decide(index_of[iid], node)
            at = stamp()
            closed = conn.execute(
                "UPDATE ts_flow_task SET status = 'completed', outcome = ?, completed_by = ?,"
                " completed_on = ?, version = version + 1 WHERE id = ? AND version = ?",
                (decision, who, at, task_id, version),
            )
            assert closed.rowcount == 1
            done = {"task": task_id, "outcome": decision, "comment": None}
            rows = [(iid, at, "task_completed", node, tok, who, json.dumps(done), visit, None)]
            nxt = NEXT.get(node) if decision == "approve" else None
            if nxt:  # the director's approval: the token moves on to the manager
                new_task = conn.execute(
                    "INSERT INTO ts_flow_task (instance_id, token_id, node, kind, assignee,"
                    " outcomes, status, created_on, version, visit)"
                    " VALUES (?, ?, ?, 'approval', ?, '[\"approve\",\"reject\"]', 'open', ?, 1, ?)",
                    (iid, tok, nxt, ASSIGNEE[nxt], at, visit + 1),
                ).lastrowid
                moved = conn.execute(
                    "UPDATE ts_flow_token SET node = ?, via = ?, visit = ? WHERE id = ? AND visit = ?",
                    (nxt, 3, visit + 1, tok, visit),
                )
                made = {"task": new_task, "assignee": ASSIGNEE[nxt], "role": None}
                rows += [
                    (iid, at, "left", node, tok, who, json.dumps({"to": [nxt]}), visit, None),
                    (iid, at, "entered", nxt, tok, who, None, visit + 1, 3),
                    (iid, at, "task_created", nxt, tok, who, json.dumps(made), visit + 1, None),
                    (iid, at, "waiting", nxt, tok, who, None, visit + 1, None),
                ]
                ended = (
                    moved  # lean: the token's visit guards the step, the instance is not written
                    if lean
                    else conn.execute(
                        "UPDATE ts_flow_instance SET version = version + 1"
                        " WHERE id = ? AND version = ?",
                        (iid, iver),
                    )
                )
            elif decision == "approve":  # the manager's approval: on to the end node
                end = json.dumps({"outcome": "approved"})
                conn.execute(
                    "UPDATE ts_flow_token SET node = 'end', via = 4, visit = ?, status = 'done',"
                    " ended_on = ? WHERE id = ?",
                    (visit + 1, at, tok),
                )
                rows += [
                    (iid, at, "left", node, tok, who, json.dumps({"to": ["end"]}), visit, None),
                    (iid, at, "entered", "end", tok, who, None, visit + 1, 4),
                    (iid, at, "finished", "end", tok, who, end, visit + 1, None),
                    (iid, at, "completed", None, None, who, end, 0, None),
                ]
                ended = finish(conn, iid, iver, "approved", at)
            else:  # a rejection has no edge: the instance ends rejected
                end = json.dumps({"outcome": "rejected"})
                conn.execute(
                    "UPDATE ts_flow_token SET status = 'done', ended_on = ? WHERE id = ?", (at, tok)
                )
                rows += [
                    (iid, at, "terminated", node, tok, who, end, visit, None),
                    (iid, at, "completed", None, None, who, end, 0, None),
                ]
                ended = finish(conn, iid, iver, "rejected", at)
            assert ended.rowcount == 1
            conn.executemany(ev, rows if events is None else rows[:events])
            conn.execute("COMMIT")
            res.completions += 1
    res.complete_seconds = time.perf_counter() - t0
    res.complete_cpu = time.process_time() - c0
    director = {
        r[0] for r in conn.execute("SELECT instance_id FROM ts_flow_task WHERE node = 'director'")
    }
    for iid, outcome in conn.execute("SELECT id, outcome FROM ts_flow_instance"):
        res.outcomes[index_of[iid]] = ("director" if iid in director else "manager", outcome)
    conn.close()
    return res


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000, help="approval instances per run")
    parser.add_argument("--rounds", type=int, default=3, help="runs of each, alternately")
    parser.add_argument("--events", type=int, default=None, help="history rows per step (floor)")
    parser.add_argument(
        "--lean",
        action="store_true",
        help="also the lean floor: one history row per step, no instance write while it runs",
    )
    args = parser.parse_args()
    want = b.expected(args.n)
    runs = {
        "hand-written sqlite3 (limit)": lambda tmp: b.run_hand(args.n, tmp),
        "Tessera's rows, hand-written (floor)": lambda tmp: run_floor(args.n, tmp, args.events),
        "Tessera p.flows.complete": lambda tmp: b.run_tessera(args.n, tmp, False),
    }
    if args.lean:
        runs["lean rows, hand-written"] = lambda tmp: run_floor(args.n, tmp, None, lean=True)
    cpu: dict[str, list[float]] = {name: [] for name in runs}
    wrong = 0
    for _ in range(args.rounds):
        for name, run in runs.items():
            res = run(tempfile.mkdtemp())
            wrong += sum(1 for i, o in want.items() if res.outcomes.get(i) != o)
            cpu[name].append(res.complete_cpu / res.completions * 1000)
    hand = statistics.median(cpu["hand-written sqlite3 (limit)"])
    print(f"flows floor, {args.n} instances, {args.rounds} rounds, CPU ms per completion")
    for name, values in cpu.items():
        med = statistics.median(values)
        each = " ".join(f"{v:.3f}" for v in values)
        print(f"{name:38s} {each}  median {med:.3f}  {med / hand:5.2f}x hand")
    floor = statistics.median(cpu["Tessera's rows, hand-written (floor)"])
    tessera = statistics.median(cpu["Tessera p.flows.complete"])
    print(f"Tessera / floor: {tessera / floor:.2f}x (the engine's own cost over its rows)")
    print(f"disagreements with the expected outcomes: {wrong}")
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main())
