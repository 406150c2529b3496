"""SQL spellings that differ between SQLite and PostgreSQL, as SQLAlchemy constructs.

The rule compiler builds one tree of these constructs; each one says how it
is written per dialect with ``@compiles``, so ``compile_sql`` never branches
on the dialect. SQLite lacks Unicode case mapping, RE2 and time zones, so
those few operations run as deterministic Python functions registered on
every SQLite connection (``ts_*``); PostgreSQL does them natively (ICU
lower-casing, ``AT TIME ZONE``).

Value conventions inside compiled SQL (the same on both databases):

- a duration is a number of seconds;
- a date is the dialect's date (``DATE`` on PostgreSQL, ``'YYYY-MM-DD'``
  text on SQLite);
- a datetime is the stored UTC form (``timestamptz`` on PostgreSQL, the
  ``'YYYY-MM-DD HH:MM:SS.ffffff'`` UTC text SQLAlchemy writes on SQLite).
"""

from __future__ import annotations

import datetime as dt
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import literal
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import Boolean, Date, Float, Integer, Numeric, String

from engine.rules import runtime
from engine.store.db import register_sqlite_function
from engine.store.types import UTCDateTime

#: Characters ``trim`` and ``is empty`` strip, spelled out so that Python, SQL
#: and JavaScript agree (including the ideographic space Chinese input uses).
BLANKS = runtime.BLANKS

# Characters whose lower-case form contains an ASCII letter although they are
# not ASCII themselves (checked over all of Unicode): KELVIN SIGN and
# LATIN CAPITAL LETTER I WITH DOT ABOVE. Text without them folds like ASCII.
_ASCII_FOLD_EXCEPTIONS = ("\u212a", "\u0130")


# ---------------------------------------------------------------- SQLite functions


def _sqlite_text_dt(value: str | None) -> dt.datetime | None:
    if value is None:
        return None
    return dt.datetime.fromisoformat(value).replace(tzinfo=dt.UTC)


