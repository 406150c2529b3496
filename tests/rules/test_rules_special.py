"""The specialised body gives what the general body gives, record by record.

Scoring, grading and routing compile a second fast body that reads fields by
subscript and leaves out the coercions and null tests its guard makes
identities (compile_py_special): a number field holding an ``int`` (a
``Decimal`` for a currency), a date a ``date``, a datetime an aware
``datetime``, a folded text a ``str``. Records that are not plain dicts, lack
a key or fail the guard run the general body. Here the same rule sets are
compiled with and without the special body and must give the same value (or
raise the same error) for every generated record, one by one, in the batch
loop and with a trace, on records that pass the guard and records that don't.
"""

from __future__ import annotations

import datetime as dt
import sys
from decimal import Decimal
from typing import Any

import pytest
from fixtures import DEFINITIONS, definitions
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.rules.compile_rules import CompiledRuleSet, compile_ruleset
from engine.rules.service import RuleService

NOW = dt.datetime(2026, 6, 30, 12, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))

RULES = """\
scoring special on lead into score:
    +20 "web"        when source == "website"
    +10 "expo"       when source == "expo"
    +5  "soft"       when industry in ["software", "retail"]
    +10 "large"      when company_size >= 500
    +5  "mid"        when company_size between 100 and 499
    -10 "small"      when company_size < 10
    +3  "not 42"     when company_size != 42
    +15 "dm"         when title contains "director" or title contains "VP"
    +20 "dl"         when downloaded_pricing
    +min(page_visits * 2, 20) "visits"
    +max(budget, 0.5) "budget"
    +(page_visits + company_size - 3) "sum"
    -days_since(created_at) "age"
    +days_since(close_date) "close"
    -10 "stale"      when days_since(created_at) > 90
    +7  "closing"    when days_since(close_date) between -30 and 0
    +1  "big budget" when budget > 1000.5
    +2  "elsewhere"  when region not in ["east", "west"]
    +1  "few"        when page_visits < 3
    +2  "some"       when page_visits between 3 and 9
    +4  "both ends"  when page_visits between 10 and 10
    +8  "overlaps"   when page_visits between 5 and 20
    +16 "lots"       when page_visits > 20
    +32 "empty"      when page_visits between 30 and 25

grading special_grade on lead from company_size into company:
    "g0" when company_size > 80
    "g1" when company_size >= 50
    "g2" when budget > 1
    "g3" when title contains "vp"
    "g4" when days_since(close_date) < 0
    "none" otherwise

routing special_route on lead:
    "r0" when region == "east" assign team "east"
    "r1" when company_size >= 5000 assign user "ent"
    "r2" when title contains "director" and page_visits > 3 assign user "d"
    "r3" when days_since(created_at) between 0 and 30 assign user "new"
    "r4" when budget <= 10 assign user "small"
    otherwise assign field title
"""

NAMES = ("special", "special_grade", "special_route")

