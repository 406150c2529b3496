"""How a step stores itself: the flow indexes, their migration, and the fixed statements' shortcuts.

The indexes were reshaped so a completion writes fewer pages (the status
second, partial indexes for assignee and role): an existing database must get
the new ones and lose the old ones when a platform opens it. The written-out
parameter functions and the quicker SQLite datetime reader must give exactly
what the general paths they replace give.
"""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import event, inspect, text
from sqlalchemy.dialects import postgresql, sqlite

from engine import Platform
from engine.flows import runtime as runtime_module
from engine.flows import statements as stm
from engine.flows.fastsql import Fixed, _read_sqlite_utc
from engine.flows.service import _inbox_read
from engine.flows.tables import OLD_INDEXES, flow_tasks, flow_tokens
from engine.store.types import UTCDateTime
from tests.conftest import database_url
from tests.floor_defs import save
from tests.flows.defs import APPROVAL, DEAL, PARALLEL, flow
from tests.flows.test_step_shortcuts import SCENARIOS, _run_fresh

_DIALECTS = {"sqlite": sqlite.dialect(), "postgresql": postgresql.dialect()}
_STATEMENTS = {name: v for name, v in vars(stm).items() if isinstance(v, Fixed)}
_NOW = dt.datetime(2026, 12, 2, 4, 5, 6, 789, tzinfo=dt.UTC)
_VALUES = {
    "b_id": 7, "b_version": 2, "b_read": 3, "b_token": 5, "b_instance": 4, "b_now": _NOW,
    "status": "done", "outcome": "approve", "comment": None, "completed_by": "bob",
    "completed_on": _NOW, "ended_on": None, "created_on": _NOW, "at": _NOW,
    "version": 4, "state": '{"a":1}', "node": "step", "via": 1, "instance_id": 4,
    "kind": "entered", "data": None, "actor": "bob", "token_id": 5,
}  # fmt: skip
#: the given columns per statement that takes them (inserts and updates)
_KEYS = {
    "INSERT_EVENT": ["instance_id", "at", "kind", "node", "token_id", "actor", "data"],
    "INSERT_TOKEN": ["instance_id", "node", "via", "status", "state", "created_on"],
    "INSERT_TASK": ["instance_id", "token_id", "node", "kind", "status", "created_on"],
    "UPDATE_TOKEN": ["b_id", "status", "ended_on"],
    "BUMP_INSTANCE": ["b_id", "b_read", "version", "status", "outcome", "ended_on"],
    "UPDATE_INSTANCE": ["b_id", "status", "outcome", "ended_on"],
    "CLOSE_OPEN_TASK": ["b_id", "b_version", "status", "outcome", "completed_on", "version"],
}


@pytest.mark.parametrize("dialect", list(_DIALECTS))
@pytest.mark.parametrize("name", sorted(_STATEMENTS))
@pytest.mark.parametrize("at", [_NOW, None, _NOW.astimezone(dt.timezone(dt.timedelta(hours=8)))])
def test_written_parameters_are_the_general_paths(name, dialect, at):
    fixed = _STATEMENTS[name]
    conn = SimpleNamespace(dialect=_DIALECTS[dialect])
    values = {**_VALUES, **{k: at for k in ("b_now", "completed_on", "created_on", "at")}}
    compiled = fixed._compiled(conn, _KEYS.get(name, []) if fixed.by_keys else [])
    given = {k: values.get(k) for k in compiled.order}
    plain, compiled.plain = compiled.plain, False  # the plan's loop, every bind looked at
    try:
        assert compiled.params(given) == compiled.general_params(given)
    finally:
        compiled.plain = plain


