"""Reports run in the background: queued through the outbox, result stored in the database.

A report too slow for a request (or one a viewer does not want to wait for)
is started with :func:`start`: one row in ``ts_report_result`` (status
``queued``) and one outbox message of kind ``report.run``, in the same
transaction. The worker's tick hands the message to :func:`deliver`, which
marks the row ``running``, runs the report as the viewer who asked (same
filter, same row scope) without the request time limit, and stores the
shaped result or the error as ``done`` or ``failed``. The page polls
:func:`status` until then. A failure of the report itself is a stored
outcome, not an outbox retry: running it again would fail the same way.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import orjson
from sqlalchemy import Column, Index, String, Table, Text, insert, select, update

from engine.errors import NotFound, PermissionDenied, TesseraError, error_entry
from engine.store.outbox import Message, enqueue
from engine.store.system import system_metadata
from engine.store.types import IdType, UTCDateTime

KIND = "report.run"

report_results = Table(
    "ts_report_result",
    system_metadata,
    Column("id", IdType, primary_key=True, autoincrement=True),
    Column("report", String(128), nullable=False),
    Column("requested_by", String(64)),
    Column("filters", Text),
    Column("status", String(16), nullable=False),  # queued | running | done | failed
    Column("result", Text),
    Column("error", Text),
    Column("created_on", UTCDateTime, nullable=False),
    Column("started_on", UTCDateTime),
    Column("finished_on", UTCDateTime),
    Index("ix_ts_report_result_requested_by", "requested_by"),
)


def _json(value: Any) -> Any:
    """Decimals as numbers when a double holds them exactly (as the HTTP API writes them),
    else as text; anything else as text."""
    if isinstance(value, Decimal):
        as_float = float(value)
        return as_float if Decimal(repr(as_float)) == value.normalize() else str(value)
    return str(value)


def start(p: Any, report: str, *, user: str | None, filters: str | None = None) -> dict[str, Any]:
    """Queue a background run of saved report ``report`` as ``user``; returns its status.

    The viewer's permissions are checked now (a refusal is immediate) and again
    when the worker runs it."""
    spec = p.reports.spec(report)
    p.reports._where(spec, user, filters)  # refuses a viewer who may not read it
    now = p.clock.now()
    with p.db.transaction() as conn:
        job = conn.execute(
            insert(report_results).values(
                report=report,
                requested_by=user,
                filters=filters,
                status="queued",
                created_on=now,
            )
        ).inserted_primary_key[0]
        enqueue(conn, KIND, {"id": int(job)}, now=now, key=f"{KIND}:{job}")
    return status(p, int(job), user=user)


def deliver(p: Any, message: Message) -> None:
    """The worker's side: run the queued report and store its outcome."""
    job = int(message.payload["id"])
    with p.db.transaction() as conn:
        row = conn.execute(select(report_results).where(report_results.c.id == job)).first()
        if row is None or row.status in ("done", "failed"):
            return  # delivered twice: the first delivery already stored the outcome
        conn.execute(
            update(report_results)
            .where(report_results.c.id == job)
            .values(status="running", started_on=p.clock.now())
        )
    values: dict[str, Any]
    try:
        result = p.reports.run(row.report, user=row.requested_by, filters=row.filters, timeout=0)
        values = {"status": "done", "result": orjson.dumps(result, default=_json).decode()}
    except TesseraError as exc:
        values = {"status": "failed", "error": orjson.dumps(exc.to_dict()).decode()}
    with p.db.transaction() as conn:
        conn.execute(
            update(report_results)
            .where(report_results.c.id == job)
            .values(finished_on=p.clock.now(), **values)
        )


def status(p: Any, job: int, *, user: str | None) -> dict[str, Any]:
    """A background run as its requester (or an admin) sees it: status, then result or error."""
    with p.db.transaction(write=False) as conn:
        row = conn.execute(select(report_results).where(report_results.c.id == job)).first()
    if row is None:
        raise NotFound(f"no background report run {job}", [error_entry("unknown run", field="id")])
    if user is not None and row.requested_by != user and not p.access(user).admin:
        raise PermissionDenied(
            f"background run {job} belongs to another user",
            [error_entry("not your run", field="id")],
        )
    return {
        "id": int(row.id),
        "report": row.report,
        "status": row.status,
        "created_on": row.created_on,
        "started_on": row.started_on,
        "finished_on": row.finished_on,
        "result": orjson.loads(row.result) if row.result else None,
        "error": orjson.loads(row.error) if row.error else None,
    }


__all__ = ["KIND", "deliver", "report_results", "start", "status"]
