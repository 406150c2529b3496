"""The fast paths of ``create_many`` give exactly what the general steps give.

``codec.prepare`` checks a new record's Python values directly; whenever it
accepts a record, the general path (key checks, defaults, JSON form, the
compiled validator, Python form) must accept it too and give the same dict,
key order and value types included, and jsonschema, the oracle, must accept
its JSON form. ``exact_check`` must agree with the oracle on every value of
the classes it accepts. The audit text, the returned records and the driver
parameters written by generated code must equal what the general functions
write. Hypothesis feeds valid and broken values of every kind.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st
from jsonschema import Draft202012Validator
from sqlalchemy import Boolean, Column, Date, Integer, MetaData, String, Table
from sqlalchemy.dialects.postgresql import psycopg
from sqlalchemy.dialects.sqlite import pysqlite

from engine.clock import Clock
from engine.errors import ValidationError
from engine.forms.defaults import apply_defaults
from engine.forms.entity import SYSTEM_FIELDS, build_model
from engine.forms.validation import RecordValidator
from engine.forms.validator import RUNTIME, exact_check
from engine.store import audit
from engine.store.bulk import BulkInsert, fast_conversion
from engine.store.db import json_text
from engine.store.types import JsonType, UTCDateTime
from engine.store.values import input_errors, known_fields, to_json_walk, to_python_walk

TAGS = ["vip", "new", "partner"]
ENTITY: dict[str, Any] = {
    "name": "prospect",
    "schema": {
        "type": "object",
        "required": ["company", "status"],
        "properties": {
            "company": {"type": "string", "maxLength": 12},
            "email": {"type": "string", "format": "email"},
            "country": {"type": "string", "pattern": "^[A-Z]{2}$"},
            "status": {"type": "string", "enum": ["new", "won"]},
            "kind": {"type": "string", "enum": ["a", "b"], "default": "a"},
            "size": {"type": "integer", "minimum": 0, "maximum": 100},
            "budget": {"type": "number", "x-type": "currency", "minimum": 0},
            "ratio": {"type": "number", "multipleOf": 0.5},
            "flag": {"type": "boolean"},
            "when": {"type": "string", "format": "date-time"},
            "day": {"type": "string", "format": "date"},
            "tags": {
                "type": "array",
                "items": {"type": "string", "enum": TAGS},
                "uniqueItems": True,
                "maxItems": 2,
            },
            "note": {"type": "string", "x-type": "rich_text"},
            "score": {"type": "integer", "readOnly": True, "default": 0},
            "lines": {
                "type": "array",
                "items": {"type": "object", "properties": {"qty": {"type": "integer"}}},
            },
        },
    },
}
MODEL = build_model(ENTITY)
VALIDATOR = RecordValidator(MODEL)
ORACLE = Draft202012Validator(
    MODEL.validation_schema(), format_checker=Draft202012Validator.FORMAT_CHECKER
)
CLOCK = Clock()

zones = st.sampled_from([dt.UTC, ZoneInfo("Asia/Shanghai"), dt.timezone(dt.timedelta(seconds=30))])
values: dict[str, Any] = {
    "company": st.one_of(st.text(max_size=14), st.none(), st.integers()),
    "email": st.one_of(st.sampled_from(["a@b.co", "ab", "用户@例子.中国"]), st.none(), st.just(1)),
    "country": st.one_of(st.sampled_from(["CN", "usa", "D1", "\u0661\u0662"]), st.none()),
    "status": st.one_of(st.sampled_from(["new", "won", "lost"]), st.none(), st.just(1)),
    "kind": st.one_of(st.sampled_from(["a", "b", "c"]), st.none()),
    "size": st.one_of(
        st.integers(-2, 102), st.booleans(), st.sampled_from([1.0, 2.5, 10**20]), st.none()
    ),
    "budget": st.one_of(
        st.decimals(allow_nan=True, places=2),
        st.integers(-5, 5),
        st.floats(allow_nan=False),
        st.sampled_from(["12.50", "x", True]),
        st.none(),
    ),
    "ratio": st.one_of(st.sampled_from([1, 1.5, 0.3, Decimal("2.5")]), st.none()),
    "flag": st.one_of(st.booleans(), st.none(), st.integers(0, 1)),
    "when": st.one_of(
        st.datetimes(timezones=zones),
        st.datetimes(),
        st.datetimes(timezones=zones).map(lambda d: d.isoformat()),
        st.dates(),
        st.none(),
    ),
    "day": st.one_of(st.dates(), st.dates().map(str), st.datetimes(), st.none()),
    "tags": st.one_of(
        st.lists(st.sampled_from([*TAGS, "cold", 1]), max_size=3),
        st.tuples(st.just("vip")),
        st.none(),
    ),
    "note": st.one_of(st.just("<b>hi</b>"), st.none()),
    "score": st.integers(0, 3),
    "lines": st.lists(st.fixed_dictionaries({"qty": st.integers()}), max_size=1),
    "owner": st.just("bob"),
    "nonsense": st.integers(),
}
records = st.fixed_dictionaries({}, optional=values)
#: Mostly valid records, so the fast path is taken often.
good = st.fixed_dictionaries(
    {"company": st.text(max_size=12), "status": st.sampled_from(["new", "won"])},
    optional={
        "email": st.just("a@b.co"),
        "size": st.integers(0, 100),
        "budget": st.decimals(min_value=0, max_value=10**6, places=2),
        "flag": st.booleans(),
        "when": st.datetimes(timezones=zones),
        "day": st.dates(),
        "tags": st.lists(st.sampled_from(TAGS), max_size=2, unique=True),
        "country": st.sampled_from(["CN", "DE", None]),
    },
)


def general(data: dict[str, Any]) -> dict[str, Any] | None:
    """The general path's result (None: refused), through the walks that define each step."""
    if input_errors(MODEL, data, internal=False):
        return None
    record = apply_defaults(MODEL, known_fields(MODEL, data), CLOCK, "ann")
    doc = to_json_walk(MODEL, record)
    if VALIDATOR.errors(doc):
        return None
    return to_python_walk(MODEL, doc)


