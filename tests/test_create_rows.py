"""``create_many`` prepares each record in the shape of its row and fills the system
fields in place: the same records, rows, audit entries and errors as before.

``codec.prepare_row`` must be ``prepare`` with the system keys placed first
(null): refused together, otherwise the same values, types and key order.
The record service then fills id, owner, team, creator, times and version in
those places; the tables below spell out what the records, the stored rows
and the audit entries hold (the records were built as a second dict before,
with the same keys in the same order). The rows' keys are gathered for the
field-level check only when the user has a field below write: the refusal
is the same.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given

from engine.errors import PermissionDenied, ValidationError
from engine.forms.entity import SYSTEM_FIELDS
from engine.forms.record_codec import new_row_template
from tests.test_create_fast_paths import CLOCK, ENTITY, MODEL, good, records


def _check(data: dict[str, Any]) -> None:
    plain = MODEL.codec.prepare(data, CLOCK, "ann")
    row = MODEL.codec.prepare_row(data, CLOCK, "ann")
    if plain is None:
        assert row is None
        return
    assert row is not None
    assert list(row) == [*SYSTEM_FIELDS, *plain]
    assert all(row[k] is None for k in SYSTEM_FIELDS)
    for key, value in plain.items():
        assert row[key] == value and type(row[key]) is type(value), key


@given(records)
def test_prepare_row_refuses_what_prepare_refuses(data: dict[str, Any]) -> None:
    _check(data)


@given(good)
def test_prepare_row_is_prepare_with_the_system_keys_first(data: dict[str, Any]) -> None:
    _check(data)


def test_the_template_is_fresh_and_in_row_order() -> None:
    template = new_row_template()
    assert list(template) == list(SYSTEM_FIELDS) and set(template.values()) == {None}
    template["id"] = 1
    assert new_row_template()["id"] is None
    assert MODEL.codec.prepare_row({"company": "A", "status": "new"}, CLOCK, "ann")["id"] is None


@pytest.fixture
def service(platform):
    platform.meta.save("entity", "prospect", ENTITY)
    platform.users.add("ann", roles=["admin"], team="east")
    platform.users.add("bob", roles=["admin"], team="west")
    return platform.records("prospect", user="ann")


#: (input, owner, team): the usual record (fast path), text for a decimal (general
#: path), an owner given (general path: not a plain field), a team given, both.
CASES = [
    ({"company": "Acme", "status": "won", "budget": Decimal("7.25"), "tags": ["vip"]}, "ann", "east"),
    ({"company": "云杉", "status": "new", "budget": "3.5"}, "ann", "east"),
    ({"company": "Hooli", "status": "new", "owner": "bob"}, "bob", "west"),
    ({"status": "new", "company": "Initech", "team": "north"}, "ann", "north"),
    ({"owner": "bob", "team": "south", "company": "Globex", "status": "won"}, "bob", "south"),
]  # fmt: skip


def test_records_rows_and_entries_hold_the_system_fields(service) -> None:
    now = dt.datetime(2026, 12, 2, 10, 0, 0, 250, tzinfo=dt.UTC)
    service.platform.clock.now = lambda: now  # type: ignore[method-assign]
    created = service.create_many([dict(data) for data, _, _ in CASES])
    public_keys = [*SYSTEM_FIELDS, *(k for k, _ in service.model.public_keys)]
    for record, (data, owner, team) in zip(created, CASES):
        assert list(record) == public_keys
        assert (record["owner"], record["team"]) == (owner, team)
        assert (record["created_by"], record["modified_by"], record["version"]) == ("ann", "ann", 1)
        assert record["created_on"] == record["modified_on"] == now
        assert service.get(record["id"]) == record
        fields = {k: v for k, v in data.items() if k not in ("owner", "team")}
        (entry,) = service.history(record["id"])
        assert entry["action"] == "create" and entry["before"] == {}
        after = entry["after"]
        assert (after.pop("owner"), after.pop("team")) == (owner, team)
        assert not set(after) & (set(SYSTEM_FIELDS) - {"owner", "team"})
        assert {k: after[k] for k in fields} == {
            k: str(v) if isinstance(v, Decimal) else v for k, v in fields.items()
        }
    ids = [r["id"] for r in created]
    assert ids == sorted(ids)


def test_a_single_create_and_a_batch_give_the_same_record(service) -> None:
    for data, _, _ in CASES:
        one = service.create(dict(data))
        (many,) = service.create_many([dict(data)])
        skip = ("id", "created_on", "modified_on")
        assert list(one) == list(many)
        assert {k: v for k, v in one.items() if k not in skip} == {
            k: v for k, v in many.items() if k not in skip
        }


def test_errors_stay_located_and_nothing_is_written(service) -> None:
    rows = [dict(CASES[0][0]), {"status": "new"}, dict(CASES[2][0]), {**CASES[0][0], "size": 101}]
    with pytest.raises(ValidationError) as caught:
        service.create_many(rows)
    assert [e["field"] for e in caught.value.errors] == ["[1].company", "[3].size"]
    assert service.count() == 0


PERMISSIONS = {
    "roles": {"rep": {"label": "Rep"}, "clerk": {"label": "Clerk"}},
    "permissions": [
        {"role": "rep", "entity": "prospect", "create": True, "read": "all",
         "update": "own", "fields": {"size": "read"}},
        {"role": "clerk", "entity": "prospect", "create": "own", "read": "all"},
    ],
}  # fmt: skip


def test_field_levels_and_create_scopes_refuse_as_before(service) -> None:
    platform = service.platform
    platform.meta.save("permissions", "prospects", PERMISSIONS)
    platform.users.add("rita", roles=["rep"], team="east")
    platform.users.add("carl", roles=["clerk"], team="west")
    rita, carl = platform.records("prospect", "rita"), platform.records("prospect", "carl")
    row = {"company": "Acme", "status": "new"}
    with pytest.raises(PermissionDenied) as caught:
        rita.create_many([row, {**row, "size": 3}])
    assert [e["field"] for e in caught.value.errors] == ["size"]
    assert rita.create_many([row])[0]["owner"] == "rita"
    # No field below write for carl: his rows' keys are not gathered; his create scope
    # ("own") is checked record by record on the fields, owner and team.
    (mine,) = carl.create_many([row])
    assert (mine["owner"], mine["team"]) == ("carl", "west")
    with pytest.raises(PermissionDenied, match="carl may not create"):
        carl.create_many([row, {**row, "owner": "bob"}])
    assert service.count() == 2


def test_a_row_that_is_not_a_record_is_named_for_every_user(service) -> None:
    """Without a field below write the rows' keys are not gathered first, so a row that
    is no mapping gets the located error the system user always got (it was a
    ``TypeError`` from gathering the keys before)."""
    for user in ("ann", None):
        with pytest.raises(ValidationError) as caught:
            service.platform.records("prospect", user=user).create_many(
                [{"company": "A", "status": "new"}, None]
            )
        assert [e["field"] for e in caught.value.errors] == ["[1]."]
    assert service.count() == 0
