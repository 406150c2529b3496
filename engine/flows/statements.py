"""Statements the runtime runs on every step, built once and run below ``Connection.execute``.

SQLAlchemy compiles a statement once per shape, but building it (coercing
each column and value), computing its cache key and setting up a result
happen on every call; on a step of a dozen statements that was most of the
time. These are made at import with bound parameters and wrapped in
:class:`~engine.flows.fastsql.Fixed`, which compiles each once per dialect
and runs it on the step's DBAPI cursor, so a call costs the driver's work
and the parameter binding only.

Update statements name their row with a ``b_``-prefixed parameter; the other
parameters given with them become the SET clause.
"""

from __future__ import annotations

from sqlalchemy import bindparam, case, func, insert, or_, select, update

from engine.flows.fastsql import Fixed
from engine.flows.tables import flow_events, flow_instances, flow_tasks, flow_timers, flow_tokens

LIVE = ("active", "waiting")

#: one ``executemany`` per step for the history (see ``Runtime.flush``)
INSERT_EVENT = Fixed(insert(flow_events), by_keys=True)
INSERT_TOKEN = Fixed(insert(flow_tokens).returning(flow_tokens.c.id), by_keys=True)
INSERT_TASK = Fixed(insert(flow_tasks).returning(flow_tasks.c.id), by_keys=True)

#: ``{"b_id": token id, <column>: value, ...}``
UPDATE_TOKEN = Fixed(update(flow_tokens).where(flow_tokens.c.id == bindparam("b_id")), by_keys=True)
TOKEN_BY_ID = Fixed(select(flow_tokens).where(flow_tokens.c.id == bindparam("b_id")))
# Spelled with OR: an IN list is expanded per call, which a fixed statement cannot be.
LIVE_TOKEN_OF = Fixed(
    select(flow_tokens.c.id)
    .where(
        flow_tokens.c.instance_id == bindparam("b_instance"),
        or_(flow_tokens.c.status == "active", flow_tokens.c.status == "waiting"),
    )
    .limit(1)
)
LIVE_TOKENS_OF = Fixed(
    select(flow_tokens)
    .where(
        flow_tokens.c.instance_id == bindparam("b_instance"),
        or_(flow_tokens.c.status == "active", flow_tokens.c.status == "waiting"),
    )
    .order_by(flow_tokens.c.id)
)
WAITING_TOKENS_OF = Fixed(
    select(flow_tokens)
    .where(flow_tokens.c.instance_id == bindparam("b_instance"), flow_tokens.c.status == "waiting")
    .order_by(flow_tokens.c.id)
)

INSTANCE_BY_ID = Fixed(select(flow_instances).where(flow_instances.c.id == bindparam("b_id")))
#: the optimistic lock: ``{"b_id": ..., "b_read": read version, "version": read + 1, ...}``;
#: other columns given (status, outcome, ended_on) are written in the same UPDATE
BUMP_INSTANCE = Fixed(
    update(flow_instances).where(
        flow_instances.c.id == bindparam("b_id"), flow_instances.c.version == bindparam("b_read")
    ),
    by_keys=True,
)
#: ``{"b_id": ..., <column>: value}`` without the lock (a row this step created or must show now)
UPDATE_INSTANCE = Fixed(
    update(flow_instances).where(flow_instances.c.id == bindparam("b_id")), by_keys=True
)

#: (row key, instance key) and (row key, token key) of :data:`TASK_FOR_STEP`'s columns
INSTANCE_KEYS = tuple((f"i_{c.name}", c.name) for c in flow_instances.c)
TOKEN_KEYS = tuple((f"k_{c.name}", c.name) for c in flow_tokens.c)
#: how ``Fixed.first_parts`` splits a :data:`TASK_FOR_STEP` row: the task, its
#: instance, its token and the count of the token's other open tasks (``open``)
STEP_PREFIXES = ("i_", "k_", "o_")

TASK_BY_ID = Fixed(select(flow_tasks).where(flow_tasks.c.id == bindparam("b_id")))

_other_task = flow_tasks.alias("other_task")
#: What completing a task needs, in one read: the task (its own column names), its
#: instance (``i_`` + column), its token (``k_`` + column) and ``o_open``, how many
#: other tasks of the token are open (none: the step need not look for any to cancel).
TASK_FOR_STEP = Fixed(
    select(
        flow_tasks,
        *[c.label(f"i_{c.name}") for c in flow_instances.c],
        *[c.label(f"k_{c.name}") for c in flow_tokens.c],
        select(func.count())
        .where(
            _other_task.c.instance_id == flow_tasks.c.instance_id,
            _other_task.c.token_id == flow_tasks.c.token_id,
            _other_task.c.status == "open",
            _other_task.c.id != flow_tasks.c.id,
        )
        .scalar_subquery()
        .label("o_open"),
    )
    .select_from(
        flow_tasks.outerjoin(
            flow_instances, flow_instances.c.id == flow_tasks.c.instance_id
        ).outerjoin(flow_tokens, flow_tokens.c.id == flow_tasks.c.token_id)
    )
    .where(flow_tasks.c.id == bindparam("b_id"))
)
#: completes an open task at the version read: ``{"b_id", "b_version", <columns>}``
CLOSE_OPEN_TASK = Fixed(
    update(flow_tasks).where(
        flow_tasks.c.id == bindparam("b_id"),
        flow_tasks.c.status == "open",
        flow_tasks.c.version == bindparam("b_version"),
    ),
    by_keys=True,
)
# The token's statements name its instance as well: ``ix_flow_task_step`` leads with it.
TASKS_OF_TOKEN = Fixed(
    select(flow_tasks)
    .where(
        flow_tasks.c.instance_id == bindparam("b_instance"),
        flow_tasks.c.token_id == bindparam("b_token"),
        flow_tasks.c.visit == bindparam("b_visit"),
    )
    .order_by(flow_tasks.c.id)
)
# The open-task statements below need no visit: a token moves on only from a node
# that closed its tasks (``NodeType.moves_on``), so every open task is of its visit.
#: the kind of one open task of a token, a signer's first (none: no row)
_OPEN_TASKS_OF_TOKEN = select(flow_tasks.c.kind).where(
    flow_tasks.c.instance_id == bindparam("b_instance"),
    flow_tasks.c.token_id == bindparam("b_token"),
    flow_tasks.c.status == "open",
)
#: One open task of a token, a signer's first: reads every open task of the token to
#: order them, so only a step that signers were added to asks it.
OPEN_TASK_OF_TOKEN = Fixed(
    _OPEN_TASKS_OF_TOKEN.order_by(case((flow_tasks.c.kind == "signer", 0), else_=1)).limit(1)
)
#: Any one open task of a token: the first row of the step index, whatever the number
#: of open tasks (a 200-person countersign's first step reads one row, as its last).
ANY_OPEN_TASK_OF_TOKEN = Fixed(_OPEN_TASKS_OF_TOKEN.limit(1))
CANCEL_TASKS_OF_TOKEN = Fixed(
    update(flow_tasks)
    .where(
        flow_tasks.c.instance_id == bindparam("b_instance"),
        flow_tasks.c.token_id == bindparam("b_token"),
        flow_tasks.c.status == "open",
    )
    .values(status="cancelled", completed_on=bindparam("b_now"), version=flow_tasks.c.version + 1)
)
CANCEL_TIMERS_OF_TOKEN = Fixed(
    update(flow_timers)
    .where(flow_timers.c.token_id == bindparam("b_token"), flow_timers.c.status == "pending")
    .values(status="cancelled")
)
