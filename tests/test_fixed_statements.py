"""Fixed statements on the DBAPI cursor give what ``Connection.execute`` gives.

``engine.store.fixed`` sends the few statements of every API write (the
sign-in reads, the id sequence, the data-version bump, a single record's
INSERT) straight to the driver. These tests hold each fast path to the general
one on the same database: the same rows with the same Python values, the same
row counts, the same wrapped errors, the same stored record.
"""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import bindparam, event, select, update
from sqlalchemy.exc import IntegrityError

from engine.store import audit, versions
from engine.store.fixed import FixedStatement, execute_driver
from engine.store.system import audit_log
from engine.store.versions import data_versions

LEAD = {
    "name": "lead",
    "label": "Lead",
    "title_field": "company",
    "schema": {
        "type": "object",
        "required": ["company"],
        "properties": {
            "company": {"type": "string", "maxLength": 200},
            "size": {"type": "integer"},
            "won": {"type": "boolean"},
            "tags": {"type": "array", "items": {"type": "string"}},
            "due": {"type": "string", "format": "date"},
        },
    },
}


#: An entity with a child table (rows get their ids after the parent's INSERT) and a unique field.
ORDER = {
    "name": "order",
    "label": "Order",
    "title_field": "code",
    "schema": {
        "type": "object",
        "required": ["code"],
        "properties": {
            "code": {"type": "string", "maxLength": 20, "x-unique": True},
            "lines": {
                "type": "array",
                "items": {"type": "object", "properties": {"qty": {"type": "integer"}}},
            },
        },
    },
}


def _both(conn, stmt, values):
    """(general rows, fixed rows) as lists of dicts."""
    general = [dict(r._mapping) for r in conn.execute(stmt, values)]
    fixed = [r._asdict() for r in FixedStatement(stmt).rows(conn, values)]
    return general, fixed


def test_user_and_token_reads_match_the_general_path(platform):
    """Typed columns (UTC datetimes, booleans, JSON text) convert exactly as SQLAlchemy does."""
    p = platform
    p.users.add("ann", password="secret-pass-1", roles=["admin", "sales"], email="a@example.com")
    p.users.settings.set("ann", "lang", "zh-CN")
    token = p.users.create_token("ann", expires_in=dt.timedelta(days=2))["token"]
    p.users.verify_token(token)  # writes last_used_on: a datetime to read back
    by_name, by_digest = (r.stmt for r in p.users._reads())
    from engine.security.users import _digest

    with p.db.transaction(write=False) as conn:
        general, fixed = _both(conn, by_name, {"name": "ann"})
        assert fixed == general and len(fixed) == 1
        general, fixed = _both(conn, by_digest, {"digest": _digest(token)})
        assert fixed == general and len(fixed) == 1
        assert isinstance(fixed[0]["last_used_on"], dt.datetime)
        assert fixed[0]["last_used_on"].tzinfo is not None
        assert _both(conn, by_name, {"name": "nobody"}) == ([], [])


def test_literal_values_in_a_fixed_update_are_bound(platform):
    """``version + 1`` carries a literal bind: the fixed path fills it in, and counts rows."""
    p = platform
    bump = FixedStatement(
        update(data_versions)
        .where(data_versions.c.entity == bindparam("entity"))
        .values(version=data_versions.c.version + 1)
    )
    with p.db.transaction() as conn:
        conn.execute(data_versions.insert().values(entity="x", version=5))
        assert bump.execute(conn, {"entity": "x"}).rowcount == 1
        assert bump.execute(conn, {"entity": "missing"}).rowcount == 0
    with p.db.transaction(write=False) as conn:
        assert versions.current(conn, ["x", "missing"]) == {"x": 6, "missing": 0}


def test_data_versions_bump_once_per_committed_write(platform):
    """The first write of an entity creates its row; later ones add one; a rollback adds none."""
    p = platform
    p.meta.save("entity", "lead", LEAD, user="test")
    records = p.records("lead")

    def version() -> int:
        with p.db.transaction(write=False) as conn:
            return versions.current(conn, ["lead"])["lead"]

    start = version()
    records.create({"company": "A"})
    assert version() == start + 1
    records.create_many([{"company": "B"}, {"company": "C"}])
    assert version() == start + 2
    with pytest.raises(RuntimeError), p.db.transaction() as conn:
        versions.touch(conn, "lead")
        raise RuntimeError("rolled back")
    assert version() == start + 2