@pytest.mark.parametrize(
    "value",
    [
        dt.datetime(2026, 12, 2, 4, 5, 6, 789, tzinfo=dt.UTC),
        dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
        dt.datetime(1999, 12, 31, 23, 59, 59, 999999, tzinfo=dt.UTC),
        dt.datetime(2026, 6, 1, 12, tzinfo=dt.timezone(dt.timedelta(hours=-5))),
    ],
)
def test_the_sqlite_datetime_reader_reads_what_the_type_reads(value):
    dialect = sqlite.dialect()
    kind = UTCDateTime()
    stored = kind._cached_bind_processor(dialect)(value)
    expected = kind._cached_result_processor(dialect, None)(stored)
    got = _read_sqlite_utc(stored)
    assert got == expected == value
    assert got.tzinfo == expected.tzinfo == dt.UTC


def _index_names(p: Platform, table: str) -> set[str]:
    with p.db.transaction(write=False) as conn:
        return {i["name"] for i in inspect(conn).get_indexes(table)}


def test_a_database_made_with_the_old_indexes_gets_the_new_ones(tmp_path):
    with database_url(tmp_path) as url:
        p = Platform(url)
        try:
            # Turn the fresh tables back into what an earlier version made.
            with p.db.transaction() as conn:
                for index in flow_tasks.indexes:
                    conn.execute(text(f"DROP INDEX {index.name}"))
                old = dict(zip(OLD_INDEXES["ts_flow_task"], (("status", "assignee"),
                          ("status", "role"), ("instance_id",), ("token_id", "status"))))  # fmt: skip
                for name, columns in old.items():  # SQL of its own: an Index() joins the table
                    conn.execute(
                        text(f"CREATE INDEX {name} ON ts_flow_task ({', '.join(columns)})")
                    )
            assert _index_names(p, "ts_flow_task") == set(old)
        finally:
            p.close()
        p = Platform(url)
        try:
            save(p, DEAL)
            p.users.add("bob")
            p.flows.publish(
                flow(APPROVAL), user="admin"
            )  # p.flows opens: the indexes are brought up
            assert _index_names(p, "ts_flow_task") == {i.name for i in flow_tasks.indexes}
            deal = p.records("deal").create({"title": "Deal", "amount": 10})
            p.flows.start("deal_approval", record=("deal", deal["id"]), user="alice")
            (task,) = p.flows.tasks(user="bob")
            assert p.flows.complete(task["id"], "approve", user="bob")["status"] == "completed"
        finally:
            p.close()
        p = Platform(url)  # a second opening finds nothing to do
        try:
            p.flows.tasks()
            assert _index_names(p, "ts_flow_task") == {i.name for i in flow_tasks.indexes}
        finally:
            p.close()


def test_the_inbox_finds_open_tasks_by_person_and_by_role(platform):
    p = platform
    save(p, DEAL)
    for name in ("bob", "dave"):
        p.users.add(name, roles=["director"] if name == "dave" else [])
    p.flows.publish(flow(APPROVAL), user="admin")
    deal = p.records("deal").create({"title": "Deal", "amount": 900_000})
    inst = p.flows.start("deal_approval", record=("deal", deal["id"]), user="alice")
    (mine,) = p.flows.tasks(user="bob")
    assert p.flows.tasks(user="dave") == []
    p.flows.complete(mine["id"], "approve", user="bob")
    assert p.flows.tasks(user="bob") == []
    (role_task,) = p.flows.tasks(user="dave", roles=["director"])
    assert role_task["role"] == "director"
    assert [t["id"] for t in p.flows.tasks()] == [role_task["id"]]
    done = p.flows.tasks(instance=inst["id"], status="completed")
    assert [t["id"] for t in done] == [mine["id"]]
    # Other statuses are not in the open-task indexes: still found, from the table.
    assert [t["id"] for t in p.flows.tasks(user="bob", status="completed")] == [mine["id"]]
    assert p.flows.tasks(user="bob", status="cancelled") == []
    both = p.flows.tasks(user="dave", roles=["director"], status=None)
    assert [t["id"] for t in both] == [role_task["id"]]
    assert [t["id"] for t in p.flows.tasks(user="bob", roles=["director"], status=None)] == [
        mine["id"], role_task["id"]]  # fmt: skip


