"""The step's shortcuts give exactly what the general path gives.

A completion that closes its token's last open task skips the statement that
would cancel the others (and the look for one still open); fixed statements
whose binds need no conversion build their parameters by a plain pick, and
compile once per order of the given keys. Each shortcut is checked here
against the path it replaces: the same scenario run with the shortcut
switched off must leave the same rows and the same history.
"""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import insert, select
from sqlalchemy.dialects import postgresql, sqlite

from engine import Platform
from engine.flows import runtime as runtime_module
from engine.flows import statements as stm
from engine.flows.fastsql import Fixed
from engine.flows.tables import flow_events, flow_instances, flow_tasks, flow_tokens
from tests.conftest import database_url
from tests.floor_defs import save
from tests.flows.defs import APPROVAL, DEAL, flow


def _approval(name: str, **config: Any) -> dict[str, Any]:
    """start → one approval step with ``config`` → end (a rejection ends it rejected)."""
    return {
        "name": name,
        "label": name,
        "entity": "deal",
        "nodes": {
            "start": {"type": "start"},
            "step": {"type": "approval", "config": config},
            "end": {"type": "end", "config": {"outcome": "approved"}},
        },
        "edges": [["start", "step"], ["step", "end"]],
    }


ANY_OF_TWO = _approval("any_of_two", approvers={"users": ["bob", "carol"]})
ALL_OF_THREE = _approval("all_of_three", approvers={"users": ["bob", "carol", "dave"]}, mode="all")
BACK_TO_INITIATOR = _approval("back_to_initiator", approvers={"user": "bob"}, on_reject="initiator")

#: (flow, amount, actions): an action is (verb, user whose first open task it acts on, argument)
SCENARIOS: dict[str, tuple[dict[str, Any], int, list[tuple[str, str, str]]]] = {
    "one approver, then a role": (APPROVAL, 900_000, [("complete", "bob", "approve"),
                                                      ("complete", "dave", "approve")]),
    "one approver rejects": (APPROVAL, 10, [("complete", "bob", "reject")]),
    "any of two": (ANY_OF_TWO, 10, [("complete", "carol", "approve")]),
    "all of three": (ALL_OF_THREE, 10, [("complete", "bob", "approve"),
                                        ("complete", "dave", "approve"),
                                        ("complete", "carol", "approve")]),
    "all of three, one rejects": (ALL_OF_THREE, 10, [("complete", "bob", "approve"),
                                                     ("complete", "carol", "reject")]),
    "an added signer": (APPROVAL, 10, [("add_signer", "bob", "carol"),
                                       ("complete", "bob", "approve"),
                                       ("complete", "carol", "approve")]),
    "a transfer": (APPROVAL, 10, [("transfer", "bob", "carol"),
                                  ("complete", "carol", "approve")]),
    "sent back and resubmitted": (BACK_TO_INITIATOR, 10, [("complete", "bob", "reject"),
                                                          ("complete", "alice", "resubmit"),
                                                          ("complete", "bob", "approve")]),
    "returned to the initiator": (APPROVAL, 10, [("complete", "bob", "return"),
                                                 ("complete", "alice", "withdraw")]),
}  # fmt: skip


class _NeverKnown(set):
    """A ``no_open_tasks`` that learns nothing: every step takes the general path."""

    def add(self, _item: Any) -> None:
        return None


