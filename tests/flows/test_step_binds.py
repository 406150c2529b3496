"""The step's binding and row-splitting shortcuts give exactly what the general paths give.

A completion reads its task, instance and token in one joined row, which
:meth:`Fixed.first_parts` splits by a function written for the statement
(it replaced :meth:`Fixed.first` and popping the ``i_`` / ``k_`` names);
a step's datetimes bind on SQLite through ``isoformat`` instead of the
column type's chain, and the written-out parameter functions look the memo
up inline. Each is compared here with the path it replaces.
"""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.dialects import sqlite

from engine.flows import statements as stm
from engine.flows.fastsql import _Compiled, _read_sqlite_utc, _write_sqlite_utc, _writer_of
from engine.store.types import UTCDateTime
from tests.flows.defs import APPROVAL, general_rows

_SQLITE = sqlite.dialect()
_TYPE = UTCDateTime()
#: the column type's own chain: to naive UTC, then SQLAlchemy's SQLite format
_GENERAL = _TYPE._cached_bind_processor(_SQLITE)

_zones = st.integers(min_value=-14 * 60, max_value=14 * 60).map(
    lambda minutes: dt.timezone(dt.timedelta(minutes=minutes))
)
_aware = st.datetimes(
    min_value=dt.datetime(2, 1, 1), max_value=dt.datetime(9998, 12, 31), timezones=_zones
)


@given(_aware)
def test_the_sqlite_datetime_writer_writes_what_the_type_writes(value):
    assert _write_sqlite_utc(_GENERAL, value) == _GENERAL(value)


@pytest.mark.parametrize(
    "value",
    [
        dt.datetime(2026, 12, 2, 4, 5, 6),  # naive: refused
        dt.date(2026, 12, 2),  # a date: refused by the type
        "2026-12-02",
        None,
    ],
)
def test_what_the_sqlite_datetime_writer_does_not_take_goes_the_general_way(value):
    def outcome(fn: Any) -> Any:
        try:
            return ("value", fn(value))
        except Exception as exc:  # the same error, type and text
            return ("error", type(exc), str(exc))

    assert outcome(lambda v: _write_sqlite_utc(_GENERAL, v)) == outcome(_GENERAL)


def test_only_utc_datetimes_on_sqlite_get_the_quicker_writer():
    from sqlalchemy import Integer
    from sqlalchemy.dialects import postgresql

    general = object()
    assert _writer_of(_TYPE, postgresql.dialect(), general) is general
    assert _writer_of(Integer(), _SQLITE, general) is general
    assert _writer_of(_TYPE, _SQLITE, general) is not general


@given(st.lists(st.one_of(_aware, st.none()), min_size=1, max_size=6))
def test_the_inline_memo_gives_what_the_plan_gives(values):
    """Many binds of a few values, as a step does: the memo hit, miss and None all agree."""
    conn = SimpleNamespace(dialect=_SQLITE)
    compiled = stm.CLOSE_OPEN_TASK._compiled(
        conn, ["b_id", "b_version", "status", "outcome", "completed_on", "version"]
    )
    for value in values + values:
        given_values = {"b_id": 1, "b_version": 2, "status": "completed", "outcome": "approve",
                        "completed_on": value, "version": 3}  # fmt: skip
        plain, compiled.plain = compiled.plain, False
        try:
            assert compiled.params(given_values) == compiled.general_params(given_values)
        finally:
            compiled.plain = plain
        expected = None if value is None else _GENERAL(value)
        assert expected in (
            compiled.params(given_values).values()
            if compiled.named
            else compiled.params(given_values)
        )
    _Compiled._memo.clear()


def _popped(row: dict[str, Any]) -> list[dict[str, Any]]:
    """The split as the service made it before ``first_parts``."""
    pop = row.pop
    instance = {name: pop(key) for key, name in stm.INSTANCE_KEYS}
    token = {name: pop(key) for key, name in stm.TOKEN_KEYS}
    return [row, instance, token, {"open": pop("o_open")}]


def test_the_split_step_row_is_the_popped_one(p):
    for name in ("alice", "bob", "carol", "dave"):
        p.users.add(name, roles=["director"] if name == "dave" else [])
    p.flows.publish(APPROVAL, user="admin")
    deals = p.records("deal")
    for amount in (10, 900_000):
        deal = deals.create({"title": "Deal", "amount": amount})
        p.flows.start(APPROVAL["name"], record=("deal", deal["id"]), user="alice")
    tasks = p.flows.tasks(status=None)
    first = tasks[-1]  # the large deal: its director task opens next
    p.flows.complete(first["id"], "approve", user=first["assignee"])
    tasks = p.flows.tasks(status=None)
    assert len(tasks) >= 3
    with p.db.transaction(write=False) as conn:
        for task in [*tasks, {"id": 10_000}]:
            values = {"b_id": task["id"]}
            general = general_rows(stm.TASK_FOR_STEP, conn, values)
            assert stm.TASK_FOR_STEP.rows(conn, values) == general
            whole = general[0] if general else None
            parts = stm.TASK_FOR_STEP.first_parts(conn, values, stm.STEP_PREFIXES)
            if whole is None:
                assert parts is None
                continue
            assert parts == _popped(whole)
            # the same values with the same types, datetimes aware
            (again,) = general_rows(stm.TASK_FOR_STEP, conn, values)
            for got, want in zip(parts, _popped(again), strict=True):
                assert {k: type(v) for k, v in got.items()} == {k: type(v) for k, v in want.items()}
            assert parts[0]["created_on"].tzinfo == dt.UTC


@given(_aware)
def test_the_sqlite_datetime_reader_reads_back_what_the_writer_wrote(value):
    stored = _write_sqlite_utc(_GENERAL, value)
    expected = _TYPE._cached_result_processor(_SQLITE, None)(stored)
    got = _read_sqlite_utc(stored)
    assert got == expected == value
    assert got.tzinfo is expected.tzinfo is dt.UTC


@pytest.mark.parametrize("text", ["2026-12-02 04:05:06", "2026-12-02T04:05:06.000789"])
def test_other_stored_texts_read_as_the_type_reads_them(text):
    expected = _TYPE._cached_result_processor(_SQLITE, None)(text)
    assert _read_sqlite_utc(text) == expected
