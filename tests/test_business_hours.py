"""Business-hours arithmetic (engine/business_hours.py): examples, then properties.

The properties are what an SLA clock relies on: adding h working hours and
measuring back gives h; a due time is never outside working hours; more hours
never give an earlier due time.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.business_hours import BusinessCalendar
from engine.errors import ValidationError

SH = ZoneInfo("Asia/Shanghai")
CAL = BusinessCalendar.from_config(
    {
        "days": ["mon", "tue", "wed", "thu", "fri"],
        "opens": "09:00",
        "closes": "18:00",
        "timezone": "Asia/Shanghai",
        "holidays": ["2026-10-01", "2026-10-02", "2026-10-05"],
        "workdays": ["2026-10-10"],
    }
)


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=SH)


def test_a_p1_ticket_opened_late_on_friday_is_due_on_monday():
    # 17:30 Friday + 1 working hour: half an hour on Friday, half an hour on Monday.
    assert CAL.add_hours(at("2026-11-06T17:30"), 1) == at("2026-11-09T09:30")
    # 8 hours to resolve from 10:00 Monday: 18:00 the same day.
    assert CAL.add_hours(at("2026-11-09T10:00"), 8) == at("2026-11-09T18:00")


def test_a_ticket_opened_at_night_starts_its_clock_at_opening():
    assert CAL.add_hours(at("2026-11-09T22:15"), 1) == at("2026-11-10T10:00")
    assert CAL.add_hours(at("2026-11-08T03:00"), 0) == at("2026-11-09T09:00")  # Sunday


def test_holidays_are_skipped_and_make_up_days_worked():
    # Wed 30 Sep 17:00 + 2 h: 1 h on Wednesday; 1 Oct, 2 Oct (holidays), the weekend and
    # 5 Oct (holiday) are off; Tuesday 6 Oct 10:00.
    assert CAL.add_hours(at("2026-09-30T17:00"), 2) == at("2026-10-06T10:00")
    # Saturday 10 October is a make-up working day (调休).
    assert CAL.add_hours(at("2026-10-09T17:00"), 2) == at("2026-10-10T10:00")
    assert CAL.hours_between(at("2026-09-30T09:00"), at("2026-10-07T09:00")) == 9 + 9


def test_measuring_counts_only_working_time():
    assert CAL.hours_between(at("2026-11-06T17:00"), at("2026-11-09T09:20")) == Decimal(
        "4"
    ) / Decimal(3)
    assert CAL.hours_between(at("2026-11-09T12:00"), at("2026-11-09T11:00")) == 0


def test_bad_calendar_data_names_the_key():
    with pytest.raises(ValidationError) as info:
        BusinessCalendar.from_config({"days": ["mon", "funday"]})
    assert info.value.errors[0]["field"] == "days[1]"
    with pytest.raises(ValidationError) as info:
        BusinessCalendar.from_config({"opens": "18:00", "closes": "09:00"})
    assert info.value.errors[0]["field"] == "closes"
    with pytest.raises(ValidationError) as info:
        BusinessCalendar.from_config({"holidays": ["2026-13-01"]})
    assert info.value.errors[0]["field"] == "holidays[0]"


# ---------------------------------------------------------------- properties

starts = st.datetimes(
    min_value=dt.datetime(2026, 1, 1), max_value=dt.datetime(2027, 12, 31), timezones=st.just(SH)
)
hours = st.integers(min_value=0, max_value=200 * 60).map(lambda m: Decimal(m) / 60)
zones = st.sampled_from(["UTC", "Asia/Shanghai", "Europe/Berlin", "America/New_York"])


@settings(max_examples=300, deadline=None)
@given(start=starts, h=hours)
def test_adding_then_measuring_gives_the_hours_back(start, h):
    due = CAL.add_hours(start, h)
    assert abs(CAL.hours_between(start, due) - h) < Decimal("0.000001")


@settings(max_examples=300, deadline=None)
@given(start=starts, h=hours)
def test_a_due_time_never_lands_outside_working_hours(start, h):
    due = CAL.add_hours(start, h)
    assert CAL.is_open(due)
    assert due >= start


@settings(max_examples=200, deadline=None)
@given(start=starts, a=hours, b=hours)
def test_more_hours_are_never_due_earlier(start, a, b):
    low, high = sorted((a, b))
    assert CAL.add_hours(start, low) <= CAL.add_hours(start, high)


@settings(max_examples=200, deadline=None)
@given(start=starts, end=starts, middle=starts)
def test_measuring_adds_up_over_a_split(start, end, middle):
    start, middle, end = sorted((start, middle, end))
    whole = CAL.hours_between(start, end)
    parts = CAL.hours_between(start, middle) + CAL.hours_between(middle, end)
    assert abs(whole - parts) < Decimal("1e-12")
    assert whole <= Decimal((end - start).total_seconds()) / 3600


@settings(max_examples=100, deadline=None)
@given(zone=zones, start=starts, h=hours)
def test_the_properties_hold_in_zones_with_daylight_saving(zone, start, h):
    cal = BusinessCalendar.from_config({"timezone": zone})
    due = cal.add_hours(start, h)
    assert cal.is_open(due)
    assert abs(cal.hours_between(start, due) - h) < Decimal("0.000001")