def _run(p: Platform, definition: dict[str, Any], amount: int, actions: list) -> dict[str, Any]:
    """Play ``actions`` on a new instance; return its rows (times left out) and answers."""
    save(p, DEAL)
    for name in ("alice", "bob", "carol", "dave"):
        p.users.add(name, roles=["director"] if name == "dave" else [])
    p.flows.publish(definition, user="admin")
    deal = p.records("deal").create({"title": "Deal", "amount": amount})
    inst = p.flows.start(definition["name"], record=("deal", deal["id"]), user="alice")
    answers = []
    for verb, user, arg in actions:
        (task, *_rest) = p.flows.tasks(user=user, roles=["director"] if user == "dave" else [])
        if verb == "complete":
            answers.append(p.flows.complete(task["id"], arg, user=user))
        elif verb == "add_signer":
            answers.append(p.flows.add_signer(task["id"], arg, user=user))
        else:
            answers.append(p.flows.transfer(task["id"], arg, user=user))
    with p.db.transaction(write=False) as conn:
        tasks = [
            {k: v for k, v in r.items() if k not in ("created_on", "completed_on")}
            for r in conn.execute(select(flow_tasks).order_by(flow_tasks.c.id)).mappings()
        ]
        tokens = [
            {k: v for k, v in r.items() if k not in ("created_on", "ended_on")}
            for r in conn.execute(select(flow_tokens).order_by(flow_tokens.c.id)).mappings()
        ]
        events = [
            (r.kind, r.node, r.token_id, r.actor, r.data)
            for r in conn.execute(select(flow_events).order_by(flow_events.c.id))
        ]
        instance = conn.execute(
            select(flow_instances.c.status, flow_instances.c.outcome, flow_instances.c.version)
            .where(flow_instances.c.id == inst["id"])
        ).one()  # fmt: skip
    return {"answers": answers, "tasks": tasks, "tokens": tokens, "events": events,
            "instance": tuple(instance)}  # fmt: skip


def _run_fresh(folder: Any, definition: dict[str, Any], amount: int, actions: list) -> dict:
    """:func:`_run` on a new platform over a fresh database in ``folder``."""
    folder.mkdir()
    with database_url(folder) as url:
        p = Platform(url)
        try:
            return _run(p, definition, amount, actions)
        finally:
            p.close()


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_skipping_the_cancel_leaves_what_the_general_path_leaves(scenario, tmp_path, monkeypatch):
    definition, amount, actions = SCENARIOS[scenario]
    original = runtime_module.Runtime.__init__

    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        self.no_open_tasks = _NeverKnown()

    results = []
    for general in (False, True):
        if general:
            monkeypatch.setattr(runtime_module.Runtime, "__init__", init)
        folder = tmp_path / ("general" if general else "shortcut")
        results.append(_run_fresh(folder, definition, amount, actions))
    shortcut, general_path = results
    assert shortcut == general_path
    assert shortcut["instance"][0] in ("running", "completed")


def test_a_task_completed_with_others_open_still_cancels_them(platform):
    p = platform
    save(p, DEAL)
    for name in ("bob", "carol"):
        p.users.add(name)
    p.flows.publish(flow(ANY_OF_TWO), user="admin")
    deal = p.records("deal").create({"title": "Deal", "amount": 1})
    inst = p.flows.start("any_of_two", record=("deal", deal["id"]), user="alice")
    (task,) = p.flows.tasks(user="bob")
    p.flows.complete(task["id"], "approve", user="bob")
    statuses = {t["assignee"]: t["status"] for t in p.flows.tasks(instance=inst["id"], status=None)}
    assert statuses == {"bob": "completed", "carol": "cancelled"}


# -- fixed statements ------------------------------------------------------------------

_SAMPLE = {
    "b_id": 7, "b_version": 2, "b_read": 3, "b_token": 5, "b_instance": 4, "b_now": None,
    "status": "done", "outcome": "approve", "comment": None, "completed_by": "bob",
    "version": 4, "state": '{"a":1}', "node": "step", "via": 1, "instance_id": 4,
    "kind": "entered", "data": None, "actor": "bob", "token_id": 5,
}  # fmt: skip

_DIALECTS = {"sqlite": sqlite.dialect(), "postgresql": postgresql.dialect()}
_STATEMENTS = {name: v for name, v in vars(stm).items() if isinstance(v, Fixed)}


