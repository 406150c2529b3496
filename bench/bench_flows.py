"""How fast does the flow engine complete approvals, next to a hand-written state machine and SpiffWorkflow?

One run times, on SQLite files in a temporary directory:

1. Tessera: the approval workload as a published flow (an exclusive gateway on
   ``amount > 500000`` sends a deal to the director, then the manager; other
   deals go to the manager only). ``--n`` instances are started, then their
   tasks are completed round by round, each with ``p.flows.complete`` (one
   persisted step: a transaction that reads the task and instance, moves the
   tokens, writes tasks, tokens, events and the instance's version).
2. A hand-written state machine: one row per instance (state, amount,
   outcome); a completion reads the row, decides the next state and writes
   it, in one ``BEGIN IMMEDIATE`` transaction. The limit.
3. SpiffWorkflow: the same process as BPMN XML (below), the workflow
   serialized to JSON and stored in a row after every step and deserialized
   before the next, as an application that survives a restart must.

Outcomes are decided by the instance's number (``decide``): the director
rejects every 7th, the manager every 5th. Every engine must end each instance
on the same path (director or manager only) with the same outcome (approved or
rejected) as the expected answer; the script prints the counts and exits
non-zero on any disagreement.

4. A 200-approver countersign (``mode: all``): one instance, 200 tasks, each
   completion timed; the medians of the first, middle and last 20 must stay
   flat (O(1) per step; medians since 2026-12-02, means before). A first instance of the same flow runs untimed before
   it, so one-time costs (statements compiled on first use) do not land on the
   first 20 steps (since 2026-12-02; before, a fast machine showed the first
   steps slower than the rest and "failed" flatness without any growth).
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import platform as host
import pstats
import sqlite3
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from sqlalchemy import select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine import Platform
from engine.flows.tables import flow_instances, flow_tasks

LIMIT = 500_000

DEAL = {
    "name": "deal",
    "label": {"en": "Deal", "zh-CN": "商机"},
    "schema": {
        "type": "object",
        "required": ["title"],
        "properties": {
            "title": {"type": "string", "maxLength": 100},
            "amount": {"type": "number"},
        },
    },
}

#: start → check → (director → manager | manager) → end; a rejection ends the instance "rejected".
APPROVAL_FLOW = {
    "name": "bench_approval",
    "label": "Bench approval",
    "entity": "deal",
    "nodes": {
        "start": {"type": "start"},
        "check": {"type": "exclusive"},
        "director": {"type": "approval", "config": {"approvers": {"user": "dora"}}},
        "manager": {"type": "approval", "config": {"approvers": {"user": "bob"}}},
        "end": {"type": "end", "config": {"outcome": "approved"}},
    },
    "edges": [
        ["start", "check"],
        {"from": "check", "to": "director", "when": f"amount > {LIMIT}"},
        {"from": "check", "to": "manager", "default": True},
        ["director", "manager"],
        ["manager", "end"],
    ],
}

COUNTERSIGNERS = [f"signer{i:03d}" for i in range(200)]

COUNTERSIGN_FLOW = {
    "name": "bench_countersign",
    "label": "Bench countersign",
    "entity": "deal",
    "nodes": {
        "start": {"type": "start"},
        "sign": {
            "type": "approval",
            "config": {"approvers": {"users": COUNTERSIGNERS}, "mode": "all"},
        },
        "end": {"type": "end", "config": {"outcome": "approved"}},
    },
    "edges": [["start", "sign"], ["sign", "end"]],
}

# The same process in BPMN 2.0, written for this bench. Each user task is followed
# by a gateway on the decision the approver left in the task data.
BPMN = f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
    id="bench_defs" targetNamespace="http://tessera.example/bench">
  <bpmn:process id="bench_approval" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f_start</bpmn:outgoing></bpmn:startEvent>
    <bpmn:exclusiveGateway id="check" default="f_small">
      <bpmn:incoming>f_start</bpmn:incoming>
      <bpmn:outgoing>f_big</bpmn:outgoing><bpmn:outgoing>f_small</bpmn:outgoing>
    </bpmn:exclusiveGateway>
    <bpmn:userTask id="director">
      <bpmn:incoming>f_big</bpmn:incoming><bpmn:outgoing>f_dir_done</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:exclusiveGateway id="director_said" default="f_dir_ok">
      <bpmn:incoming>f_dir_done</bpmn:incoming>
      <bpmn:outgoing>f_dir_ok</bpmn:outgoing><bpmn:outgoing>f_dir_no</bpmn:outgoing>
    </bpmn:exclusiveGateway>
    <bpmn:userTask id="manager">
      <bpmn:incoming>f_small</bpmn:incoming><bpmn:incoming>f_dir_ok</bpmn:incoming>
      <bpmn:outgoing>f_man_done</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:exclusiveGateway id="manager_said" default="f_man_ok">
      <bpmn:incoming>f_man_done</bpmn:incoming>
      <bpmn:outgoing>f_man_ok</bpmn:outgoing><bpmn:outgoing>f_man_no</bpmn:outgoing>
    </bpmn:exclusiveGateway>
    <bpmn:endEvent id="approved"><bpmn:incoming>f_man_ok</bpmn:incoming></bpmn:endEvent>
    <bpmn:endEvent id="rejected">
      <bpmn:incoming>f_dir_no</bpmn:incoming><bpmn:incoming>f_man_no</bpmn:incoming>
    </bpmn:endEvent>
    <bpmn:sequenceFlow id="f_start" sourceRef="start" targetRef="check"/>
    <bpmn:sequenceFlow id="f_big" sourceRef="check" targetRef="director">
      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">amount &gt; {LIMIT}</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f_small" sourceRef="check" targetRef="manager"/>
    <bpmn:sequenceFlow id="f_dir_done" sourceRef="director" targetRef="director_said"/>
    <bpmn:sequenceFlow id="f_dir_ok" sourceRef="director_said" targetRef="manager"/>
    <bpmn:sequenceFlow id="f_dir_no" sourceRef="director_said" targetRef="rejected">
      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">decision == "reject"</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f_man_done" sourceRef="manager" targetRef="manager_said"/>
    <bpmn:sequenceFlow id="f_man_ok" sourceRef="manager_said" targetRef="approved"/>
    <bpmn:sequenceFlow id="f_man_no" sourceRef="manager_said" targetRef="rejected">
      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">decision == "reject"</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
  </bpmn:process>
</bpmn:definitions>
"""


