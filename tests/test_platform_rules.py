"""The rule language through the platform facade, over installed entities."""

from __future__ import annotations

import pytest

from engine import RuleTypeError
from tests.floor_defs import ACCOUNT, CONTACT, save


@pytest.fixture
def p(platform):
    save(platform, ACCOUNT, CONTACT)
    return platform


def test_compile_and_evaluate_over_an_installed_entity(p):
    expr = p.rules.compile('industry == "tech" and revenue >= 1000', entity="account")
    assert expr({"name": "A", "industry": "tech", "revenue": 5000}) is True
    assert expr({"name": "A", "industry": "retail", "revenue": 5000}) is False
    assert expr({"name": "A", "industry": "tech", "revenue": None}) is None


def test_check_names_unknown_fields_with_a_suggestion(p):
    diags = p.rules.check('industy == "tech"', entity="account")
    assert diags and diags[0]["line"] == 1 and "industry" in diags[0]["message"]


def test_new_fields_are_seen_after_a_definition_change(p):
    with pytest.raises(RuleTypeError):
        p.rules.compile("tier == 1", entity="account")
    save(
        p,
        {
            **ACCOUNT,
            "schema": {
                **ACCOUNT["schema"],
                "properties": {**ACCOUNT["schema"]["properties"], "tier": {"type": "integer"}},
            },
        },
    )
    assert p.rules.compile("tier == 1", entity="account")({"tier": 1}) is True
