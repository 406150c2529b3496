"""The browser's business-hours functions count on the bundle's calendar, as the server does.

A ticket form shows its SLA due time live (``add_business_hours`` in the entity's
computed values); the server stores the one rules/ticket.rules computes on the CRM's
calendar, with China's holidays and make-up working days (调休). The two must agree:
each case runs through Python (``RuleService`` with the calendar) and through the
compiled JavaScript in Node with the same calendar, as ``engine.forms.live_script``
hands it to the page (``BusinessCalendar.to_config``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from fixtures import DEFINITIONS
from hypothesis import given, settings
from hypothesis import strategies as st
from node_runner import NODE, NodeSession, exact

from engine.business_hours import BusinessCalendar
from engine.rules.service import RuleService

needs_node = pytest.mark.skipif(NODE is None, reason="node is not installed")

BUNDLE = Path(__file__).resolve().parents[2] / "apps" / "crm" / "bundle.yaml"
CONFIG = yaml.safe_load(BUNDLE.read_text(encoding="utf-8"))["business_hours"]
CALENDAR = BusinessCalendar.from_config(CONFIG)
NOW = dt.datetime(2026, 10, 12, 3, 30, tzinfo=dt.UTC)  # after the National Day week

EXPRESSIONS = [
    "add_business_hours(created_at, 1)",
    "add_business_hours(created_at, 8)",
    "add_business_hours(created_at, 24)",
    "add_business_hours(created_at, 72)",
    "add_business_hours(created_at, 2.5)",
    "business_hours_since(created_at)",
]

# Around the 2026 National Day holidays (10-01..10-07, make-up Saturday 10-10) and
# Spring Festival (02-16..02-20, make-up Saturdays 02-14 and 02-28), in UTC.
STARTS = [
    "2026-09-30T09:00:00Z",  # 17:00 in Shanghai on the last day before the holidays
    "2026-09-30T11:00:00Z",  # after closing
    "2026-10-03T02:00:00Z",  # inside the holidays
    "2026-10-09T08:30:00Z",  # Friday 16:30: the next working day is the make-up Saturday
    "2026-10-10T01:00:00Z",  # on the make-up Saturday
    "2026-02-13T09:30:00Z",  # Friday 17:30 before a make-up Saturday and the Spring Festival
    "2026-02-27T05:00:00Z",
    "2026-01-01T00:00:00Z",
]


def rules() -> RuleService:
    return RuleService(
        DEFINITIONS.get,
        entities=DEFINITIONS,
        timezone="Asia/Shanghai",
        clock=lambda: NOW,
        calendar=CALENDAR,
    )


def js_context() -> dict[str, Any]:
    return {"tz": "Asia/Shanghai", "now": NOW.isoformat(), "calendar": CALENDAR.to_config()}


@pytest.fixture(scope="module")
def node() -> Iterator[NodeSession]:
    if NODE is None:
        pytest.skip("node is not installed")
    session = NodeSession()
    yield session
    session.close()


def both(node: NodeSession, cases: list[tuple[str, str]]) -> list[tuple[Any, Any]]:
    """(Python's, JavaScript's) answer for each (expression, created_at)."""
    service = rules()
    sources, inputs, wanted = [], [], []
    for expr, start in cases:
        compiled = service.compile(expr, "lead")
        record = {"created_at": start}
        sources.append(compiled.js())
        inputs.append({"record": record, "ctx": js_context()})
        wanted.append(exact(compiled(record)))
    got = [r.get("value", r) for r in node.run(sources, inputs)]
    return list(zip(wanted, got))


def test_the_calendar_goes_to_the_browser_as_the_bundle_states_it() -> None:
    again = BusinessCalendar.from_config(CALENDAR.to_config())
    assert again == CALENDAR
    assert CALENDAR.to_config()["timezone"] == "Asia/Shanghai"
    assert "2026-10-10" in CALENDAR.to_config()["workdays"]


@needs_node
def test_due_times_and_hours_spent_agree_across_holidays_and_make_up_days(node) -> None:
    cases = [(e, s) for e in EXPRESSIONS for s in STARTS]
    for (expr, start), (py, js) in zip(cases, both(node, cases)):
        assert js == py, (expr, start)


@needs_node
def test_the_holidays_move_a_due_time_in_the_browser_too(node) -> None:
    # 17:00 on 09-30 plus 8 working hours: one hour that day, then the holidays and the
    # weekend (10-01 to 10-07), then 09:00 to 16:00 in Shanghai on Thursday 10-08.
    [(py, js)] = both(node, [("add_business_hours(created_at, 8)", "2026-09-30T09:00:00Z")])
    assert py == js == {"datetime": "2026-10-08T08:00:00Z"}
    # Friday 10-09 at 16:30 plus 9 hours: 1.5 that day, 7.5 on the make-up Saturday 10-10.
    [(py, js)] = both(node, [("add_business_hours(created_at, 9)", "2026-10-09T08:30:00Z")])
    assert py == js == {"datetime": "2026-10-10T08:30:00Z"}


@needs_node
@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(EXPRESSIONS),
            st.datetimes(
                min_value=dt.datetime(2025, 12, 20), max_value=dt.datetime(2026, 10, 12)
            ).map(lambda d: d.replace(microsecond=0, tzinfo=dt.UTC).isoformat()),
        ),
        min_size=1,
        max_size=15,
    )
)
def test_generated_moments_agree(node, cases: list[tuple[str, str]]) -> None:
    for (expr, start), (py, js) in zip(cases, both(node, cases)):
        assert js == py, (expr, start)
