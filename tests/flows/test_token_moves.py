"""A token leaving an approval by one edge moves on instead of ending, and nothing else changes.

The runtime moves a token whose node type left nothing open
(``NodeType.moves_on``) to the next node as a new visit: one row written, no
INSERT. Each scenario is played both ways (``Approval.moves_on`` on and off)
and must leave the same history, tasks, instance and taken edges; only the
token rows and the ids and visits that name them differ. A token column set
back to its stored value is left out of the write: the rows must be the same
as with every change written. An older database gets the visit columns.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select, text

from engine import Platform
from engine.flows import runtime as runtime_module
from engine.flows import statements as stm
from engine.flows.nodes.approval import Approval
from engine.flows.tables import NEW_COLUMNS, flow_events, flow_tasks, flow_tokens
from tests.conftest import database_url
from tests.floor_defs import save
from tests.flows.defs import APPROVAL, DEAL
from tests.flows.test_step_shortcuts import SCENARIOS, _approval

#: two approvals in a row; a rejection of the second goes back to the first
TWO_STEPS: dict[str, Any] = {
    "name": "two_steps",
    "label": "two steps",
    "entity": "deal",
    "nodes": {
        "start": {"type": "start"},
        "first": {"type": "approval", "config": {"approvers": {"user": "bob"}}},
        "second": {"type": "approval", "config": {"approvers": {"user": "carol"}}},
        "back": {"type": "exclusive"},
        "end": {"type": "end", "config": {"outcome": "approved"}},
    },
    "edges": [
        ["start", "first"],
        ["first", "second"],
        ["second", "end"],
        {"from": "second", "to": "back", "outcome": "reject"},
        {"from": "back", "to": "first", "default": True},
    ],
}

MORE = {
    "director path": (APPROVAL, 900_000, [("complete", "bob", "approve"),
                                          ("complete", "dave", "approve")]),
    "two steps, back once": (TWO_STEPS, 10, [("complete", "bob", "approve"),
                                             ("complete", "carol", "reject"),
                                             ("complete", "bob", "approve"),
                                             ("complete", "carol", "approve")]),
    "timeout escalates": (_approval("escalating", approvers={"user": "bob"},
                                    timeout={"after": "1h", "action": "escalate",
                                             "to": {"user": "carol"}}),
                          10, [("tick", "", ""), ("complete", "carol", "approve")]),
    "timeout approves": (_approval("auto_ok", approvers={"user": "bob"},
                                   timeout={"after": "1h", "action": "approve"}),
                         10, [("tick", "", "")]),
}  # fmt: skip
ALL = {**SCENARIOS, **MORE}


def _play(p: Platform, definition: dict[str, Any], amount: int, actions: list) -> dict[str, Any]:
    """Play ``actions``; return what must not depend on moving tokens, and the token rows."""
    import datetime as dt

    save(p, DEAL)
    for name in ("alice", "bob", "carol", "dave"):
        p.users.add(name, roles=["director"] if name == "dave" else [])
    p.flows.publish(definition, user="admin")
    deal = p.records("deal").create({"title": "Deal", "amount": amount})
    inst = p.flows.start(definition["name"], record=("deal", deal["id"]), user="alice")
    answers = []
    for verb, user, arg in actions:
        if verb == "tick":
            answers.append(p.flows.tick(p.clock.now() + dt.timedelta(hours=2)))
            continue
        (task, *_rest) = p.flows.tasks(user=user, roles=["director"] if user == "dave" else [])
        if verb == "complete":
            answers.append(p.flows.complete(task["id"], arg, user=user))
        elif verb == "add_signer":
            answers.append(p.flows.add_signer(task["id"], arg, user=user))
        else:
            answers.append(p.flows.transfer(task["id"], arg, user=user))
    done = p.flows.instance(inst["id"])
    with p.db.transaction(write=False) as conn:
        tokens = [
            dict(r) for r in conn.execute(select(flow_tokens).order_by(flow_tokens.c.id)).mappings()
        ]
        tasks = [
            dict(r) for r in conn.execute(select(flow_tasks).order_by(flow_tasks.c.id)).mappings()
        ]
    quiet = ("id", "token_id", "visit", "via", "at", "created_on", "completed_on", "due_on")
    for event in done["history"]:  # a timer's due time follows the clock of the run
        if event["kind"] == "timer_set":
            event["data"] = None
    return {
        "answers": answers,
        "status": (done["status"], done["outcome"], done["version"]),
        "history": [{k: v for k, v in e.items() if k not in quiet} for e in done["history"]],
        "tasks": [{k: v for k, v in t.items() if k not in quiet} for t in tasks],
        # the diagram's taken edges: every token's edge and every visit's
        "taken": {t["via"] for t in tokens if t["via"] is not None}
        | {e["via"] for e in done["history"] if e["via"] is not None},
        "live": sorted(t["node"] for t in tokens if t["status"] in ("active", "waiting")),
        "tokens": tokens,
        "raw_history": done["history"],
        "raw_tasks": tasks,
    }


def _fresh(folder: Any, scenario: str) -> dict[str, Any]:
    folder.mkdir()
    with database_url(folder) as url:
        p = Platform(url)
        try:
            return _play(p, *ALL[scenario])
        finally:
            p.close()


_SAME = ("answers", "status", "history", "tasks", "taken", "live")


@pytest.mark.parametrize("scenario", list(ALL))
def test_moving_the_token_leaves_what_ending_it_leaves(scenario, tmp_path, monkeypatch):
    moved = _fresh(tmp_path / "moved", scenario)
    monkeypatch.setattr(Approval, "moves_on", False)
    ended = _fresh(tmp_path / "ended", scenario)
    assert {k: moved[k] for k in _SAME} == {k: ended[k] for k in _SAME}
    assert len(moved["tokens"]) <= len(ended["tokens"])
    # every task and event names the visit its token was on: the visit's node
    visits = {}
    for event in moved["raw_history"]:
        if event["kind"] == "entered":
            visits[(event["token_id"], event["visit"])] = event["node"]
    for task in moved["raw_tasks"]:
        assert visits[(task["token_id"], task["visit"])] == task["node"]
    for event in moved["raw_history"]:
        if event["token_id"] is not None:
            assert visits[(event["token_id"], event["visit"])] == event["node"], event


def test_a_token_moves_through_approvals_and_ends_where_a_gateway_is(tmp_path):
    moved = _fresh(tmp_path / "moved", "two steps, back once")
    # the start's token; one from first through second to the gateway; one from first
    # through second to the end (a gateway's token ends: its type may split)
    assert [(t["node"], t["status"], t["visit"]) for t in moved["tokens"]] == [
        ("start", "done", 0), ("back", "done", 2), ("end", "done", 2)]  # fmt: skip
    entered = [(e["node"], e["visit"]) for e in moved["raw_history"] if e["kind"] == "entered"]
    assert entered == [("start", 0), ("first", 0), ("second", 1), ("back", 2), ("first", 0),
                       ("second", 1), ("end", 2)]  # fmt: skip


def test_a_tokens_tasks_are_those_of_its_visit(tmp_path):
    folder = tmp_path / "db"
    folder.mkdir()
    with database_url(folder) as url:
        p = Platform(url)
        try:
            _play(p, TWO_STEPS, 10, [("complete", "bob", "approve")])
            (open_task,) = p.flows.tasks(user="carol")
            with p.db.transaction(write=False) as conn:
                token = stm.TOKEN_BY_ID.first(conn, {"b_id": open_task["token_id"]})
                assert (token["node"], token["visit"], open_task["visit"]) == ("second", 1, 1)
                of = {"b_instance": token["instance_id"], "b_token": token["id"]}
                now = stm.TASKS_OF_TOKEN.rows(conn, {**of, "b_visit": 1})
                assert [r["id"] for r in now] == [open_task["id"]]
                earlier = stm.TASKS_OF_TOKEN.rows(conn, {**of, "b_visit": 0})
                assert [(r["node"], r["status"]) for r in earlier] == [("first", "completed")]
        finally:
            p.close()


@pytest.mark.parametrize("scenario", list(ALL))
def test_leaving_unchanged_token_columns_out_leaves_the_same_rows(scenario, tmp_path, monkeypatch):
    quick = _fresh(tmp_path / "quick", scenario)
    original = runtime_module.Runtime.__init__

    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        self.skip_unchanged = False

    monkeypatch.setattr(runtime_module.Runtime, "__init__", init)
    every = _fresh(tmp_path / "every", scenario)
    for key in ("tokens", "raw_tasks", "raw_history"):
        strip = ("created_on", "ended_on", "completed_on", "at", "due_on")
        assert [{k: v for k, v in r.items() if k not in strip} for r in quick[key]] == [
            {k: v for k, v in r.items() if k not in strip} for r in every[key]
        ]
    assert quick["status"] == every["status"]


def test_an_older_database_gets_the_visit_columns(tmp_path):
    with database_url(tmp_path) as url:
        p = Platform(url)
        try:
            save(p, DEAL)
            p.users.add("bob")
            p.users.add("carol")
            p.flows.publish(TWO_STEPS, user="admin")
            deal = p.records("deal").create({"title": "Deal", "amount": 10})
            p.flows.start("two_steps", record=("deal", deal["id"]), user="alice")
            # Turn the tables back into what an earlier version made, rows kept.
            with p.db.transaction() as conn:
                for table, columns in NEW_COLUMNS.items():
                    for name, _ddl in columns:
                        conn.execute(text(f"ALTER TABLE {table} DROP COLUMN {name}"))
        finally:
            p.close()
        p = Platform(url)  # p.flows opens: the columns are added, old rows at visit 0
        try:
            (task,) = p.flows.tasks(user="bob")
            assert task["visit"] == 0
            p.flows.complete(task["id"], "approve", user="bob")
            (task,) = p.flows.tasks(user="carol")
            assert task["visit"] == 1  # the token entered first at visit 0 (before), moved once
            assert p.flows.complete(task["id"], "approve", user="carol")["status"] == "completed"
            with p.db.transaction(write=False) as conn:
                kinds = [r.kind for r in conn.execute(select(flow_events.c.kind))]
            assert kinds[0] == "started" and kinds[-1] == "completed"
        finally:
            p.close()
        p = Platform(url)  # a second opening finds nothing to do
        try:
            assert p.flows.tasks(status=None)
        finally:
            p.close()


def _without_visits(src: Any, dst: Any) -> None:
    """Rewrite a backup as a version before the visit columns would have written it."""
    import hashlib
    import zipfile

    import orjson

    with zipfile.ZipFile(src) as old, zipfile.ZipFile(dst, "w") as new:
        manifest = orjson.loads(old.read("manifest.json"))
        for name, member in manifest["members"].items():
            data = old.read(name)
            dropped = [c for c, _ddl in NEW_COLUMNS.get(member["table"], ())]
            if dropped:
                keep = [i for i, c in enumerate(member["columns"]) if c not in dropped]
                lines = [orjson.loads(line) for line in data.splitlines() if line]
                data = b"".join(orjson.dumps([row[i] for i in keep]) + b"\n" for row in lines)
                member["columns"] = [member["columns"][i] for i in keep]
                member["sha256"] = hashlib.sha256(data).hexdigest()
            new.writestr(name, data)
        new.writestr("manifest.json", orjson.dumps(manifest))


def test_a_backup_made_before_the_visit_columns_restores_and_runs_on(db_url, tmp_path):
    from engine.store.backup import backup, restore

    folder = tmp_path / "source"
    folder.mkdir()
    with database_url(folder) as url:
        p = Platform(url)
        try:
            _play(p, TWO_STEPS, 10, [])
            backup(p, tmp_path / "new.zip")
        finally:
            p.close()
    _without_visits(tmp_path / "new.zip", tmp_path / "old.zip")
    target = Platform(db_url)
    try:
        restore(target, tmp_path / "old.zip")
        (task,) = target.flows.tasks(user="bob")
        assert task["visit"] == 0
        target.flows.complete(task["id"], "approve", user="bob")
        (task,) = target.flows.tasks(user="carol")
        assert task["visit"] == 1
        done = target.flows.complete(task["id"], "approve", user="carol")
        assert (done["status"], done["instance_outcome"]) == ("completed", "approved")
    finally:
        target.close()