# -- one statement for a flush's token writes ---------------------------------------------


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_joined_token_writes_leave_what_separate_writes_leave(scenario, tmp_path, monkeypatch):
    definition, amount, actions = SCENARIOS[scenario]
    original = runtime_module.Runtime.__init__
    results = []
    for joined in (True, False):
        if not joined:

            def init(self: Any, *args: Any, **kwargs: Any) -> None:
                original(self, *args, **kwargs)
                self.join_token_writes = False

            monkeypatch.setattr(runtime_module.Runtime, "__init__", init)
        results.append(_run_fresh(tmp_path / ("joined" if joined else "apart"),
                                  definition, amount, actions))  # fmt: skip
    assert results[0] == results[1]


def test_a_parallel_flow_with_joined_token_writes_ends_as_before(platform):
    p = platform
    save(p, DEAL)
    for name in ("lee", "fay"):
        p.users.add(name)
    p.flows.publish(flow(PARALLEL), user="admin")
    deal = p.records("deal").create({"title": "Deal", "amount": 5})
    inst = p.flows.start("deal_review", record=("deal", deal["id"]), user="alice")
    for user, outcome in (("fay", "ok"), ("lee", "done")):
        (task,) = p.flows.tasks(user=user)
        p.flows.complete(task["id"], outcome, user=user)
    done = p.flows.instance(inst["id"])
    assert done["status"] == "completed"
    assert {t["status"] for t in done["tokens"]} == {"done"}
    assert all(t["ended_on"] is not None for t in done["tokens"])


def test_the_step_statements_and_the_inbox_search_an_index(tmp_path):
    """SQLite's plans: no step statement and no inbox read scans the task or token table."""
    p = Platform(f"sqlite:///{tmp_path / 'plan.db'}")
    try:
        p.flows.tasks()  # opens p.flows: the flow indexes are in place
        with p.db.transaction(write=False) as conn:
            cursor = conn.connection.dbapi_connection.cursor()
            for name, fixed in _STATEMENTS.items():
                if name.startswith("INSERT_"):
                    continue
                compiled = fixed._compiled(conn, _KEYS.get(name, []) if fixed.by_keys else [])
                plan = [r[3] for r in cursor.execute(
                    "EXPLAIN QUERY PLAN " + compiled.sql, [1] * len(compiled.order))]  # fmt: skip
                assert not [step for step in plan if step.startswith("SCAN")], (name, plan)
        # The inbox as p.flows.tasks asks it: each OR term from its open-task index.
        seen: list[tuple[str, Any]] = []

        def keep(_conn, _cursor, statement, parameters, _context, _many) -> None:
            seen.append((statement, parameters))

        event.listen(p.db.engine, "before_cursor_execute", keep)
        try:
            p.flows.tasks(user="a", roles=["r", "s"])
        finally:
            event.remove(p.db.engine, "before_cursor_execute", keep)
        (inbox, parameters) = [(s, a) for s, a in seen if "ts_flow_task" in s][-1]
        with p.db.transaction(write=False) as conn:
            cursor = conn.connection.dbapi_connection.cursor()
            plan = [r[3] for r in cursor.execute("EXPLAIN QUERY PLAN " + inbox, parameters)]
            assert "MULTI-INDEX OR" in plan, plan
            assert not [step for step in plan if step.startswith("SCAN")], plan
            # A person's inbox without roles is a fixed read: its index too.
            compiled = _inbox_read("open", False, True)._compiled(conn, [])
            plan = [r[3] for r in cursor.execute(
                "EXPLAIN QUERY PLAN " + compiled.sql, ["a"] * len(compiled.order))]  # fmt: skip
            assert any("ix_flow_task_open_assignee" in step for step in plan), plan
    finally:
        p.close()


