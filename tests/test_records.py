"""The record service on a real database: CRUD, child rows, references, audit, all-or-nothing."""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from engine import ConflictError, NotFound, ValidationError
from engine.store.system import audit_log
from tests.floor_defs import ACCOUNT, CONTACT, save


@pytest.fixture
def p(platform):
    save(platform, ACCOUNT, CONTACT)
    return platform


def fields_of(error: ValidationError) -> list[str]:
    return [e["field"] for e in error.errors]


def test_create_get_update_delete(p):
    p.users.add("alice", roles=["admin"])
    accounts = p.records("account", user="alice")
    acme = accounts.create({"name": "ACME", "industry": "tech", "revenue": "1200.50"})
    assert acme["id"] > 0
    assert acme["owner"] == "alice" and acme["created_by"] == "alice" and acme["version"] == 1
    assert acme["revenue"] == Decimal("1200.50")
    assert accounts.get(acme["id"])["name"] == "ACME"

    changed = accounts.update(acme["id"], {"industry": "retail"})
    assert changed["industry"] == "retail" and changed["name"] == "ACME"
    assert changed["version"] == 2
    assert accounts.get(acme["id"])["industry"] == "retail"

    accounts.delete(acme["id"])
    with pytest.raises(NotFound):
        accounts.get(acme["id"])


def test_list_orders_and_pages(p):
    accounts = p.records("account")
    accounts.create_many(
        [{"name": f"Co {i:02d}", "revenue": i * 10, "industry": "tech"} for i in range(25)]
    )
    first = accounts.list(order_by="-revenue", limit=10)
    assert [r["name"] for r in first[:3]] == ["Co 24", "Co 23", "Co 22"]
    third = accounts.list(order_by="-revenue", limit=10, offset=20)
    assert [r["name"] for r in third] == [f"Co {i:02d}" for i in range(4, -1, -1)]
    assert accounts.count() == 25
    assert accounts.count(filters={"industry": "tech"}) == 25
    with pytest.raises(ValidationError):
        accounts.list(order_by="nonexistent")


def test_python_values_round_trip(p):
    contacts = p.records("contact")
    c = contacts.create({"full_name": "Li Lei", "birthday": "1990-05-04"})
    assert c["birthday"] == dt.date(1990, 5, 4)
    assert isinstance(c["met_at"], dt.datetime) and c["met_at"].tzinfo is not None
    assert c["vip"] is False
    again = contacts.get(c["id"])
    assert again["birthday"] == dt.date(1990, 5, 4)
    assert again["met_at"] == c["met_at"]


def test_child_rows_saved_with_parent_and_replaced(p):
    contacts = p.records("contact")
    c = contacts.create(
        {
            "full_name": "Han Meimei",
            "phones": [{"kind": "mobile", "number": "138"}, {"number": "010"}],
        }
    )
    assert [r["number"] for r in c["phones"]] == ["138", "010"]
    kept = c["phones"][0]
    updated = contacts.update(c["id"], {"phones": [kept, {"kind": "office", "number": "021"}]})
    assert [r["number"] for r in updated["phones"]] == ["138", "021"]
    assert updated["phones"][0]["id"] == kept["id"]
    assert [r["number"] for r in contacts.get(c["id"])["phones"]] == ["138", "021"]
    contacts.delete(c["id"])
    child = p.entities.get("contact").child_tables["phones"]
    with p.db.transaction(write=False) as conn:
        assert conn.execute(select(func.count()).select_from(child)).scalar() == 0


def test_invalid_child_row_names_its_path(p):
    with pytest.raises(ValidationError) as info:
        p.records("contact").create(
            {"full_name": "X", "phones": [{"kind": "fax", "number": "1"}, {}]}
        )
    assert fields_of(info.value) == ["phones[0].kind", "phones[1].number"]


def test_every_problem_reported_at_once(p):
    with pytest.raises(ValidationError) as info:
        p.records("account").create({"name": "x" * 101, "industry": "oil", "bogus": 1})
    assert sorted(fields_of(info.value)) == ["bogus", "industry", "name"]
    messages = " | ".join(e["message"] for e in info.value.errors)
    assert "at most 100 characters" in messages
    assert "tech" in messages and "retail" in messages
    assert "bogus is not a field of account" in messages


def test_engine_fields_and_read_only_refused(p):
    with pytest.raises(ValidationError) as info:
        p.records("contact").create({"full_name": "A", "id": 5, "code": "CON-1", "version": 3})
    assert sorted(fields_of(info.value)) == ["code", "id", "version"]


def test_required_field(p):
    with pytest.raises(ValidationError) as info:
        p.records("account").create({"industry": "tech"})
    assert info.value.errors[0]["field"] == "name"
    assert "required" in info.value.errors[0]["message"]


def test_unique_field(p):
    p.records("account").create({"name": "ACME"})
    with pytest.raises(ValidationError) as info:
        p.records("account").create({"name": "ACME"})
    assert fields_of(info.value) == ["name"]
    assert p.records("account").count() == 1


