"""The worked example of docs/developer/field-types.md: register a type, use it end to end."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect

from engine import BundleError, PluginError, ValidationError
from engine.forms.fieldtypes import FieldType, field_types, register_field_type
from tests.floor_defs import save
from tests.plugins.rating_field import Rating

REVIEW = {
    "name": "review",
    "schema": {
        "type": "object",
        "properties": {
            "title": {"type": "string"},
            "stars": {"x-type": "rating", "x-stars": 5},
        },
    },
}


@pytest.fixture
def p(platform):
    register_field_type(Rating())
    save(platform, REVIEW)
    return platform


def test_a_registered_type_is_in_the_palette(p):
    assert field_types()["rating"].label["zh-CN"] == "评分"


def test_records_use_the_new_type(p):
    reviews = p.records("review")
    r = reviews.create({"title": "Great", "stars": 4})
    assert reviews.get(r["id"])["stars"] == 4
    with p.db.transaction(write=False) as conn:
        cols = {c["name"]: c["type"] for c in inspect(conn).get_columns("t_review")}
    assert "SMALLINT" in str(cols["stars"]).upper()
    with pytest.raises(ValidationError) as info:
        reviews.create({"title": "Too good", "stars": 6})
    assert info.value.errors[0]["field"] == "stars"
    assert "5" in info.value.errors[0]["message"]


def test_definition_checked_by_the_type(p):
    bad = {
        **REVIEW,
        "schema": {"type": "object", "properties": {"stars": {"x-type": "rating", "x-stars": 50}}},
    }
    with pytest.raises(BundleError) as info:
        save(p, bad)
    # The type's config_schema joins the entity meta-schema, so the option is checked there.
    assert "x-stars" in str(info.value) and "at most 10" in str(info.value)
    assert Rating().check_definition({"x-stars": 1}) == [
        "x-stars must be a whole number from 2 to 10, not 1"
    ]


def test_a_type_that_breaks_the_contract_is_refused():
    class NoColumn(FieldType):
        name = "no_column"

    with pytest.raises(PluginError) as info:
        register_field_type(NoColumn())
    assert "column_type" in str(info.value)
