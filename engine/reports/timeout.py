"""A time limit on the statements of one report run, per dialect.

PostgreSQL gets ``SET LOCAL statement_timeout`` (it ends with the read
transaction); SQLite has no such setting, so a progress handler interrupts
the statement once the deadline passes. Either way the run fails with
:class:`ReportTimeout`, which names the limit and suggests the background run.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from engine.errors import TesseraError, error_entry

#: SQLite virtual-machine instructions between two looks at the clock.
_SQLITE_STEPS = 2000


class ReportTimeout(TesseraError):
    """A report ran longer than its time limit; it may run in the background instead."""

    default_message = "the report took too long"


def _timed_out(exc: DBAPIError) -> bool:
    orig = exc.orig
    if getattr(orig, "sqlstate", None) == "57014" or getattr(orig, "pgcode", None) == "57014":
        return True  # PostgreSQL query_canceled
    return "interrupted" in str(orig).lower()


@contextmanager
def time_limit(conn: Connection, seconds: float | None, report: str) -> Iterator[None]:
    """Run the block's statements on ``conn`` under a limit of ``seconds`` (None or 0: none)."""
    if not seconds or seconds <= 0:
        yield
        return
    dialect = conn.dialect.name
    raw: Any = None
    if dialect == "postgresql":
        conn.execute(text(f"SET LOCAL statement_timeout = {max(1, int(seconds * 1000))}"))
    elif dialect == "sqlite":
        raw = conn.connection.dbapi_connection
        deadline = time.monotonic() + seconds
        raw.set_progress_handler(lambda: int(time.monotonic() > deadline), _SQLITE_STEPS)
    try:
        yield
        if dialect == "postgresql":  # a joined transaction goes on without the limit
            conn.execute(text("SET LOCAL statement_timeout TO DEFAULT"))
    except DBAPIError as exc:
        if not _timed_out(exc):
            raise
        raise ReportTimeout(
            f"report {report!r} ran longer than its limit of {seconds:g} s",
            [
                error_entry(
                    f"stopped after {seconds:g} s: narrow the filters or run it in the background",
                    field="timeout",
                )
            ],
        ) from None
    finally:
        if raw is not None:
            raw.set_progress_handler(None, 0)


__all__ = ["ReportTimeout", "time_limit"]