def test_ids_come_in_order_from_the_sequence(platform):
    p = platform
    p.meta.save("entity", "lead", LEAD, user="test")
    with p.db.transaction() as conn:
        first = p.ids.allocate(conn, "t_lead", 3)
        second = p.ids.allocate(conn, "t_lead", 1)
    assert first == sorted(first) and len(set(first)) == 3
    assert second[0] > first[-1]
    assert p.ids.allocate(None, "t_lead", 0) == []


def test_a_driver_error_comes_out_as_sqlalchemy_wraps_it(platform):
    p = platform
    p.meta.save("entity", "lead", LEAD, user="test")
    row = {
        "id": 1,
        "at": dt.datetime.now(dt.UTC),
        "entity": "lead",
        "record_id": 1,
        "action": "create",
        "version": 1,
        "changes": "{}",
    }
    from engine.store.bulk import prepared_insert

    errors = []
    for run in ("general", "fixed"):
        with pytest.raises(IntegrityError) as caught, p.db.transaction() as conn:
            prepared = prepared_insert(conn, audit_log, tuple(row))
            params = prepared.rows([row])[0]
            conn.exec_driver_sql(prepared.sql, params)  # the first one is stored
            if run == "general":
                conn.exec_driver_sql(prepared.sql, params)
            else:
                execute_driver(conn, prepared.sql, params)
        errors.append(type(caught.value.orig))
    assert errors[0] is errors[1]


def test_fixed_statements_are_seen_by_the_engines_cursor_events(platform):
    p = platform
    seen: list[str] = []
    event.listen(p.db.engine, "before_cursor_execute", lambda *a: seen.append(a[2]))
    with p.db.transaction() as conn:
        FixedStatement(select(data_versions.c.entity)).rows(conn)
    assert any("ts_data_version" in s for s in seen)


_text = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"]), max_size=40)
#: leads as the API takes them: every field type of LEAD, each optional but the company
_leads = st.fixed_dictionaries(
    {"company": _text.filter(str.strip)},
    optional={
        "size": st.integers(min_value=-(2**31), max_value=2**31 - 1),
        "won": st.booleans(),
        "tags": st.lists(_text, max_size=3, unique=True),
        "due": st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2999, 12, 31)),
    },
)


@settings(max_examples=15, deadline=None)
@given(record=_leads)
def test_one_record_is_stored_as_a_batch_stores_it(lead_platform, record):
    """A lone create (the INSERT on the cursor) and a batch (executemany) store the same row."""
    p = lead_platform
    records = p.records("lead")
    alone = records.create(dict(record))
    batch = records.create_many([dict(record), {"company": "other"}])[0]
    stored = {r["id"]: r for r in records.list(order_by="id", limit=None)}
    skip = {"id", "created_on", "modified_on"}

    def same(r):
        return {k: v for k, v in r.items() if k not in skip}

    assert same(stored[alone["id"]]) == same(stored[batch["id"]])
    assert same(alone) == same(batch)


def _audit_rows(p, entity, record_id):
    """The stored audit rows of one record, without their own id and time."""
    with p.db.transaction(write=False) as conn:
        rows = conn.execute(
            select(audit_log)
            .where(audit_log.c.entity == entity, audit_log.c.record_id == record_id)
            .order_by(audit_log.c.id)
        ).mappings()
        return [{k: v for k, v in r.items() if k not in ("id", "at", "record_id")} for r in rows]