#: Mostly values of the class the guard asks for, and some of every other shape a
#: record may hold (null, float from JSON, boolean, text, naive or date-only values).
SIZES = st.one_of(
    st.integers(-(10**6), 10**6),
    st.sampled_from([0, 9, 10, 42, 50, 80, 81, 99, 100, 499, 500, 5000]),
    st.sampled_from([None, 499.5, 10.0, True, "600", Decimal("100.5")]),
)
BUDGETS = st.one_of(
    st.decimals(min_value=-100, max_value=5000, allow_nan=False, places=2),
    st.sampled_from([None, 0.5, 1, 1000.5, Decimal("0.5"), False]),
)
VISITS = st.one_of(st.integers(0, 40), st.sampled_from([None, 2.5, True, Decimal(3)]))
DATETIMES = st.one_of(
    st.datetimes(
        min_value=dt.datetime(2025, 1, 1),
        max_value=dt.datetime(2027, 1, 1),
        timezones=st.sampled_from([dt.UTC, dt.timezone(dt.timedelta(hours=-7))]),
    ),
    st.sampled_from(
        [
            None,
            dt.datetime(2026, 6, 1, 8, 0),  # naive: taken to be in the platform's zone
            dt.datetime(1, 1, 1, 0, 0, tzinfo=dt.UTC),  # out of the calendar in +08:00
            dt.datetime(9999, 12, 31, 23, 0, tzinfo=dt.UTC),
            dt.date(2026, 6, 1),
            "2026-03-01T23:59:59+08:00",
            "not a date",
        ]
    ),
)
DATES = st.one_of(
    st.dates(min_value=dt.date(2026, 1, 1), max_value=dt.date(2026, 12, 31)),
    st.sampled_from(
        [None, dt.date(1, 1, 1), dt.date(9999, 12, 31), dt.datetime(2026, 7, 1, 3, 0), "bad"]
    ),
)
TITLES = st.one_of(
    st.sampled_from(["Sales Director", "SVP Ops", "Buyer", "", "IT DIRECTOR"]),
    st.text(max_size=12),
    st.sampled_from([None, ["vp", "director"], 7]),
)
FIELDS = {
    "source": st.sampled_from([None, "website", "expo", "ads", 3]),
    "industry": st.sampled_from([None, "software", "retail", "manufacturing"]),
    "region": st.sampled_from([None, "east", "west", "north"]),
    "company_size": SIZES,
    "budget": BUDGETS,
    "page_visits": VISITS,
    "downloaded_pricing": st.sampled_from([True, False, None, 1]),
    "title": TITLES,
    "created_at": DATETIMES,
    "close_date": DATES,
}
#: Complete records (every key, as stored records have), and some with keys missing.
RECORDS = st.one_of(
    st.fixed_dictionaries(FIELDS),
    st.fixed_dictionaries(FIELDS),
    st.fixed_dictionaries({}, optional=FIELDS),
)


class Row(dict):
    """A dict subclass: never the special body (its ``get`` could differ)."""


@pytest.fixture(scope="module")
def pairs() -> dict[str, tuple[CompiledRuleSet, CompiledRuleSet]]:
    """Each rule set compiled with the special body and without it."""
    svc = RuleService(
        definitions, entities=DEFINITIONS, timezone="Asia/Shanghai", clock=lambda: NOW
    )
    svc.load_ruleset(RULES, "special.rules")
    out = {}
    for name in NAMES:
        loaded = svc.rulesets()[name]
        assert loaded.checked is not None
        general = compile_ruleset(loaded.compiled.node, loaded.checked, svc.tz, special=False)
        assert "_s0 = r[" in loaded.compiled.source and "_s0" not in general.source
        out[name] = (loaded.compiled, general)
    out["@ctx"] = svc.context  # type: ignore[assignment]
    return out


def _outcome(call: Any, *args: Any, **kw: Any) -> tuple[str, Any]:
    try:
        return "value", call(*args, **kw)
    except Exception as e:  # the same error either way is the contract
        return "error", type(e)


@settings(max_examples=400, deadline=None)
@given(records=st.lists(RECORDS, max_size=6))
def test_special_and_general_bodies_agree(pairs: dict, records: list[dict]) -> None:
    ctx = pairs["@ctx"]()
    for name in NAMES:
        special, general = pairs[name]
        for record in records:
            want = _outcome(general.run, record, None, None, ctx)
            assert _outcome(special.run, record, None, None, ctx) == want, (name, record)
            assert _outcome(special.run, Row(record), None, None, ctx) == want, (name, record)
            trace_s: list[Any] = []
            trace_g: list[Any] = []
            got = _outcome(special.run, record, None, None, ctx, trace_s)
            assert got == _outcome(general.run, record, None, None, ctx, trace_g) == want
            assert trace_s == trace_g, (name, record)
        want_many = _outcome(general.many, records, None, None, ctx)
        assert _outcome(special.many, records, None, None, ctx) == want_many, name
        if want_many[0] == "value":
            singles = [general.run(r, None, None, ctx) for r in records]
            assert want_many[1] == singles, name


