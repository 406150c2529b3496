"""The small runtime generated Python calls: SQL-style nulls, Kleene logic, safe arithmetic.

Compiled rules see only the names in :func:`namespace` (no builtins), so
everything a rule can do is defined here or in the function registry. The
null rules are the contract of RULES_DSL.md: arithmetic and comparison with
a null give null, ``and``/``or``/``not`` are three-valued, and where a
decision is made null counts as false (:func:`truth`).
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import re2

#: What counts as blank for ``trim`` and ``is empty``: spelled out (not Python's
#: idea of whitespace) so that SQL's ``trim`` and JavaScript agree; the
#: ideographic space is what Chinese input methods type.
BLANKS = " \t\n\r\f\v\u00a0\u3000"

#: The longest regular expression ``matches`` accepts.
MAX_PATTERN_LENGTH = 1000


@dataclass
class Context:
    """What a rule may know besides the record: time, the platform's zone, lookups.

    ``loader(entity, id)`` returns a referenced record (``account.industry``);
    ``users(name)`` returns a user's attributes (``owner.team``). Both may be
    None, in which case such paths are null unless the record already holds
    the nested dict.
    """

    tz: dt.tzinfo = field(default_factory=lambda: ZoneInfo("UTC"))
    clock: Callable[[], dt.datetime] | None = None
    loader: Callable[[str, Any], dict[str, Any] | None] | None = None
    users: Callable[[str], dict[str, Any] | None] | None = None
    event: str | None = None
    business_hours: tuple[int, int] = (9, 18)
    #: The platform's working calendar (engine.business_hours.BusinessCalendar), or None for
    #: Monday to Friday within ``business_hours`` in ``tz``, without holidays.
    calendar: Any = None

    _now: dt.datetime | None = field(default=None, repr=False, compare=False)
    _today: dt.date | None = field(default=None, repr=False, compare=False)

    def now(self) -> dt.datetime:
        """The clock, read once per context: every rule of one evaluation sees the same now."""
        if self._now is None:
            current = self.clock() if self.clock else dt.datetime.now(dt.UTC)
            if current.tzinfo is None:
                current = current.replace(tzinfo=self.tz)
            self._now = current
        return self._now

    def today(self) -> dt.date:
        if self._today is None:
            self._today = self.now().astimezone(self.tz).date()
        return self._today


# ---------------------------------------------------------------- reading values


def get(record: Any, key: str) -> Any:
    """A field of a record dict; null when the record itself is null."""
    if record is None:
        return None
    if isinstance(record, dict):
        return record.get(key)
    return None


def nav(value: Any, entity: str, ctx: Context) -> dict[str, Any] | None:
    """Follow a reference or a user name to the record it names (or null)."""
    if value is None:
        return None
    if isinstance(value, dict):
        return value
    if entity == "@user":
        found = ctx.users(value) if ctx.users else None
        return found if found is not None else {"name": value}
    return ctx.loader(entity, value) if ctx.loader else None


def as_number(value: Any) -> Any:
    """Floats from JSON become exact decimals, so 0.1 + 0.2 == 0.3 as an admin expects."""
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, bool):
        return None
    return value


def as_date(value: Any, ctx: Context) -> dt.date | None:
    if value is None or (isinstance(value, dt.date) and not isinstance(value, dt.datetime)):
        return value
    if isinstance(value, dt.datetime):
        return local(value, ctx).date()
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value[:10])
        except ValueError:
            return None
    return None


def as_datetime(value: Any, ctx: Context) -> dt.datetime | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=ctx.tz)
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day, tzinfo=ctx.tz)
    if isinstance(value, str):
        try:
            parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=ctx.tz)
    return None


def as_duration(value: Any) -> dt.timedelta | None:
    if value is None or isinstance(value, dt.timedelta):
        return value
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return dt.timedelta(seconds=float(value))
    return None


def local(value: dt.datetime, ctx: Context) -> dt.datetime:
    """A datetime in the platform's zone (naive ones are taken to be in it)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=ctx.tz)
    return value.astimezone(ctx.tz)


# ---------------------------------------------------------------- logic


def truth(value: Any) -> bool:
    """A decision: only ``true`` counts; null and false do not."""
    return value is True


def and_(*values: Any) -> bool | None:
    """Kleene ``and``: false wins, then null, then true."""
    unknown = False
    for v in values:
        if v is False:
            return False
        if v is None:
            unknown = True
    return None if unknown else True


def or_(*values: Any) -> bool | None:
    """Kleene ``or``: true wins, then null, then false."""
    unknown = False
    for v in values:
        if v is True:
            return True
        if v is None:
            unknown = True
    return None if unknown else False


def not_(value: Any) -> bool | None:
    return None if value is None else not value


# ---------------------------------------------------------------- arithmetic


