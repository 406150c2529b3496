"""Changing an entity's definition: plans, online migrations, refusals that name the rows."""

from __future__ import annotations

import copy

import pytest
from sqlalchemy import inspect

from engine import BundleError, ConflictError, MigrationError, ValidationError
from engine.forms.entity import SYSTEM_FIELDS
from tests.floor_defs import ACCOUNT, CONTACT, definition, save


@pytest.fixture
def p(platform):
    save(platform, ACCOUNT, CONTACT)
    return platform


def columns(p, table: str) -> dict[str, object]:
    with p.db.transaction(write=False) as conn:
        return {c["name"]: c["type"] for c in inspect(conn).get_columns(table)}


def indexes(p, table: str) -> dict[str, bool]:
    with p.db.transaction(write=False) as conn:
        return {i["name"]: bool(i["unique"]) for i in inspect(conn).get_indexes(table)}


def actions(steps: list[dict]) -> list[tuple[str, str | None]]:
    return [(s["action"], s["field"]) for s in steps]


def test_tables_are_real_and_typed(p):
    cols = columns(p, "t_contact")
    for key in (
        *SYSTEM_FIELDS,
        "full_name",
        "email",
        "account",
        "code",
        "birthday",
        "met_at",
        "vip",
    ):
        assert key in cols
    assert "phones" not in cols
    child = columns(p, "t_contact__phones")
    assert {"id", "parent_id", "idx", "kind", "number"} <= set(child)
    assert "ix_t_contact__email" in indexes(p, "t_contact")
    assert indexes(p, "t_account")["ux_t_account__name"] is True
    with p.db.transaction(write=False) as conn:
        fks = inspect(conn).get_foreign_keys("t_contact")
    assert any(fk["referred_table"] == "t_account" for fk in fks)


def test_add_field_adds_a_column_and_keeps_data(p):
    acme = p.records("account").create({"name": "ACME"})
    new = definition(ACCOUNT, website={"type": "string", "format": "uri", "x-index": True})
    assert actions(p.meta.plan("entity", "account", new)) == [("add_column", "website")]
    save(p, new)
    assert "website" in columns(p, "t_account")
    assert "ix_t_account__website" in indexes(p, "t_account")
    assert p.records("account").get(acme["id"])["name"] == "ACME"
    p.records("account").update(acme["id"], {"website": "https://acme.example"})


def test_add_reference_field_to_existing_entity(p):
    new = definition(ACCOUNT, parent={"type": "integer", "x-ref": "account"})
    save(p, new)
    parent = p.records("account").create({"name": "Holding"})
    child = p.records("account").create({"name": "Sub", "parent": parent["id"]})
    assert child["parent"] == parent["id"]
    with pytest.raises(ValidationError):
        p.records("account").create({"name": "Bad", "parent": 12345})


def test_widen_text_is_online(p):
    p.records("account").create({"name": "A" * 100})
    save(p, definition(ACCOUNT, name={"type": "string", "maxLength": 300, "x-unique": True}))
    p.records("account").create({"name": "B" * 300})


def test_narrowing_refused_naming_the_rows(p):
    made = p.records("account").create_many(
        [{"name": "x" * 60 + str(i)} for i in range(25)] + [{"name": "short"}]
    )
    narrow = definition(ACCOUNT, name={"type": "string", "maxLength": 50, "x-unique": True})
    steps = p.meta.plan("entity", "account", narrow)
    assert ("refuse", "name") in actions(steps)
    with pytest.raises(MigrationError) as info:
        save(p, narrow)
    entry = info.value.errors[0]
    assert entry["field"] == "name"
    assert entry["ids"] == [r["id"] for r in made[:20]]
    assert "records 1, 2, 3" in entry["message"]
    assert p.meta.get("entity", "account")["version"] == 1


def test_removing_an_option_in_use_is_refused(p):
    p.records("account").create({"name": "A", "industry": "finance"})
    fewer = definition(ACCOUNT, industry={"type": "string", "enum": ["tech", "retail"]})
    with pytest.raises(MigrationError) as info:
        save(p, fewer)
    assert "finance" in str(info.value)
    p.records("account").update(1, {"industry": "tech"})
    save(p, fewer)
    with pytest.raises(ValidationError):
        p.records("account").create({"name": "B", "industry": "finance"})


def test_new_required_field_refused_when_rows_exist(p):
    required = definition(ACCOUNT, region={"type": "string"})
    required["schema"]["required"] = ["name", "region"]
    p.records("account").create({"name": "A"})
    with pytest.raises(MigrationError) as info:
        save(p, required)
    assert info.value.errors[0]["ids"] == [1]
    assert "region" not in columns(p, "t_account")


