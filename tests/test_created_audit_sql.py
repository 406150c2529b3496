"""A batch's creation entries written by SQLite from the stored rows equal the Python entries.

``engine.store.created_audit`` builds a batch's ``ts_audit`` rows with one
``INSERT ... SELECT json_object(...)`` over the rows just inserted. Hypothesis
creates the same batches on two SQLite platforms, one writing the entries from
Python (the switch off) and one from SQL, for an entity with every built-in
field type the statement renders, values with Chinese text, quotes,
backslashes, emoji, control characters, nulls and left-out fields; the decoded
entries, ``history()`` (what the record page's timeline shows) and the
``$.after.<field>`` values ``engine/reports/history.py`` reads in SQL must be
the same. Entities with a field the statement cannot render keep the Python
path, as does PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import orjson
import pytest
from hypothesis import event, given
from hypothesis import strategies as st
from sqlalchemy import select

from engine import Platform
from engine.reports.history import after_value
from engine.store import created_audit
from engine.store.system import audit_log

TAGS = ["vip", "new", "partner"]
ACCOUNT = {
    "name": "account",
    "schema": {"type": "object", "properties": {"name": {"type": "string"}}},
}
ENTITY: dict[str, Any] = {
    "name": "sample",
    "schema": {
        "type": "object",
        "required": ["company"],
        "properties": {
            "company": {"type": "string", "maxLength": 60},
            "notes": {"type": "string", "x-type": "long_text"},
            "body": {"type": "string", "x-type": "rich_text"},
            "email": {"type": "string", "format": "email"},
            "phone": {"type": "string", "x-type": "phone"},
            "site": {"type": "string", "format": "uri", "x-type": "url"},
            "status": {"type": "string", "enum": ["new", "won", "引号\"'\\"]},
            "rep": {"type": "string", "x-type": "user"},
            "number": {"type": "string", "x-type": "autonumber", "x-pattern": "S-{#####}"},
            "size": {"type": "integer"},
            "account": {"type": "integer", "x-ref": "account"},
            "flag": {"type": "boolean"},
            "day": {"type": "string", "format": "date"},
            "when": {"type": "string", "format": "date-time"},
            "colours": {
                "type": "array",
                "items": {"type": "string", "enum": ["red", "绿"]},
                "uniqueItems": True,
            },
            "tags": {"type": "array", "items": {"type": "string"}, "uniqueItems": True},
            "amount": {"type": "number"},
            "budget": {"type": "number", "x-type": "currency"},
            "share": {"type": "number", "x-type": "percent"},
            "kind": {"type": "string", "enum": ["a", "b"], "default": "a"},
        },
    },
}

_LEFT_OUT = object()
text = st.text(
    alphabet=st.one_of(
        st.sampled_from(list("ab 中文引号\"'\\/\n\t\x00\x1f\u2028😀é")),
        st.characters(codec="utf-8"),
    ),
    max_size=12,
)
decimals = st.decimals(
    min_value=Decimal("-1e9"), max_value=Decimal("1e9"), allow_nan=False, allow_infinity=False
)
datetimes = st.datetimes(
    min_value=dt.datetime(1, 1, 2),
    max_value=dt.datetime(9999, 12, 30),
    timezones=st.sampled_from(
        [dt.UTC, dt.timezone(dt.timedelta(hours=8)), ZoneInfo("Asia/Shanghai")]
    ),
).map(lambda v: v.replace(microsecond=0) if v.microsecond % 3 == 0 else v)
VALUES: dict[str, Any] = {
    "notes": text,
    "body": text,
    "email": st.sampled_from(["a@example.com", "名字@例子.中国", "o'neil@x.org"]),
    "phone": st.sampled_from(["+86 10 1234 5678", "555"]),
    "site": st.sampled_from(["https://example.com/a?q=1&r=%22", "http://xn--fsqu00a.xn--fiqs8s/"]),
    "status": st.sampled_from(["new", "won", "引号\"'\\"]),
    "rep": st.sampled_from(["admin", "李雷"]),
    "size": st.integers(-(2**63) + 1, 2**63 - 1),
    "account": st.sampled_from([1, 2]),
    "flag": st.booleans(),
    "day": st.dates(),
    "when": datetimes,
    "colours": st.lists(st.sampled_from(["red", "绿"]), unique=True),
    "tags": st.lists(text, unique=True, max_size=3),
    "amount": decimals,
    "budget": decimals,
    "share": decimals,
    "kind": st.sampled_from(["a", "b"]),
}


@st.composite
def records(draw: Any) -> dict[str, Any]:
    record = {"company": draw(text)}
    for key, values in VALUES.items():
        value = draw(st.one_of(st.just(_LEFT_OUT), st.none(), values))
        if value is not _LEFT_OUT:
            record[key] = value
    return record


def _platform(folder: Path, name: str) -> Platform:
    p = Platform(f"sqlite:///{folder / name}")
    p.meta.save("entity", "account", ACCOUNT)
    p.meta.save("entity", "sample", ENTITY)
    p.records("account").create_many([{"name": "A"}, {"name": "B"}])
    return p


@pytest.fixture(scope="module")
def pair(tmp_path_factory: Any) -> Any:
    """Two platforms with the same history: entries from Python, entries from SQL."""
    folder = tmp_path_factory.mktemp("created_audit")
    python, sql = _platform(folder, "python.db"), _platform(folder, "sql.db")
    yield python, sql
    python.close()
    sql.close()


def _create(p: Platform, batch: list[dict[str, Any]], sql: bool) -> list[Any] | str:
    created_audit.ENABLED = sql
    try:
        return p.records("sample").create_many(batch, returning="ids")
    except Exception as exc:  # both paths must fail alike
        return type(exc).__name__
    finally:
        created_audit.ENABLED = True


def _entries(p: Platform, ids: list[Any]) -> list[Any]:
    """Each record's history (the timeline), without the time of writing."""
    out = []
    for rid in ids:
        for h in p.records("sample").history(rid):
            h.pop("at")
            out.append(h)
    return out


