"""Values copied through references are never silently stale, stored or read-time."""

from __future__ import annotations

import pytest

from engine import BundleError, ValidationError
from tests.floor_defs import ACCOUNT, definition, save

REGION = {
    "name": "region",
    "schema": {"type": "object", "properties": {"title": {"type": "string"}}},
}
ACCOUNT_IN_REGION = definition(ACCOUNT, region={"type": "integer", "x-ref": "region"})
DEAL = {
    "name": "deal",
    "schema": {
        "type": "object",
        "properties": {
            "title": {"type": "string"},
            "account": {"type": "integer", "x-ref": "account"},
            "industry": {"type": "string", "x-computed": "account.industry"},
            "account_name": {"type": "string", "x-computed": "account.name", "x-store": "read"},
            "region_title": {
                "type": "string",
                "x-computed": "account.region.title",
                "x-store": "read",
            },
        },
    },
}


@pytest.fixture
def p(platform):
    save(platform, REGION, ACCOUNT_IN_REGION, DEAL)
    return platform


def test_stored_lookup_filled_and_refreshed(p):
    east = p.records("region").create({"title": "East"})
    acme = p.records("account").create({"name": "ACME", "industry": "tech", "region": east["id"]})
    deal = p.records("deal").create({"title": "Big", "account": acme["id"]})
    assert deal["industry"] == "tech"
    assert deal["account_name"] == "ACME" and deal["region_title"] == "East"
    p.records("account").update(acme["id"], {"industry": "retail", "name": "ACME Ltd"})
    p.records("region").update(east["id"], {"title": "East China"})
    again = p.records("deal").get(deal["id"])
    assert again["industry"] == "retail"
    assert again["account_name"] == "ACME Ltd"
    assert again["region_title"] == "East China"
    listed = p.records("deal").list(filters={"industry": "retail"})
    assert [d["id"] for d in listed] == [deal["id"]]
    assert listed[0]["region_title"] == "East China"


def test_lookup_follows_a_changed_reference(p):
    a = p.records("account").create({"name": "A", "industry": "tech"})
    b = p.records("account").create({"name": "B", "industry": "finance"})
    deal = p.records("deal").create({"title": "x", "account": a["id"]})
    moved = p.records("deal").update(deal["id"], {"account": b["id"]})
    assert moved["industry"] == "finance" and moved["account_name"] == "B"
    cleared = p.records("deal").update(deal["id"], {"account": None})
    assert cleared["industry"] is None and cleared["region_title"] is None


def test_lookup_fields_are_read_only(p):
    with pytest.raises(ValidationError) as info:
        p.records("deal").create({"title": "x", "industry": "tech"})
    assert info.value.errors[0]["field"] == "industry"


@pytest.mark.parametrize(
    ("expr", "store", "message"),
    [
        ("title.name", "stored", "title is not a reference field of deal"),
        ("account.nothing", "stored", "account has no field nothing"),
        ("account.region.title", "stored", "x-store: read"),
    ],
)
def test_bad_lookup_paths_refused(p, expr, store, message):
    bad = definition(DEAL, broken={"type": "string", "x-computed": expr, "x-store": store})
    with pytest.raises(BundleError) as info:
        save(p, bad)
    assert message in str(info.value)