# -- the workload ------------------------------------------------------------------


def amount_of(i: int) -> int:
    """Every third deal is large (the director path)."""
    return 900_000 if i % 3 == 0 else 12_000 + i % 1000


def decide(i: int, approver: str) -> str:
    """The director rejects every 7th instance, the manager every 5th."""
    if approver == "director":
        return "reject" if i % 7 == 6 else "approve"
    return "reject" if i % 5 == 4 else "approve"


def start_deals(p: Platform, n: int) -> dict[int, int]:
    """``n`` of the bench's deals, each with its approval started: instance id → deal number.

    ``p`` has the deal entity and ``APPROVAL_FLOW`` already (the side scripts' setup).
    """
    deals = p.records("deal")
    index_of = {}
    for i in range(n):
        rid = deals.create({"title": f"Deal {i}", "amount": amount_of(i)})["id"]
        index_of[p.flows.start("bench_approval", record=("deal", rid), user="alice")["id"]] = i
    return index_of


def expected(n: int) -> dict[int, tuple[str, str]]:
    out = {}
    for i in range(n):
        path = "director" if amount_of(i) > LIMIT else "manager"
        if path == "director" and decide(i, "director") == "reject":
            out[i] = (path, "rejected")
        else:
            out[i] = (path, "approved" if decide(i, "manager") == "approve" else "rejected")
    return out


class Result:
    def __init__(self, name: str) -> None:
        self.name = name
        self.start_seconds = 0.0
        self.complete_seconds = 0.0
        #: CPU seconds of this process over the completions (user + system): on a
        #: shared machine a steadier figure than the wall clock
        self.complete_cpu = 0.0
        self.completions = 0
        self.outcomes: dict[int, tuple[str, str]] = {}
        #: statements (one per execute or executemany) and transactions over the completions
        self.statements = 0
        self.transactions = 0


