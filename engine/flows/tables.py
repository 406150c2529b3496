"""The flow runtime's tables: instances, tokens, tasks, timers, events and the command log.

They sit on ``system_metadata`` so a platform creates them with its other
system tables. The spec (the graph) is not here: it is a metadata version in
``ts_meta_version``; an instance names the version and hash it started on, so
a later publish never changes a running instance.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, Column, Index, Integer, String, Table, Text, inspect, text
from sqlalchemy.schema import CreateIndex

from engine.store.system import system_metadata
from engine.store.types import IdType, UTCDateTime

# One row per running or finished flow. ``version`` is the optimistic lock:
# every step bumps it with ``WHERE version = <read>``, so two steps on one
# instance cannot both commit.
flow_instances = Table(
    "ts_flow_instance",
    system_metadata,
    Column("id", IdType, primary_key=True, autoincrement=True),
    Column("flow", String(128), nullable=False),
    Column("flow_version", Integer, nullable=False),
    Column("flow_hash", String(64), nullable=False),
    Column("entity", String(64)),
    Column("record_id", BigInteger),
    # running | completed | rejected | cancelled | withdrawn | failed
    Column("status", String(16), nullable=False),
    Column("outcome", String(64)),
    Column("started_by", String(64)),
    Column("started_on", UTCDateTime, nullable=False),
    # A sub-flow's instance names the instance and token that wait for it.
    Column("parent_id", BigInteger),
    Column("parent_token_id", BigInteger),
    Column("ended_on", UTCDateTime),
    Column("error", Text),
    Column("version", Integer, nullable=False, default=1),
    Index("ix_flow_instance_record", "entity", "record_id"),
)

# Where the instance is: one row per token. ``via`` is the index of the edge
# the token arrived by (joins count arrivals per incoming edge).
flow_tokens = Table(
    "ts_flow_token",
    system_metadata,
    Column("id", IdType, primary_key=True, autoincrement=True),
    Column("instance_id", BigInteger, nullable=False),
    Column("node", String(128), nullable=False),
    Column("via", Integer),
    # active | waiting | done | cancelled
    Column("status", String(16), nullable=False),
    Column("state", Text),  # JSON the node type keeps between enter and signal
    Column("created_on", UTCDateTime, nullable=False),
    Column("ended_on", UTCDateTime),
    # How often the token moved on: a token leaving a node by one edge whose type
    # left nothing open there moves to the next node (``NodeType.moves_on``) rather
    # than ending; (id, visit) names one stay at one node, as tasks and events say.
    Column("visit", Integer, nullable=False, server_default=text("0")),
    # An instance's tokens, by instance alone: a token's status changes in most steps
    # (at its end if not before), and a status in the key rewrote the entry, a page
    # per commit; a reader of live tokens checks the status on the instance's few rows.
    Index("ix_flow_token_of_instance", "instance_id"),
)

# Human work: approvals and tasks. ``version`` guards completion: the update
# that completes it requires ``status = 'open'``, so of two people acting at
# once exactly one wins.
flow_tasks = Table(
    "ts_flow_task",
    system_metadata,
    Column("id", IdType, primary_key=True, autoincrement=True),
    Column("instance_id", BigInteger, nullable=False),
    Column("token_id", BigInteger, nullable=False),
    Column("node", String(128), nullable=False),
    Column("kind", String(32), nullable=False),  # approval | task | a plugin's word
    Column("label", Text),
    Column("assignee", String(64)),
    Column("role", String(64)),
    Column("outcomes", Text, nullable=False),  # JSON list of allowed outcomes
    Column("status", String(16), nullable=False),  # open | completed | cancelled
    Column("outcome", String(64)),
    Column("comment", Text),
    Column("completed_by", String(64)),
    Column("created_on", UTCDateTime, nullable=False),
    Column("completed_on", UTCDateTime),
    Column("due_on", UTCDateTime),
    Column("version", Integer, nullable=False, default=1),
    Column("visit", Integer, nullable=False, server_default=text("0")),  # the token's visit
    # An inbox: ``(assignee = ? AND status = 'open') OR (role IN (...) AND status =
    # 'open')``, as ``FlowService.tasks`` asks it (SQLite's multi-index OR, PostgreSQL's
    # BitmapOr; 'open' is written in the SQL, so a generic plan uses them). Each
    # holds the open tasks that name one, nothing else: closing a task takes its
    # entry out of a small index (keeping a closed task's entry, under its new
    # status, rewrote it elsewhere in the person's history), and a person's task
    # never touches the role index. A person's closed tasks ("tasks I handled") are
    # in neither: such a view needs an index of its own (e.g. on completed_by).
    Index(
        "ix_flow_task_open_assignee",
        "assignee",
        sqlite_where=text("assignee IS NOT NULL AND status = 'open'"),
        postgresql_where=text("assignee IS NOT NULL AND status = 'open'"),
    ),
    Index(
        "ix_flow_task_open_role",
        "role",
        sqlite_where=text("role IS NOT NULL AND status = 'open'"),
        postgresql_where=text("role IS NOT NULL AND status = 'open'"),
    ),
    # An instance's tasks, and a step's look at the open tasks of its token (the
    # statements name the instance too): one instance's entries share a leaf, so a
    # step that closes one task and opens the next writes one page of it.
    Index("ix_flow_task_step", "instance_id", "token_id", "status"),
)

#: indexes of earlier versions that :func:`migrate` drops from an existing database
OLD_INDEXES = {
    "ts_flow_token": ("ix_flow_token_instance",),
    "ts_flow_task": (
        "ix_flow_task_assignee",
        "ix_flow_task_role",
        "ix_flow_task_instance",
        "ix_flow_task_token",
        "ix_flow_task_assignee_open",
        "ix_flow_task_role_open",
    ),
}

# Durable timers; the job runner calls ``p.flows.tick(now)`` to fire due ones.
flow_timers = Table(
    "ts_flow_timer",
    system_metadata,
    Column("id", IdType, primary_key=True, autoincrement=True),
    Column("instance_id", BigInteger, nullable=False),
    Column("token_id", BigInteger, nullable=False),
    Column("node", String(128), nullable=False),
    Column("due_on", UTCDateTime, nullable=False),
    Column("status", String(16), nullable=False),  # pending | fired | cancelled
    Index("ix_flow_timer_due", "status", "due_on"),
)

# The path actually taken: every step appends here (``p.flows.instance(id)``).
flow_events = Table(
    "ts_flow_event",
    system_metadata,
    Column("id", IdType, primary_key=True, autoincrement=True),
    Column("instance_id", BigInteger, nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("kind", String(32), nullable=False),
    Column("node", String(128)),
    Column("token_id", BigInteger),
    Column("actor", String(64)),
    Column("data", Text),  # JSON
    Column("visit", Integer, nullable=False, server_default=text("0")),  # the token's visit
    # ``entered``: the edge the token came by (a moved token's row keeps its last only)
    Column("via", Integer),
    Index("ix_flow_event_instance", "instance_id"),
)

# Idempotency: a command id seen once is answered from here, not run again.
flow_commands = Table(
    "ts_flow_command",
    system_metadata,
    Column("command_id", String(128), primary_key=True),
    Column("kind", String(32), nullable=False),
    Column("instance_id", BigInteger),
    Column("result", Text, nullable=False),  # JSON
    Column("created_on", UTCDateTime, nullable=False),
)


#: columns later versions added, by table: (name, SQL type and default for ADD COLUMN)
NEW_COLUMNS = {
    "ts_flow_token": (("visit", "INTEGER NOT NULL DEFAULT 0"),),
    "ts_flow_task": (("visit", "INTEGER NOT NULL DEFAULT 0"),),
    "ts_flow_event": (("visit", "INTEGER NOT NULL DEFAULT 0"), ("via", "INTEGER")),
}


def migrate(conn: Any) -> None:
    """Bring an existing database's flow columns and indexes to the ones declared here.

    ``create_all`` makes missing tables only: a database made before a column or
    an index changed kept the old shape. This adds the columns later versions
    added (existing rows get the default: visit 0 is a token's first), drops the
    indexes earlier versions made and creates the declared ones it lacks, in the
    caller's transaction; run once per platform (``FlowService``), a no-op on an
    up-to-date database.
    """
    found = inspect(conn)
    for table_name, columns in NEW_COLUMNS.items():
        have_columns = {c["name"] for c in found.get_columns(table_name)}
        for name, ddl in columns:
            if name not in have_columns:
                # PostgreSQL: two processes opening the database at once may both add it
                guard = "IF NOT EXISTS " if conn.dialect.name == "postgresql" else ""
                conn.execute(text(f"ALTER TABLE {table_name} ADD COLUMN {guard}{name} {ddl}"))
    for table in (flow_instances, flow_tokens, flow_tasks, flow_timers, flow_events):
        have = {i["name"] for i in found.get_indexes(table.name)}
        for name in OLD_INDEXES.get(table.name, ()):
            if name in have:
                # IF EXISTS / IF NOT EXISTS: two processes opening the database at
                # once may both have seen the old set
                quoted = conn.dialect.identifier_preparer.quote(name)
                conn.execute(text(f"DROP INDEX IF EXISTS {quoted}"))
        for index in table.indexes:
            if index.name not in have:
                conn.execute(CreateIndex(index, if_not_exists=True))


__all__ = [
    "NEW_COLUMNS",
    "OLD_INDEXES",
    "flow_commands",
    "flow_events",
    "flow_instances",
    "flow_tasks",
    "flow_timers",
    "flow_tokens",
    "migrate",
]
