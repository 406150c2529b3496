"""The one function registry: each entry is a signature the checker reads and a spelling per target.

A function is a :class:`Function`: its parameter kinds, its result kind, a
Python implementation (called as ``py(ctx, *args)`` with the runtime
:class:`~engine.rules.runtime.Context` first), an optional SQL builder
(SQLAlchemy clauses in, a clause out) and its browser spelling ``js``: the
name of a function in the JavaScript runtime's table (``TesseraRules.fn``,
where every built-in has one), or the source of a JavaScript function
``(ctx, ...args) => value``; without it, compile_js refuses expressions that
call the function. Developers add functions with :func:`register_function`;
the checker, the compilers and the editor's completion pick them up with no
other change.

Child-table aggregates (``any all count sum min max avg`` over ``items``)
are special forms: the checker and compilers handle them, because their
second argument is evaluated once per row with ``it`` bound to the row.
"""

from __future__ import annotations

import calendar
import datetime as dt
import operator
from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import case, func, literal
from sqlalchemy import or_ as sql_or

from engine.errors import PluginError
from engine.periods import PERIODS, next_period, period_start
from engine.rules import runtime
from engine.rules.runtime import Context

#: Parameter and result kinds. ``temporal`` accepts a date or a datetime;
#: ``any`` accepts everything; a result ``arg0`` is the first argument's type.
KINDS = (
    "any",
    "boolean",
    "number",
    "string",
    "date",
    "datetime",
    "temporal",
    "duration",
    "list",
    "arg0",
    "common",
)

#: Names that work over child tables when the first argument is one.
AGGREGATE_NAMES = ("any", "all", "count", "sum", "min", "max", "avg")


@dataclass(frozen=True)
class Function:
    """One function. ``params`` lists parameter kinds; the last repeats when ``variadic``;
    parameters from ``min_args`` on are optional."""

    name: str
    params: tuple[str, ...]
    returns: str
    py: Callable[..., Any]
    min_args: int | None = None
    variadic: bool = False
    sql: Callable[..., Any] | None = None
    js: str | None = None
    doc: str = ""

    @property
    def required(self) -> int:
        return len(self.params) if self.min_args is None else self.min_args


_registry: dict[str, Function] = {}


def register_function(fn: Function) -> Function:
    """Add ``fn`` (or replace a function of the same name).

    Raises :class:`PluginError` naming the function when its name is not an
    identifier, a kind is unknown, or it shadows a child-table aggregate.
    """
    problems = []
    if not fn.name.isidentifier():
        problems.append("needs a name made of letters, digits and underscores")
    for kind in (*fn.params, fn.returns):
        if kind not in KINDS:
            problems.append(f"uses the unknown kind {kind!r}; use one of {', '.join(KINDS)}")
    if fn.name in AGGREGATE_NAMES and fn.name not in ("min", "max"):
        problems.append("has the name of a child-table aggregate")
    if not callable(fn.py):
        problems.append("has no Python implementation")
    if problems:
        raise PluginError(
            f"function {fn.name!r} " + "; ".join(problems),
            [{"field": fn.name, "message": p} for p in problems],
        )
    _registry[fn.name] = fn
    return fn


def get_function(name: str) -> Function | None:
    return _registry.get(name)


#: The built-in functions as registered at import, so that the Python compiler inlines a
#: built-in only while it is still the registered one (a developer may replace it).
_builtins: dict[str, Function] = {}


def is_builtin(name: str) -> bool:
    """Whether ``name`` is still the platform's own function (not replaced by a plugin)."""
    fn = _registry.get(name)
    return fn is not None and _builtins.get(name) is fn


def functions() -> dict[str, Function]:
    return dict(_registry)


# ---------------------------------------------------------------- implementations


def _null_safe(impl: Callable[..., Any]) -> Callable[..., Any]:
    """Most functions give null when any argument is null (as SQL does), and null when the
    answer falls outside what the type can hold (a date past 9999, a huge power)."""

    as_number = runtime.as_number

    def wrapper(ctx: Context, *args: Any) -> Any:
        # one and two arguments are most calls: no generator, no list
        try:
            if len(args) == 1:
                a = args[0]
                return None if a is None else impl(ctx, as_number(a))
            if len(args) == 2:
                a, b = args
                return None if a is None or b is None else impl(ctx, as_number(a), as_number(b))
            if any(a is None for a in args):
                return None
            return impl(ctx, *[as_number(a) for a in args])
        except (OverflowError, ValueError, ArithmeticError):
            return None  # out of the calendar or of range: null, never a crash

    wrapper.__name__ = impl.__name__
    wrapper.__doc__ = impl.__doc__
    return wrapper


def _dec(x: Any) -> Decimal:
    return x if isinstance(x, Decimal) else Decimal(x)