@settings(max_examples=15, deadline=None)
@given(record=_leads)
def test_one_records_audit_entry_is_the_one_a_batch_writes(lead_platform, record):
    """A lone create writes its audit row on the cursor (on PostgreSQL inside the record's
    INSERT); a batch writes it with one executemany: the same row, once, either way."""
    p = lead_platform
    records = p.records("lead")
    alone = records.create(dict(record))
    kept = audit.BATCH_ROWS
    audit.BATCH_ROWS = False  # one audit row per record, as before batch rows
    try:
        batch = records.create_many([dict(record), {"company": "other"}])[0]
    finally:
        audit.BATCH_ROWS = kept
    written = _audit_rows(p, "lead", alone["id"])
    assert len(written) == 1 and written == _audit_rows(p, "lead", batch["id"])
    assert written[0]["action"] == "create" and written[0]["version"] == 1
    assert records.history(alone["id"])[0]["after"] == records.history(batch["id"])[0]["after"]
    # A batch written as create_batch rows gives the same entry through history().
    batched = records.create_many([dict(record), {"company": "other"}])[0]
    (entry,) = records.history(batched["id"])
    (own,) = records.history(alone["id"])
    assert {**entry, "at": None} == {**own, "at": None}


def test_a_lone_create_sends_its_id_and_audit_row_in_the_insert_on_postgresql(
    lead_platform, monkeypatch
):
    """On the transaction path (a create that joins an open transaction, or one whose
    entity has webhooks or flows: see tests/test_lone_create.py for the other)."""
    from engine.store import lone_create

    monkeypatch.setattr(lone_create, "applies", lambda service: False)
    p = lead_platform
    seen: list[str] = []

    def listen(_conn, _cursor, statement, *_rest):
        seen.append(statement)

    event.listen(p.db.engine, "before_cursor_execute", listen)
    try:
        created = p.records("lead").create({"company": "Round trips"})
    finally:
        event.remove(p.db.engine, "before_cursor_execute", listen)
    audits = [" ".join(s.split()) for s in seen if "ts_audit" in s]
    assert len(audits) == 1
    if p.db.dialect == "postgresql":  # the id from the sequence, the audit row: one statement
        assert audits[0].startswith("WITH created AS (INSERT INTO t_lead")
        assert "nextval('t_lead_id_seq')" in audits[0]
        assert not any("nextval" in s for s in seen if "ts_audit" not in s)
    else:
        assert audits[0].startswith("INSERT INTO ts_audit")
    assert len(_audit_rows(p, "lead", created["id"])) == 1


def test_a_record_with_child_rows_audits_them_with_their_ids(lead_platform):
    """Child rows get their ids after the parent's INSERT: the audit row follows them."""
    p = lead_platform
    records = p.records("order")
    alone = records.create({"code": "A-1", "lines": [{"qty": 2}, {"qty": 3}]})
    after = records.history(alone["id"])[0]["after"]
    assert [line["id"] for line in after["lines"]] == [line["id"] for line in alone["lines"]]
    assert all(isinstance(line["id"], int) for line in after["lines"])
    batch = records.create_many(
        [{"code": "B-1", "lines": [{"qty": 2}, {"qty": 3}]}, {"code": "B-2"}]
    )
    b_after = records.history(batch[0]["id"])[0]["after"]

    def no_ids(view):
        return {**view, "code": None, "lines": [{**x, "id": None} for x in view["lines"]]}

    assert no_ids(after) == no_ids(b_after)


def test_a_lone_create_refused_by_the_database_names_the_field_and_audits_nothing(lead_platform):
    from engine.errors import ValidationError

    p = lead_platform
    records = p.records("order")
    records.create({"code": "U-1"})
    errors = []
    for attempt in (
        lambda: records.create({"code": "U-1"}),
        lambda: records.create_many([{"code": "U-1"}, {"code": "U-2"}]),
    ):
        with pytest.raises(ValidationError) as caught:
            attempt()
        errors.append(caught.value.errors)
    assert errors[0] == errors[1] and errors[0][0]["field"] == "code"
    with p.db.transaction(write=False) as conn:
        codes = conn.execute(
            select(audit_log.c.changes).where(audit_log.c.entity == "order")
        ).scalars()
        assert sum('"U-1"' in c for c in codes) == 1


@pytest.fixture(scope="module")
def lead_platform(tmp_path_factory):
    from engine import Platform
    from tests.conftest import database_url

    with database_url(tmp_path_factory.mktemp("fixed")) as url:
        p = Platform(url)
        p.meta.save("entity", "lead", LEAD, user="test")
        p.meta.save("entity", "order", ORDER, user="test")
        try:
            yield p
        finally:
            p.close()