def _special_lines_run(compiled: CompiledRuleSet, record: dict, ctx: Any) -> int:
    """How many lines of the special body ``run`` executes for ``record``."""
    lines = compiled.source.splitlines()
    # line numbers (from 1) of the special body: after the guard (the line after the
    # subscript reads' ``else:``), before the general body's first line
    start = lines.index("        else:") + 2
    end = next(n for n, line in enumerate(lines, 1) if line.startswith("    rg = "))
    ran: list[int] = []

    def tracer(frame: Any, event: str, arg: Any) -> Any:
        if frame.f_code.co_filename == "<rules>" and frame.f_code.co_name == "_ruleset":
            if event == "line" and start < frame.f_lineno < end:
                ran.append(frame.f_lineno)
            return tracer
        return None

    sys.settrace(tracer)
    try:
        compiled.run(record, None, None, ctx)
    finally:
        sys.settrace(None)
    return len(ran)


def test_the_guard_picks_the_body(pairs: dict) -> None:
    """A typed, complete record runs the special body; a null number, a float, a missing
    key or a dict subclass runs the general one."""
    ctx = pairs["@ctx"]()
    record = {
        "source": "website", "industry": "software", "region": "north", "company_size": 600,
        "budget": Decimal("12.50"), "page_visits": 4, "downloaded_pricing": True,
        "title": "Sales Director", "created_at": dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
        "close_date": dt.date(2026, 7, 10),
    }  # fmt: skip
    special = pairs["special"][0]
    assert _special_lines_run(special, record, ctx) > 10
    for change in ({"company_size": None}, {"budget": 12.5}, {"title": None}):
        assert _special_lines_run(special, {**record, **change}, ctx) == 0, change
    assert _special_lines_run(special, {k: v for k, v in record.items() if k != "region"}, ctx) == 0
    assert _special_lines_run(special, Row(record), ctx) == 0
    # a text field only compared (source) may be null in the special body
    assert _special_lines_run(special, {**record, "source": None}, ctx) > 10
    assert special.run(record, None, None, ctx) == pairs["special"][1].run(record, None, None, ctx)


def test_a_duration_field_keeps_its_coercion() -> None:
    """A duration is read by subscript and coerced as the general body does (no guard):
    numbers are seconds, anything else null."""
    definition = {
        "name": "call",
        "schema": {
            "type": "object",
            "properties": {
                "wait": {"type": "number", "x-type": "duration"},
                "agent": {"type": "string"},
                "wait_score": {"type": "integer"},
            },
        },
    }
    svc = RuleService({"call": definition}.get, entities=["call"], timezone="UTC")
    svc.load_ruleset(
        'scoring slow on call into wait_score:\n    +10 "slow" when wait > 2h\n'
        '    +1 "named" when agent != "bot"\n',
        "call.rules",
    )
    loaded = svc.rulesets()["slow"]
    assert loaded.checked is not None
    general = compile_ruleset(loaded.compiled.node, loaded.checked, svc.tz, special=False)
    assert "_s" in loaded.compiled.source and "_as_duration(" in loaded.compiled.source
    ctx = svc.context()
    waits = [None, 0, 7201, 7200, 9000.5, Decimal(8000), True, "3h", dt.timedelta(hours=3)]
    for wait in waits:
        for agent in (None, "bot", "ann"):
            record = {"wait": wait, "agent": agent}
            want = _outcome(general.run, record, None, None, ctx)
            assert _outcome(loaded.compiled.run, record, None, None, ctx) == want, record
            got = _outcome(loaded.compiled.many, [record], None, None, ctx)
            assert got == _outcome(general.many, [record], None, None, ctx), record