def _same(fast: dict[str, Any], want: dict[str, Any]) -> None:
    assert list(fast) == list(want)
    for key, value in want.items():
        assert fast[key] == value and type(fast[key]) is type(value), key


def _check_prepare(data: dict[str, Any]) -> bool:
    fast = MODEL.codec.prepare(data, CLOCK, "ann")
    if fast is None:
        return False
    want = general(data)
    assert want is not None, "the fast path accepted a record the general path refuses"
    _same(fast, want)
    defaulted = apply_defaults(MODEL, data, CLOCK, "ann")
    assert ORACLE.is_valid(to_json_walk(MODEL, defaulted))
    return True


@given(records)
def test_prepare_accepts_only_what_the_general_path_accepts(data: dict[str, Any]) -> None:
    _check_prepare(data)


@given(good)
def test_prepare_gives_the_general_result_on_valid_records(data: dict[str, Any]) -> None:
    _check_prepare(data)


def test_prepare_takes_the_usual_record() -> None:
    record = {
        "company": "Acme",
        "status": "new",
        "email": "a@b.co",
        "country": "CN",
        "size": 3,
        "budget": Decimal("12.50"),
        "flag": False,
        "when": dt.datetime(2026, 1, 1, 8, tzinfo=ZoneInfo("Asia/Shanghai")),
        "day": dt.date(2026, 2, 28),
        "tags": ["vip"],
    }
    assert _check_prepare(record)
    out = MODEL.codec.prepare(record, CLOCK, "ann")
    assert out["when"] == dt.datetime(2026, 1, 1, 0, tzinfo=dt.UTC) and out["when"].tzinfo is dt.UTC
    assert out["kind"] == "a" and out["score"] == 0
    assert out["tags"] == ["vip"] and out["tags"] is not record["tags"]


