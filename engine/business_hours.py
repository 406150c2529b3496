"""Business-hours arithmetic for SLA clocks: working days, opening hours and holidays as data.

An SLA such as "P1: respond within 1 hour, resolve within 8" counts only the
hours the service desk works. A :class:`BusinessCalendar` holds those hours
(which weekdays, from when to when, in which zone, which dates are holidays
and which weekend dates are worked instead, as with China's 调休) and answers
two questions, exactly inverse to each other:

- :meth:`BusinessCalendar.add_hours`: the instant ``h`` working hours after
  ``start`` (a due time), which always falls inside working hours;
- :meth:`BusinessCalendar.hours_between`: how many working hours lie between
  two instants (time spent, or left, on a clock).

Both walk day by day over a calendar that is plain data, so a bundle states
its calendar in YAML (``from_config``) and no code changes when holidays do.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from engine.errors import ValidationError, error_entry

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
#: The most days a walk may cover before the calendar is declared to have no working time.
MAX_DAYS = 3660


def _time(text: Any, where: str) -> dt.time:
    try:
        hours, minutes = str(text).split(":")
        return dt.time(int(hours), int(minutes))
    except ValueError:
        raise ValidationError(
            f"{where} must be a time such as 09:00",
            [error_entry(f"{text!r} is not a time of day (HH:MM)", field=where)],
        ) from None


def _dates(values: Iterable[Any], where: str) -> frozenset[dt.date]:
    out = set()
    for i, value in enumerate(values or ()):
        try:
            out.add(value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)))
        except ValueError:
            raise ValidationError(
                f"{where} holds a value that is not a date",
                [error_entry(f"{value!r} is not a date (YYYY-MM-DD)", field=f"{where}[{i}]")],
            ) from None
    return frozenset(out)


@dataclass(frozen=True)
class BusinessCalendar:
    """Working time: ``days`` (ISO weekdays, 1 = Monday) from ``opens`` to ``closes`` in ``tz``.

    ``holidays`` are dates off even on a working weekday; ``workdays`` are dates
    worked even on a weekend (a make-up day). Opening hours are the same every
    working day and must not span midnight.
    """

    days: frozenset[int] = frozenset({1, 2, 3, 4, 5})
    opens: dt.time = dt.time(9, 0)
    closes: dt.time = dt.time(18, 0)
    tz: dt.tzinfo = field(default_factory=lambda: ZoneInfo("UTC"))
    holidays: frozenset[dt.date] = frozenset()
    workdays: frozenset[dt.date] = frozenset()

    def __post_init__(self) -> None:
        if self.closes <= self.opens:
            raise ValidationError(
                "a working day must close after it opens",
                [
                    error_entry(
                        f"closes {self.closes} is not after opens {self.opens}", field="closes"
                    )
                ],
            )
        if not self.days and not self.workdays:
            raise ValidationError(
                "a calendar needs working days", [error_entry("no working day", field="days")]
            )

    @classmethod
    def from_config(
        cls, config: Mapping[str, Any], tz: dt.tzinfo | None = None
    ) -> BusinessCalendar:
        """A calendar from bundle data, e.g. ``{days: [mon, tue, wed, thu, fri], opens: "09:00",
        closes: "18:00", timezone: Asia/Shanghai, holidays: [2026-10-01], workdays: [2026-10-10]}``.
        Raises ValidationError naming the key that is wrong."""
        days = set()
        for i, day in enumerate(config.get("days") or DAY_NAMES[:5]):
            name = str(day).lower()[:3]
            if name not in DAY_NAMES:
                raise ValidationError(
                    "days names an unknown weekday",
                    [
                        error_entry(
                            f"{day!r} is not a weekday ({', '.join(DAY_NAMES)})", field=f"days[{i}]"
                        )
                    ],
                )
            days.add(DAY_NAMES.index(name) + 1)
        zone = tz
        if config.get("timezone"):
            try:
                zone = ZoneInfo(str(config["timezone"]))
            except (KeyError, ValueError):
                raise ValidationError(
                    "timezone is not a known time zone",
                    [error_entry(f"{config['timezone']!r} is not a time zone", field="timezone")],
                ) from None
        return cls(
            days=frozenset(days),
            opens=_time(config.get("opens", "09:00"), "opens"),
            closes=_time(config.get("closes", "18:00"), "closes"),
            tz=zone or ZoneInfo("UTC"),
            holidays=_dates(config.get("holidays") or (), "holidays"),
            workdays=_dates(config.get("workdays") or (), "workdays"),
        )

    def to_config(self) -> dict[str, Any]:
        """The calendar as bundle data again (``from_config``'s input), e.g. for the browser's
        rule runtime, so a due time shown live in a form agrees with the server's."""
        return {
            "days": [DAY_NAMES[d - 1] for d in sorted(self.days)],
            "opens": self.opens.strftime("%H:%M"),
            "closes": self.closes.strftime("%H:%M"),
            "timezone": getattr(self.tz, "key", None) or str(self.tz),
            "holidays": sorted(d.isoformat() for d in self.holidays),
            "workdays": sorted(d.isoformat() for d in self.workdays),
        }

    # -- the day's window --------------------------------------------------------------

    def is_working_day(self, day: dt.date) -> bool:
        if day in self.holidays:
            return False
        return day in self.workdays or day.isoweekday() in self.days

    def window(self, day: dt.date) -> tuple[dt.datetime, dt.datetime] | None:
        """The day's working time as two aware instants, or None on a day off."""
        if not self.is_working_day(day):
            return None
        # In UTC, so that differences are real elapsed time even across a DST change.
        return (
            dt.datetime.combine(day, self.opens, self.tz).astimezone(dt.UTC),
            dt.datetime.combine(day, self.closes, self.tz).astimezone(dt.UTC),
        )

    def is_open(self, at: dt.datetime) -> bool:
        """Whether ``at`` is inside working time (the closing instant itself counts as inside)."""
        found = self.window(self._local(at).date())
        return found is not None and found[0] <= at <= found[1]

    def _local(self, at: dt.datetime) -> dt.datetime:
        if at.tzinfo is None:
            raise ValueError("business-hours arithmetic needs aware datetimes")
        return at.astimezone(self.tz)

    # -- the two questions ---------------------------------------------------------------

    def add_hours(self, start: dt.datetime, hours: float | Decimal | int) -> dt.datetime:
        """The instant ``hours`` working hours after ``start`` (a due time).

        Starting outside working time, the clock starts at the next opening. The
        answer is always inside working time; for zero hours it is ``start`` moved
        to the next opening (or ``start`` itself when open).
        """
        if hours < 0:
            raise ValueError("hours must not be negative")
        left = dt.timedelta(hours=float(hours))
        day = self._local(start).date()
        for _ in range(MAX_DAYS):
            found = self.window(day)
            if found is not None:
                lo, hi = max(found[0], start), found[1]
                if hi >= lo:
                    if lo + left <= hi:
                        return (lo + left).astimezone(start.tzinfo)
                    left -= hi - lo
            day += dt.timedelta(days=1)
        raise ValueError(f"no {hours} working hours within {MAX_DAYS} days of {start}")

    def hours_between(self, start: dt.datetime, end: dt.datetime) -> Decimal:
        """Working hours from ``start`` to ``end`` (zero when ``end`` is not after ``start``)."""
        if end <= start:
            return Decimal(0)
        total = dt.timedelta(0)
        day, last = self._local(start).date(), self._local(end).date()
        while day <= last:
            found = self.window(day)
            if found is not None:
                lo, hi = max(found[0], start), min(found[1], end)
                if hi > lo:
                    total += hi - lo
            day += dt.timedelta(days=1)
        return Decimal(total // dt.timedelta(microseconds=1)) / Decimal(3_600_000_000)


__all__ = ["DAY_NAMES", "BusinessCalendar"]