def _round(ctx: Context, x: Any, digits: Any = 0) -> Any:
    q = Decimal(1).scaleb(-int(digits))
    result = _dec(x).quantize(q, rounding=ROUND_HALF_UP)
    return int(result) if int(digits) <= 0 else result


def _floor(ctx: Context, x: Any) -> Any:
    return int(_dec(x).to_integral_value(rounding=ROUND_FLOOR))


def _ceil(ctx: Context, x: Any) -> Any:
    return int(_dec(x).to_integral_value(rounding=ROUND_CEILING))


def _clamp(ctx: Context, x: Any, lo: Any, hi: Any) -> Any:
    return max(lo, min(hi, x))


def _len(ctx: Context, x: Any) -> Any:
    return len(x)


def _left(ctx: Context, s: str, n: Any) -> str:
    return s[: max(0, int(n))]


def _right(ctx: Context, s: str, n: Any) -> str:
    n = max(0, int(n))
    return s[max(0, len(s) - n) :] if n else ""


def _substr(ctx: Context, s: str, start: Any, length: Any = None) -> str:
    """1-based start as in SQL ``substr``."""
    begin = max(0, int(start) - 1)
    if length is None:
        return s[begin:]
    return s[begin : begin + max(0, int(length))]


def _substr_entry(ctx: Context, s: Any, start: Any, length: Any = None) -> Any:
    if s is None or start is None:
        return None
    return _substr(ctx, s, start, length)


def _concat(ctx: Context, *parts: Any) -> str:
    """Nulls count as empty text, as PostgreSQL's ``concat`` does."""
    return "".join("" if p is None else _text(p) for p in parts)


def _text(value: Any) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _to_date(ctx: Context, x: Any) -> dt.date | None:
    return runtime.as_date(x, ctx)


def _parts(ctx: Context, x: Any) -> dt.date:
    if isinstance(x, dt.datetime):
        return runtime.local(x, ctx).date()
    return x


def _year(ctx: Context, x: Any) -> int:
    return _parts(ctx, x).year


def _month(ctx: Context, x: Any) -> int:
    return _parts(ctx, x).month


def _quarter(ctx: Context, x: Any) -> int:
    return (_parts(ctx, x).month - 1) // 3 + 1


def _week(ctx: Context, x: Any) -> int:
    """ISO week number (weeks start on Monday)."""
    return _parts(ctx, x).isocalendar()[1]


def _weekday(ctx: Context, x: Any) -> int:
    """1 = Monday ... 7 = Sunday (ISO)."""
    return _parts(ctx, x).isoweekday()


def _days_between(ctx: Context, a: Any, b: Any) -> int:
    """Whole calendar days from ``a`` to ``b`` in the platform's zone (negative if b is earlier)."""
    return (_parts(ctx, b) - _parts(ctx, a)).days


def _days_since(ctx: Context, a: Any) -> int:
    return (ctx.today() - _parts(ctx, a)).days


def _hours_since(ctx: Context, t: Any) -> Any:
    start = runtime.as_datetime(t, ctx)
    return Decimal((ctx.now() - start).total_seconds()) / 3600


def _add_days(ctx: Context, d: Any, n: Any) -> Any:
    return (
        d + dt.timedelta(days=float(n))
        if isinstance(d, dt.datetime)
        else d + dt.timedelta(days=int(n))
    )


def _add_months(ctx: Context, d: Any, n: Any) -> Any:
    """Month arithmetic that keeps the day where it can: Jan 31 + 1 month is Feb 28/29."""
    total = d.month - 1 + int(n)
    year, month = d.year + total // 12, total % 12 + 1
    day = min(d.day, calendar.monthrange(year, month)[1])
    return d.replace(year=year, month=month, day=day)


def _start_of(ctx: Context, d: Any, unit: str) -> Any:
    """The first day (or first instant, for a datetime) of the day/week/month/quarter/year."""
    unit = unit.lower()
    if unit not in PERIODS:
        return None
    if isinstance(d, dt.datetime):
        day = period_start(runtime.local(d, ctx).date(), unit)
        return dt.datetime(day.year, day.month, day.day, tzinfo=ctx.tz)
    return period_start(d, unit)


def _end_of(ctx: Context, d: Any, unit: str) -> Any:
    """The last day of the period (for a datetime: its last microsecond)."""
    unit = unit.lower()
    if unit not in PERIODS:
        return None
    if isinstance(d, dt.datetime):
        local = runtime.local(d, ctx).date()
        day = next_period(period_start(local, unit), unit)
        return dt.datetime(day.year, day.month, day.day, tzinfo=ctx.tz) - dt.timedelta(
            microseconds=1
        )
    return next_period(period_start(d, unit), unit) - dt.timedelta(days=1)