@pytest.mark.parametrize(
    "change",
    [
        {"budget": "12.50"},  # text for a decimal: converted by the general path
        {"note": "<b>x</b>"},  # a type with its own conversion (sanitising)
        {"lines": []},  # a child table
        {"owner": "bob"},  # not a plain field
        {"ratio": 1.5},  # multipleOf: the compiled validator's check, still exact
        {"when": "2026-01-01T00:00:00Z"},  # text for a datetime
    ],
)
def test_prepare_leaves_the_unusual_to_the_general_path(change: dict[str, Any]) -> None:
    data = {"company": "Acme", "status": "new", **change}
    fast = MODEL.codec.prepare(data, CLOCK, "ann")
    if "ratio" in change:
        _same(fast, general(data))
    else:
        assert fast is None


def test_a_service_prepares_the_same_either_way(platform) -> None:
    platform.meta.save("entity", "prospect", ENTITY)
    service = platform.records("prospect")
    data = {
        "company": "Acme",
        "status": "won",
        "budget": Decimal("7.25"),
        "when": dt.datetime(2026, 3, 1, 9, 30, tzinfo=ZoneInfo("Asia/Shanghai")),
        "day": dt.date(2026, 3, 2),
        "tags": ["vip", "new"],
        "flag": True,
    }
    fast, slow = service.create_many([data, {**data, "budget": "7.25"}])
    assert {k: v for k, v in fast.items() if k != "id"} == {
        k: v for k, v in slow.items() if k != "id"
    }
    for a, b in zip(service.history(fast["id"]), service.history(slow["id"])):
        assert a["after"] == b["after"] and a["before"] == b["before"] == {}
    assert service.get(fast["id"]) == {**service.get(slow["id"]), "id": fast["id"]}
    with pytest.raises(ValidationError) as caught:
        service.create_many([data, {**data, "size": 101}, {"status": "new"}])
    assert [e["field"] for e in caught.value.errors] == ["[1].size", "[2].company"]


# -- exact_check against the oracle --------------------------------------------------

LEAVES = st.one_of(
    st.fixed_dictionaries(
        {"type": st.sampled_from(["string", ["string", "null"]])},
        optional={
            "maxLength": st.integers(0, 4),
            "minLength": st.integers(0, 3),
            "pattern": st.sampled_from(["^[a-z]+$", "\\d", "^A"]),
            "format": st.sampled_from(["email", "date", "uri"]),
            "enum": st.lists(st.sampled_from(["a", "ab", "😀", 1, None]), min_size=1),
        },
    ),
    st.fixed_dictionaries(
        {"type": st.sampled_from(["integer", "number", ["integer", "null"], ["number", "null"]])},
        optional={
            k: st.sampled_from([0, 1, 2.5, -1, 100])
            for k in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum")
        },
    ),
    st.fixed_dictionaries({"type": st.sampled_from(["boolean", ["boolean", "null"]])}),
    st.fixed_dictionaries(
        {
            "type": st.sampled_from(["array", ["array", "null"]]),
            "items": st.fixed_dictionaries(
                {"type": st.just("string")},
                optional={"enum": st.just(["vip", "new"]), "maxLength": st.just(3)},
            ),
        },
        optional={"uniqueItems": st.booleans(), "maxItems": st.integers(0, 2)},
    ),
)
VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 150),
    st.sampled_from([1.0, 2.5, 10**20]),
    st.decimals(allow_nan=True),
    st.text(max_size=5),
    st.sampled_from(["a", "ab", "😀", "a@b.co", "2026-02-30", "2026-02-28", "A1"]),
    st.lists(st.sampled_from(["vip", "new", "cold", 1]), max_size=3),
)


def _exact(schema: dict[str, Any]) -> Any:
    found = exact_check(schema, "x", 1, failure="return False", stem="")
    assert found is not None, schema
    lines, names = found
    source = "\n".join(["def check(x):", "    pass", *lines, "    return True"])
    namespace = {**RUNTIME, **names}
    exec(compile(source, "<exact>", "exec"), namespace)
    return namespace["check"]


def _exact_class(value: Any) -> bool:
    if value is None or value is True or value is False or type(value) in (str, int):
        return True
    if type(value) is Decimal:
        return value.is_finite()
    return type(value) is list and all(type(v) is str for v in value)


