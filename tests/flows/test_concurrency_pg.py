"""Concurrency on a real server: 50 people on one task, two workers over 1,000 timers."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import func, select

from engine import ConflictError
from engine.flows.tables import flow_events
from tests.flows.defs import APPROVAL
from tests.flows.test_timers_and_commands import T0, clocked  # noqa: F401  (the fixture)

pytestmark = pytest.mark.postgres_only


def test_fifty_concurrent_completions_of_one_task_have_one_winner(clocked):  # noqa: F811
    p = clocked
    race = {**APPROVAL, "name": "race50"}
    race["nodes"] = {
        **APPROVAL["nodes"],
        "manager": {"type": "approval", "config": {"approvers": {"role": "managers"}}},
    }
    p.flows.publish(race)
    deal = p.records("deal").create({"title": "Race", "amount": 10})
    inst = p.flows.start("race50", record=("deal", deal["id"]), user="alice")
    (task,) = p.flows.tasks(roles=["managers"])
    barrier = threading.Barrier(50)
    wins, conflicts, other = [], [], []

    def act(n: int) -> None:
        barrier.wait()
        try:
            wins.append(p.flows.complete(task["id"], "approve", user=f"m{n}"))
        except ConflictError as exc:
            conflicts.append(exc)
        except Exception as exc:  # anything else is a bug this test must show
            other.append(exc)

    threads = [threading.Thread(target=act, args=(n,)) for n in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert other == [] and len(wins) == 1 and len(conflicts) == 49
    history = p.flows.instance(inst["id"])["history"]
    assert sum(h["kind"] == "task_completed" for h in history) == 1


def test_two_workers_fire_each_of_1000_timers_once(clocked):  # noqa: F811
    p = clocked
    # one deal per instance: a flow runs at most once at a time on a record
    deals = p.records("deal").create_many([{"title": f"Timers {i}"} for i in range(1000)])
    for deal in deals:
        p.flows.start("deal_reminder", record=("deal", deal["id"]), user="alice")
    later = T0 + dt.timedelta(days=3)
    fired: list[int] = []
    barrier = threading.Barrier(2)

    def worker() -> None:
        barrier.wait()
        fired.append(p.flows.tick(later))

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(fired) == 1000
    with p.db.transaction(write=False) as conn:
        events = conn.execute(
            select(func.count()).select_from(flow_events).where(flow_events.c.kind == "timer_fired")
        ).scalar_one()
    assert events == 1000
