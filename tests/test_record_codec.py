"""The per-entity record steps written by the codec give what the field-by-field walks give.

The walks in engine.store.values and engine.forms.defaults define each step;
the codec specialises them for speed. Hypothesis feeds both the same records
(valid and invalid values of every kind, typed and as text, missing keys,
unknown keys, child rows) and every result must be equal, including the
validation outcome of the typed fast path for dates and datetimes.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from engine.clock import Clock
from engine.forms.defaults import apply_defaults
from engine.forms.entity import build_model
from engine.forms.validation import RecordValidator
from engine.store.values import to_json_walk, to_python_walk

ENTITY: dict[str, Any] = {
    "name": "visit",
    "schema": {
        "type": "object",
        "required": ["title", "when"],
        "properties": {
            "title": {"type": "string", "maxLength": 20},
            "kind": {"type": "string", "enum": ["call", "visit"], "default": "call"},
            "count": {"type": "integer", "minimum": 0, "default": 1},
            "amount": {"type": "number", "x-type": "currency"},
            "done": {"type": "boolean"},
            "when": {"type": "string", "format": "date-time"},
            "seen_at": {"type": "string", "format": "date-time", "x-default": "now()"},
            "day": {"type": "string", "format": "date"},
            "account": {"type": "integer", "x-ref": "account"},
            "tags": {"type": "array", "items": {"type": "string"}, "uniqueItems": True},
            "lines": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "qty": {"type": "integer"},
                        "on": {"type": "string", "format": "date"},
                    },
                },
            },
        },
    },
}
MODEL = build_model(ENTITY)
VALIDATOR = RecordValidator(MODEL)
CLOCK = Clock()

zones = st.sampled_from(
    [
        dt.UTC,
        ZoneInfo("Asia/Shanghai"),
        ZoneInfo("America/New_York"),
        dt.timezone(dt.timedelta(seconds=30)),
    ]
)
datetimes = st.one_of(
    st.datetimes(timezones=zones),  # includes a sub-minute offset RFC 3339 cannot write
    st.datetimes(),  # naive: refused
    st.datetimes(timezones=zones).map(lambda d: d.isoformat()),
    st.dates(),
    st.just("2026-02-30T10:00:00Z"),
    st.none(),
)
dates = st.one_of(st.dates(), st.dates().map(str), st.datetimes(), st.just("2026-02-30"), st.none())
values: dict[str, Any] = {
    "title": st.one_of(st.text(max_size=25), st.none(), st.integers()),
    "kind": st.one_of(st.sampled_from(["call", "visit", "meeting"]), st.none()),
    "count": st.one_of(st.integers(-2, 5), st.floats(allow_nan=False), st.booleans(), st.none()),
    "amount": st.one_of(st.decimals(allow_nan=False, places=2), st.just("12.50"), st.none()),
    "done": st.one_of(st.booleans(), st.none(), st.integers(0, 1)),
    "when": datetimes,
    "seen_at": datetimes,
    "day": dates,
    "account": st.one_of(st.integers(1, 9), st.none(), st.text(max_size=2)),
    "tags": st.one_of(st.lists(st.sampled_from(["a", "b", "c"])), st.none()),
    "lines": st.one_of(
        st.lists(
            st.fixed_dictionaries(
                {}, optional={"qty": st.integers(), "on": dates, "id": st.integers(1, 5)}
            ),
            max_size=2,
        ),
        st.none(),
    ),
    "nonsense": st.integers(),
}
records = st.fixed_dictionaries({}, optional=values)


def _old_validate(record: dict[str, Any]) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    doc = to_json_walk(MODEL, record)
    errors = VALIDATOR.errors(doc)
    return errors, None if errors else to_python_walk(MODEL, doc)


def _new_validate(record: dict[str, Any]) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    codec = MODEL.codec
    doc, typed = codec.to_json_typed(record)
    errors = VALIDATOR.errors(doc)
    if errors:
        return errors, None
    out = codec.to_python(doc)
    out.update(typed)
    return errors, out


@given(records)
def test_to_json_matches_the_walk(record: dict[str, Any]) -> None:
    assert MODEL.codec.to_json(record) == to_json_walk(MODEL, record)


@given(records)
def test_validation_through_the_typed_path_matches_the_text_path(record: dict[str, Any]) -> None:
    old_errors, old = _old_validate(record)
    new_errors, new = _new_validate(record)
    assert {e["field"] for e in new_errors} == {e["field"] for e in old_errors}
    assert new == old
    if new is not None:
        for key, value in new.items():
            assert type(value) is type(old[key]), key


@given(records)
def test_to_python_matches_the_walk(record: dict[str, Any]) -> None:
    doc = to_json_walk(MODEL, record)
    if VALIDATOR.is_valid(doc):
        assert MODEL.codec.to_python(doc) == to_python_walk(MODEL, doc)


@given(records)
def test_defaults_match_apply_defaults(record: dict[str, Any]) -> None:
    got = MODEL.codec.defaults(record, CLOCK, "ann")
    want = apply_defaults(MODEL, record, CLOCK, "ann")
    assert got.keys() == want.keys()
    for key in got:
        if key != "seen_at" or key in record:  # now() is read twice, a moment apart
            assert got[key] == want[key], key


def test_a_decimal_and_a_date_keep_their_values() -> None:
    record = {
        "title": "x",
        "when": dt.datetime(2026, 1, 1, 8, tzinfo=ZoneInfo("Asia/Shanghai")),
        "day": dt.date(2026, 2, 28),
        "amount": Decimal("12.50"),
    }
    errors, out = _new_validate(record)
    assert errors == [] and out is not None
    assert out["when"] == dt.datetime(2026, 1, 1, 0, tzinfo=dt.UTC) and out["when"].tzinfo is dt.UTC
    assert out["day"] == dt.date(2026, 2, 28) and out["amount"] == Decimal("12.50")


def test_a_required_datetime_given_as_none_is_still_refused() -> None:
    errors, _ = _new_validate({"title": "x", "when": None})
    assert [e["field"] for e in errors] == ["when"]


@given(records)
def test_from_row_matches_the_walk(record: dict[str, Any]) -> None:
    from engine.forms.entity import SYSTEM_FIELDS
    from engine.store.values import record_from_row_walk

    doc = to_json_walk(MODEL, record)
    if not VALIDATOR.is_valid(doc):
        return
    values = to_python_walk(MODEL, doc)
    row = {k: i for i, k in enumerate(SYSTEM_FIELDS)}
    row |= {f.column: values.get(f.key) for f in MODEL.stored_fields()}
    assert MODEL.codec.from_row(row) == record_from_row_walk(MODEL, row)
    assert MODEL.codec.from_row_bare(row) == record_from_row_walk(MODEL, row, system=False)