def test_reference_must_exist_and_blocks_delete(p):
    with pytest.raises(ValidationError) as info:
        p.records("contact").create({"full_name": "A", "account": 999})
    assert fields_of(info.value) == ["account"]
    acme = p.records("account").create({"name": "ACME"})
    c = p.records("contact").create({"full_name": "A", "account": acme["id"]})
    with pytest.raises(ConflictError) as refused:
        p.records("account").delete(acme["id"])
    assert "contact" in str(refused.value) and str(c["id"]) in str(refused.value)
    assert p.records("account").get(acme["id"])


def test_a_missing_reference_names_its_own_field_among_several(p):
    deal = {
        "name": "deal",
        "schema": {
            "type": "object",
            "properties": {
                "title": {"type": "string"},
                "account": {"type": "integer", "x-ref": "account"},
                "partner": {"type": "integer", "x-ref": "account"},
            },
        },
    }
    save(p, deal)
    acme = p.records("account").create({"name": "ACME"})
    good = {"title": "a", "account": acme["id"], "partner": acme["id"]}
    with pytest.raises(ValidationError) as info:
        p.records("deal").create_many([good, {**good, "partner": 999}])
    # SQLite does not say which column failed: the batch's values are looked up.
    assert [f.rsplit(".", 1)[-1] for f in fields_of(info.value)] == ["partner"]
    assert p.records("deal").count() == 0


def test_stale_version_refused(p):
    acme = p.records("account").create({"name": "ACME"})
    p.records("account").update(acme["id"], {"industry": "tech"}, version=1)
    with pytest.raises(ConflictError):
        p.records("account").update(acme["id"], {"industry": "retail"}, version=1)
    assert p.records("account").get(acme["id"])["industry"] == "tech"


def test_autonumber_pattern_restarts_each_year(p):
    p.clock.set("2026-12-31T10:00")
    contacts = p.records("contact")
    a = contacts.create({"full_name": "A"})
    b = contacts.create({"full_name": "B"})
    p.clock.set("2027-01-01T10:00")
    c = contacts.create({"full_name": "C"})
    assert [a["code"], b["code"], c["code"]] == [
        "CON-2026-00001",
        "CON-2026-00002",
        "CON-2027-00001",
    ]


def test_autonumber_unique_under_concurrent_inserts(p):
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        try:
            for i in range(10):
                p.records("contact").create({"full_name": f"w{n}-{i}"})
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    codes = [r["code"] for r in p.records("contact").list(limit=None)]
    assert len(codes) == 40 and len(set(codes)) == 40


def test_create_many_is_all_or_nothing_on_invalid_input(p):
    rows = [{"name": f"Co {i}"} for i in range(5)] + [{"name": None}]
    with pytest.raises(ValidationError) as info:
        p.records("account").create_many(rows)
    assert fields_of(info.value) == ["[5].name"]
    assert p.records("account").count() == 0


def test_create_many_is_all_or_nothing_on_database_refusal(p):
    p.records("account").create({"name": "taken"})
    rows = [{"name": f"Co {i}"} for i in range(50)] + [{"name": "taken"}]
    with pytest.raises(ValidationError):
        p.records("account").create_many(rows)
    assert p.records("account").count() == 1
    with p.db.transaction(write=False) as conn:
        assert conn.execute(select(func.count()).select_from(audit_log)).scalar() == 1


def test_audit_history(p):
    p.users.add("bob", roles=["admin"])
    p.users.add("carol", roles=["admin"])
    contacts = p.records("contact", user="bob")
    c = contacts.create({"full_name": "A", "email": "a@example.com"})
    contacts.update(c["id"], {"email": "b@example.com"})
    p.records("contact", user="carol").delete(c["id"])
    history = p.records("contact").history(c["id"])
    assert [h["action"] for h in history] == ["create", "update", "delete"]
    assert [h["user"] for h in history] == ["bob", "bob", "carol"]
    assert history[1]["before"] == {"email": "a@example.com"}
    assert history[1]["after"] == {"email": "b@example.com"}
    assert history[2]["before"]["full_name"] == "A" and history[2]["after"] == {}


def test_unknown_entity(p):
    with pytest.raises(NotFound):
        p.records("nothing")


def test_a_duration_is_stored_as_whole_seconds_on_every_write_path(platform):
    """A duration field (JSON: seconds; Python: a timedelta) is written by create,
    create_many and update and read back as the same timedelta."""
    platform.meta.save(
        "entity",
        "job",
        {
            "name": "job",
            "label": "Job",
            "schema": {
                "type": "object",
                "properties": {
                    "name": {"type": "string"},
                    "took": {"type": "integer", "x-type": "duration"},
                },
            },
        },
    )
    jobs = platform.records("job")
    one = jobs.create({"name": "a", "took": 90})
    assert one["took"] == dt.timedelta(seconds=90)
    many = jobs.create_many([{"name": "b", "took": 5}, {"name": "c"}])
    assert [r["took"] for r in many] == [dt.timedelta(seconds=5), None]
    assert jobs.update(one["id"], {"took": 120})["took"] == dt.timedelta(minutes=2)
    assert jobs.get(many[0]["id"])["took"] == dt.timedelta(seconds=5)
    assert jobs.history(many[0]["id"])[0]["after"]["took"] == 5
