"""Notifications: outbox messages of kind ``notify`` delivered into each user's inbox.

Rules (``notify owner "..."``) leave ``{to, message, entity, record_id}``: ``to``
is a user name (a role name, or a list of either, also work). Flow ``notify``
nodes leave ``{users, roles, message, subject, flow, instance, entity,
record_id}``: a copy for the people a flow step informs (the CC of an
approval). The job runner hands each due message to :meth:`deliver`, which
writes one ``ts_notification`` row per person; a message delivered twice
(delivery is at least once) writes nothing new.
"""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy import BigInteger, Column, Index, String, Table, Text, func, insert, select, update

from engine.errors import NotFound, error_entry
from engine.store.outbox import Message
from engine.store.system import system_metadata
from engine.store.types import IdType, UTCDateTime

notifications_table = Table(
    "ts_notification",
    system_metadata,
    Column("id", IdType, primary_key=True, autoincrement=True),
    Column("user", String(64), nullable=False),
    Column("kind", String(16), nullable=False),  # notify (a rule) | cc (a flow step)
    Column("subject", Text),
    Column("message", Text, nullable=False),
    Column("link", Text),
    Column("flow", String(128)),
    Column("instance_id", BigInteger),
    Column("entity", String(64)),
    Column("record_id", BigInteger),
    Column("message_id", BigInteger),  # the outbox message it came from
    Column("created_on", UTCDateTime, nullable=False),
    Column("read_on", UTCDateTime),
    Index("ix_notification_user", "user", "read_on"),
    Index("ix_notification_message", "message_id", "user"),
)


def _names(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list | tuple):
        return [str(v) for v in value if v]
    return [str(value)] if str(value) else []


class NotificationService:
    """``p.notifications``: deliver ``notify`` messages, list them, mark them read."""

    def __init__(self, platform: Any) -> None:
        self.p = platform

    # ------------------------------------------------------------ delivery

    def recipients(self, payload: dict[str, Any]) -> list[str]:
        """The active users a message reaches: named users, holders of named roles.

        A rule's ``to`` may be a user or a role name; a flow's payload says which
        is which. Names that are neither reach nobody.
        """
        from engine.security.users import users_table

        with self.p.db.transaction(write=False) as conn:
            rows = conn.execute(
                select(users_table.c.name, users_table.c.roles).where(
                    users_table.c.active.is_(True)
                )
            ).all()
        holders: dict[str, list[str]] = {}
        active = set()
        for name, roles in rows:
            active.add(name)
            for role in orjson.loads(roles or "[]"):
                holders.setdefault(role, []).append(name)
        found: list[str] = []
        for name in _names(payload.get("users")):
            if name in active:
                found.append(name)
        for role in _names(payload.get("roles")):
            found.extend(holders.get(role, []))
        for name in _names(payload.get("to")):
            found.extend([name] if name in active else holders.get(name, []))
        return list(dict.fromkeys(found))

    def deliver(self, message: Message) -> int:
        """Write the message into each recipient's inbox; returns how many rows were added."""
        payload = message.payload
        instance = payload.get("instance")
        entity, record_id = payload.get("entity"), payload.get("record_id")
        if payload.get("link"):  # an answer link a flow handed out
            link = str(payload["link"])
        elif instance:
            link = f"/flows/instances/{int(instance)}"
        elif entity and record_id:
            link = f"/app/{entity}/{int(record_id)}"
        else:
            link = None
        now = self.p.clock.now()
        added = 0
        with self.p.db.transaction(write=True) as conn:
            seen = {
                r.user
                for r in conn.execute(
                    select(notifications_table.c.user).where(
                        notifications_table.c.message_id == message.id
                    )
                )
            }
            for user in self.recipients(payload):
                if user in seen:
                    continue
                conn.execute(
                    insert(notifications_table).values(
                        user=user,
                        kind="cc" if instance else "notify",
                        subject=payload.get("subject"),
                        message=str(payload.get("message") or ""),
                        link=link,
                        flow=payload.get("flow"),
                        instance_id=instance,
                        entity=entity,
                        record_id=record_id,
                        message_id=message.id,
                        created_on=now,
                    )
                )
                added += 1
        return added

    # ------------------------------------------------------------ reading

    def list(
        self,
        user: str,
        *,
        unread: bool = False,
        kind: str | None = None,
        instance: int | None = None,
        limit: int = 100,
    ) -> list[dict[str, Any]]:
        """The user's notifications, newest first (``instance``: those about one flow instance)."""
        t = notifications_table
        stmt = select(t).where(t.c.user == user).order_by(t.c.id.desc()).limit(limit)
        if instance is not None:
            stmt = stmt.where(t.c.instance_id == instance)
        if unread:
            stmt = stmt.where(t.c.read_on.is_(None))
        if kind is not None:
            stmt = stmt.where(t.c.kind == kind)
        with self.p.db.transaction(write=False) as conn:
            return [dict(r) for r in conn.execute(stmt).mappings()]

    def unread(self, user: str) -> int:
        t = notifications_table
        with self.p.db.transaction(write=False) as conn:
            return int(
                conn.execute(
                    select(func.count()).where(t.c.user == user, t.c.read_on.is_(None))
                ).scalar()
                or 0
            )

    def mark_read(self, notification_id: int, *, user: str) -> dict[str, Any]:
        """Mark one of the user's notifications read (NotFound for anyone else's)."""
        t = notifications_table
        with self.p.db.transaction(write=True) as conn:
            row = (
                conn.execute(select(t).where(t.c.id == notification_id, t.c.user == user))
                .mappings()
                .first()
            )
            if row is None:
                raise NotFound(
                    f"no notification {notification_id} for {user}",
                    [error_entry("unknown notification", field="id")],
                )
            if row["read_on"] is None:
                conn.execute(
                    update(t).where(t.c.id == notification_id).values(read_on=self.p.clock.now())
                )
        return self.list_one(notification_id)

    def list_one(self, notification_id: int) -> dict[str, Any]:
        t = notifications_table
        with self.p.db.transaction(write=False) as conn:
            return dict(conn.execute(select(t).where(t.c.id == notification_id)).mappings().one())

    def mark_all_read(self, user: str) -> int:
        t = notifications_table
        with self.p.db.transaction(write=True) as conn:
            done = conn.execute(
                update(t)
                .where(t.c.user == user, t.c.read_on.is_(None))
                .values(read_on=self.p.clock.now())
            )
        return int(done.rowcount or 0)


__all__ = ["NotificationService", "notifications_table"]
