"""A step run by its pre-built plan leaves exactly the rows the general runtime leaves.

Two platforms play the same operations in lockstep, one with plans
(``Runtime.use_plans``) and one without, so ids line up: their tasks,
tokens, history, instances and processed command ids must be equal, times
aside. Generated sequences of approvals and rejections walk both branches of
a gateway, a countersign, a rejection with and without an edge; the table
scenarios of the token-move tests (signers, transfers, returns, timeouts) and
a race of two completions of one task (exactly one wins) are played too.
"""

from __future__ import annotations

import threading
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from engine import Platform
from engine.errors import ConflictError
from engine.flows import plans
from engine.flows import runtime as runtime_module
from engine.flows.tables import flow_commands, flow_events, flow_instances, flow_tasks, flow_tokens
from tests.conftest import database_url
from tests.floor_defs import save
from tests.flows.defs import DEAL
from tests.flows.test_token_moves import ALL, _fresh

#: a gateway to two chains; a director's rejection ends at an end node, a manager's
#: has no edge (the instance ends rejected); a manager's approval goes through a
#: second gateway to legal (who sign all together) or straight to the end
CHAIN: dict[str, Any] = {
    "name": "chain",
    "label": "chain",
    "entity": "deal",
    "nodes": {
        "start": {"type": "start"},
        "check": {"type": "exclusive"},
        "director": {"type": "approval", "config": {"approvers": {"user": "dave"}}},
        "manager": {"type": "approval", "config": {"approvers": {"user": "bob"}}},
        "legal": {"type": "approval", "config": {"approvers": {"users": ["carol", "bob"]},
                                                 "mode": "all"}},
        "route": {"type": "exclusive"},
        "ok": {"type": "end", "config": {"outcome": "approved"}},
        "no": {"type": "end", "config": {"outcome": "turned_down"}},
    },
    "edges": [
        ["start", "check"],
        {"from": "check", "to": "director", "when": "amount > 500"},
        {"from": "check", "to": "manager", "default": True},
        ["director", "manager"],
        {"from": "director", "to": "no", "outcome": "reject"},
        ["manager", "route"],
        {"from": "route", "to": "legal", "when": "amount > 800"},
        {"from": "route", "to": "ok", "default": True},
        ["legal", "ok"],
    ],
}  # fmt: skip

TABLES = {"flow_instances": flow_instances, "flow_tokens": flow_tokens, "flow_tasks": flow_tasks,
          "flow_events": flow_events, "flow_commands": flow_commands}  # fmt: skip
USERS = ("alice", "bob", "carol", "dave")
TIMES = ("at", "created_on", "completed_on", "ended_on", "due_on", "started_on")


def _rows(p: Platform) -> dict[str, list[dict[str, Any]]]:
    out = {}
    with p.db.transaction(write=False) as conn:
        for name, table in TABLES.items():
            rows = conn.execute(select(table).order_by(*table.primary_key.columns)).mappings()
            out[name] = [{k: v for k, v in r.items() if k not in TIMES} for r in rows]
    return out


class _Pair:
    """Two platforms on fresh databases, the first with plans, the second without."""

    def __init__(
        self, stack: ExitStack, folder: Path, monkeypatch: Any, flow: dict[str, Any] = CHAIN
    ) -> None:
        self.platforms = []
        for name in ("plans", "general"):
            (folder / name).mkdir(parents=True)
            url = stack.enter_context(database_url(folder / name))
            p = Platform(url)
            stack.callback(p.close)
            save(p, DEAL)
            for user in USERS:
                p.users.add(user, manager="dave" if user == "alice" else None)
            p.flows.publish(flow, user="admin")
            self.platforms.append(p)
        general = self.platforms[1]
        original = runtime_module.Runtime.__init__

        def init(runtime: Any, platform: Any, *args: Any, **kwargs: Any) -> None:
            original(runtime, platform, *args, **kwargs)
            runtime.use_plans = platform is not general

        monkeypatch.setattr(runtime_module.Runtime, "__init__", init)
        self.used = 0
        found = plans.plan_for

        def counted(*args: Any) -> Any:
            plan = found(*args)
            self.used += plan is not None
            return plan

        monkeypatch.setattr(runtime_module, "plan_for", counted)

    def both(self, call: Any) -> list[Any]:
        """``call(p)`` on each platform; its answer or the error's type, which must agree."""
        answers = []
        for p in self.platforms:
            try:
                answers.append(call(p))
            except Exception as exc:
                answers.append(type(exc).__name__)
        assert _timeless(answers[0]) == _timeless(answers[1])
        return answers


def _timeless(value: Any) -> Any:
    """``value`` without its times (each platform has its own clock)."""
    if isinstance(value, dict):
        return {k: _timeless(v) for k, v in value.items() if k not in TIMES}
    if isinstance(value, list):
        return [_timeless(v) for v in value]
    return value


