"""A lone create as one autocommit statement (PostgreSQL) stores what the general path stores.

``engine.store.lone_create`` writes the record, its audit row and its
entity's data-version bump in one ``WITH`` statement, outside a transaction.
These tests hold it to the transaction path on the same database: the same
stored row, the same audit row and history, one data-version bump each, the
same located error (and nothing written) for a refused duplicate, and the
path taken only where nothing else acts on a new record. On SQLite the path
never applies and the comparisons hold trivially.
"""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import event, select

from engine.store import lone_create, versions
from engine.store.system import audit_log

CONTACT = {
    "name": "contact",
    "label": "Contact",
    "title_field": "email",
    "schema": {
        "type": "object",
        "required": ["email"],
        "properties": {
            "email": {"type": "string", "maxLength": 200, "x-unique": True},
            "size": {"type": "integer"},
            "won": {"type": "boolean"},
            "tags": {"type": "array", "items": {"type": "string"}},
            "due": {"type": "string", "format": "date"},
        },
    },
}

TICKET = {
    "name": "ticket",
    "label": "Ticket",
    "title_field": "number",
    "schema": {
        "type": "object",
        "properties": {
            "number": {"type": "string", "x-type": "autonumber", "x-pattern": "T-{####}"},
            "subject": {"type": "string", "maxLength": 100},
        },
    },
}

RULE = "trigger tag_it on contact when created:\n    set won = true\n"
RULE_ELSEWHERE = 'trigger tag_it on ticket when created:\n    set subject = "x"\n'

FLOW = {
    "name": "greet",
    "label": "Greet",
    "entity": "contact",
    "trigger": {"on": ["created"]},
    "nodes": {"start": {"type": "start"}, "end": {"type": "end"}},
    "edges": [["start", "end"]],
}

_serial = itertools.count()  # hypothesis repeats examples: each create gets a new unique email
_text = st.text(st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"]), max_size=30)
_contacts = st.fixed_dictionaries(
    {"email": _text},
    optional={
        "size": st.integers(min_value=-(2**31), max_value=2**31 - 1),
        "won": st.booleans(),
        "tags": st.lists(_text, max_size=3, unique=True),
        "due": st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2999, 12, 31)),
    },
)


@pytest.fixture(scope="module")
def lone_platform(tmp_path_factory):
    from engine import Platform
    from tests.conftest import database_url

    with database_url(tmp_path_factory.mktemp("lone")) as url:
        p = Platform(url)
        p.meta.save("entity", "contact", CONTACT, user="test")
        try:
            yield p
        finally:
            p.close()


def _general(monkeypatch):
    """Make every create take the transaction path."""
    monkeypatch.setattr(lone_create, "applies", lambda service: False)


def _audit_rows(p, record_id):
    with p.db.transaction(write=False) as conn:
        rows = conn.execute(
            select(audit_log)
            .where(audit_log.c.entity == "contact", audit_log.c.record_id == record_id)
            .order_by(audit_log.c.id)
        ).mappings()
        return [{k: v for k, v in r.items() if k not in ("id", "at", "record_id")} for r in rows]


def _version(p):
    with p.db.transaction(write=False) as conn:
        return versions.current(conn, ["contact"])["contact"]


def test_the_path_applies_on_postgresql_only(lone_platform):
    p = lone_platform
    expected = p.db.dialect == "postgresql" and p.db.engine.dialect.driver == "psycopg"
    assert lone_create.applies(p.records("contact")) is expected
    with p.db.transaction():  # a create inside a transaction must join it
        assert lone_create.applies(p.records("contact")) is False


@settings(max_examples=15, deadline=None)
@given(record=_contacts)
def test_the_one_statement_stores_what_the_transaction_stores(lone_platform, record):
    p = lone_platform
    records = p.records("contact")
    first = _version(p)
    n = next(_serial)
    alone = records.create({**record, "email": f"a{n}" + record["email"]})
    after_alone = _version(p)
    with pytest.MonkeyPatch.context() as mp:
        _general(mp)
        general = records.create({**record, "email": f"g{n}" + record["email"]})
    after_general = _version(p)
    assert after_alone == first + 1 and after_general == after_alone + 1
    skip = {"id", "created_on", "modified_on", "email"}

    def same(r):
        return {k: v for k, v in r.items() if k not in skip}

    assert list(alone) == list(general) and same(alone) == same(general)
    stored_alone, stored_general = records.get(alone["id"]), records.get(general["id"])
    assert same(stored_alone) == same(stored_general)
    assert stored_alone["email"] == alone["email"]
    written, usual = _audit_rows(p, alone["id"]), _audit_rows(p, general["id"])
    assert len(written) == 1 and len(usual) == 1
    assert {**written[0], "changes": None} == {**usual[0], "changes": None}
    a_after = records.history(alone["id"])[0]["after"]
    g_after = records.history(general["id"])[0]["after"]
    assert {**a_after, "email": None} == {**g_after, "email": None}
    assert a_after["email"] == alone["email"]


