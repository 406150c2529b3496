"""The outbox keeps effects with the transaction that caused them."""

from __future__ import annotations

import datetime as dt

import pytest

from engine.store.outbox import due_messages, enqueue, mark_delivered, mark_failed

NOW = dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC)


def test_enqueued_effect_is_due_then_delivered(platform):
    with platform.db.transaction(write=True) as conn:
        first = enqueue(conn, "notify", {"to": "bob", "text": "你好"}, now=NOW, key="lead-1")
        again = enqueue(conn, "notify", {"to": "bob"}, now=NOW, key="lead-1")
    assert first is not None and again is None
    with platform.db.transaction(write=True) as conn:
        [message] = due_messages(conn, NOW)
        assert message.payload == {"to": "bob", "text": "你好"}
        mark_delivered(conn, message.id, NOW)
    with platform.db.transaction() as conn:
        assert due_messages(conn, NOW + dt.timedelta(days=1)) == []


def test_rolled_back_effect_never_happened(platform):
    with pytest.raises(RuntimeError), platform.db.transaction(write=True) as conn:
        enqueue(conn, "webhook", {"url": "x"}, now=NOW)
        raise RuntimeError("the change failed")
    with platform.db.transaction() as conn:
        assert due_messages(conn, NOW) == []


def test_failed_delivery_is_retried_later(platform):
    with platform.db.transaction(write=True) as conn:
        enqueue(conn, "webhook", {"url": "x"}, now=NOW)
        [message] = due_messages(conn, NOW)
        mark_failed(conn, message, NOW, "connection refused")
        assert due_messages(conn, NOW + dt.timedelta(seconds=29)) == []
        [retry] = due_messages(conn, NOW + dt.timedelta(seconds=30))
        assert retry.attempts == 1
