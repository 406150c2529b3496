"""Webhooks out: record events and ``call webhook`` actions POSTed to subscribers, signed.

A subscription names a URL, optionally an entity and the events it wants.
A write that matches enqueues one outbox message per subscription *in the
write's transaction* (a rolled-back write notifies no one); the job runner
delivers it later, so a slow or failing endpoint never blocks a save. Each
POST carries ``X-Tessera-Signature: sha256=<HMAC of timestamp.body>`` with
the subscription's secret, so the receiver can check it came from us and is
fresh; a non-2xx answer is retried with backoff and every attempt is logged.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
import urllib.error
import urllib.request
from typing import Any

import orjson
from sqlalchemy import JSON, Boolean, Column, Integer, String, Table, Text, insert, select

from engine.errors import ConflictError, NotFound, ValidationError, error_entry
from engine.store.outbox import Message, enqueue
from engine.store.system import system_metadata
from engine.store.types import IdType, UTCDateTime

EVENTS = ("created", "updated", "deleted")
TIMEOUT = 10

webhooks_table = Table(
    "ts_webhook",
    system_metadata,
    Column("name", String(64), primary_key=True),
    Column("url", Text, nullable=False),
    Column("secret", String(128), nullable=False),
    Column("entity", String(64)),
    Column("events", JSON, nullable=False),
    Column("active", Boolean, nullable=False, default=True),
    Column("created_on", UTCDateTime, nullable=False),
)

deliveries_table = Table(
    "ts_webhook_delivery",
    system_metadata,
    Column("id", IdType, primary_key=True, autoincrement=True),
    Column("webhook", String(64), nullable=False, index=True),
    Column("message_id", Integer, nullable=False),
    Column("attempt", Integer, nullable=False),
    Column("status", Integer),
    Column("error", Text),
    Column("at", UTCDateTime, nullable=False),
    Column("milliseconds", Integer, nullable=False),
)


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The signature header's value: HMAC-SHA256 over ``timestamp.body``."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + digest.hexdigest()


class WebhookService:
    """``p.webhooks``: subscribe, unsubscribe, list deliveries; and the deliverer."""

    def __init__(self, platform: Any) -> None:
        self.p = platform

    def subscribe(
        self,
        name: str,
        url: str,
        *,
        entity: str | None = None,
        events: tuple[str, ...] | list[str] = EVENTS,
        secret: str | None = None,
    ) -> dict[str, Any]:
        """Add a subscription; returns it with its ``secret`` (shown only now)."""
        problems = []
        if not url.startswith(("https://", "http://")):
            problems.append(error_entry("the URL must start with https:// or http://", field="url"))
        unknown = [e for e in events if e not in EVENTS]
        if unknown:
            problems.append(
                error_entry(f"unknown events {unknown}; use {list(EVENTS)}", field="events")
            )
        if entity is not None and entity not in self.p.entities.names():
            problems.append(error_entry(f"no entity named {entity!r}", field="entity"))
        if problems:
            raise ValidationError(f"webhook {name!r} is invalid", problems)
        secret = secret or secrets.token_urlsafe(32)
        with self.p.db.transaction(write=True) as conn:
            if conn.execute(
                select(webhooks_table.c.name).where(webhooks_table.c.name == name)
            ).first():
                raise ConflictError(f"webhook {name!r} exists", [error_entry("pick another name")])
            conn.execute(
                insert(webhooks_table).values(
                    name=name,
                    url=url,
                    secret=secret,
                    entity=entity,
                    events=list(events),
                    active=True,
                    created_on=self.p.clock.now(),
                )
            )
        self.p.webhooks_changed()
        return {
            "name": name,
            "url": url,
            "entity": entity,
            "events": list(events),
            "secret": secret,
        }

    def unsubscribe(self, name: str) -> None:
        from sqlalchemy import delete

        with self.p.db.transaction(write=True) as conn:
            done = conn.execute(delete(webhooks_table).where(webhooks_table.c.name == name))
        if done.rowcount == 0:
            raise NotFound(f"no webhook named {name!r}", [error_entry("unknown webhook")])
        self.p.webhooks_changed()

    def subscriptions(self) -> list[dict[str, Any]]:
        """Active subscriptions (without their secrets)."""
        with self.p.db.transaction(write=False) as conn:
            rows = conn.execute(select(webhooks_table).where(webhooks_table.c.active.is_(True)))
            return [
                {"name": r.name, "url": r.url, "entity": r.entity, "events": list(r.events)}
                for r in rows
            ]

    def deliveries(self, name: str) -> list[dict[str, Any]]:
        """Every delivery attempt of one webhook, oldest first."""
        with self.p.db.transaction(write=False) as conn:
            rows = conn.execute(
                select(deliveries_table)
                .where(deliveries_table.c.webhook == name)
                .order_by(deliveries_table.c.id)
            )
            return [dict(r._mapping) for r in rows]

    # ------------------------------------------------------------ events

    def enqueue_events(
        self, conn: Any, entity: str, event: str, records: list[dict[str, Any]], user: str | None
    ) -> None:
        """One outbox message per matching subscription and record, in the caller's transaction."""
        now = self.p.clock.now()
        for sub in self.p.webhook_index().get((entity, event), []):
            for record in records:
                enqueue(
                    conn,
                    "webhook.event",
                    {
                        "webhook": sub,
                        "event": event,
                        "entity": entity,
                        "record": record,
                        "user": user,
                    },
                    now=now,
                    key=f"webhook:{sub}:{entity}:{record.get('id')}:{event}:{record.get('version')}",
                )

    # ------------------------------------------------------------ delivery

    def deliver(self, message: Message) -> None:
        """POST one message to its webhook; raises on a non-2xx answer so it is retried."""
        name = message.payload.get("webhook") or message.payload.get("name")
        with self.p.db.transaction(write=False) as conn:
            sub = conn.execute(select(webhooks_table).where(webhooks_table.c.name == name)).first()
        if sub is None or not sub.active:
            return  # unsubscribed since: nothing to send
        body = orjson.dumps(
            {"id": message.id, "kind": message.kind, **message.payload},
            default=str,
        )
        timestamp = str(int(self.p.clock.now().timestamp()))
        request = urllib.request.Request(
            sub.url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json",
                "User-Agent": "tessera-webhooks",
                "X-Tessera-Delivery": str(message.id),
                "X-Tessera-Timestamp": timestamp,
                "X-Tessera-Signature": sign(sub.secret, timestamp, body),
            },
        )
        start = time.perf_counter()
        status, error = None, None
        try:
            with urllib.request.urlopen(
                request, timeout=TIMEOUT
            ) as response:  # http(s) only, checked at subscribe
                status = response.status
        except urllib.error.HTTPError as exc:
            status, error = exc.code, f"HTTP {exc.code}"
        except OSError as exc:
            error = f"{type(exc).__name__}: {exc}"
        elapsed = int((time.perf_counter() - start) * 1000)
        with self.p.db.transaction(write=True) as conn:
            conn.execute(
                insert(deliveries_table).values(
                    webhook=name,
                    message_id=message.id,
                    attempt=message.attempts + 1,
                    status=status,
                    error=error,
                    at=self.p.clock.now(),
                    milliseconds=elapsed,
                )
            )
        if error is not None:
            raise ConnectionError(f"webhook {name!r}: {error}")


def webhook_index(platform: Any) -> dict[tuple[str | None, str], list[str]]:
    """(entity, event) → subscription names, for the write path (rebuilt when they change)."""
    with platform.db.transaction(write=False) as conn:
        rows = conn.execute(select(webhooks_table).where(webhooks_table.c.active.is_(True)))
        index: dict[tuple[str | None, str], list[str]] = {}
        for r in rows:
            for entity in [r.entity] if r.entity else platform.entities.names():
                for event in r.events:
                    index.setdefault((entity, event), []).append(r.name)
    return index


__all__ = [
    "EVENTS",
    "WebhookService",
    "deliveries_table",
    "sign",
    "webhook_index",
    "webhooks_table",
]
