"""Schedules: pick their records in SQL, each record at most once per period.

``schedule lead_sla on lead every 1h where status == "new" and ...`` runs,
once per hour, over the leads the ``where`` selects. The selection is the
compiled SQL condition (a schedule never loads all rows), minus the records
already claimed for the current period; claiming inserts a row into
``ts_period_mark``, whose primary key makes a second claim of the same
record for the same period impossible, so two workers ticking at once split
the records between them instead of both acting.

Periods are counted from the Unix epoch in whole multiples of ``every``, so
"every 1h" periods start on the hour (UTC) whatever time the worker started.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, exists, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection

from engine.errors import NotFound, error_entry
from engine.rules import ast
from engine.rules.check import Checked
from engine.store.system import period_marks

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def period_of(moment: dt.datetime, every: dt.timedelta) -> int:
    """The number of the period ``moment`` falls in (periods of length ``every`` from the epoch)."""
    seconds = int(every.total_seconds())
    return int((moment - _EPOCH).total_seconds()) // max(seconds, 1)


@dataclass
class ScheduleRun:
    """What one tick of a schedule did: the period, the records it claimed, their actions."""

    schedule: str
    period: int
    claimed: list[int] = field(default_factory=list)
    actions: dict[int, list[dict[str, Any]]] = field(default_factory=dict)


def _loaded_schedule(service: Any, name: str) -> Any:
    loaded = service.rulesets().get(name)
    if loaded is None or loaded.kind != "schedule":
        raise NotFound(
            f"no schedule called {name!r}",
            [error_entry(f"load a .rules file with 'schedule {name} on ...'", field="schedule")],
        )
    return loaded


def _condition(service: Any, loaded: Any, table: Any) -> Any:
    node: ast.Schedule = loaded.compiled.node
    if node.where is None:
        return None
    whole: Checked = loaded.checked
    checked = Checked(
        node=node.where,
        entity=node.entity,
        types=whole.types,
        resolved=whole.resolved,
        paths=whole.paths,
        aggregates=whole.aggregates,
    )
    from engine.rules.compile_sql import compile_condition

    return compile_condition(checked, service.context(), service.tables, table=table)


def due_records(
    service: Any, conn: Connection, name: str, now: dt.datetime, limit: int | None = None
) -> list[int]:
    """Ids the schedule selects now and has not claimed in the current period (oldest first)."""
    loaded = _loaded_schedule(service, name)
    _, table = service.tables(loaded.entity)
    every = loaded.compiled.node.every.value
    period = period_of(now, every)
    claimed = exists(
        select(period_marks.c.record_id).where(
            and_(
                period_marks.c.job == _job(name),
                period_marks.c.period == period,
                period_marks.c.record_id == table.c.id,
            )
        )
    )
    stmt = select(table.c.id).where(~claimed).order_by(table.c.id)
    condition = _condition(service, loaded, table)
    if condition is not None:
        stmt = stmt.where(condition)
    if limit is not None:
        stmt = stmt.limit(limit)
    return list(conn.execute(stmt).scalars())


def claim(conn: Connection, name: str, ids: list[int], period: int, now: dt.datetime) -> list[int]:
    """Claim ``ids`` for ``period``; returns those this caller got (others were taken)."""
    if not ids:
        return []
    rows = [{"job": _job(name), "record_id": i, "period": period, "claimed_on": now} for i in ids]
    insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    stmt = (
        insert(period_marks)
        .values(rows)
        .on_conflict_do_nothing()
        .returning(period_marks.c.record_id)
    )
    return sorted(conn.execute(stmt).scalars())


def run_schedule(
    service: Any,
    db: Any,
    name: str,
    now: dt.datetime,
    *,
    load: Any,
    limit: int | None = None,
) -> ScheduleRun:
    """Claim the due records of one schedule and work out their actions, in one transaction.

    ``load(entity, id)`` reads a record (with its child rows) for the Python
    side, which computes each claimed record's actions; the caller executes
    them (inside the same transaction, or through the outbox).
    """
    loaded = _loaded_schedule(service, name)
    period = period_of(now, loaded.compiled.node.every.value)
    run = ScheduleRun(name, period)
    with db.transaction(write=True) as conn:
        due = due_records(service, conn, name, now, limit)
        run.claimed = claim(conn, name, due, period, now)
        for record_id in run.claimed:
            record = load(loaded.entity, record_id)
            result = service.evaluate(name, record)
            run.actions[record_id] = result["value"]["actions"] if result["value"] else []
    return run


def run_due_schedules(platform: Any, now: dt.datetime | None = None) -> list[ScheduleRun]:
    """One tick of every live schedule: claim due records and carry out their actions.

    What the job runner calls (``tessera worker`` and ``p.flows.tick``). Each
    schedule is one transaction: the claims, the record changes its ``set``
    and ``assign`` actions make (a normal update, so the record's own rules
    run) and the messages its other actions leave in the outbox commit
    together or not at all.
    """
    moment = now or platform.clock.now()
    live = platform.save_hook.live()
    return [execute_schedule(platform, s.name, moment) for s in live.of_kind("schedule")]


def execute_schedule(platform: Any, name: str, now: dt.datetime) -> ScheduleRun:
    """Claim the schedule's due records and run their actions through the action registry."""
    from functools import partial

    from engine.rules.actions import ActionContext, run_action
    from engine.rules.assign import assign
    from engine.store.outbox import enqueue

    service = platform.rules
    loaded = _loaded_schedule(service, name)
    records = platform.records(loaded.entity)
    model, table = service.tables(loaded.entity)
    with platform.db.transaction(write=True) as conn:
        run = run_schedule(service, platform.db, name, now, load=platform._load_record)
        for record_id, actions in run.actions.items():
            if not actions:
                continue
            record = platform._load_record(loaded.entity, record_id) or {}
            ctx = ActionContext(
                entity=loaded.entity,
                record_id=record_id,
                record=dict(record),
                fields=frozenset(model.fields),
                event=None,
                now=now,
                ruleset=name,
                version=loaded.version,
                key=f"schedule:{name}:{record_id}:{run.period}",
                assigner=partial(
                    assign, conn, model=model, table=table, user_team=platform.user_team
                ),
                enqueuer=lambda kind, payload, key: enqueue(conn, kind, payload, now=now, key=key),
            )
            for action in actions:
                run_action(ctx, action)
            if ctx.changes:
                records.update(record_id, ctx.changes, internal=True)
    return run


def _job(name: str) -> str:
    return f"schedule:{name}"


__all__ = [
    "ScheduleRun",
    "claim",
    "due_records",
    "execute_schedule",
    "period_of",
    "run_due_schedules",
    "run_schedule",
]
