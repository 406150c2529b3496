"""Calendar periods: where a day, week (ISO, from Monday), month, quarter or year starts.

The rule language's ``start_of`` and ``end_of`` and the reports' date
buckets answer the same question; they read it from here so that a rule's
"this quarter" and a report's quarter bucket can never disagree.
"""

from __future__ import annotations

import datetime as dt

#: The periods, shortest first.
PERIODS = ("day", "week", "month", "quarter", "year")


def period_start(day: dt.date, unit: str) -> dt.date:
    """The first day of the period ``day`` falls in; ValueError for an unknown ``unit``."""
    if unit == "day":
        return day
    if unit == "week":
        return day - dt.timedelta(days=day.weekday())
    if unit == "month":
        return day.replace(day=1)
    if unit == "quarter":
        return day.replace(month=(day.month - 1) // 3 * 3 + 1, day=1)
    if unit == "year":
        return day.replace(month=1, day=1)
    raise ValueError(unit)


def next_period(start: dt.date, unit: str) -> dt.date:
    """The first day of the period after the one starting at ``start``."""
    if unit == "day":
        return start + dt.timedelta(days=1)
    if unit == "week":
        return start + dt.timedelta(days=7)
    months = {"month": 1, "quarter": 3, "year": 12}[unit]
    total = start.month - 1 + months
    return start.replace(year=start.year + total // 12, month=total % 12 + 1)


__all__ = ["PERIODS", "next_period", "period_start"]
