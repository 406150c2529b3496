"""Request ids, structured request logs, /metrics and /healthz over real HTTP."""

from __future__ import annotations

import json
import logging

from tests.floor_defs import ACCOUNT, save


def test_request_ids_logs_and_metrics(platform, client, caplog):
    save(platform, ACCOUNT)
    platform.users.add("root", password="root-secret", roles=["admin"])
    client.token = platform.users.create_token("root")["token"]
    with caplog.at_level(logging.INFO, logger="tessera.http"):
        status, _, headers = client.get(
            "/api/v1/records/account", headers={"X-Request-Id": "abc-123"}
        )
        assert status == 200 and headers["X-Request-Id"] == "abc-123"
        _, _, headers = client.get("/api/v1/records/account", headers={"X-Request-Id": "bad id\\n"})
        assert len(headers["X-Request-Id"]) == 32  # an unsafe id is replaced, not echoed
    lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == "tessera.http"]
    first = next(line for line in lines if line["request_id"] == "abc-123")
    assert first["status"] == 200 and first["user"] == "root"
    assert first["endpoint"] == "/api/v1/records/<entity>"
    status, text, _ = client.get("/metrics")
    body = text.decode()
    assert (
        'tessera_http_requests_total{method="GET",endpoint="/api/v1/records/<entity>",status="200"} 2'
        in body
    )
    assert "tessera_http_request_seconds_bucket" in body and "tessera_outbox_due 0" in body


def test_healthz_reports_the_worker(platform, client):
    status, health, _ = client.get("/healthz")
    assert status == 200 and health["status"] == "ok" and health["worker_seconds_ago"] is None
    platform.jobs.run_due()
    status, health, _ = client.get("/healthz")
    assert health["worker_seconds_ago"] is not None and health["worker_seconds_ago"] < 60
