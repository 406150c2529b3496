"""Follow-up writes: a trigger's ``set``/``assign`` applied after the save that fired it.

Triggers run after the commit (RULES_DSL.md section 2), so what they change
in the record is a second write. The pipeline records it as an outbox message
of kind ``record.update`` in the first write's transaction (a rollback leaves
nothing behind) and asks the database to apply it as soon as that
transaction commits. Applying it is one transaction of its own: the actions
run against the record as it is now, the record service saves the result
(rules run again: a score depends on what the trigger set) and the message
is marked delivered. A failure leaves the message for the outbox retry;
:func:`deliver_pending` is what a worker calls to apply those.

Triggers firing on a follow-up may queue further follow-ups, up to
:data:`MAX_DEPTH` levels; a rule set that keeps re-triggering itself is cut
off there and logged.
"""

from __future__ import annotations

import contextvars
import logging
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

from engine.errors import NotFound, TesseraError
from engine.rules.actions import ActionContext, run_action
from engine.rules.assign import assign
from engine.store import outbox
from engine.store.system import outbox as outbox_table

if TYPE_CHECKING:
    from engine.ports import PlatformPort

log = logging.getLogger("tessera.rules")

KIND = "record.update"
MAX_DEPTH = 5
#: Follow-ups applied in one transaction (each under its own savepoint).
CHUNK = 100
_depth: contextvars.ContextVar[int] = contextvars.ContextVar("tessera_followup_depth", default=0)


def enqueue(conn: Connection, ctx: ActionContext, model: Any, actions: list[dict]) -> int | None:
    """Queue ``actions`` for a follow-up write of ``ctx``'s record; values in JSON form."""
    depth = _depth.get()
    if depth >= MAX_DEPTH:
        log.warning(
            "rule set %s keeps changing %s %s; follow-ups stop at depth %d",
            ctx.ruleset,
            ctx.entity,
            ctx.record_id,
            depth,
        )
        return None
    out = []
    for action in actions:
        action = dict(action)
        if action.get("type") == "set" and action.get("field") in model.fields:
            action["value"] = model.fields[action["field"]].type.to_json(action.get("value"))
        out.append(action)
    return ctx.enqueue(KIND, {"actions": out, "depth": depth + 1})


def apply(platform: PlatformPort, message_ids: list[int]) -> None:
    """Apply queued follow-ups now; a failure stays queued for the retry and stops no other.

    The follow-ups of one save (an import batch queues one per routed lead) are applied
    together: one transaction per :data:`CHUNK` messages, each message under its own
    savepoint, so one that fails is rolled back alone (with anything it registered to run
    after the commit) and marked failed in the same transaction. A transaction costs a
    follow-up about as much as its own work on SQLite, hence the grouping. Should the
    group's commit itself fail, its messages are applied one transaction each instead.
    """
    for start in range(0, len(message_ids), CHUNK):
        chunk = message_ids[start : start + CHUNK]
        try:
            with platform.db.transaction() as conn:
                for message_id in chunk:
                    try:
                        with platform.db.savepoint():
                            _apply_one(platform, message_id)
                    except Exception as exc:
                        _failed(platform, conn, message_id, exc)
        except Exception:
            log.exception("a group of %d follow-ups failed; applying them one by one", len(chunk))
            for message_id in chunk:
                _apply_alone(platform, message_id)


def _apply_alone(platform: PlatformPort, message_id: int) -> None:
    """One follow-up in a transaction of its own; a failure is marked in another."""
    try:
        _apply_one(platform, message_id)
    except Exception as exc:  # the save that queued it has committed: keep it for a retry
        with platform.db.transaction() as conn:
            _failed(platform, conn, message_id, exc)


def _failed(platform: PlatformPort, conn: Connection, message_id: int, exc: Exception) -> None:
    """Log a follow-up that failed and count the attempt, so the outbox retries it later."""
    if isinstance(exc, TesseraError):
        log.warning("follow-up %s failed and will be retried: %s", message_id, exc)
    else:
        log.error("follow-up %s failed and will be retried", message_id, exc_info=exc)
    attempts = conn.execute(
        select(outbox_table.c.attempts).where(outbox_table.c.id == message_id)
    ).scalar()
    if attempts is not None:
        message = outbox.Message(message_id, KIND, {}, attempts)
        outbox.mark_failed(conn, message, platform.clock.now(), str(exc))


def deliver_pending(platform: PlatformPort, limit: int = 100) -> int:
    """Apply due ``record.update`` messages a crash or an error left behind; returns how many."""
    with platform.db.transaction(write=False) as conn:
        ids = list(
            conn.execute(
                select(outbox_table.c.id)
                .where(
                    outbox_table.c.kind == KIND,
                    outbox_table.c.delivered_on.is_(None),
                    outbox_table.c.due_on <= platform.clock.now(),
                )
                .order_by(outbox_table.c.id)
                .limit(limit)
            ).scalars()
        )
    apply(platform, ids)
    return len(ids)


def _apply_one(platform: PlatformPort, message_id: int) -> None:
    import orjson

    now = platform.clock.now()
    with platform.db.transaction() as conn:
        row = conn.execute(
            select(outbox_table.c.payload)
            .where(outbox_table.c.id == message_id, outbox_table.c.delivered_on.is_(None))
            .with_for_update(skip_locked=True)
        ).first()
        if row is None:
            return  # delivered already, or another worker holds it
        payload = orjson.loads(row.payload)
        entity, record_id = payload["entity"], payload["record_id"]
        service = platform.records(entity)
        try:
            record = service.get(record_id)
        except NotFound:
            outbox.mark_delivered(conn, message_id, now)
            return
        model = service.model
        ctx = ActionContext(
            entity=entity,
            record_id=record_id,
            record=dict(record),
            fields=frozenset(model.fields),
            event=payload.get("event"),
            now=now,
            ruleset=payload.get("ruleset"),
            version=payload.get("version"),
            key=f"{KIND}:{message_id}",
            assigner=lambda to, target, strategy: assign(
                conn,
                to,
                target,
                strategy,
                model=model,
                table=service.live.table,
                user_team=platform.user_team,
            ),
            enqueuer=lambda kind, body, key: outbox.enqueue(conn, kind, body, now=now, key=key),
        )
        for action in payload["actions"]:
            if action.get("type") == "set" and action.get("field") in model.fields:
                f = model.fields[action["field"]]
                action = {**action, "value": f.type.to_python(action.get("value"))}
            run_action(ctx, action)
        changes = {
            k: v for k, v in ctx.changes.items() if k in model.fields or k in ("owner", "team")
        }
        token = _depth.set(int(payload.get("depth") or 1))
        try:
            if changes:
                service.update(record_id, changes, internal=True)
        finally:
            _depth.reset(token)
        outbox.mark_delivered(conn, message_id, now)


__all__ = ["KIND", "MAX_DEPTH", "apply", "deliver_pending", "enqueue"]
