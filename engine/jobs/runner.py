"""The job runner: what ``tessera worker`` (or a test moving the clock) does on each tick.

One tick fires due flow timers, runs every live schedule for the current
period, applies trigger follow-ups left in the outbox, and hands due outbox
messages to the deliverer registered for their kind. Each of those is its own
transaction, so one failure does not hold back the rest, and each is safe to
repeat: timers and schedule periods are claimed, follow-ups and deliveries
are marked done.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)
HEARTBEAT = "heartbeat:worker"


@dataclass
class Tick:
    """What one tick did."""

    at: dt.datetime
    timers: int = 0
    schedules: dict[str, int] = field(default_factory=dict)
    followups: int = 0
    reports: int = 0
    delivered: int = 0
    failed: int = 0


class JobRunner:
    """``p.jobs``: run what is due now (``run_due``), as a worker process does in a loop."""

    def __init__(self, platform: Any) -> None:
        self.p = platform

    def run_due(self, now: dt.datetime | None = None) -> Tick:
        from engine.reports.schedule import enqueue_due
        from engine.rules.followups import deliver_pending
        from engine.rules.schedules import run_due_schedules

        moment = now or self.p.clock.now()
        tick = Tick(moment)
        tick.timers = self.p.flows.tick(moment)
        for run in run_due_schedules(self.p, moment):
            tick.schedules[run.schedule] = len(run.claimed)
        tick.followups = deliver_pending(self.p)
        tick.reports = enqueue_due(self.p, moment)  # scheduled report e-mails, one per recipient
        tick.delivered, tick.failed = self.deliver(moment)
        self.p.files.purge_unattached(moment)  # uploads no save ever attached
        self._beat(moment)
        return tick

    def _beat(self, now: dt.datetime) -> None:
        """Note that a worker ran (``/healthz`` reports how long ago)."""
        from engine.store.system import counters
        from engine.store.upsert import upsert

        stamp = int(now.timestamp())
        with self.p.db.transaction(write=True) as conn:
            conn.execute(
                upsert(
                    conn, counters, {"name": HEARTBEAT, "value": stamp}, "name", {"value": stamp}
                )
            )

    def last_heartbeat(self) -> dt.datetime | None:
        """When a worker last finished a tick, or None if none ever did."""
        from sqlalchemy import select

        from engine.store.system import counters

        with self.p.db.transaction(write=False) as conn:
            stamp = conn.execute(
                select(counters.c.value).where(counters.c.name == HEARTBEAT)
            ).scalar()
        return None if stamp is None else dt.datetime.fromtimestamp(stamp, dt.UTC)

    def deliver(self, now: dt.datetime, limit: int = 100) -> tuple[int, int]:
        """Give due outbox messages to their kind's deliverer; kinds with none wait."""
        from engine.reports import background, schedule
        from engine.store.outbox import deliverer, due_messages, mark_delivered, mark_failed

        builtin = {
            "webhook": self.p.webhooks.deliver,
            "webhook.event": self.p.webhooks.deliver,
            "notify": self.p.notifications.deliver,
            "report.run": lambda m: background.deliver(self.p, m),
            "report.mail": lambda m: schedule.deliver(self.p, m),
        }

        if self.p.tasks.config() is not None:  # a bundle keeps its to-dos as records
            builtin["task"] = self.p.tasks.deliver

        def find(kind: str) -> Any:
            return deliverer(kind) or builtin.get(kind)  # a registered one replaces ours

        with self.p.db.transaction(write=False) as conn:
            due = [m for m in due_messages(conn, now, limit) if find(m.kind) is not None]
        done = failed = 0
        for message in due:
            send = find(message.kind)
            try:
                send(message)  # type: ignore[misc]
            except Exception as exc:  # a failing endpoint never blocks the others
                log.warning("delivering outbox message %s failed: %s", message.id, exc)
                with self.p.db.transaction(write=True) as conn:
                    mark_failed(conn, message, now, f"{type(exc).__name__}: {exc}")
                failed += 1
                continue
            with self.p.db.transaction(write=True) as conn:
                mark_delivered(conn, message.id, now)
            done += 1
        return done, failed


__all__ = ["JobRunner", "Tick"]