def add(a: Any, b: Any) -> Any:
    if a is None or b is None:
        return None
    if isinstance(a, dt.date) and isinstance(b, dt.timedelta):
        return _shift(a, b)
    if isinstance(a, dt.timedelta) and isinstance(b, dt.date):
        return _shift(b, a)
    try:
        return a + b
    except OverflowError:
        return None


def sub(a: Any, b: Any) -> Any:
    if a is None or b is None:
        return None
    if isinstance(a, dt.date) and isinstance(b, dt.timedelta):
        return _shift(a, -b)
    if isinstance(a, dt.datetime) and isinstance(b, dt.datetime):
        return a - b
    if isinstance(a, dt.date) and isinstance(b, dt.date):
        return dt.timedelta(days=(a - b).days)
    return a - b


def _shift(value: dt.date, delta: dt.timedelta) -> dt.date | None:
    """A date or datetime moved by a duration; beyond the calendar (year 1 to 9999) is null."""
    try:
        if isinstance(value, dt.datetime):
            return value + delta
        return value + dt.timedelta(days=delta.days)
    except OverflowError:
        return None


def mul(a: Any, b: Any) -> Any:
    if a is None or b is None:
        return None
    if isinstance(a, dt.timedelta):
        return a * float(b)
    if isinstance(b, dt.timedelta):
        return b * float(a)
    return a * b


def div(a: Any, b: Any) -> Any:
    """Division by zero is null, never an error; numbers divide exactly (decimals)."""
    if a is None or b is None or b == 0:
        return None
    if isinstance(a, dt.timedelta):
        return a / float(b)
    try:
        return Decimal(a) / Decimal(b)
    except decimal.InvalidOperation:
        return None


def mod(a: Any, b: Any) -> Any:
    """The remainder with the sign of ``a`` (as SQL and JavaScript compute it)."""
    if a is None or b is None or b == 0:
        return None
    if isinstance(a, int) and isinstance(b, int):
        r = abs(a) % abs(b)
        return -r if a < 0 else r
    return Decimal(a) % Decimal(b)


def neg(a: Any) -> Any:
    return None if a is None else -a


# ---------------------------------------------------------------- comparison


def eq(a: Any, b: Any) -> bool | None:
    if a is None or b is None:
        return None
    return a == b


def ne(a: Any, b: Any) -> bool | None:
    if a is None or b is None:
        return None
    return a != b


def lt(a: Any, b: Any) -> bool | None:
    if a is None or b is None:
        return None
    return a < b


def le(a: Any, b: Any) -> bool | None:
    if a is None or b is None:
        return None
    return a <= b


def gt(a: Any, b: Any) -> bool | None:
    if a is None or b is None:
        return None
    return a > b


def ge(a: Any, b: Any) -> bool | None:
    if a is None or b is None:
        return None
    return a >= b


def between(value: Any, low: Any, high: Any) -> bool | None:
    """Both ends included; as SQL, ``v >= low and v <= high`` with Kleene ``and``."""
    return and_(ge(value, low), le(value, high))


def in_(value: Any, items: Any) -> bool | None:
    """SQL ``IN``: found is true; not found is null if the list holds a null, else false."""
    if value is None or items is None:
        return None
    unknown = False
    for item in items:
        if item is None:
            unknown = True
        elif item == value:
            return True
    return None if unknown else False


def not_in(value: Any, items: Any) -> bool | None:
    return not_(in_(value, items))


def fold(text: str) -> str:
    """Case-insensitive text compares Unicode lower case (full mapping, final sigma too).

    Chosen over ``casefold`` because PostgreSQL (ICU ``lower``) and
    JavaScript (``toLowerCase``) compute exactly this: "Straße" does not
    contain "STRASSE" anywhere, so every compiled form agrees. Generated rule
    sets call ``.lower()`` on a text directly (compile_py), so change both together.
    """
    return text.lower()


def contains(a: Any, b: Any) -> bool | None:
    """Text: case-insensitive substring. List (multi-select, tags): membership."""
    if a is None or b is None:
        return None
    if isinstance(a, list | tuple):
        return b in a
    return fold(b) in fold(a)


def starts_with(a: Any, b: Any) -> bool | None:
    if a is None or b is None:
        return None
    return fold(a).startswith(fold(b))


def ends_with(a: Any, b: Any) -> bool | None:
    if a is None or b is None:
        return None
    return fold(a).endswith(fold(b))


_PATTERNS: dict[str, Any] = {}


def compile_pattern(pattern: str) -> Any:
    """An RE2 pattern (linear time); raises ValueError for a bad or oversized one."""
    if len(pattern) > MAX_PATTERN_LENGTH:
        raise ValueError(f"the pattern is longer than {MAX_PATTERN_LENGTH} characters")
    found = _PATTERNS.get(pattern)
    if found is None:
        options = re2.Options()
        options.log_errors = False
        try:
            found = re2.compile(pattern, options)
        except Exception as exc:  # re2 raises its own error type
            reason = exc.args[0] if exc.args else exc
            if isinstance(reason, bytes):
                reason = reason.decode("utf-8", "replace")
            raise ValueError(str(reason)) from None
        if len(_PATTERNS) > 1000:
            _PATTERNS.clear()
        _PATTERNS[pattern] = found
    return found