class SqlCount:
    """Counts what the completions send to the database: statements and transactions.

    A statement is one execute or executemany call, through SQLAlchemy (its
    ``before_cursor_execute`` event, ``BEGIN`` / ``COMMIT`` left out) or through
    the flow engine's fixed statements on the DBAPI cursor
    (``engine.flows.fastsql.COUNTER``); a transaction is one outermost
    ``Database.transaction`` (a transaction joined by a nested call is not a new one).
    """

    def __init__(self, db) -> None:
        from sqlalchemy import event

        engine = db.engine
        self.sql = 0
        self.begins = 0

        @event.listens_for(engine, "before_cursor_execute")
        def _sql(conn, cursor, statement, params, context, executemany) -> None:
            if not statement.lstrip().upper().startswith(("BEGIN", "COMMIT")):
                self.sql += 1

        # SQLite transactions begin on the driver, where SQLAlchemy's ``begin`` event
        # does not see them. Since they reuse their connection (``Database._take``, one
        # call per outermost transaction) they are counted there; an engine from before
        # that checked out one connection per outermost transaction.
        take = getattr(db, "_take", None)
        if take is not None:

            def _counted_take(write: bool):
                self.begins += 1
                return take(write)

            db._take = _counted_take
        else:

            @event.listens_for(engine, "checkout")
            def _begin(dbapi_conn, record, proxy) -> None:
                self.begins += 1

    def now(self) -> tuple[int, int]:
        try:
            from engine.flows.fastsql import COUNTER as FIXED
        except ImportError:  # an engine from before fastsql (to measure a baseline)
            FIXED = {"statements": 0}
        return self.sql + FIXED["statements"], self.begins