def _calendar(ctx: Context) -> Any:
    """The platform's working calendar, or Monday to Friday within ``ctx.business_hours``."""
    if ctx.calendar is not None:
        return ctx.calendar
    from engine.business_hours import BusinessCalendar

    open_h, close_h = ctx.business_hours
    return BusinessCalendar(opens=dt.time(open_h), closes=dt.time(close_h), tz=ctx.tz)


def _add_business_hours(ctx: Context, t: Any, hours: Any) -> Any:
    """The instant ``hours`` working hours after ``t`` on the platform's calendar (an SLA due time)."""
    if hours < 0:
        return None
    start = runtime.as_datetime(t, ctx)
    return _calendar(ctx).add_hours(start, Decimal(str(hours))).astimezone(dt.UTC)


def _business_hours_since(ctx: Context, t: Any) -> Any:
    """Working hours (Monday to Friday, the platform's opening hours) from ``t`` until now."""
    start = runtime.local(runtime.as_datetime(t, ctx), ctx)
    end = runtime.local(ctx.now(), ctx)
    if end <= start:
        return Decimal(0)
    if ctx.calendar is not None:  # a bundle's calendar, with its holidays
        return Decimal(str(round(float(ctx.calendar.hours_between(start, end)), 6)))
    open_h, close_h = ctx.business_hours
    seconds = 0.0
    day = start.date()
    while day <= end.date():
        if day.isoweekday() <= 5:
            opens = dt.datetime(day.year, day.month, day.day, open_h, tzinfo=ctx.tz)
            closes = dt.datetime(day.year, day.month, day.day, close_h, tzinfo=ctx.tz)
            lo, hi = max(opens, start), min(closes, end)
            if hi > lo:
                seconds += (hi - lo).total_seconds()
        day += dt.timedelta(days=1)
    return Decimal(str(round(seconds / 3600, 6)))


def _coalesce(ctx: Context, *values: Any) -> Any:
    return next((v for v in values if v is not None), None)


def _min(ctx: Context, *values: Any) -> Any:
    """Null if any argument is null, so Python and SQL agree."""
    if len(values) == 2:  # the common case, without a generator
        a, b = values
        if a is None or b is None:
            return None
        a, b = runtime.as_number(a), runtime.as_number(b)
        return b if b < a else a
    if any(v is None for v in values):
        return None
    return min(runtime.as_number(v) for v in values)


def _max(ctx: Context, *values: Any) -> Any:
    if len(values) == 2:
        a, b = values
        if a is None or b is None:
            return None
        a, b = runtime.as_number(a), runtime.as_number(b)
        return b if b > a else a
    if any(v is None for v in values):
        return None
    return max(runtime.as_number(v) for v in values)


# ---------------------------------------------------------------- SQL spellings


def _sql_extreme(args: tuple[Any, ...], wins: Callable[[Any, Any], Any]) -> Any:
    """The argument that ``wins`` over all the others, null when any is null (as Python's
    ``min``/``max`` here): a ``CASE`` chain on every dialect, as PostgreSQL's ``LEAST`` and
    ``GREATEST`` skip nulls."""
    expr = args[0]
    for other in args[1:]:
        expr = case((wins(other, expr), other), else_=expr)
    return case((sql_or(*[a.is_(None) for a in args]), None), else_=expr)


def _sql_least(*args: Any) -> Any:
    return _sql_extreme(args, operator.lt)


def _sql_greatest(*args: Any) -> Any:
    return _sql_extreme(args, operator.gt)


def _sql_concat(*args: Any) -> Any:
    parts = [func.coalesce(a, literal("")) for a in args]
    expr = parts[0]
    for p in parts[1:]:
        expr = expr.op("||")(p)
    return expr


def _sql_left(s: Any, n: Any) -> Any:
    return func.substr(s, 1, n)


def _sql_is_empty(x: Any) -> Any:
    return sql_or(x.is_(None), func.trim(x) == "")


def _builtin(
    name: str,
    params: str,
    returns: str,
    py: Callable[..., Any],
    *,
    min_args: int | None = None,
    variadic: bool = False,
    sql: Callable[..., Any] | None = None,
    null_safe: bool = True,
    doc: str = "",
) -> None:
    impl = _null_safe(py) if null_safe else py
    register_function(
        Function(
            name=name,
            params=tuple(params.split()) if params else (),
            returns=returns,
            py=impl,
            min_args=min_args,
            variadic=variadic,
            sql=sql,
            js=name,
            doc=doc or (py.__doc__ or "").strip(),
        )
    )