#: the flow indexes of the version before the open-task and instance-only indexes
_PREVIOUS_INDEXES = (
    "CREATE INDEX ix_flow_token_instance ON ts_flow_token (instance_id, status)",
    "CREATE INDEX ix_flow_task_assignee_open ON ts_flow_task (assignee, status) "
    "WHERE assignee IS NOT NULL",
    "CREATE INDEX ix_flow_task_role_open ON ts_flow_task (role, status) WHERE role IS NOT NULL",
    "CREATE INDEX ix_flow_task_step ON ts_flow_task (instance_id, token_id, status)",
)


def test_running_instances_under_the_previous_indexes_carry_on_under_the_new_ones(tmp_path):
    """A database whose token and inbox indexes kept the status in the key, with
    instances waiting at a person and at a role: reopened, it has the declared
    indexes only, the inboxes show the same open tasks and the instances finish."""
    with database_url(tmp_path) as url:
        p = Platform(url)
        try:
            save(p, DEAL)
            p.users.add("bob")
            p.users.add("dave", roles=["director"])
            p.flows.publish(flow(APPROVAL), user="admin")
            deals = p.records("deal")
            started = [
                p.flows.start("deal_approval", record=("deal", deals.create(
                    {"title": f"Deal {n}", "amount": amount})["id"]), user="alice")["id"]
                for n, amount in enumerate((900_000, 10, 800_000))
            ]  # fmt: skip
            first = min(p.flows.tasks(user="bob"), key=lambda t: t["instance_id"])
            p.flows.complete(first["id"], "approve", user="bob")  # now at the director
            before = {who: p.flows.tasks(user=who, roles=roles)
                      for who, roles in (("bob", []), ("dave", ["director"]))}  # fmt: skip
            with p.db.transaction() as conn:
                for table in (flow_tokens, flow_tasks):
                    for index in table.indexes:
                        conn.execute(text(f"DROP INDEX {index.name}"))
                for ddl in _PREVIOUS_INDEXES:
                    conn.execute(text(ddl))
            assert "ix_flow_token_instance" in _index_names(p, "ts_flow_token")
        finally:
            p.close()
        p = Platform(url)
        try:
            after = {who: p.flows.tasks(user=who, roles=roles)
                     for who, roles in (("bob", []), ("dave", ["director"]))}  # fmt: skip
            assert after == before
            assert len(after["dave"]) == 1 and len(after["bob"]) == 2
            for table in (flow_tokens, flow_tasks):
                assert _index_names(p, table.name) == {i.name for i in table.indexes}
            for who in ("dave", "bob"):
                for task in p.flows.tasks(user=who, roles=["director"] if who == "dave" else []):
                    p.flows.complete(task["id"], "approve", user=who)
            for who in ("dave", "bob"):
                for task in p.flows.tasks(user=who, roles=["director"] if who == "dave" else []):
                    p.flows.complete(task["id"], "approve", user=who)
            ended = [p.flows.instance(i, history=False) for i in started]
            assert [(i["status"], i["outcome"]) for i in ended] == [("completed", "approved")] * 3
            assert p.flows.tasks(user="bob") == [] and p.flows.tasks(roles=["director"]) == []
        finally:
            p.close()


def test_a_countersign_step_reads_one_open_task_whatever_their_number(tmp_path):
    """Without signers, "is anyone still to sign?" is one index probe: no sort of the open
    tasks, so the first step of a 200-person countersign costs what its last one does."""
    p = Platform(f"sqlite:///{tmp_path / 'plan.db'}")
    try:
        p.flows.tasks()
        with p.db.transaction(write=False) as conn:
            cursor = conn.connection.dbapi_connection.cursor()
            compiled = stm.ANY_OPEN_TASK_OF_TOKEN._compiled(conn, [])
            plan = [r[3] for r in cursor.execute(
                "EXPLAIN QUERY PLAN " + compiled.sql, [1] * len(compiled.order))]  # fmt: skip
            assert plan and all("TEMP B-TREE" not in step for step in plan), plan
            assert not [step for step in plan if step.startswith("SCAN")], plan
    finally:
        p.close()
