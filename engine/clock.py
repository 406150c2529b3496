"""The platform's clock: real time by default, settable in tests and demos."""

from __future__ import annotations

import datetime as dt
import threading
from zoneinfo import ZoneInfo


class Clock:
    """``now()`` is time-zone aware (UTC); ``today()`` is the date in the platform's zone.

    ``set()`` freezes time at a moment and ``advance()`` moves it, so tests and
    the job runner can make timers come due without sleeping.
    """

    def __init__(self, timezone: str = "UTC") -> None:
        self.timezone = ZoneInfo(timezone)
        self._frozen: dt.datetime | None = None
        self._lock = threading.Lock()

    def now(self) -> dt.datetime:
        with self._lock:
            if self._frozen is not None:
                return self._frozen
        return dt.datetime.now(dt.UTC)

    def today(self) -> dt.date:
        return self.now().astimezone(self.timezone).date()

    def set(self, moment: str | dt.datetime | None) -> None:
        """Freeze at ``moment`` (ISO text or datetime; naive means the platform's zone); None unfreezes."""
        if moment is None:
            value = None
        else:
            value = dt.datetime.fromisoformat(moment) if isinstance(moment, str) else moment
            if value.tzinfo is None:
                value = value.replace(tzinfo=self.timezone)
            value = value.astimezone(dt.UTC)
        with self._lock:
            self._frozen = value

    def advance(self, delta: dt.timedelta) -> None:
        with self._lock:
            base = self._frozen or dt.datetime.now(dt.UTC)
            self._frozen = base + delta