def test_rules_that_go_live_after_the_check_still_read_the_new_id(platform, monkeypatch):
    """The store asked the hook whether rules read the id and heard no; rules went live
    before ``begin``: the pipeline gives the record its id first, and all runs as usual."""
    from tests.rules.save_defs import install

    p = platform
    install(p)
    p.users.add("alice", roles=["admin"])
    usual = p.records("lead", user="alice").create(
        {"company": "First", "industry": "manufacturing"}
    )
    monkeypatch.setattr(p.save_hook, "reads_new_ids", lambda entity: False, raising=False)
    late = p.records("lead", user="alice").create({"company": "Late", "industry": "manufacturing"})
    assert isinstance(late["id"], int) and late["id"] != usual["id"]
    assert p.records("lead").get(late["id"])["score"] == late["score"] == usual["score"]
    assert p.rules.stamps("lead", late["id"]) == p.rules.stamps("lead", usual["id"])
    assert [h["action"] for h in p.records("lead").history(late["id"])] == ["create"]


def test_an_id_taken_in_the_insert_is_the_stored_and_audited_id(lead_platform):
    p = lead_platform
    records = p.records("lead")
    made = [records.create({"company": f"Seq {i}"}) for i in range(3)]
    ids = [m["id"] for m in made]
    assert ids == sorted(ids) and len(set(ids)) == 3
    for m in made:
        assert records.get(m["id"])["company"] == m["company"]
        assert [h["action"] for h in records.history(m["id"])] == ["create"]
    assert list(made[0]) == list(records.create_many([{"company": "a"}, {"company": "b"}])[0])


#: Every kind of column a record's read by id converts, and field keys that are Python
#: keywords (a named tuple would rename them; the read's dicts keep them).
WIDE = {
    "name": "wide",
    "label": "Wide",
    "title_field": "from",
    "schema": {
        "type": "object",
        "properties": {
            "from": {"type": "string", "maxLength": 50},
            "class": {"type": "integer"},
            "amount": {"type": "number", "x-type": "currency"},
            "rate": {"type": "number"},
            "flag": {"type": "boolean"},
            "day": {"type": "string", "format": "date"},
            "at": {"type": "string", "format": "date-time"},
            "tags": {"type": "array", "items": {"type": "string"}},
        },
    },
}


def test_the_read_by_id_gives_what_a_select_through_sqlalchemy_gives(platform):
    """``records.get`` reads its row through a fixed statement: every column type
    (decimal, float, boolean, date, UTC datetime, JSON) comes back as ``Connection.execute``
    returns it, on a locked read too, and a missing id is an empty result."""
    from decimal import Decimal

    p = platform
    p.meta.save("entity", "wide", WIDE, user="test")
    records = p.records("wide")
    made = records.create(
        {
            "from": "西湖 Ltd",
            "class": 7,
            "amount": Decimal("1234.56"),
            "rate": 0.25,
            "flag": True,
            "day": dt.date(2026, 2, 28),
            "at": dt.datetime(2026, 3, 29, 1, 30, tzinfo=dt.UTC),
            "tags": ["a", "b"],
        }
    )
    empty = records.create({"from": "nothing else"})
    table = records.live.table
    with p.db.transaction() as conn:
        for record_id in (made["id"], empty["id"], 10**9):
            general = [
                dict(r._mapping) for r in conn.execute(select(table).where(table.c.id == record_id))
            ]
            for lock in (False, True):
                assert records._by_id(lock).mappings(conn, {"id": record_id}) == general
    got = records.get(made["id"])
    assert got["from"] == "西湖 Ltd" and got["class"] == 7
    assert got["amount"] == Decimal("1234.56") and isinstance(got["amount"], Decimal)
    assert got["at"] == dt.datetime(2026, 3, 29, 1, 30, tzinfo=dt.UTC)
    assert got["day"] == dt.date(2026, 2, 28) and got["tags"] == ["a", "b"]