def _play(pair: _Pair, amount: int, decisions: list[str], tag: str) -> None:
    """Start an instance and answer its open tasks with ``decisions`` until they run out."""
    deal = pair.both(lambda p: p.records("deal").create({"title": "d", "amount": amount})["id"])[0]
    inst = pair.both(lambda p: p.flows.start("chain", record=("deal", deal), user="alice")["id"])[0]
    for n, decision in enumerate(decisions):
        tasks = pair.both(lambda p: p.flows.tasks(instance=inst))
        if not tasks[0]:
            break
        task = tasks[0][0]
        command = f"{tag}-{n}"

        def complete(
            p: Platform, task: dict = task, decision: str = decision, command: str = command
        ) -> Any:
            return p.flows.complete(task["id"], decision, user=task["assignee"], command_id=command)

        pair.both(complete)
    # a command repeated answers as the first time, both ways
    pair.both(lambda p: p.flows.complete(0, "approve", command_id=f"{tag}-0"))


RUNS = st.lists(
    st.tuples(
        st.sampled_from([100, 600, 900]),
        st.lists(st.sampled_from(["approve", "reject", "return"]), min_size=1, max_size=5),
    ),
    min_size=1,
    max_size=3,
)


def test_plans_leave_the_general_runtimes_rows(tmp_path, monkeypatch):
    # One pair for every example: both platforms do the same things, so ids stay in step.
    with ExitStack() as stack:
        pair = _Pair(stack, tmp_path, monkeypatch)
        count = iter(range(10_000))

        @settings(max_examples=25, deadline=None, database=None)
        @given(runs=RUNS)
        def check(runs: list) -> None:
            for amount, decisions in runs:
                _play(pair, amount, decisions, f"run{next(count)}")
            plans_rows, general_rows = (_rows(p) for p in pair.platforms)
            assert plans_rows == general_rows

        check()
        assert pair.used > 0


def test_both_branches_and_every_plan_kind_are_played(tmp_path, monkeypatch):
    with ExitStack() as stack:
        pair = _Pair(stack, tmp_path, monkeypatch)
        _play(pair, 900, ["approve", "approve", "approve", "approve"], "a")  # to legal
        _play(pair, 900, ["reject"], "b")  # director rejects: the reject edge to an end
        _play(pair, 100, ["reject"], "c")  # manager path, no reject edge: terminated
        _play(pair, 900, ["approve", "approve", "reject"], "d")  # the countersign rejects
        _play(pair, 600, ["approve", "approve"], "e")  # the second gateway's default: the end
        _play(pair, 100, ["approve"], "f")  # the manager path's approval: the end
        assert pair.used >= 8
        plans_rows, general_rows = (_rows(p) for p in pair.platforms)
        assert plans_rows == general_rows
        outcomes = [(i["status"], i["outcome"]) for i in plans_rows["flow_instances"]]
        assert outcomes == [("completed", "approved"), ("completed", "turned_down"),
                            ("completed", "rejected"), ("completed", "rejected"),
                            ("completed", "approved"), ("completed", "approved")]  # fmt: skip


#: approvers of every kind for the chain's manager: those a plan keeps
#: for the flow version (users, roles) and those resolved at each step
APPROVERS = [
    {"role": "director"},
    {"roles": ["director", "finance"]},
    {"users": ["carol", "dave", "carol"]},
    {"initiator": True},
    {"manager_of": "initiator"},
]


@pytest.mark.parametrize("who", APPROVERS, ids=lambda who: "-".join(who))
def test_every_kind_of_approvers_leaves_the_same_rows(who, tmp_path, monkeypatch):
    # the director's approval enters the manager by its plan: the manager's tasks
    # are opened from the plan's openings (users, roles) or resolved at the step
    flow = {**CHAIN, "nodes": dict(CHAIN["nodes"])}
    for node, approvers in (("director", {"user": "dave"}), ("manager", who)):
        flow["nodes"][node] = {"type": "approval",
                               "config": {"approvers": approvers, "label": {"en": node.title()}}}  # fmt: skip
    with ExitStack() as stack:
        pair = _Pair(stack, tmp_path, monkeypatch, flow)
        _play(pair, 900, ["approve", "approve", "approve", "approve"], "a")
        _play(pair, 900, ["reject"], "b")
        _play(pair, 100, ["reject"], "c")
        _play(pair, 600, ["approve", "approve"], "e")
        _play(pair, 100, ["approve"], "f")
        assert pair.used >= 3
        plans_rows, general_rows = (_rows(p) for p in pair.platforms)
        assert plans_rows == general_rows
        labels = {t["label"] for t in plans_rows["flow_tasks"] if t["node"] != "legal"}
        assert labels == {'{"en":"Director"}', '{"en":"Manager"}'}


def _published(tmp_path, flow):
    """The spec of ``flow`` (named chain) as published on a database of its own."""
    folder = tmp_path / "db"
    folder.mkdir()
    with database_url(folder) as url:
        p = Platform(url)
        try:
            save(p, DEAL)
            p.flows.publish(flow, user="admin")
            return p.flows.spec("chain")[0]
        finally:
            p.close()