def _register_builtins() -> None:
    n, s = "number", "string"
    _builtin("abs", n, n, lambda ctx, x: abs(x), sql=func.abs, doc="The value without its sign.")
    _builtin("round", f"{n} {n}", n, _round, min_args=1, sql=func.round,
             doc="Rounded half away from zero, to 0 or the given number of decimals.")  # fmt: skip
    _builtin("floor", n, n, _floor, doc="The largest whole number not above the value.")
    _builtin("ceil", n, n, _ceil, doc="The smallest whole number not below the value.")
    _builtin("min", "any", "common", _min, variadic=True, null_safe=False, sql=_sql_least,
             doc="The smallest argument (null if any is null); over a child table, the smallest value.")  # fmt: skip
    _builtin("max", "any", "common", _max, variadic=True, null_safe=False, sql=_sql_greatest,
             doc="The largest argument (null if any is null); over a child table, the largest value.")  # fmt: skip
    _builtin(
        "clamp", f"{n} {n} {n}", n, _clamp, doc="The value kept between a low and a high bound."
    )
    _builtin("lower", s, s, lambda ctx, x: x.lower(), sql=func.lower, doc="Lower-case text.")
    _builtin("upper", s, s, lambda ctx, x: x.upper(), sql=func.upper, doc="Upper-case text.")
    _builtin("trim", s, s, lambda ctx, x: x.strip(runtime.BLANKS), sql=func.trim,
             doc="Text without spaces at either end.")  # fmt: skip
    _builtin("len", "any", n, _len, sql=func.length,
             doc="The number of characters of a text (or items of a list).")  # fmt: skip
    _builtin("left", f"{s} {n}", s, _left, sql=_sql_left, doc="The first n characters.")
    _builtin("right", f"{s} {n}", s, _right, doc="The last n characters.")
    _builtin("substr", f"{s} {n} {n}", s, _substr_entry, min_args=2, null_safe=False,
             sql=func.substr, doc="Part of a text: from a 1-based position, optionally of a length.")  # fmt: skip
    _builtin("replace", f"{s} {s} {s}", s, lambda ctx, x, a, b: x.replace(a, b),
             sql=func.replace, doc="The text with every occurrence of one part replaced.")  # fmt: skip
    _builtin("concat", "any", s, _concat, variadic=True, null_safe=False, sql=_sql_concat,
             doc="The arguments joined as text; nulls count as empty.")  # fmt: skip
    _builtin("today", "", "date", lambda ctx: ctx.today(), null_safe=False,
             doc="Today's date in the platform's time zone.")  # fmt: skip
    _builtin("now", "", "datetime", lambda ctx: ctx.now(), null_safe=False,
             doc="The current date and time.")  # fmt: skip
    _builtin("date", "any", "date", _to_date,
             doc="The date of a datetime (in the platform's zone) or of an ISO text.")  # fmt: skip
    _builtin("year", "temporal", n, _year, doc="The year of a date.")
    _builtin("month", "temporal", n, _month, doc="The month of a date, 1 to 12.")
    _builtin("quarter", "temporal", n, _quarter, doc="The quarter of a date, 1 to 4.")
    _builtin("week", "temporal", n, _week, doc="The ISO week number of a date.")
    _builtin(
        "weekday", "temporal", n, _weekday, doc="The day of the week, 1 = Monday to 7 = Sunday."
    )
    _builtin("days_between", "temporal temporal", n, _days_between,
             doc="Calendar days from the first date to the second.")  # fmt: skip
    _builtin("days_since", "temporal", n, _days_since, doc="Calendar days from a date until today.")
    _builtin("hours_since", "temporal", n, _hours_since, doc="Hours (with fractions) until now.")
    _builtin("business_hours_since", "temporal", n, _business_hours_since,
             doc="Working hours until now on the platform's calendar (for SLAs).")  # fmt: skip
    _builtin("add_business_hours", f"temporal {n}", "datetime", _add_business_hours,
             doc="The time some working hours later on the platform's calendar (SLA due times).")  # fmt: skip
    _builtin(
        "add_days", f"temporal {n}", "arg0", _add_days, doc="A date some days later (or earlier)."
    )
    _builtin("add_months", f"temporal {n}", "arg0", _add_months,
             doc="A date some months later; the day is kept where the month has it.")  # fmt: skip
    _builtin("start_of", f"temporal {s}", "arg0", _start_of,
             doc="The start of the day, week, month, quarter or year.")  # fmt: skip
    _builtin("end_of", f"temporal {s}", "arg0", _end_of,
             doc="The end of the day, week, month, quarter or year.")  # fmt: skip
    _builtin("coalesce", "any", "common", _coalesce, variadic=True, null_safe=False,
             sql=func.coalesce, doc="The first argument that is not null.")  # fmt: skip
    _builtin("is_empty", "any", "boolean", lambda ctx, x: runtime.is_empty(x), null_safe=False,
             sql=_sql_is_empty, doc="True for null, blank text or an empty list.")  # fmt: skip


_register_builtins()
_builtins.update(_registry)
#: Units ``start_of`` and ``end_of`` accept.

__all__ = [
    "AGGREGATE_NAMES",
    "KINDS",
    "Function",
    "functions",
    "get_function",
    "is_builtin",
    "register_function",
]