def test_new_unique_refused_on_duplicates(p):
    p.records("contact").create_many([{"full_name": "Same"}, {"full_name": "Same"}])
    unique = definition(CONTACT, full_name={"type": "string", "maxLength": 80, "x-unique": True})
    with pytest.raises(MigrationError) as info:
        save(p, unique)
    assert info.value.errors[0]["ids"] == [1, 2]


def test_soft_remove_keeps_the_data(p):
    c = p.records("contact").create({"full_name": "A", "email": "a@example.com"})
    removed = definition(CONTACT, email=None)
    assert actions(p.meta.plan("entity", "contact", removed)) == [("remove", "email")]
    save(p, removed)
    assert "email" not in p.records("contact").get(c["id"])
    assert "email" in columns(p, "t_contact")
    with pytest.raises(ValidationError):
        p.records("contact").create({"full_name": "B", "email": "b@example.com"})
    save(p, CONTACT)
    assert p.records("contact").get(c["id"])["email"] == "a@example.com"


def test_rename_keeps_the_column(p):
    c = p.records("contact").create({"full_name": "A", "email": "a@example.com"})
    renamed = definition(
        CONTACT,
        email=None,
        mail={"type": "string", "format": "email", "x-index": True, "x-renamed-from": "email"},
    )
    steps = p.meta.plan("entity", "contact", renamed)
    assert actions(steps) == [("rename", "mail")]
    assert not any(s["ddl"] for s in steps)
    before = columns(p, "t_contact")
    save(p, renamed)
    assert columns(p, "t_contact").keys() == before.keys()
    assert p.records("contact").get(c["id"])["mail"] == "a@example.com"


def test_relabel_in_chinese_is_not_ddl(p):
    relabelled = copy.deepcopy(ACCOUNT)
    relabelled["schema"]["properties"]["name"]["x-label"] = {
        "en": "Company name",
        "zh-CN": "公司名称",
    }
    steps = p.meta.plan("entity", "account", relabelled)
    assert steps and not any(s["ddl"] for s in steps)
    save(p, relabelled)
    assert (
        p.meta.get("entity", "account")["definition"]["schema"]["properties"]["name"]["x-label"][
            "zh-CN"
        ]
        == "公司名称"
    )


def test_child_table_field_added_and_narrowed(p):
    c = p.records("contact").create({"full_name": "A", "phones": [{"number": "1234567890"}]})
    wider = copy.deepcopy(CONTACT)
    wider["schema"]["properties"]["phones"]["items"]["properties"]["ext"] = {"type": "string"}
    save(p, wider)
    assert "ext" in columns(p, "t_contact__phones")
    narrow = copy.deepcopy(wider)
    narrow["schema"]["properties"]["phones"]["items"]["properties"]["number"]["maxLength"] = 5
    with pytest.raises(MigrationError) as info:
        save(p, narrow)
    assert info.value.errors[0]["ids"] == [c["id"]]


def test_stale_base_version_is_a_conflict(p):
    first = p.meta.get("entity", "account")["version"]
    p.meta.save("entity", "account", definition(ACCOUNT, a={"type": "string"}), base_version=first)
    with pytest.raises(ConflictError):
        p.meta.save(
            "entity", "account", definition(ACCOUNT, b={"type": "string"}), base_version=first
        )
    assert "b" not in columns(p, "t_account")
    assert [v["version"] for v in p.meta.versions("entity", "account")] == [1, 2]


def test_field_cap_checked_before_ddl(p):
    wide = definition(ACCOUNT)
    for i in range(500):
        wide["schema"]["properties"][f"f{i}"] = {"type": "integer"}
    with pytest.raises(BundleError) as info:
        save(p, wide)
    assert "at most 500" in str(info.value)
    assert "f0" not in columns(p, "t_account")


def test_resaving_a_multi_select_keeps_its_type(p):
    tags = {"type": "array", "items": {"type": "string", "enum": ["a", "b"]}, "uniqueItems": True}
    save(p, definition(ACCOUNT, tags=tags))
    save(p, definition(ACCOUNT, tags=tags))  # once broke: the items gained empty properties
    assert p.entities.get("account").model.fields["tags"].type.name == "multi_select"
    created = p.records("account").create({"name": "Acme", "tags": ["b"]})
    assert p.records("account").get(created["id"])["tags"] == ["b"]
