"""Webhooks out: signed POSTs to a real local endpoint, retried when it fails, never on rollback."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from engine import ValidationError
from tests.floor_defs import ACCOUNT, save


class Receiver:
    """A local HTTP endpoint that records what it receives and can be told to fail."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.fail = False
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if receiver.fail:
                    self.send_response(503)
                else:
                    receiver.received.append((dict(self.headers), body))
                    self.send_response(204)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.server.shutdown()


@pytest.fixture
def p(platform):
    save(platform, ACCOUNT)
    return platform


def test_record_events_are_signed_posts_after_the_commit(p, receiver):
    sub = p.webhooks.subscribe("crm_sync", receiver.url, entity="account", events=["created"])
    created = p.records("account").create({"name": "华为"})
    with pytest.raises(RuntimeError), p.db.transaction(write=True):
        p.records("account").create({"name": "Rolled back"})
        raise RuntimeError("the write fails")
    p.records("account").update(created["id"], {"industry": "tech"})  # not subscribed
    tick = p.jobs.run_due()
    assert tick.delivered == 1 and len(receiver.received) == 1
    headers, body = receiver.received[0]
    signed = headers["X-Tessera-Timestamp"].encode() + b"." + body
    expected = hmac.new(sub["secret"].encode(), signed, hashlib.sha256).hexdigest()
    assert headers["X-Tessera-Signature"] == f"sha256={expected}"
    payload = json.loads(body)
    assert payload["event"] == "created" and payload["record"]["name"] == "华为"
    assert "secret" not in p.webhooks.subscriptions()[0]


def test_a_failing_endpoint_is_retried_and_logged_without_blocking_saves(p, receiver):
    p.webhooks.subscribe("flaky", receiver.url, entity="account")
    receiver.fail = True
    p.records("account").create({"name": "A"})
    assert p.jobs.run_due().failed == 1
    p.records("account").create({"name": "B"})  # saving is never blocked by the endpoint
    receiver.fail = False
    p.clock.set(p.clock.now() + dt.timedelta(minutes=5))
    tick = p.jobs.run_due()
    assert tick.delivered == 2 and len(receiver.received) == 2
    log = p.webhooks.deliveries("flaky")
    assert [d["status"] for d in log] == [503, 204, 204]
    assert log[0]["error"] == "HTTP 503"
    assert sorted(d["attempt"] for d in log if d["message_id"] == log[0]["message_id"]) == [1, 2]


def test_bad_subscriptions_are_refused(p):
    with pytest.raises(ValidationError) as info:
        p.webhooks.subscribe("x", "ftp://example.com", entity="nope", events=["renamed"])
    assert {e["field"] for e in info.value.errors} == {"url", "entity", "events"}
