"""Operations: request ids, one structured log line per request, /metrics and /healthz.

Every request gets an id (the caller's ``X-Request-Id`` when it sends a sane
one, else a new one), echoed in the response and in the log line, so a
support ticket, a log search and a trace meet on one value. ``/metrics``
speaks the Prometheus text format: request counts and latency histograms per
endpoint and status, and the depth of the job queues (due outbox messages,
due flow timers). ``/healthz`` says whether the database answers and how long
ago a worker last ticked.
"""

from __future__ import annotations

import logging
import re
import threading
import time
import uuid

import orjson
from flask import Blueprint, Flask, Response, g, request

log = logging.getLogger("tessera.http")
ops = Blueprint("ops", __name__)

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class Metrics:
    """Counters and latency histograms, per (method, endpoint, status); thread-safe."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.counts: dict[tuple[str, str, int], int] = {}
        self.buckets: dict[tuple[str, str], list[int]] = {}
        self.sums: dict[tuple[str, str], float] = {}

    def clear(self) -> None:
        """Forget every count (a worker's warm-up requests are not traffic)."""
        with self.lock:
            self.counts.clear()
            self.buckets.clear()
            self.sums.clear()

    def observe(self, method: str, endpoint: str, status: int, seconds: float) -> None:
        with self.lock:
            key = (method, endpoint, status)
            self.counts[key] = self.counts.get(key, 0) + 1
            hist = self.buckets.setdefault((method, endpoint), [0] * (len(BUCKETS) + 1))
            for i, bound in enumerate(BUCKETS):
                if seconds <= bound:
                    hist[i] += 1
            hist[-1] += 1
            self.sums[(method, endpoint)] = self.sums.get((method, endpoint), 0.0) + seconds

    def render(self) -> list[str]:
        lines = [
            "# HELP tessera_http_requests_total Requests by method, endpoint and status.",
            "# TYPE tessera_http_requests_total counter",
        ]
        with self.lock:
            for (method, endpoint, status), n in sorted(self.counts.items()):
                lines.append(
                    f'tessera_http_requests_total{{method="{method}",endpoint="{endpoint}",'
                    f'status="{status}"}} {n}'
                )
            lines += [
                "# HELP tessera_http_request_seconds Request latency.",
                "# TYPE tessera_http_request_seconds histogram",
            ]
            for (method, endpoint), hist in sorted(self.buckets.items()):
                labels = f'method="{method}",endpoint="{endpoint}"'
                for bound, n in zip([*BUCKETS, "+Inf"], hist):
                    lines.append(
                        f'tessera_http_request_seconds_bucket{{{labels},le="{bound}"}} {n}'
                    )
                lines.append(f"tessera_http_request_seconds_count{{{labels}}} {hist[-1]}")
                lines.append(
                    f"tessera_http_request_seconds_sum{{{labels}}} {self.sums[(method, endpoint)]:.6f}"
                )
        return lines


def install(app: Flask) -> None:
    """Request ids, timing, the log line and the metrics of every request."""
    metrics = Metrics()
    app.extensions["tessera.metrics"] = metrics

    @app.before_request
    def _start() -> None:
        sent = request.headers.get("X-Request-Id", "")
        g.request_id = sent if _SAFE_ID.match(sent) else uuid.uuid4().hex
        g.started = time.perf_counter()

    @app.after_request
    def _finish(response: Response) -> Response:
        seconds = time.perf_counter() - g.get("started", time.perf_counter())
        rule = request.url_rule
        endpoint = rule.rule if rule is not None else "unmatched"
        request_id = g.get("request_id")
        metrics.observe(request.method, endpoint, response.status_code, seconds)
        response.headers["X-Request-Id"] = request_id or ""
        # The line is built only when someone listens: where INFO is off (a bare
        # ``tessera serve``) the dict and its JSON were work on every request for nothing.
        if log.isEnabledFor(logging.INFO):
            log.info(
                orjson.dumps(
                    {
                        "request_id": request_id,
                        "method": request.method,
                        "path": request.path,
                        "endpoint": endpoint,
                        "status": response.status_code,
                        "ms": round(seconds * 1000, 2),
                        "user": g.get("user"),
                    }
                ).decode()
            )
        return response


@ops.get("/metrics")
def metrics_page() -> Response:
    from flask import current_app
    from sqlalchemy import func, select

    from engine.flows.tables import flow_timers
    from engine.store.system import outbox
    from web.http import platform_of

    p = platform_of()
    now = p.clock.now()
    with p.db.transaction(write=False) as conn:
        due = conn.execute(
            select(func.count())
            .select_from(outbox)
            .where(outbox.c.delivered_on.is_(None), outbox.c.due_on <= now)
        ).scalar_one()
        timers = conn.execute(
            select(func.count())
            .select_from(flow_timers)
            .where(flow_timers.c.status == "pending", flow_timers.c.due_on <= now)
        ).scalar_one()
    lines = current_app.extensions["tessera.metrics"].render()
    lines += [
        "# HELP tessera_outbox_due Outbox messages due and not yet delivered.",
        "# TYPE tessera_outbox_due gauge",
        f"tessera_outbox_due {due}",
        "# HELP tessera_flow_timers_due Flow timers due and not yet fired.",
        "# TYPE tessera_flow_timers_due gauge",
        f"tessera_flow_timers_due {timers}",
    ]
    return Response("\n".join(lines) + "\n", mimetype="text/plain; version=0.0.4")


@ops.get("/healthz")
def healthz() -> Response:
    """200 when the database answers; says how long ago a worker last ran (None: never)."""
    from sqlalchemy import text

    from web.http import json_response, platform_of

    p = platform_of()
    try:
        with p.db.transaction(write=False) as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # the database is down: say so, do not crash the probe
        return json_response({"status": "down", "database": str(exc)[:200]}, status=503)
    beat = p.jobs.last_heartbeat()
    ago = None if beat is None else round((p.clock.now() - beat).total_seconds(), 1)
    return json_response({"status": "ok", "database": p.db.dialect, "worker_seconds_ago": ago})


__all__ = ["Metrics", "install", "ops"]