def matches(a: Any, pattern: Any) -> bool | None:
    """RE2 search anywhere in the text; a bad pattern from data is null, not a crash."""
    if a is None or pattern is None:
        return None
    try:
        return compile_pattern(pattern).search(a) is not None
    except ValueError:
        return None


def is_null(value: Any) -> bool:
    return value is None


def is_empty(value: Any) -> bool:
    """Null, an empty or blank text, or an empty list."""
    if value is None:
        return True
    if isinstance(value, str):
        return value.strip(BLANKS) == ""
    if isinstance(value, list | tuple | dict):
        return len(value) == 0
    return False


def changed(new: Any, old_record: Any, key: str, *before: Any) -> bool:
    """True in an update event when the value differs from before; false otherwise.

    ``before`` is the old value read with the field's type (a date, an exact
    number), so an unchanged ``"2026-01-01"`` or ``0.1`` is not a change.
    """
    if old_record is None:
        return False
    return new != (before[0] if before else get(old_record, key))


def event(ctx: Context, word: str) -> bool:
    return ctx.event == word


def index(items: Any, i: Any) -> Any:
    """``list[i]``, 0-based; out of range or null is null."""
    if items is None or i is None:
        return None
    try:
        return items[int(i)]
    except (IndexError, TypeError, ValueError):
        return None


def if_(cond: Any, then: Any, else_: Any) -> Any:
    return then if cond is True else else_


# ---------------------------------------------------------------- child tables


def rows(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else []


def agg_any(items: Any, fn: Callable[[Any], Any]) -> bool | None:
    return or_(*(fn(row) for row in rows(items))) if rows(items) else False


def agg_all(items: Any, fn: Callable[[Any], Any]) -> bool | None:
    return and_(*(fn(row) for row in rows(items))) if rows(items) else True


def agg_count(items: Any, fn: Callable[[Any], Any] | None = None) -> int:
    if fn is None:
        return len(rows(items))
    return sum(1 for row in rows(items) if fn(row) is True)


def _values(items: Any, fn: Callable[[Any], Any]) -> list[Any]:
    return [v for v in (as_number(fn(row)) for row in rows(items)) if v is not None]


def agg_sum(items: Any, fn: Callable[[Any], Any]) -> Any:
    """SQL ``SUM`` over the rows: nulls skipped; no rows gives 0 (a total, not unknown)."""
    values = _values(items, fn)
    return sum(values, 0)


def agg_min(items: Any, fn: Callable[[Any], Any]) -> Any:
    values = _values(items, fn)
    return min(values) if values else None


def agg_max(items: Any, fn: Callable[[Any], Any]) -> Any:
    values = _values(items, fn)
    return max(values) if values else None


def agg_avg(items: Any, fn: Callable[[Any], Any]) -> Any:
    values = _values(items, fn)
    return Decimal(sum(values, 0)) / len(values) if values else None


AGGREGATES: dict[str, Callable[..., Any]] = {
    "any": agg_any,
    "all": agg_all,
    "count": agg_count,
    "sum": agg_sum,
    "min": agg_min,
    "max": agg_max,
    "avg": agg_avg,
}


def clamp_total(total: Any, cap: Any) -> Any:
    """A scoring cap bounds the total from above (and a negative cap from below)."""
    if cap is None or total is None:
        return total
    return min(total, cap) if cap >= 0 else max(total, cap)


def namespace(extra: Iterable[tuple[str, Any]] = ()) -> dict[str, Any]:
    """The only globals generated code sees: no builtins, these helpers, and ``extra``."""
    ns: dict[str, Any] = {"__builtins__": {}}
    for name in [
        "get",
        "nav",
        "as_number",
        "as_date",
        "as_datetime",
        "as_duration",
        "truth",
        "and_",
        "or_",
        "not_",
        "add",
        "sub",
        "mul",
        "div",
        "mod",
        "neg",
        "eq",
        "ne",
        "lt",
        "le",
        "gt",
        "ge",
        "between",
        "in_",
        "not_in",
        "contains",
        "starts_with",
        "ends_with",
        "matches",
        "is_null",
        "is_empty",
        "changed",
        "event",
        "index",
        "if_",
        "rows",
        "clamp_total",
    ]:
        ns[f"_{name}"] = globals()[name]
    for name, fn in AGGREGATES.items():
        ns[f"_agg_{name}"] = fn
    ns.update(extra)
    return ns


__all__ = [
    "AGGREGATES",
    "BLANKS",
    "MAX_PATTERN_LENGTH",
    "Context",
    "compile_pattern",
    "namespace",
    "truth",
]