@pytest.mark.parametrize("dialect", list(_DIALECTS))
@pytest.mark.parametrize("name", sorted(_STATEMENTS))
def test_plain_parameters_are_the_general_paths(name, dialect):
    fixed = _STATEMENTS[name]
    conn = SimpleNamespace(dialect=_DIALECTS[dialect])
    keys = ["status", "outcome", "version"] if fixed.by_keys else []
    if fixed is stm.INSERT_EVENT:
        keys = ["instance_id", "kind", "node", "token_id", "actor", "data"]
    values = {**_SAMPLE, **{k: _SAMPLE[k] for k in keys}}
    compiled = fixed._compiled(conn, keys)
    given = {k: values.get(k) for k in compiled.order}
    fast = compiled.params(given)
    plain, compiled.plain = compiled.plain, False
    try:
        assert compiled.params(given) == fast
    finally:
        compiled.plain = plain


@pytest.mark.parametrize("dialect", list(_DIALECTS))
def test_the_order_of_given_keys_does_not_change_the_statement(dialect):
    conn = SimpleNamespace(dialect=_DIALECTS[dialect])
    one = stm.UPDATE_TOKEN._compiled(conn, ["b_id", "status", "ended_on"])
    other = stm.UPDATE_TOKEN._compiled(conn, ["ended_on", "b_id", "status"])
    assert one.sql == other.sql and one.order == other.order


# -- the transaction around a step -------------------------------------------------------
#
# On SQLite, Database.transaction begins and commits on the driver; a statement run through
# SQLAlchemy inside begins SQLAlchemy's own transaction on top. Each way must commit, roll
# back and keep savepoints as SQLAlchemy's transaction does (on PostgreSQL it is that one).


def _comment_count(p: Platform) -> int:
    with p.db.transaction(write=False) as conn:
        return len(conn.execute(select(flow_events.c.id).where(flow_events.c.kind == "note")).all())


def _note(conn: Any, through_sqlalchemy: bool) -> None:
    """One history row, through the step's driver cursor or through ``Connection.execute``."""
    row = {"instance_id": 1, "at": dt.datetime(2026, 1, 1, tzinfo=dt.UTC), "kind": "note", "node": None,
           "token_id": None, "actor": None, "data": None}  # fmt: skip
    if through_sqlalchemy:
        conn.execute(insert(flow_events).values(row))
    else:
        stm.INSERT_EVENT.run(conn, row)


class _Boom(Exception):
    pass


@pytest.mark.parametrize("through_sqlalchemy", [False, True])
def test_a_transaction_commits_or_rolls_back_whole(platform, through_sqlalchemy):
    p = platform
    done: list[str] = []
    with p.db.transaction() as conn:
        _note(conn, through_sqlalchemy)
        _note(conn, not through_sqlalchemy)
        p.db.after_commit(lambda: done.append("committed"))
    assert _comment_count(p) == 2 and done == ["committed"]
    with pytest.raises(_Boom), p.db.transaction() as conn:
        _note(conn, through_sqlalchemy)
        with p.db.transaction() as inner:  # joins the open one
            _note(inner, not through_sqlalchemy)
        p.db.after_commit(lambda: done.append("never"))
        raise _Boom()
    assert _comment_count(p) == 2 and done == ["committed"]
    with p.db.transaction() as conn:  # the connection went back clean: a new one works
        _note(conn, through_sqlalchemy)
    assert _comment_count(p) == 3


def test_a_savepoint_inside_keeps_the_outer_transaction(platform):
    p = platform
    with p.db.transaction() as conn:
        _note(conn, False)
        with pytest.raises(_Boom), conn.begin_nested():
            _note(conn, True)
            raise _Boom()
        _note(conn, True)
    assert _comment_count(p) == 2


def test_a_read_transaction_sees_committed_rows(platform):
    p = platform
    with p.db.transaction(write=False) as conn:
        assert conn.execute(select(flow_events.c.id)).all() == []
    with p.db.transaction() as conn:
        _note(conn, False)
    assert _comment_count(p) == 1
