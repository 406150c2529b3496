"""The fixed reads of a step and of the inbox give what the general queries gave.

``p.flows.tasks`` without roles reads through a fixed statement
(``service._inbox_read``) and the command log through ``steps.COMMAND_RESULT``;
these tests hold them to the SQLAlchemy queries they replace, on every
filter combination, and check that a lost race on a command id (the driver's
own IntegrityError, not SQLAlchemy's) is still answered from the log.
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from sqlalchemy import func, or_, select

from engine.flows import steps
from engine.flows.service import _task_view
from engine.flows.tables import flow_commands, flow_tasks
from tests.flows.defs import APPROVAL, general_rows


@pytest.fixture
def approval(p):
    for name in ("alice", "bob", "carol", "dave"):
        p.users.add(name, roles=["director"] if name == "dave" else [])
    labelled = {**APPROVAL, "nodes": dict(APPROVAL["nodes"])}
    labelled["nodes"]["manager"] = {
        "type": "approval",
        "config": {"approvers": {"user": "bob"}, "label": {"en": "Manager", "zh-CN": "经理"}},
    }
    p.flows.publish(labelled, user="admin")
    return p


def _start(p: Any, amount: int) -> dict[str, Any]:
    deal = p.records("deal").create({"title": "Deal", "amount": amount})
    return p.flows.start("deal_approval", record=("deal", deal["id"]), user="alice")


def _general(p: Any, user: str | None, instance: int | None, status: str | None) -> list:
    """The query ``FlowService.tasks`` ran before its fixed reads."""
    stmt = select(flow_tasks).order_by(flow_tasks.c.id)
    if status is not None:
        stmt = stmt.where(flow_tasks.c.status == status)
    if instance is not None:
        stmt = stmt.where(flow_tasks.c.instance_id == instance)
    if user is not None:
        stmt = stmt.where(or_(flow_tasks.c.assignee == user))
    with p.db.transaction(write=False) as conn:
        return [_task_view(r) for r in conn.execute(stmt).mappings()]


def test_the_inbox_read_gives_the_general_querys_rows(approval):
    p = approval
    first = _start(p, 1000)
    big = _start(p, 900_000)
    _start(p, 2000)
    (task,) = p.flows.tasks(user="bob", instance=big["id"])
    p.flows.complete(task["id"], "approve", user="bob", comment="fine")
    (task,) = p.flows.tasks(user="bob", instance=first["id"])
    p.flows.complete(task["id"], "reject", user="bob")
    users = (None, "bob", "dave", "nobody")
    instances = (None, first["id"], big["id"], 10_000)
    statuses = (None, "open", "completed", "cancelled")
    seen = 0
    for user, instance, status in itertools.product(users, instances, statuses):
        got = p.flows.tasks(user, instance=instance, status=status)
        assert got == _general(p, user, instance, status), (user, instance, status)
        seen += len(got)
    assert seen  # rows were compared, not only empty lists
    labelled = p.flows.tasks(status=None)
    assert {"en": "Manager", "zh-CN": "经理"} in [t["label"] for t in labelled]
    assert all(t["created_on"].tzinfo is not None for t in labelled)


def test_roles_still_read_the_general_way(approval):
    p = approval
    big = _start(p, 900_000)
    (task,) = p.flows.tasks(user="bob")
    p.flows.complete(task["id"], "approve", user="bob")
    (director,) = p.flows.tasks(roles=["director"])
    assert director["role"] == "director" and director["instance_id"] == big["id"]
    assert p.flows.tasks("bob", roles=["director"]) == [director]


def test_a_repeated_command_id_gets_the_first_answer(approval):
    p = approval
    _start(p, 1000)
    (task,) = p.flows.tasks(user="bob")
    first = p.flows.complete(task["id"], "approve", user="bob", command_id="c-1")
    again = p.flows.complete(task["id"], "approve", user="bob", command_id="c-1")
    assert again == first and first["status"] == "completed"
    with p.db.transaction(write=False) as conn:
        assert conn.execute(select(func.count()).select_from(flow_commands)).scalar() == 1


def test_a_command_id_stored_by_a_racing_call_is_answered(approval, monkeypatch):
    """The other call's row was not visible when this one looked (as under READ
    COMMITTED): its INSERT fails on the key with the driver's IntegrityError."""
    p = approval
    _start(p, 1000)
    (task,) = p.flows.tasks(user="bob")
    with p.db.transaction() as conn:
        steps.INSERT_COMMAND.run(
            conn,
            {"command_id": "c-race", "kind": "complete", "instance_id": task["instance_id"],
             "result": '{"raced": true}', "created_on": p.clock.now()},
        )  # fmt: skip
    real = steps.COMMAND_RESULT.first
    calls = []

    def unseen_once(conn: Any, values: dict[str, Any]) -> Any:
        calls.append(values)
        return None if len(calls) == 1 else real(conn, values)

    monkeypatch.setattr(steps.COMMAND_RESULT, "first", unseen_once)
    answer = p.flows.complete(task["id"], "approve", user="bob", command_id="c-race")
    assert answer == {"raced": True}
    # the losing step was rolled back: the task is still open
    assert [t["id"] for t in p.flows.tasks(user="bob")] == [task["id"]]


def test_fixed_rows_are_the_general_loops_rows(approval):
    """``Fixed.rows`` builds each row by a function written for the statement; the
    loop over the columns it replaced (``tests.flows.defs.general_rows``) gives the same dicts, types
    included, for every read of a step and of the inbox."""
    from engine.flows import service
    from engine.flows import statements as stm

    p = approval
    big = _start(p, 900_000)
    _start(p, 1000)
    (task,) = p.flows.tasks(user="bob", instance=big["id"])
    p.flows.complete(task["id"], "approve", user="bob", command_id="c-rows")
    p.flows.tasks(user="bob", instance=big["id"], status=None)  # every inbox read made
    p.flows.tasks(instance=big["id"])
    reads = [(stm.TASK_BY_ID, {"b_id": task["id"]}),
             (stm.INSTANCE_BY_ID, {"b_id": big["id"]}),
             (stm.TOKEN_BY_ID, {"b_id": task["token_id"]}),
             (stm.TASKS_OF_TOKEN, {"b_instance": big["id"], "b_token": task["token_id"],
                                   "b_visit": 1}),
             (stm.LIVE_TOKENS_OF, {"b_instance": big["id"]}),
             (stm.WAITING_TOKENS_OF, {"b_instance": big["id"]}),
             (stm.TASK_FOR_STEP, {"b_id": task["id"]}),
             (steps.COMMAND_RESULT, {"b_id": "c-rows"})]  # fmt: skip
    values = {"b_status": "open", "b_instance": big["id"], "b_user": "dave"}
    reads += [(read, values) for read in service._INBOX_READS.values()]
    compared = 0
    with p.db.transaction(write=False) as conn:
        for fixed, given in reads:
            got, want = fixed.rows(conn, given), general_rows(fixed, conn, given)
            assert got == want, fixed.stmt
            assert [{k: type(v) for k, v in r.items()} for r in got] == [
                {k: type(v) for k, v in r.items()} for r in want
            ]
            compared += len(got)
    assert compared >= 10  # most reads found rows
