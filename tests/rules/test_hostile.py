"""Hostile rule text gets the answer the corpus gives it, quickly, and never a crash.

``hostile.yaml`` lists inputs an attacker or a clumsy paste produces (deep
nesting, huge literals, dunder names, regex bombs, very long strings) with
the error message or the value each must give. The fuzz tests below feed
random text and random token sequences through the parser *and* the checker:
the only exceptions allowed are the rule errors an admin sees.
"""

from __future__ import annotations

import contextlib
import time
from pathlib import Path

import pytest
import yaml
from fixtures import DEFINITIONS, definitions
from hypothesis import given
from hypothesis import strategies as st

from engine.errors import RuleSyntaxError, RuleTypeError
from engine.rules.service import RuleService

CORPUS = yaml.safe_load((Path(__file__).parent / "hostile.yaml").read_text(encoding="utf-8"))
RECORD = {
    "company": "a" * 40 + "!",
    "company_size": 10,
    "downloaded_pricing": True,
    "created_at": "2025-03-01T09:00:00Z",
    "close_date": "2025-03-31",
}


@pytest.fixture(scope="module")
def rules() -> RuleService:
    return RuleService(definitions, entities=DEFINITIONS)


def _text(case: dict) -> str:
    return "".join(piece * times for piece, times in case["parts"])


@pytest.mark.parametrize("case", CORPUS, ids=[c["name"] for c in CORPUS])
def test_hostile_input_gets_its_answer(rules: RuleService, case: dict) -> None:
    text = _text(case)
    start = time.perf_counter()
    if "error" in case:
        with pytest.raises((RuleSyntaxError, RuleTypeError)) as info:
            rules.compile(text, "lead")
        assert case["error"] in str(info.value)
    else:
        assert rules.compile(text, "lead")(RECORD) == case["value"]
    # generous: the point is "no hang", not speed (tests assert behaviour)
    assert time.perf_counter() - start < 20


def _only_rule_errors(rules: RuleService, text: str) -> None:
    with contextlib.suppress(RuleSyntaxError, RuleTypeError):
        rules.check(text, entity="lead")
    with contextlib.suppress(RuleSyntaxError, RuleTypeError):
        rules.compile(text, "lead")(RECORD)


@given(st.text(max_size=80))
def test_random_text_through_the_checker(rules: RuleService, text: str) -> None:
    _only_rule_errors(rules, text)


WORDS = st.sampled_from(
    [
        "company", "company_size", "budget", "source", "tags", "created_at", "close_date",
        "account", "account.industry", "items", "it", "old", "user", "user.team",
        "__class__", "`公司`", "1", "0", "2.5", '"website"', '"webiste"', "null", "true",
        "@2025-02-28", "@2025-03-30T02:30", "3d", "24h", "(", ")", "[", "]", ",", ".",
        "and", "or", "not", "==", "!=", "<", ">=", "+", "-", "*", "/", "%", "in",
        "between", "contains", "starts with", "matches", '"(a+)+$"', "is", "null",
        "empty", "changed", "to", "if", "then", "else", "abs(", "days_since(",
        "any(", "sum(", "count(", "min(", "coalesce(", "len(", "start_of(", '"month"',
    ]
)  # fmt: skip


@given(st.lists(WORDS, max_size=25))
def test_token_sequences_through_the_checker(rules: RuleService, tokens: list[str]) -> None:
    _only_rule_errors(rules, " ".join(tokens))