def test_a_plan_keeps_only_approvers_that_need_no_step(tmp_path):
    flow = {**CHAIN, "nodes": dict(CHAIN["nodes"])}
    flow["nodes"]["manager"] = {"type": "approval",
                                "config": {"approvers": {"initiator": True}}}  # fmt: skip
    flow["nodes"]["director"] = {"type": "approval",
                                 "config": {"approvers": {"roles": ["a", "b", "a"]}}}  # fmt: skip
    spec = _published(tmp_path, flow)
    traits = (False, True)
    into_director = plans.plan_for(spec, "check", "approve", traits)
    assert into_director is None  # a gateway decides nothing
    to_manager = plans.plan_for(spec, "director", "approve", traits)
    assert to_manager.target.id == "manager" and to_manager.openings is None  # per step
    route = plans.plan_for(spec, "manager", "approve", traits)
    legal, _ok = route.branches
    assert legal.openings == (("carol", None), ("bob", None))
    assert legal.outcomes == '["approve","reject"]' and legal.label is None


def test_the_plan_table_covers_only_the_common_step(tmp_path):
    spec = _published(tmp_path, CHAIN)
    traits = (False, True)
    assert plans.plan_for(spec, "director", "approve", traits).action == "approval"
    assert plans.plan_for(spec, "director", "reject", traits).action == "end"
    through = plans.plan_for(spec, "manager", "approve", traits)
    assert through.action == "gateway"
    assert [(b.action, b.target.id) for b in through.branches] == [("approval", "legal"),
                                                                    ("end", "ok")]  # fmt: skip
    assert plans.plan_for(spec, "manager", "reject", traits).action == "terminate"
    assert plans.plan_for(spec, "legal", "approve", traits) is None  # a countersign
    assert plans.plan_for(spec, "check", "approve", traits) is None  # a gateway
    assert plans.plan_for(spec, "manager", "return", traits) is None
    assert plans.plan_for(spec, "manager", "approve", (False, False)) is None  # two tokens


@pytest.mark.parametrize("scenario", list(ALL))
def test_every_token_move_scenario_leaves_the_same_rows(scenario, tmp_path, monkeypatch):
    planned = _fresh(tmp_path / "plans", scenario)
    original = runtime_module.Runtime.__init__

    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        self.use_plans = False

    monkeypatch.setattr(runtime_module.Runtime, "__init__", init)
    general = _fresh(tmp_path / "general", scenario)
    for key in ("answers", "status", "history", "tasks", "taken", "live"):
        assert planned[key] == general[key], key
    strip = TIMES
    for key in ("tokens", "raw_tasks", "raw_history"):
        assert [{k: v for k, v in r.items() if k not in strip} for r in planned[key]] == [
            {k: v for k, v in r.items() if k not in strip} for r in general[key]
        ], key


@pytest.mark.parametrize("use_plans", [True, False])
def test_two_racing_completions_of_one_task_one_wins(use_plans, tmp_path, monkeypatch):
    original = runtime_module.Runtime.__init__

    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        self.use_plans = use_plans

    monkeypatch.setattr(runtime_module.Runtime, "__init__", init)
    with database_url(tmp_path) as url:
        p = Platform(url)
        try:
            save(p, DEAL)
            for user in USERS:
                p.users.add(user)
            p.flows.publish(CHAIN, user="admin")
            deal = p.records("deal").create({"title": "d", "amount": 900})["id"]
            inst = p.flows.start("chain", record=("deal", deal), user="alice")["id"]
            (task,) = p.flows.tasks(instance=inst)
            barrier = threading.Barrier(2)
            results: list[Any] = []

            def go(decision: str, n: int) -> None:
                barrier.wait()
                try:
                    results.append(p.flows.complete(task["id"], decision, user="dave",
                                                    command_id=f"race-{n}"))  # fmt: skip
                except ConflictError as exc:
                    results.append(exc)

            threads = [threading.Thread(target=go, args=(d, n))
                       for n, d in enumerate(("approve", "reject"))]  # fmt: skip
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            wins = [r for r in results if isinstance(r, dict)]
            assert len(wins) == 1 and len(results) == 2
            rows = _rows(p)
            (won,) = wins
            assert [c["command_id"] for c in rows["flow_commands"]] == [
                f"race-{('approve', 'reject').index(won['outcome'])}"
            ]
            completed = [t for t in rows["flow_tasks"] if t["status"] == "completed"]
            assert [(t["id"], t["outcome"]) for t in completed] == [(task["id"], won["outcome"])]
            (instance,) = rows["flow_instances"]
            # started at version 1; the one step that won bumped it once
            assert instance["version"] == 2
        finally:
            p.close()


def test_a_block_naming_nobody_is_not_kept_by_a_plan():
    """The general path applies the empty-approver policy to such a block, never a plan."""
    from engine.flows.nodes import people

    assert people.static({}) is None
    assert people.static({"users": []}) is None
    assert people.static({"roles": []}) is None
    assert people.static({"user": "ann"}) == (["ann"], [])
    assert people.static({"field": "owner"}) is None