def _sqlite_dt_text(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


@cache
def _zone(name: str) -> dt.tzinfo:
    return ZoneInfo(name)


def _ts_fold(text: Any) -> Any:
    return text.lower() if isinstance(text, str) else None


def _ts_upper(text: Any) -> Any:
    return text.upper() if isinstance(text, str) else None


def _ts_contains(a: Any, b: Any) -> Any:
    if a is None or b is None:
        return None
    return int(runtime.contains(str(a), str(b)))


def _ts_regexp(text: Any, pattern: Any) -> Any:
    result = runtime.matches(text, pattern)
    return None if result is None else int(result)


def _ts_dt_add(value: Any, seconds: Any) -> Any:
    start = _sqlite_text_dt(value)
    if start is None or seconds is None:
        return None
    return _sqlite_dt_text(start + dt.timedelta(seconds=float(seconds)))


def _ts_dt_diff(a: Any, b: Any) -> Any:
    first, second = _sqlite_text_dt(a), _sqlite_text_dt(b)
    if first is None or second is None:
        return None
    return (first - second).total_seconds()


def _ts_local_date(value: Any, zone: Any) -> Any:
    moment = _sqlite_text_dt(value)
    if moment is None:
        return None
    return moment.astimezone(_zone(zone)).date().isoformat()


def _ts_local_midnight(day: Any, zone: Any) -> Any:
    if day is None:
        return None
    d = dt.date.fromisoformat(day[:10])
    return _sqlite_dt_text(dt.datetime(d.year, d.month, d.day, tzinfo=_zone(zone)))


for _name, _nargs, _fn in (
    ("ts_fold", 1, _ts_fold),
    ("ts_upper", 1, _ts_upper),
    ("ts_contains", 2, _ts_contains),
    ("ts_regexp", 2, _ts_regexp),
    ("ts_dt_add", 2, _ts_dt_add),
    ("ts_dt_diff", 2, _ts_dt_diff),
    ("ts_local_date", 2, _ts_local_date),
    ("ts_local_midnight", 2, _ts_local_midnight),
):
    register_sqlite_function(_name, _nargs, _fn)


# ---------------------------------------------------------------- constructs


class _Construct(FunctionElement):
    inherit_cache = True


def _args(compiler: Any, element: Any, **kw: Any) -> list[str]:
    return [compiler.process(c, **kw) for c in element.clauses]


class Fold(_Construct):
    """Unicode lower case of a text (both sides of ``contains`` go through it)."""

    inherit_cache = True

    type = String()
    name = "ts_fold"


@compiles(Fold, "sqlite")
def _fold_sqlite(element: Fold, compiler: Any, **kw: Any) -> str:
    return "ts_fold({})".format(*_args(compiler, element, **kw))


@compiles(Fold, "postgresql")
def _fold_pg(element: Fold, compiler: Any, **kw: Any) -> str:
    return 'lower(({}) COLLATE "und-x-icu")'.format(*_args(compiler, element, **kw))


class Upper(_Construct):
    """Unicode upper case of a text."""

    inherit_cache = True

    type = String()
    name = "ts_upper"


@compiles(Upper, "sqlite")
def _upper_sqlite(element: Upper, compiler: Any, **kw: Any) -> str:
    return "ts_upper({})".format(*_args(compiler, element, **kw))


@compiles(Upper, "postgresql")
def _upper_pg(element: Upper, compiler: Any, **kw: Any) -> str:
    return 'upper(({}) COLLATE "und-x-icu")'.format(*_args(compiler, element, **kw))


class AsNumeric(_Construct):
    """A number as the dialect's exact type where it has one (``numeric`` on PostgreSQL).

    The SQLAlchemy type stays the operand's own (an integer stays an integer
    for result processing), so only the database's arithmetic changes.
    """

    inherit_cache = True

    type = Numeric()
    name = "ts_numeric"

    def __init__(self, value: Any) -> None:
        super().__init__(value)
        inner = getattr(value, "type", None)
        if isinstance(inner, Integer):
            self.type = inner


@compiles(AsNumeric, "sqlite")
def _numeric_sqlite(element: AsNumeric, compiler: Any, **kw: Any) -> str:
    return "({})".format(*_args(compiler, element, **kw))


@compiles(AsNumeric, "postgresql")
def _numeric_pg(element: AsNumeric, compiler: Any, **kw: Any) -> str:
    return "CAST(({}) AS NUMERIC)".format(*_args(compiler, element, **kw))


class ContainsText(_Construct):
    """``a contains b`` on text, ignoring case.

    ``needle`` is the lower-cased text of b when b is a fixed ASCII text:
    then SQLite can use its own (ASCII) ``lower`` and ``instr``, which is
    exact unless the haystack holds one of the two characters whose lower
    case is ASCII (only relevant when the needle has an ``i`` or a ``k``).
    """

    inherit_cache = False
    type = Boolean()
    name = "ts_contains"

    def __init__(self, a: Any, b: Any, *, needle: str | None = None) -> None:
        super().__init__(a, b)
        self.needle = needle


@compiles(ContainsText, "sqlite")
def _contains_sqlite(element: ContainsText, compiler: Any, **kw: Any) -> str:
    a, b = _args(compiler, element, **kw)
    if element.needle is None:
        return f"ts_contains({a}, {b})"
    fast = f"instr(lower({a}), {b}) > 0"
    if not any(c in element.needle for c in "ik"):
        return f"({fast})"
    odd = " OR ".join(f"instr({a}, '{c}') > 0" for c in _ASCII_FOLD_EXCEPTIONS)
    return f"(CASE WHEN {odd} THEN ts_contains({a}, {b}) ELSE {fast} END)"


@compiles(ContainsText, "postgresql")
def _contains_pg(element: ContainsText, compiler: Any, **kw: Any) -> str:
    a, b = _args(compiler, element, **kw)
    if element.needle is not None:
        return f'(strpos(lower(({a}) COLLATE "und-x-icu"), {b}) > 0)'
    return f'(strpos(lower(({a}) COLLATE "und-x-icu"), lower(({b}) COLLATE "und-x-icu")) > 0)'


class TextOrder(_Construct):
    """A text compared by code point (``<``, ``between``), whatever the database's locale."""

    inherit_cache = True

    type = String()
    name = "ts_text_order"


@compiles(TextOrder, "sqlite")
def _order_sqlite(element: TextOrder, compiler: Any, **kw: Any) -> str:
    return "({})".format(*_args(compiler, element, **kw))


@compiles(TextOrder, "postgresql")
def _order_pg(element: TextOrder, compiler: Any, **kw: Any) -> str:
    return '(({}) COLLATE "C")'.format(*_args(compiler, element, **kw))


class Regexp(_Construct):
    """``text matches pattern`` for a fixed pattern the compiler checked to mean the same
    in RE2 and in PostgreSQL's engine; PostgreSQL gets the flag that keeps ``.`` off
    line breaks, as in RE2."""

    inherit_cache = False

    type = Boolean()
    name = "ts_regexp"

    def __init__(self, text: Any, pattern: str) -> None:
        super().__init__(text)
        self.pattern = pattern


@compiles(Regexp, "sqlite")
def _regexp_sqlite(element: Regexp, compiler: Any, **kw: Any) -> str:
    (text,) = _args(compiler, element, **kw)
    pattern = compiler.process(literal(element.pattern, String()), **kw)
    return f"ts_regexp({text}, {pattern})"


#: RE2's ASCII classes, spelled out: PostgreSQL's own follow the locale.
_RE2_CLASSES = {"s": "\t\n\f\r ", "d": "0-9", "w": "0-9A-Za-z_"}


def _pg_pattern(pattern: str) -> str:
    r"""An RE2 pattern in PostgreSQL's syntax, with RE2's ASCII meaning of \s \d \w."""
    out, i, in_class = [], 0, False
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\" and i + 1 < len(pattern):
            nxt = pattern[i + 1]
            low = nxt.lower()
            if low in _RE2_CLASSES:
                chars = _RE2_CLASSES[low]
                if in_class:
                    if nxt != low:
                        raise ValueError(f"\\{nxt} inside [...] cannot run in the database")
                    out.append(chars)
                else:
                    out.append(f"[{'^' if nxt != low else ''}{chars}]")
            else:
                out.append(ch + nxt)
            i += 2
            continue
        if ch == "[" and not in_class:
            in_class = True
        elif ch == "]" and in_class and out and out[-1] not in ("[", "[^"):
            in_class = False
        out.append(ch)
        i += 1
    return "".join(out)


@compiles(Regexp, "postgresql")
def _regexp_pg(element: Regexp, compiler: Any, **kw: Any) -> str:
    (text,) = _args(compiler, element, **kw)
    pattern = _pg_pattern(element.pattern)
    if pattern.startswith("(?i)"):
        pattern = "(?pi)" + pattern[4:]
    elif not pattern.startswith("(?"):
        pattern = "(?p)" + pattern
    return f"(({text}) ~ {compiler.process(literal(pattern, String()), **kw)})"


class ExactDiv(_Construct):
    """``a / b`` without integer truncation; null when b is zero."""

    inherit_cache = True

    type = Numeric()
    name = "ts_div"


@compiles(ExactDiv, "sqlite")
def _div_sqlite(element: ExactDiv, compiler: Any, **kw: Any) -> str:
    return "(CAST({} AS REAL) / NULLIF({}, 0))".format(*_args(compiler, element, **kw))


@compiles(ExactDiv, "postgresql")
def _div_pg(element: ExactDiv, compiler: Any, **kw: Any) -> str:
    return "(CAST({} AS NUMERIC) / NULLIF({}, 0))".format(*_args(compiler, element, **kw))


class TruncMod(_Construct):
    """``a % b`` with the sign of a (as SQL does); null when b is zero."""

    inherit_cache = True

    type = Numeric()
    name = "ts_mod"


@compiles(TruncMod, "sqlite")
def _mod_sqlite(element: TruncMod, compiler: Any, **kw: Any) -> str:
    a, b = _args(compiler, element, **kw)
    # SQLite's % works on integers only; for decimals fall back to a - b * trunc(a / b).
    return (
        f"(CASE WHEN typeof({a}) = 'integer' AND typeof({b}) = 'integer' THEN ({a}) % NULLIF({b}, 0) "
        f"ELSE ({a}) - ({b}) * CAST(CAST({a} AS REAL) / NULLIF({b}, 0) AS INTEGER) END)"
    )


@compiles(TruncMod, "postgresql")
def _mod_pg(element: TruncMod, compiler: Any, **kw: Any) -> str:
    return "mod(CAST({} AS NUMERIC), NULLIF(CAST({} AS NUMERIC), 0))".format(
        *_args(compiler, element, **kw)
    )


class Numeric6(_Construct):
    """A computed number rounded where binary floating point would make ``==`` lie.

    SQLite keeps decimals as doubles, so ``0.1 + 0.2 = 0.3`` would be false
    there while Python's exact decimals say true; comparisons of computed
    numbers round the difference to 9 places on SQLite. PostgreSQL's
    ``numeric`` is exact and needs nothing.
    """

    inherit_cache = True

    type = Numeric()
    name = "ts_num"


@compiles(Numeric6, "sqlite")
def _num_sqlite(element: Numeric6, compiler: Any, **kw: Any) -> str:
    return "round({}, 9)".format(*_args(compiler, element, **kw))


@compiles(Numeric6, "postgresql")
def _num_pg(element: Numeric6, compiler: Any, **kw: Any) -> str:
    return "({})".format(*_args(compiler, element, **kw))


class DateTimeAdd(_Construct):
    """A datetime plus a number of seconds."""

    inherit_cache = True

    type = UTCDateTime()
    name = "ts_dt_add"


@compiles(DateTimeAdd, "sqlite")
def _dt_add_sqlite(element: DateTimeAdd, compiler: Any, **kw: Any) -> str:
    return "ts_dt_add({}, {})".format(*_args(compiler, element, **kw))


@compiles(DateTimeAdd, "postgresql")
def _dt_add_pg(element: DateTimeAdd, compiler: Any, **kw: Any) -> str:
    return "(({}) + make_interval(secs => ({})))".format(*_args(compiler, element, **kw))


class DateTimeDiff(_Construct):
    """Seconds from the second datetime to the first."""

    inherit_cache = True

    type = Float()
    name = "ts_dt_diff"


@compiles(DateTimeDiff, "sqlite")
def _dt_diff_sqlite(element: DateTimeDiff, compiler: Any, **kw: Any) -> str:
    return "ts_dt_diff({}, {})".format(*_args(compiler, element, **kw))


@compiles(DateTimeDiff, "postgresql")
def _dt_diff_pg(element: DateTimeDiff, compiler: Any, **kw: Any) -> str:
    return "EXTRACT(EPOCH FROM (({}) - ({})))".format(*_args(compiler, element, **kw))


class DateAddDays(_Construct):
    """A date plus a whole number of days."""

    inherit_cache = True

    type = Date()
    name = "ts_date_add"


@compiles(DateAddDays, "sqlite")
def _date_add_sqlite(element: DateAddDays, compiler: Any, **kw: Any) -> str:
    # whole days toward zero, as Python's int(): 1.9 days is one, -1.9 is minus one
    return "date(julianday({}) + CAST(({}) AS INTEGER))".format(*_args(compiler, element, **kw))


@compiles(DateAddDays, "postgresql")
def _date_add_pg(element: DateAddDays, compiler: Any, **kw: Any) -> str:
    return "(({}) + CAST(trunc({}) AS INTEGER))".format(*_args(compiler, element, **kw))


class DateDiffDays(_Construct):
    """Whole days from the second date to the first."""

    inherit_cache = True

    type = Integer()
    name = "ts_date_diff"


@compiles(DateDiffDays, "sqlite")
def _date_diff_sqlite(element: DateDiffDays, compiler: Any, **kw: Any) -> str:
    return "CAST(round(julianday({}) - julianday({})) AS INTEGER)".format(
        *_args(compiler, element, **kw)
    )


@compiles(DateDiffDays, "postgresql")
def _date_diff_pg(element: DateDiffDays, compiler: Any, **kw: Any) -> str:
    return "(({}) - ({}))".format(*_args(compiler, element, **kw))


class LocalDate(_Construct):
    """The calendar date of a datetime in a named time zone (DST handled by the zone data)."""

    inherit_cache = True

    type = Date()
    name = "ts_local_date"


@compiles(LocalDate, "sqlite")
def _local_date_sqlite(element: LocalDate, compiler: Any, **kw: Any) -> str:
    return "ts_local_date({}, {})".format(*_args(compiler, element, **kw))


@compiles(LocalDate, "postgresql")
def _local_date_pg(element: LocalDate, compiler: Any, **kw: Any) -> str:
    value, zone = _args(compiler, element, **kw)
    return f"CAST((({value}) AT TIME ZONE {zone}) AS DATE)"


class LocalMidnight(_Construct):
    """The first instant of a date in a named time zone."""

    inherit_cache = True

    type = UTCDateTime()
    name = "ts_local_midnight"


@compiles(LocalMidnight, "sqlite")
def _midnight_sqlite(element: LocalMidnight, compiler: Any, **kw: Any) -> str:
    return "ts_local_midnight({}, {})".format(*_args(compiler, element, **kw))


@compiles(LocalMidnight, "postgresql")
def _midnight_pg(element: LocalMidnight, compiler: Any, **kw: Any) -> str:
    value, zone = _args(compiler, element, **kw)
    return f"(CAST(({value}) AS TIMESTAMP) AT TIME ZONE {zone})"


class DatePart(_Construct):
    """A part of a date as a number: ``year``, ``month``, ``quarter``, ``isoweek``, ``isodow``."""

    inherit_cache = False

    type = Integer()
    name = "ts_date_part"

    def __init__(self, part: str, value: Any) -> None:
        super().__init__(value)
        self.part = part


_SQLITE_PARTS = {
    "year": "CAST(strftime('%Y', {0}) AS INTEGER)",
    "month": "CAST(strftime('%m', {0}) AS INTEGER)",
    "quarter": "((CAST(strftime('%m', {0}) AS INTEGER) + 2) / 3)",
    # ISO weekday: %w is 0 (Sunday) .. 6.
    "isodow": "((CAST(strftime('%w', {0}) AS INTEGER) + 6) % 7 + 1)",
    # ISO week: the week of the Thursday of this date's week.
    "isoweek": (
        "((CAST(strftime('%j', date({0}, '-' || ((CAST(strftime('%w', {0}) AS INTEGER) + 6) % 7) "
        "|| ' days', '+3 days')) AS INTEGER) - 1) / 7 + 1)"
    ),
}


@compiles(DatePart, "sqlite")
def _part_sqlite(element: DatePart, compiler: Any, **kw: Any) -> str:
    (value,) = _args(compiler, element, **kw)
    return _SQLITE_PARTS[element.part].format(value)


@compiles(DatePart, "postgresql")
def _part_pg(element: DatePart, compiler: Any, **kw: Any) -> str:
    (value,) = _args(compiler, element, **kw)
    part = {"isoweek": "WEEK"}.get(element.part, element.part.upper())  # PostgreSQL's WEEK is ISO
    return f"CAST(EXTRACT({part} FROM ({value})) AS INTEGER)"


class Trim(_Construct):
    """``trim(text, characters)``: the text without those characters at either end."""

    inherit_cache = True

    type = String()
    name = "ts_trim"


@compiles(Trim, "sqlite")
def _trim_sqlite(element: Trim, compiler: Any, **kw: Any) -> str:
    return "trim({}, {})".format(*_args(compiler, element, **kw))


@compiles(Trim, "postgresql")
def _trim_pg(element: Trim, compiler: Any, **kw: Any) -> str:
    return "btrim({}, {})".format(*_args(compiler, element, **kw))


class ListHas(_Construct):
    """Membership in a list field (multi-select, tags) stored as JSON."""

    inherit_cache = True

    type = Boolean()
    name = "ts_list_has"


@compiles(ListHas, "sqlite")
def _has_sqlite(element: ListHas, compiler: Any, **kw: Any) -> str:
    items, value = _args(compiler, element, **kw)
    return (
        f"(CASE WHEN ({items}) IS NULL OR ({value}) IS NULL THEN NULL "
        f"ELSE EXISTS (SELECT 1 FROM json_each({items}) WHERE json_each.value = ({value})) END)"
    )


@compiles(ListHas, "postgresql")
def _has_pg(element: ListHas, compiler: Any, **kw: Any) -> str:
    items, value = _args(compiler, element, **kw)
    return (
        f"(CASE WHEN ({value}) IS NULL THEN NULL ELSE ({items}) @> jsonb_build_array({value}) END)"
    )


class ListLength(_Construct):
    """The number of items of a JSON list field."""

    inherit_cache = True

    type = Integer()
    name = "ts_list_length"


@compiles(ListLength, "sqlite")
def _len_sqlite(element: ListLength, compiler: Any, **kw: Any) -> str:
    return "json_array_length({})".format(*_args(compiler, element, **kw))


@compiles(ListLength, "postgresql")
def _len_pg(element: ListLength, compiler: Any, **kw: Any) -> str:
    return "jsonb_array_length({})".format(*_args(compiler, element, **kw))


__all__ = [
    "BLANKS",
    "AsNumeric",
    "ContainsText",
    "DateAddDays",
    "DateDiffDays",
    "DatePart",
    "DateTimeAdd",
    "DateTimeDiff",
    "ExactDiv",
    "Fold",
    "ListHas",
    "ListLength",
    "LocalDate",
    "LocalMidnight",
    "Numeric6",
    "Regexp",
    "TextOrder",
    "Trim",
    "TruncMod",
    "Upper",
]
