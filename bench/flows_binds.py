"""This round's step shortcuts against the paths they replaced, in one process.

Each pair runs alternately, 15 rounds, and prints the median CPU µs per call
(``time.process_time``): on a shared machine the ratio of one run says more
than either figure.

- the completion's joined read (task, instance, token, open-task count):
  ``Fixed.first`` and popping the ``i_`` / ``k_`` names, against
  ``Fixed.first_parts`` (one run of the statement each);
- a step's new ``now`` bound on SQLite: the column type's processor chain
  against the ``isoformat`` writer;
- an event row's parameters: the written-out function calling ``_convert``
  per typed bind (as before this round) against the inline memo lookup.

    python bench/flows_binds.py
"""

from __future__ import annotations

import datetime as dt
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from sqlalchemy.dialects import sqlite

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_flows as b

from engine import Platform
from engine.flows import fastsql
from engine.flows import statements as stm
from engine.store.types import UTCDateTime


def popped(row: dict[str, Any]) -> list[dict[str, Any]]:
    """The split as the service made it before ``first_parts``."""
    pop = row.pop
    instance = {name: pop(key) for key, name in stm.INSTANCE_KEYS}
    token = {name: pop(key) for key, name in stm.TOKEN_KEYS}
    return [row, instance, token, {"open": pop("o_open")}]


def cpu_us(fn: Callable[[], Any], n: int) -> float:
    start = time.process_time()
    for _ in range(n):
        fn()
    return (time.process_time() - start) / n * 1e6


def pair(name: str, before: Callable[[], Any], after: Callable[[], Any], n: int) -> None:
    xs, ys = [], []
    for _ in range(15):
        xs.append(cpu_us(before, n))
        ys.append(cpu_us(after, n))
    x, y = statistics.median(xs), statistics.median(ys)
    print(f"{name:40} before {x:7.2f} µs   after {y:7.2f} µs   {y / x:.2f}x")


def old_writer(compiled: Any) -> Callable[[dict[str, Any]], Any]:
    """The parameter function as written before this round: a ``_convert`` call per typed bind."""
    names: dict[str, Any] = {"_convert": fastsql._convert}
    parts = []
    for i, (key, given, literal, proc, kind) in enumerate(compiled.plan):
        value = f"values[{key!r}]" if given else f"_l{i}"
        if not given:
            names[f"_l{i}"] = literal
        if proc is not None:
            names[f"_p{i}"], names[f"_k{i}"] = proc, kind
            value = f"_convert(_p{i}, _k{i}, {value})"
        parts.append(f"{key!r}: {value}" if compiled.named else value)
    body = "{" + ", ".join(parts) + "}" if compiled.named else "[" + ", ".join(parts) + "]"
    exec(f"def params(values):\n    return {body}\n", names)
    return names["params"]


def main() -> int:
    tmp = tempfile.mkdtemp()
    p = Platform(f"sqlite:///{tmp}/t.db")
    p.meta.save("entity", "deal", b.DEAL, user="bench")
    p.flows.publish(b.APPROVAL_FLOW, user="bench")
    rid = p.records("deal").create({"title": "Deal", "amount": b.LIMIT + 1})["id"]
    p.flows.start("bench_approval", record=("deal", rid), user="alice")
    task = p.flows.tasks()[0]
    with p.db.transaction(write=False) as conn:
        values = {"b_id": task["id"]}
        split = stm.TASK_FOR_STEP.first_parts(conn, values, stm.STEP_PREFIXES)
        assert split == popped(stm.TASK_FOR_STEP.first(conn, values))
        pair(
            "task read and split into three",
            lambda: popped(stm.TASK_FOR_STEP.first(conn, values)),
            lambda: stm.TASK_FOR_STEP.first_parts(conn, values, stm.STEP_PREFIXES),
            2000,
        )
    p.close()

    dialect = sqlite.dialect()
    general = UTCDateTime()._cached_bind_processor(dialect)
    now = dt.datetime.now(dt.UTC)
    assert fastsql._write_sqlite_utc(general, now) == general(now)
    pair(
        "a new now bound on SQLite",
        lambda: general(now),
        lambda: fastsql._write_sqlite_utc(general, now),
        20000,
    )

    keys = ["instance_id", "at", "kind", "node", "token_id", "actor", "data"]
    compiled = stm.INSERT_EVENT._compiled(SimpleNamespace(dialect=dialect), keys)
    row = {"instance_id": 1, "at": now, "kind": "entered", "node": "manager", "token_id": 2,
           "actor": "bob", "data": None}  # fmt: skip
    before = old_writer(compiled)
    assert before(row) == compiled.params(row)
    pair("an event row's parameters (memo hit)", lambda: before(row), lambda: compiled.params(row),
         20000)  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
