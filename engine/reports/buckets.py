"""Date buckets: one SQL construct with a spelling per dialect, in the platform's time zone.

A datetime is converted to the platform's zone *before* it is truncated, so
an order placed at 23:30 on 31 March in Shanghai lands in March, not in the
UTC April. Buckets come back as the first day of the period (``day``,
``week`` (ISO, Monday), ``month``, ``quarter``, ``year``) or as a number for
the "of year" forms (``month_of_year`` 1-12, ``quarter_of_year`` 1-4,
``day_of_week`` 1 = Monday to 7).

SQLite has no time zones, so there the bucket is a deterministic Python
function on the connection (``ts_bucket``); PostgreSQL does it natively.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from sqlalchemy import literal
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import Date, Integer, String

# the buckets giving the first day of a period are the calendar's periods
from engine.periods import PERIODS, next_period, period_start
from engine.rules.sql_dialect import _zone
from engine.store.db import register_sqlite_function

#: Buckets giving a number that repeats every year (or week).
CYCLES = ("month_of_year", "quarter_of_year", "day_of_week")
BUCKETS = PERIODS + CYCLES


def cycle_value(day: dt.date, unit: str) -> int:
    if unit == "month_of_year":
        return day.month
    if unit == "quarter_of_year":
        return (day.month - 1) // 3 + 1
    return day.isoweekday()


def _sqlite_bucket(value: Any, unit: Any, zone: Any) -> Any:
    """``ts_bucket(value, unit, zone)``: value is SQLite's UTC datetime text or a date text."""
    if value is None:
        return None
    text = str(value)
    if len(text) > 10 and zone:
        moment = dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)
        day = moment.astimezone(_zone(zone)).date()
    else:
        day = dt.date.fromisoformat(text[:10])
    if unit in CYCLES:
        return cycle_value(day, unit)
    return period_start(day, unit).isoformat()


register_sqlite_function("ts_bucket", 3, _sqlite_bucket)


class DateBucket(FunctionElement):
    """The bucket of a date or datetime column; ``zone`` is None for plain dates."""

    inherit_cache = False
    name = "ts_bucket"

    def __init__(self, value: Any, unit: str, zone: str | None, *, bare: bool = False) -> None:
        super().__init__(value)
        self.unit = unit
        self.zone = zone
        #: PostgreSQL: leave out the final cast (to DATE, to INTEGER). A GROUP BY on the
        #: bare bucket does that cast once per group instead of once per row, and the
        #: SELECT's cast of the same expression still counts as grouped.
        self.bare = bare
        self.type = Integer() if unit in CYCLES else Date()

    def grouping_key(self) -> DateBucket:
        """The same bucket without the final cast, to GROUP BY on PostgreSQL."""
        (value,) = self.clauses
        return DateBucket(value, self.unit, self.zone, bare=True)


@compiles(DateBucket, "sqlite")
def _bucket_sqlite(element: DateBucket, compiler: Any, **kw: Any) -> str:
    (value,) = [compiler.process(c, **kw) for c in element.clauses]
    unit = compiler.process(literal(element.unit, String()), **kw)
    zone = compiler.process(literal(element.zone or "", String()), **kw)
    return f"ts_bucket({value}, {unit}, {zone})"


_PG_CYCLES = {"month_of_year": "MONTH", "quarter_of_year": "QUARTER", "day_of_week": "ISODOW"}


_SAFE_ZONE = re.compile(r"^[A-Za-z0-9_+\-/]+$")


@compiles(DateBucket, "postgresql")
def _bucket_pg(element: DateBucket, compiler: Any, **kw: Any) -> str:
    """Unit and zone are written into the SQL, not bound: PostgreSQL must see the SELECT and
    the GROUP BY expressions as identical. Both come from fixed lists (the bucket names, the
    platform's IANA zone), checked here again before they are written."""
    (value,) = [compiler.process(c, **kw) for c in element.clauses]
    if element.unit not in BUCKETS:
        raise ValueError(f"unknown bucket {element.unit!r}")
    if element.zone:
        if not _SAFE_ZONE.match(element.zone):
            raise ValueError(f"not a time-zone name: {element.zone!r}")
        value = f"(({value}) AT TIME ZONE '{element.zone}')"
    if element.unit in CYCLES:
        bucket = f"EXTRACT({_PG_CYCLES[element.unit]} FROM {value})"
        return bucket if element.bare else f"CAST({bucket} AS INTEGER)"
    bucket = f"date_trunc('{element.unit}', {value})"
    return bucket if element.bare else f"CAST({bucket} AS DATE)"


def bucket_label(value: Any, unit: str) -> str:
    """How a bucket reads in a table header: 2025-03, 2025 Q1, 2025-W07, 2025."""
    if value is None:
        return ""
    if unit in CYCLES:
        return str(value)
    day = value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])
    if unit == "month":
        return f"{day.year}-{day.month:02d}"
    if unit == "quarter":
        return f"{day.year} Q{(day.month - 1) // 3 + 1}"
    if unit == "year":
        return str(day.year)
    if unit == "week":
        year, week, _ = day.isocalendar()
        return f"{year}-W{week:02d}"
    return day.isoformat()


__all__ = [
    "BUCKETS",
    "CYCLES",
    "PERIODS",
    "DateBucket",
    "bucket_label",
    "cycle_value",
    "next_period",
    "period_start",
]