@given(LEAVES, VALUES)
def test_exact_check_agrees_with_the_oracle(schema: dict[str, Any], value: Any) -> None:
    oracle = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
    accepted = _exact(schema)(value)
    if accepted:
        assert oracle.is_valid(value)
    elif _exact_class(value):
        assert not oracle.is_valid(value)


def test_exact_check_declines_other_schemas() -> None:
    for schema in (
        {"type": "integer", "enum": [1, 2]},
        {"type": "number", "multipleOf": 2},
        {"type": ["string", "integer"]},
        {"type": "object"},
        {"type": "array", "items": {"type": "integer"}},
        {"type": "string", "const": "a"},
        {"enum": ["a"]},
    ):
        assert exact_check(schema, "x", 1, failure="return False", stem="") is None, schema


# -- audit text and returned records ----------------------------------------------------

AUDIT_RECORD = st.fixed_dictionaries(
    {"id": st.integers(1, 9), "version": st.just(1)},
    optional={
        "owner": st.sampled_from(["ann", None]),
        "team": st.sampled_from(["east", None]),
        "created_on": st.datetimes(timezones=st.just(dt.UTC)),
        "created_by": st.just("ann"),
        "company": st.one_of(st.text(max_size=3), st.just('"},"before":{"after":\\u2028')),
        "budget": st.one_of(st.decimals(allow_nan=False, places=2), st.none()),
        "ratio": st.one_of(st.decimals(allow_nan=False, places=1), st.integers(-9, 9)),
        "when": st.datetimes(timezones=st.just(dt.UTC)),
        "day": st.dates(),
        "tags": st.one_of(st.lists(st.sampled_from(TAGS)), st.none()),
        "lines": st.one_of(st.none(), st.just([]), st.just([{"qty": 1, "id": 4}])),
        "stray": st.integers(-9, 9),
    },
)


@given(AUDIT_RECORD)
def test_audit_created_is_the_general_audit_text(record: dict[str, Any]) -> None:
    want = audit.dumps({"before": {}, "after": MODEL.codec.audit_view(record)})
    assert MODEL.codec.audit_created(record) == want


@given(AUDIT_RECORD)
def test_public_is_the_general_public_record(record: dict[str, Any]) -> None:
    want = {k: record.get(k) for k in SYSTEM_FIELDS}
    for key, is_child in MODEL.public_keys:
        want[key] = (record.get(key) or []) if is_child else record.get(key)
    got = MODEL.codec.public(record)
    assert list(got) == list(want) and got == want


# -- driver parameters -------------------------------------------------------------------

TABLE = Table(
    "t_params",
    MetaData(),
    Column("id", Integer, primary_key=True),
    Column("name", String(20)),
    Column("at", UTCDateTime),
    Column("day", Date),
    Column("flag", Boolean),
    Column("tags", JsonType),
)
KEYS = ["id", "name", "at", "day", "flag", "tags"]


def _dialects() -> list[Any]:
    sqlite = pysqlite.dialect(json_serializer=json_text)
    return [sqlite, psycopg.dialect()]


row_values = st.fixed_dictionaries(
    {"id": st.integers(1, 9)},
    optional={
        "name": st.text(max_size=3),
        "at": st.one_of(
            st.datetimes(timezones=zones, min_value=dt.datetime(1, 1, 2)),
            st.datetimes(timezones=st.just(dt.UTC)),
            st.none(),
        ),
        "day": st.one_of(st.dates(), st.none()),
        "flag": st.one_of(st.booleans(), st.none()),
        "tags": st.one_of(
            st.lists(st.one_of(st.text(max_size=2), st.integers(-99, 99), st.none())), st.none()
        ),
    },
)


@given(st.lists(row_values, max_size=4))
def test_driver_parameters_are_the_processors_own(rows: list[dict[str, Any]]) -> None:
    for dialect in _dialects():
        prepared = BulkInsert(TABLE, dialect, KEYS)
        got = prepared.rows(rows)
        want = []
        for row in rows:
            converted = [
                None if row.get(k) is None else (p(row[k]) if p else row[k])
                for k, p in zip(KEYS, prepared.processors)
            ]
            ordered = [converted[i] for i in prepared.order]
            want.append(
                tuple(ordered) if prepared.positional else dict(zip(prepared.names, ordered))
            )
        assert [_plain(r, prepared) for r in got] == [_plain(r, prepared) for r in want]