def sqlite_connect(path: str) -> sqlite3.Connection:
    """The settings Tessera uses on SQLite: WAL, synchronous NORMAL, explicit BEGIN."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    return conn


# -- 1. Tessera --------------------------------------------------------------------


def run_tessera(n: int, tmp: str, profile: bool) -> Result:
    res = Result("Tessera p.flows.complete")
    p = Platform(f"sqlite:///{tmp}/tessera.db")
    p.meta.save("entity", "deal", DEAL, user="bench")
    p.flows.publish(APPROVAL_FLOW, user="bench")
    deals = p.records("deal")
    record_ids = [
        deals.create({"title": f"Deal {i}", "amount": amount_of(i)})["id"] for i in range(n)
    ]

    index_of: dict[int, int] = {}
    t0 = time.perf_counter()
    for i, rid in enumerate(record_ids):
        inst = p.flows.start("bench_approval", record=("deal", rid), user="alice")
        index_of[inst["id"]] = i
    res.start_seconds = time.perf_counter() - t0

    prof = cProfile.Profile() if profile else None
    counter = SqlCount(p.db)
    t0 = time.perf_counter()
    c0 = time.process_time()
    if prof:
        prof.enable()
    while True:
        # An inbox: read the open tasks, then complete them one by one.
        open_tasks = p.flows.tasks(status="open")
        if not open_tasks:
            break
        for task in open_tasks:
            who = "director" if task["node"] == "director" else "manager"
            i = index_of[task["instance_id"]]
            sql, begins = counter.now()
            p.flows.complete(task["id"], decide(i, who), user=task["assignee"])
            sql2, begins2 = counter.now()
            res.statements += sql2 - sql
            res.transactions += begins2 - begins
            res.completions += 1
    if prof:
        prof.disable()
    res.complete_seconds = time.perf_counter() - t0
    res.complete_cpu = time.process_time() - c0

    with p.db.transaction(write=False) as conn:
        director = {
            r.instance_id
            for r in conn.execute(
                select(flow_tasks.c.instance_id).where(flow_tasks.c.node == "director")
            )
        }
        for r in conn.execute(select(flow_instances.c.id, flow_instances.c.status,
                                     flow_instances.c.outcome)):  # fmt: skip
            if r.id not in index_of:
                continue
            outcome = r.outcome if r.status == "completed" else f"status {r.status}"
            path = "director" if r.id in director else "manager"
            res.outcomes[index_of[r.id]] = (path, outcome)
    p.close()
    if prof:
        print("\ncProfile of the Tessera completions (top 25 by cumulative time):")
        pstats.Stats(prof).sort_stats("cumulative").print_stats(25)
        pstats.Stats(prof).sort_stats("tottime").print_stats(20)
    return res


# -- 2. hand-written state machine (the limit) -------------------------------------


def run_hand(n: int, tmp: str) -> Result:
    res = Result("hand-written sqlite3 (limit)")
    conn = sqlite_connect(f"{tmp}/hand.db")
    conn.execute(
        "CREATE TABLE request (id INTEGER PRIMARY KEY, amount REAL NOT NULL, "
        "state TEXT NOT NULL, path TEXT, outcome TEXT)"
    )
    t0 = time.perf_counter()
    for i in range(n):
        amount = amount_of(i)
        conn.execute("BEGIN IMMEDIATE")
        state = "director" if amount > LIMIT else "manager"
        conn.execute(
            "INSERT INTO request (id, amount, state, path) VALUES (?, ?, ?, ?)",
            (i + 1, amount, state, state),
        )
        conn.execute("COMMIT")
    res.start_seconds = time.perf_counter() - t0

    t0 = time.perf_counter()
    c0 = time.process_time()
    while True:
        waiting = conn.execute(
            "SELECT id FROM request WHERE state IN ('director', 'manager') ORDER BY id"
        ).fetchall()
        if not waiting:
            break
        for (rid,) in waiting:
            conn.execute("BEGIN IMMEDIATE")
            (state,) = conn.execute("SELECT state FROM request WHERE id = ?", (rid,)).fetchone()
            decision = decide(rid - 1, state)
            if decision == "reject":
                new, outcome = "done", "rejected"
            elif state == "director":
                new, outcome = "manager", None
            else:
                new, outcome = "done", "approved"
            conn.execute(
                "UPDATE request SET state = ?, outcome = ? WHERE id = ? AND state = ?",
                (new, outcome, rid, state),
            )
            conn.execute("COMMIT")
            res.completions += 1
    res.complete_seconds = time.perf_counter() - t0
    res.complete_cpu = time.process_time() - c0
    for rid, path, outcome in conn.execute("SELECT id, path, outcome FROM request"):
        res.outcomes[rid - 1] = (path, outcome)
    conn.close()
    return res


# -- 3. SpiffWorkflow --------------------------------------------------------------


def run_spiff(n: int, tmp: str) -> Result:
    from SpiffWorkflow.bpmn import BpmnWorkflow
    from SpiffWorkflow.bpmn.parser import BpmnParser
    from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
    from SpiffWorkflow.util.task import TaskState

    res = Result("SpiffWorkflow (JSON in SQLite)")
    parser = BpmnParser()
    parser.add_bpmn_str(BPMN.encode(), filename="bench.bpmn")
    spec = parser.get_spec("bench_approval")
    serializer = BpmnWorkflowSerializer()
    conn = sqlite_connect(f"{tmp}/spiff.db")
    conn.execute(
        "CREATE TABLE workflow (id INTEGER PRIMARY KEY, done INTEGER NOT NULL, state TEXT NOT NULL)"
    )

    t0 = time.perf_counter()
    for i in range(n):
        wf = BpmnWorkflow(spec)
        start = wf.get_tasks(state=TaskState.READY)[0]
        start.data["amount"] = amount_of(i)
        wf.do_engine_steps()
        conn.execute("BEGIN IMMEDIATE")
        conn.execute(
            "INSERT INTO workflow (id, done, state) VALUES (?, ?, ?)",
            (i + 1, int(wf.completed), serializer.serialize_json(wf)),
        )
        conn.execute("COMMIT")
    res.start_seconds = time.perf_counter() - t0

    t0 = time.perf_counter()
    c0 = time.process_time()
    while True:
        waiting = conn.execute("SELECT id FROM workflow WHERE done = 0 ORDER BY id").fetchall()
        if not waiting:
            break
        for (wid,) in waiting:
            conn.execute("BEGIN IMMEDIATE")
            (state,) = conn.execute("SELECT state FROM workflow WHERE id = ?", (wid,)).fetchone()
            wf = serializer.deserialize_json(state)
            (task,) = wf.get_tasks(state=TaskState.READY, manual=True)
            task.data["decision"] = decide(wid - 1, task.task_spec.bpmn_id)
            task.run()
            wf.do_engine_steps()
            conn.execute(
                "UPDATE workflow SET done = ?, state = ? WHERE id = ?",
                (int(wf.completed), serializer.serialize_json(wf), wid),
            )
            conn.execute("COMMIT")
            res.completions += 1
    res.complete_seconds = time.perf_counter() - t0
    res.complete_cpu = time.process_time() - c0

    for wid, state in conn.execute("SELECT id, state FROM workflow"):
        wf = serializer.deserialize_json(state)
        done = {t.task_spec.bpmn_id for t in wf.get_tasks(state=TaskState.COMPLETED)}
        path = "director" if "director" in done else "manager"
        ends = done & {"approved", "rejected"}
        res.outcomes[wid - 1] = (path, ends.pop() if len(ends) == 1 else f"ends {sorted(ends)}")
    conn.close()
    return res


# -- 4. countersign ----------------------------------------------------------------


def run_countersign(tmp: str) -> tuple[list[float], str]:
    p = Platform(f"sqlite:///{tmp}/countersign.db")
    p.meta.save("entity", "deal", DEAL, user="bench")
    p.flows.publish(COUNTERSIGN_FLOW, user="bench")
    deals = p.records("deal")
    # A first instance, untimed, warms the caches (compiled statements, the flow's plan),
    # so the first timed steps do not carry one-time costs the later ones do not.
    rid = deals.create({"title": "Warm-up deal", "amount": 2_000_000})["id"]
    warm = p.flows.start("bench_countersign", record=("deal", rid), user="alice")
    for task in sorted(warm["tasks"], key=lambda t: t["id"]):
        p.flows.complete(task["id"], "approve", user=task["assignee"])
    rid = deals.create({"title": "Big deal", "amount": 2_000_000})["id"]
    inst = p.flows.start("bench_countersign", record=("deal", rid), user="alice")
    tasks = sorted(inst["tasks"], key=lambda t: t["id"])
    times = []
    for task in tasks:
        t0 = time.perf_counter()
        p.flows.complete(task["id"], "approve", user=task["assignee"])
        times.append(time.perf_counter() - t0)
    final = p.flows.instance(inst["id"], history=False)
    p.close()
    return times, f"{final['status']}/{final['outcome']}"


# -- report ------------------------------------------------------------------------


def tally(outcomes: dict[int, tuple[str, str]]) -> Counter:
    return Counter(outcomes.values())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000, help="approval instances")
    parser.add_argument("--profile", action="store_true", help="cProfile Tessera's completions")
    parser.add_argument("--skip-spiff", action="store_true", help="leave SpiffWorkflow out")
    args = parser.parse_args()
    command = "python bench/bench_flows.py " + " ".join(sys.argv[1:])

    want = expected(args.n)
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        results.append(run_tessera(args.n, tmp, args.profile))
        results.append(run_hand(args.n, tmp))
        if not args.skip_spiff:
            results.append(run_spiff(args.n, tmp))
        sign_times, sign_end = run_countersign(tmp)

    import SpiffWorkflow

    spiff_version = getattr(SpiffWorkflow, "__version__", None)
    if spiff_version is None:
        from importlib.metadata import version

        spiff_version = version("SpiffWorkflow")
    cpu = host.processor() or host.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import os

    print(
        f"flows bench, {dt.date.today()}, Python {sys.version.split()[0]}, "
        f"{os.cpu_count()} cores, {cpu}, SQLite {sqlite3.sqlite_version}, "
        f"SpiffWorkflow {spiff_version}"
    )
    print(f"command: {command}")
    counts = tally(want)
    mix = ", ".join(f"{path} path {outcome} {c:,}" for (path, outcome), c in sorted(counts.items()))
    print(f"{args.n:,} approval instances ({mix})")
    hand = next(r for r in results if r.name.startswith("hand"))
    print(f"{'engine':<34}{'starts/s':>10}{'completions':>13}{'seconds':>10}"
          f"{'approvals/s':>13}{'vs hand':>10}{'cpu ms/compl':>14}{'cpu vs hand':>13}"
          f"{'disagree':>10}")  # fmt: skip
    disagreements = {}
    for r in results:
        bad = sum(1 for i in range(args.n) if r.outcomes.get(i) != want[i])
        disagreements[r.name] = bad
        rate = r.completions / r.complete_seconds
        print(
            f"{r.name:<34}{args.n / r.start_seconds:>10,.0f}{r.completions:>13,}"
            f"{r.complete_seconds:>10.2f}{rate:>13,.0f}"
            f"{r.complete_seconds / hand.complete_seconds * hand.completions / r.completions:>9.2f}x"
            f"{r.complete_cpu / r.completions * 1000:>14.3f}"
            f"{r.complete_cpu / hand.complete_cpu * hand.completions / r.completions:>12.2f}x"
            f"{bad:>10}"
        )
    for r in results:
        c = tally(r.outcomes)
        print(f"  {r.name}: " + ", ".join(f"{p} {o} {k:,}" for (p, o), k in sorted(c.items())))

    tessera = results[0]
    print(f"Tessera per completion: {tessera.statements / tessera.completions:.2f} statements "
          f"in {tessera.transactions / tessera.completions:.2f} transactions "
          "(BEGIN and COMMIT not counted as statements)")  # fmt: skip
    per = {r.name: r.complete_seconds / r.completions for r in results}
    vs_hand = per[tessera.name] / per[hand.name]
    print(f"goal: Tessera within 3x of hand-written: {vs_hand:.2f}x - "
          f"{'met' if vs_hand <= 3 else 'NOT met'}")  # fmt: skip
    spiff = next((r for r in results if r.name.startswith("Spiff")), None)
    if spiff is not None:
        vs_spiff = per[spiff.name] / per[tessera.name]
        print(f"goal: Tessera at least 10x faster than SpiffWorkflow: {vs_spiff:.1f}x - "
              f"{'met' if vs_spiff >= 10 else 'NOT met'}")  # fmt: skip

    # Medians of each window of 20 steps: a WAL checkpoint or a garbage collection lands
    # in one window now and then whatever the instance's size; growth shows in medians.
    k = 20
    mid = len(sign_times) // 2 - k // 2
    windows = [sign_times[:k], sign_times[mid : mid + k], sign_times[-k:]]
    means = [sum(w) / k for w in windows]
    first, middle, last = (statistics.median(w) for w in windows)
    flat = max(first, middle, last) / min(first, middle, last)
    print(
        f"countersign, {len(sign_times)} approvers (mode all), ended {sign_end}: median ms per "
        f"completion first {k} {first * 1000:.2f}, middle {k} {middle * 1000:.2f}, last {k} "
        f"{last * 1000:.2f} (means {' / '.join(f'{m * 1000:.2f}' for m in means)}); "
        f"last/first {last / first:.2f}, max/min {flat:.2f}"
    )
    print(f"goal: flat per step (max/min of the three medians at most 1.5x): {flat:.2f}x - "
          f"{'met' if flat <= 1.5 else 'NOT met'}")  # fmt: skip

    total_bad = sum(disagreements.values())
    if sign_end != "completed/approved":
        print(f"countersign ended {sign_end}, expected completed/approved")
        total_bad += 1
    print("disagreements with the expected outcomes: " +
          (", ".join(f"{k} {v}" for k, v in disagreements.items())))  # fmt: skip
    return 1 if total_bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