def test_a_refused_duplicate_names_the_field_and_writes_nothing(lone_platform, monkeypatch):
    from engine.errors import ValidationError

    p = lone_platform
    records = p.records("contact")
    records.create({"email": "dup@example.com"})
    before = _version(p)
    errors = []
    with pytest.raises(ValidationError) as caught:
        records.create({"email": "dup@example.com", "size": 3})
    errors.append((caught.value.message, caught.value.errors))
    assert _version(p) == before  # the failed statement bumped nothing
    _general(monkeypatch)
    with pytest.raises(ValidationError) as caught:
        records.create({"email": "dup@example.com", "size": 3})
    errors.append((caught.value.message, caught.value.errors))
    assert errors[0] == errors[1] and errors[0][1][0]["field"] == "email"
    assert _version(p) == before
    with p.db.transaction(write=False) as conn:
        changes = conn.execute(
            select(audit_log.c.changes).where(audit_log.c.entity == "contact")
        ).scalars()
        assert sum('"dup@example.com"' in c for c in changes) == 1
    assert len(records.list(where='email == "dup@example.com"', limit=None)) == 1


def test_one_statement_carries_the_whole_create_on_postgresql(lone_platform):
    p = lone_platform
    seen: list[str] = []

    def listen(_conn, _cursor, statement, *_rest):
        seen.append(" ".join(statement.split()))

    event.listen(p.db.engine, "before_cursor_execute", listen)
    try:
        made = p.records("contact").create({"email": "one@example.com"})
    finally:
        event.remove(p.db.engine, "before_cursor_execute", listen)
    writes = [s for s in seen if not s.startswith("SELECT")]
    if p.db.dialect == "postgresql":
        assert len(writes) == 1
        assert writes[0].startswith("WITH ") and "created AS (INSERT INTO t_contact" in writes[0]
        assert "ts_audit" in writes[0] and "ts_data_version" in writes[0]
        assert "ON CONFLICT (entity) DO UPDATE" in writes[0]
    assert [h["action"] for h in p.records("contact").history(made["id"])] == ["create"]


def test_a_create_outside_what_the_user_may_create_is_refused(lone_platform):
    """The permission checks come before the statement, as on the transaction path."""
    from engine.errors import PermissionDenied

    p = lone_platform
    p.users.add("viewer", roles=["viewer"])
    before = _version(p)
    with pytest.raises(PermissionDenied):
        p.records("contact", user="viewer").create({"email": "no@example.com"})
    assert _version(p) == before


def _with(definition, name, prop):
    """``definition`` with one more property."""
    schema = {
        **definition["schema"],
        "properties": {**definition["schema"]["properties"], name: prop},
    }
    return {**definition, "schema": schema}


@pytest.mark.postgres_only
def test_entities_with_more_to_do_keep_the_transaction(platform):
    p = platform
    p.meta.save("entity", "ticket", TICKET, user="test")
    p.meta.save("entity", "contact", CONTACT, user="test")
    assert lone_create.applies(p.records("ticket")) is False  # the autonumber's counter
    made = p.records("ticket").create({"subject": "x"})
    assert made["number"] == "T-0001"

    def applies():
        return lone_create.applies(p.records("contact"))

    def back():
        p.meta.save("entity", "contact", CONTACT, user="test")
        assert applies() is True

    assert applies() is True
    p.meta.save("rules", "r", {"name": "r", "text": RULE})  # rules read the id
    assert applies() is False
    p.meta.save("rules", "r", {"name": "r", "text": RULE_ELSEWHERE})
    back()
    number = {"type": "string", "x-type": "autonumber", "x-pattern": "C-{###}"}
    p.meta.save("entity", "contact", _with(CONTACT, "number", number), user="test")
    assert applies() is False  # the autonumber's counter
    back()
    lines = {
        "type": "array",
        "items": {"type": "object", "properties": {"qty": {"type": "integer"}}},
    }
    p.meta.save("entity", "contact", _with(CONTACT, "lines", lines), user="test")
    assert applies() is False  # child rows point at the id
    back()
    p.flows.publish(FLOW)  # a flow starts
    assert applies() is False
    p.flows.publish({k: v for k, v in FLOW.items() if k != "trigger"})
    assert applies() is True
    p.webhooks.subscribe("hook", "https://example.org/h", entity="contact", events=["created"])
    assert applies() is False  # a webhook is queued
    p.webhooks.unsubscribe("hook")
    assert applies() is True


@pytest.mark.postgres_only
def test_the_answer_is_kept_per_entity_version(platform, monkeypatch):
    """A create asks again only after the entity, its flows or the webhooks changed."""
    p = platform
    p.meta.save("entity", "contact", CONTACT, user="test")
    walks = []
    real = lone_create._qualifies
    monkeypatch.setattr(lone_create, "_qualifies", lambda *a: walks.append(1) or real(*a))
    for _ in range(3):
        assert lone_create.applies(p.records("contact")) is True
    assert len(walks) == 1
    p.webhooks.subscribe("other", "https://example.org/h", entity="contact", events=["updated"])
    assert lone_create.applies(p.records("contact")) is True
    assert len(walks) == 2


@pytest.mark.postgres_only
def test_a_kept_answer_never_outlives_the_rules(platform):
    """Rules live on the entity refuse the path even beside a kept "yes" (one worked out
    while a metadata change was half applied: a new entity version, the old rules)."""
    p = platform
    p.meta.save("entity", "contact", CONTACT, user="test")
    assert lone_create.applies(p.records("contact")) is True
    p.meta.save("rules", "r", {"name": "r", "text": RULE})
    service = p.records("contact")
    service.live.statements["lone_create"] = (p.webhook_index(), p.flow_triggers(), True)
    assert lone_create.applies(service) is False
