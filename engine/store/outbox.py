"""The outbox: side effects recorded in the writer's transaction, delivered after it commits.

Rules, flows and actions never send mail or call webhooks themselves; they
enqueue a row here inside the transaction that made the change. If that
transaction rolls back, the effect never happened. A worker takes due rows,
hands them to the deliverer registered for their kind and marks them
delivered; a failure is recorded and retried later, so delivery is at least
once and an optional ``key`` makes enqueueing idempotent.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection

from engine.store.audit import dumps
from engine.store.system import outbox

#: Seconds to wait before the n-th retry of a failed delivery (last value repeats).
RETRY_DELAYS = (30, 120, 600, 3600)


@dataclass(frozen=True)
class Message:
    id: int
    kind: str
    payload: dict[str, Any]
    attempts: int


def enqueue(
    conn: Connection,
    kind: str,
    payload: dict[str, Any],
    *,
    now: dt.datetime,
    due: dt.datetime | None = None,
    key: str | None = None,
) -> int | None:
    """Add one effect in the caller's transaction; returns its id (None if ``key`` was seen)."""
    if key is not None:
        seen = conn.execute(select(outbox.c.id).where(outbox.c.key == key)).scalar()
        if seen is not None:
            return None
    row = {
        "kind": kind,
        "payload": dumps(payload),
        "key": key,
        "created_on": now,
        "due_on": due or now,
        "attempts": 0,
    }
    return conn.execute(insert(outbox).values(row)).inserted_primary_key[0]


def due_messages(conn: Connection, now: dt.datetime, limit: int = 100) -> list[Message]:
    """Undelivered messages whose time has come, oldest first."""
    rows = conn.execute(
        select(outbox.c.id, outbox.c.kind, outbox.c.payload, outbox.c.attempts)
        .where(outbox.c.delivered_on.is_(None), outbox.c.due_on <= now)
        .order_by(outbox.c.due_on, outbox.c.id)
        .limit(limit)
    )
    return [Message(r.id, r.kind, orjson.loads(r.payload), r.attempts) for r in rows]


def mark_delivered(conn: Connection, message_id: int, now: dt.datetime) -> None:
    conn.execute(update(outbox).where(outbox.c.id == message_id).values(delivered_on=now))


def mark_failed(conn: Connection, message: Message, now: dt.datetime, error: str) -> None:
    """Record the failure and push the message back by the next retry delay."""
    delay = RETRY_DELAYS[min(message.attempts, len(RETRY_DELAYS) - 1)]
    conn.execute(
        update(outbox)
        .where(outbox.c.id == message.id)
        .values(
            attempts=message.attempts + 1,
            last_error=error[:2000],
            due_on=now + dt.timedelta(seconds=delay),
        )
    )


Deliverer = Callable[[Message], None]
_deliverers: dict[str, Deliverer] = {}


def register_deliverer(kind: str, deliver: Deliverer | None) -> None:
    """Say how messages of ``kind`` leave the system (mail, HTTP, another engine...);
    ``None`` removes the deliverer (messages of that kind then wait)."""
    if deliver is None:
        _deliverers.pop(kind, None)
    else:
        _deliverers[kind] = deliver


def deliverer(kind: str) -> Deliverer | None:
    return _deliverers.get(kind)


__all__ = [
    "Message",
    "deliverer",
    "due_messages",
    "enqueue",
    "mark_delivered",
    "mark_failed",
    "register_deliverer",
]
