"""Statements the runtime runs on every step, built once.

SQLAlchemy compiles a statement once per shape, but building it (coercing
each column and value) and computing its cache key happen on every call;
on a step of a dozen statements that is most of the time. These are made
at import with bound parameters and executed with the values, so each call
costs the driver's work and the parameter binding only.

Update statements name their row with a ``b_``-prefixed parameter; the other
parameters given with them become the SET clause.
"""

from __future__ import annotations

from sqlalchemy import bindparam, insert, select, update

from engine.flows.tables import flow_events, flow_instances, flow_tasks, flow_timers, flow_tokens

LIVE = ("active", "waiting")

INSERT_EVENT = insert(flow_events)
INSERT_TOKEN = insert(flow_tokens)
INSERT_TASK = insert(flow_tasks)

#: ``{"b_id": token id, <column>: value, ...}``
UPDATE_TOKEN = update(flow_tokens).where(flow_tokens.c.id == bindparam("b_id"))
TOKEN_BY_ID = select(flow_tokens).where(flow_tokens.c.id == bindparam("b_id"))
LIVE_TOKEN_OF = (
    select(flow_tokens.c.id)
    .where(flow_tokens.c.instance_id == bindparam("b_instance"), flow_tokens.c.status.in_(LIVE))
    .limit(1)
)
WAITING_TOKENS_OF = (
    select(flow_tokens)
    .where(flow_tokens.c.instance_id == bindparam("b_instance"), flow_tokens.c.status == "waiting")
    .order_by(flow_tokens.c.id)
)

INSTANCE_BY_ID = select(flow_instances).where(flow_instances.c.id == bindparam("b_id"))
#: the optimistic lock: ``{"b_id": ..., "b_read": read version, "version": read + 1}``
BUMP_INSTANCE = update(flow_instances).where(
    flow_instances.c.id == bindparam("b_id"), flow_instances.c.version == bindparam("b_read")
)

TASK_BY_ID = select(flow_tasks).where(flow_tasks.c.id == bindparam("b_id"))
#: completes an open task at the version read: ``{"b_id", "b_version", <columns>}``
CLOSE_OPEN_TASK = update(flow_tasks).where(
    flow_tasks.c.id == bindparam("b_id"),
    flow_tasks.c.status == "open",
    flow_tasks.c.version == bindparam("b_version"),
)
TASKS_OF_TOKEN = (
    select(flow_tasks)
    .where(flow_tasks.c.token_id == bindparam("b_token"))
    .order_by(flow_tasks.c.id)
)
CANCEL_TASKS_OF_TOKEN = (
    update(flow_tasks)
    .where(flow_tasks.c.token_id == bindparam("b_token"), flow_tasks.c.status == "open")
    .values(status="cancelled", completed_on=bindparam("b_now"), version=flow_tasks.c.version + 1)
)
CANCEL_TIMERS_OF_TOKEN = (
    update(flow_timers)
    .where(flow_timers.c.token_id == bindparam("b_token"), flow_timers.c.status == "pending")
    .values(status="cancelled")
)