def _after_values(p: Platform, ids: list[Any]) -> list[Any]:
    """What the stage reports read: ``$.after.<field>`` of each entry, in SQL."""
    keys = ["owner", "team", *ENTITY["schema"]["properties"]]
    query = (
        select(audit_log.c.record_id, *(after_value("sqlite", k) for k in keys))
        .where(audit_log.c.entity == "sample", audit_log.c.record_id.in_(ids))
        .order_by(audit_log.c.id)
    )
    with p.db.transaction(write=False) as conn:
        return [tuple(r) for r in conn.execute(query)]


def _texts(p: Platform, ids: list[Any]) -> list[Any]:
    query = (
        select(audit_log.c.changes)
        .where(audit_log.c.entity == "sample", audit_log.c.record_id.in_(ids))
        .order_by(audit_log.c.id)
    )
    with p.db.transaction(write=False) as conn:
        return [r[0] for r in conn.execute(query)]


@given(batch=st.lists(records(), min_size=2, max_size=6))
def test_sql_entries_equal_python_entries(pair: Any, batch: list[dict[str, Any]]) -> None:
    python, sql = pair
    used: list[bool] = []
    write = created_audit.CreatedAuditSQL.write

    def spy(self: Any, *args: Any) -> bool:
        used.append(write(self, *args))
        return used[-1]

    created_audit.CreatedAuditSQL.write = spy  # type: ignore[method-assign]
    try:
        got_python = _create(python, batch, sql=False)
        got_sql = _create(sql, batch, sql=True)
    finally:
        created_audit.CreatedAuditSQL.write = write  # type: ignore[method-assign]
    assert got_python == got_sql
    if isinstance(got_sql, str):
        event(f"refused: {got_sql}")
        return  # refused by both (an invalid value), nothing written
    event("written")
    assert used == [True]  # the batch took the SQL path
    assert _entries(python, got_python) == _entries(sql, got_sql)
    assert _after_values(python, got_python) == _after_values(sql, got_sql)
    texts_python, texts_sql = _texts(python, got_python), _texts(sql, got_sql)
    assert [orjson.loads(t) for t in texts_python] == [orjson.loads(t) for t in texts_sql]
    # Not required (readers decode the JSON), but the statement writes sorted keys too.
    assert texts_python == texts_sql


def test_entries_follow_the_batch_order(tmp_path: Path) -> None:
    p = _platform(tmp_path, "order.db")
    batch = [{"company": f"c{i}", **({"size": i} if i % 3 else {})} for i in range(40)]
    ids = p.records("sample").create_many(batch, returning="ids")
    query = select(audit_log.c.record_id).where(audit_log.c.entity == "sample")
    with p.db.transaction(write=False) as conn:
        assert [r[0] for r in conn.execute(query.order_by(audit_log.c.id))] == ids
    p.close()


def test_unusual_batches_take_the_python_path(tmp_path: Path) -> None:
    """Ids out of one run, or a decimal field holding no Decimal: the caller writes them."""
    p = _platform(tmp_path, "unusual.db")
    service = p.records("sample")
    with p.db.transaction(write=False) as conn:
        plan = created_audit.plan(conn, service.model, service.live.table)
    assert plan is not None
    base = {"owner": None, "team": None, "company": "x"}
    assert plan.elements([{**base, "id": 1}, {**base, "id": 3}]) is None
    assert plan.elements([{**base, "id": 1, "budget": 1.5}, {**base, "id": 2}]) is None
    assert plan.elements([{**base, "id": 1, "budget": Decimal("1.50")}]) is not None
    p.close()


@pytest.mark.parametrize(
    "prop",
    [
        {"type": "integer", "x-type": "duration"},
        {"type": "string", "x-type": "file"},
        {"type": "array", "items": {"type": "object", "properties": {"q": {"type": "integer"}}}},
        {"type": "string", "x-computed": "company"},
    ],
)
def test_fields_sql_cannot_render_keep_the_python_path(tmp_path: Path, prop: Any) -> None:
    p = Platform(f"sqlite:///{tmp_path / 'other.db'}")
    entity = {
        "name": "other",
        "schema": {"type": "object", "properties": {"company": {"type": "string"}, "x": prop}},
    }
    p.meta.save("entity", "other", entity)
    service = p.records("other")
    with p.db.transaction(write=False) as conn:
        assert created_audit.plan(conn, service.model, service.live.table) is None
    ids = service.create_many([{"company": "a"}, {"company": "b"}], returning="ids")
    assert [h["after"]["company"] for i in ids for h in service.history(i)] == ["a", "b"]
    p.close()


def test_postgresql_keeps_the_python_path(platform: Platform) -> None:
    platform.meta.save("entity", "account", ACCOUNT)
    service = platform.records("account")
    with platform.db.transaction(write=False) as conn:
        found = created_audit.plan(conn, service.model, service.live.table)
        assert (found is None) == (conn.dialect.name != "sqlite")
    ids = service.create_many([{"name": "名"}, {"name": 'q"\\'}], returning="ids")
    assert [service.history(i)[0]["after"]["name"] for i in ids] == ["名", 'q"\\']