def _plain(row: Any, prepared: BulkInsert) -> list[tuple[type, Any]]:
    """A row's parameters as (type, value); psycopg's JSON wrapper compares by its content."""
    values = row if prepared.positional else [row[n] for n in prepared.names]
    return [(type(v), getattr(v, "obj", v)) for v in values]


def test_inline_conversions_are_used_where_they_match() -> None:
    sqlite, postgres = _dialects()
    for column in ("at", "day", "tags"):
        proc = TABLE.c[column].type._cached_bind_processor(sqlite)
        assert fast_conversion(TABLE.c[column].type, "sqlite", proc) is not None, column
    proc = TABLE.c.at.type._cached_bind_processor(postgres)
    assert fast_conversion(TABLE.c.at.type, "postgresql", proc) is not None
    # A processor that writes something else keeps the processor.
    assert fast_conversion(TABLE.c.at.type, "sqlite", lambda v: str(v)) is None


def test_created_audit_rows_are_the_general_rows(platform, monkeypatch) -> None:
    """write_created (shared columns converted once, tuples per record) stores what write stores.

    With batch rows off: tests/test_audit_batches.py checks that the batch rows hold the
    same entries."""
    from sqlalchemy import select

    from engine.store.system import audit_log

    monkeypatch.setattr(audit, "BATCH_ROWS", False)

    at = dt.datetime(2026, 3, 1, 9, 30, 0, 250, tzinfo=dt.UTC)
    records = [
        {"id": 7, "owner": "ann", "team": None, "company": "Acme", "budget": Decimal("1.50")},
        {"id": 8, "owner": "ann", "team": "east", "company": "云杉", "tags": ["vip"]},
        {"id": 9, "owner": None, "team": None, "company": "Hooli"},
    ]

    def document(record: dict[str, Any]) -> str:
        view = {k: v for k, v in record.items() if k != "id"}
        return audit.dumps({"before": {}, "after": view})

    with platform.db.transaction() as conn:
        audit.write_created(conn, "fast", "ann", at, records, document)
        audit.write(conn, audit.created_rows("general", "ann", at, records, document))
        stored = conn.execute(select(audit_log).order_by(audit_log.c.id)).mappings().all()
    columns = ("at", "actor", "record_id", "action", "version", "changes")
    fast = [tuple(r[c] for c in columns) for r in stored if r["entity"] == "fast"]
    general = [tuple(r[c] for c in columns) for r in stored if r["entity"] == "general"]
    assert fast == general and [r[2] for r in fast] == [7, 8, 9]


def test_returning_ids_stores_what_returning_records_stores(platform) -> None:
    """``returning="ids"`` (an import's call) skips only the returned dicts: the same
    rows, audit entries and ids in input order as the records the default returns."""
    platform.meta.save("entity", "prospect", ENTITY)
    service = platform.records("prospect")
    rows = [
        {"company": "Acme", "status": "won", "budget": Decimal("7.25"), "tags": ["vip"]},
        {"company": "云杉", "status": "new", "day": dt.date(2026, 3, 2), "flag": False},
        {"company": "Hooli", "status": "new", "budget": "3.5"},  # the general path
    ]
    records = service.create_many(rows)
    ids = service.create_many(rows, returning="ids")
    assert len(ids) == 3 and ids == sorted(ids) and ids[0] > records[-1]["id"]

    def same(record: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in record.items() if k not in ("id", "created_on", "modified_on")}

    for record, rid in zip(records, ids):
        assert same(service.get(rid)) == same(service.get(record["id"])) == same(record)
        assert [(h["action"], h["before"], h["after"]) for h in service.history(rid)] == [
            (h["action"], h["before"], h["after"]) for h in service.history(record["id"])
        ]
    with pytest.raises(ValidationError):
        service.create_many([*rows, {"status": "new"}], returning="ids")
    assert service.count() == 6
    with pytest.raises(ValueError, match="returning"):
        service.create_many(rows, returning="dicts")  # type: ignore[call-overload]
