"""The batch loop and the shared null tests give what the general form gives.

``evaluate_many`` runs a compiled loop over the records (``_ruleset_many``);
tests of one number field against literals share one null test, and scoring
ranges the literals prove disjoint chain with ``elif`` (compile_py_chain).
Every value must be the one the traced body gives, record by record, and the
one the conditions compiled on their own give: overlapping ranges still add
up, an empty range never fires, null never passes.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from fixtures import DEFINITIONS, definitions
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.rules.compile_py_chain import Range
from engine.rules.service import RuleService

NOW = dt.datetime(2026, 6, 30, 12, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))

#: Scoring conditions, each worth its own power of two so the total says which fired:
#: 0-2 chain (disjoint), 3 and 4 overlap 0 and must fire on their own, 5-6 chain on
#: a decimal bound, 7-8 on days_since, 9 is an empty range, 10 an equality chain.
SCORING = [
    "company_size >= 500",
    "company_size between 100 and 499",
    "company_size < 10",
    "company_size >= 5000",
    "company_size > 499.5",
    "budget <= 0.5",
    "budget > 0.5",
    "days_since(created_at) > 90",
    "days_since(created_at) between 0 and 90",
    "company_size between 600 and 100",
    "company_size <= 10",
    'source == "website"',
    'source == "expo"',
]

#: First-match conditions: 0-1 share a null test, 2 opens another, 3 goes back to the
#: first field (a new null test), 4 is a general condition between them.
FIRST = [
    "company_size > 80",
    "company_size >= 50",
    "budget > 1",
    "company_size < 0",
    'source == "ads" or page_visits > 3',
    "company_size between 10 and 20",
]

SIZES = st.one_of(
    st.none(),
    st.sampled_from([0, 9, 10, 11, 49, 50, 80, 81, 99, 100, 499, 500, 600, 4999, 5000]),
    st.integers(-(10**6), 10**6),
    st.sampled_from([499.5, 499.6, 99.99, 10.0, 0.0, -0.5]),
    st.decimals(min_value=-1000, max_value=10000, allow_nan=False, places=2),
    st.just(True),
)
BUDGETS = st.one_of(st.none(), st.sampled_from([0.5, 0.49, 0.51, 1, 2, Decimal("0.5")]))
CREATED = st.one_of(
    st.none(),
    st.integers(-5, 200).map(lambda d: (NOW - dt.timedelta(days=d, hours=3)).isoformat()),
    st.datetimes(
        min_value=dt.datetime(2025, 1, 1),
        max_value=dt.datetime(2027, 1, 1),
        timezones=st.just(dt.UTC),
    ),
    st.just("not a date"),
)
RECORDS = st.lists(
    st.fixed_dictionaries(
        {},
        optional={
            "company_size": SIZES,
            "budget": BUDGETS,
            "created_at": CREATED,
            "source": st.sampled_from([None, "website", "expo", "ads"]),
            "page_visits": st.one_of(st.none(), st.integers(0, 6)),
        },
    ),
    max_size=8,
)


@pytest.fixture(scope="module")
def rules() -> RuleService:
    svc = RuleService(
        definitions, entities=DEFINITIONS, timezone="Asia/Shanghai", clock=lambda: NOW
    )
    lines = ["scoring chain on lead into score:"]
    lines += [f'    +{2**n} "c{n}" when {c}' for n, c in enumerate(SCORING)]
    lines += ["", "grading chain_grade on lead from company_size into company:"]
    lines += [f'    "g{n}" when {c}' for n, c in enumerate(FIRST)]
    lines += ['    "none" otherwise', "", "routing chain_route on lead:"]
    lines += [f'    "r{n}" when {c} assign user "u{n}"' for n, c in enumerate(FIRST)]
    lines += ["    otherwise assign field title"]
    svc.load_ruleset("\n".join(lines) + "\n", "chain.rules")
    return svc


def _expected(rules: RuleService, record: dict) -> tuple[int, str, str]:
    holds = [rules.compile(c, "lead")(record) is True for c in SCORING]
    first = next((n for n, c in enumerate(FIRST) if rules.compile(c, "lead")(record) is True), None)
    score = sum(2**n for n, h in enumerate(holds) if h)
    if first is None:
        return score, "none", "otherwise"
    return score, f"g{first}", f"r{first}"


@settings(max_examples=300, deadline=None)
@given(records=RECORDS)
def test_batch_and_chains_agree_with_the_trace(rules: RuleService, records: list[dict]) -> None:
    scores = rules.evaluate_many("chain", records)
    grades = rules.evaluate_many("chain_grade", records)
    routes = rules.evaluate_many("chain_route", records)
    assert len(scores) == len(grades) == len(routes) == len(records)
    for record, score, grade, route in zip(records, scores, grades, routes):
        for name, value in (("chain", score), ("chain_grade", grade), ("chain_route", route)):
            assert value == rules.evaluate(name, record)["value"], (name, record)
            assert value == rules.evaluate(name, record, trace=True)["value"], (name, record)
        assert (score, grade, route["rule"]) == _expected(rules, record), record
        if route["rule"] == "otherwise":
            assert route["target"] == record.get("title")
        else:
            assert route["target"] == f"u{route['rule'][1:]}"


def test_write_puts_the_value_in_each_record(rules: RuleService) -> None:
    records = [{"company_size": 600}, {"company_size": None}, {}, {"company_size": 5}]
    scores = rules.evaluate_many("chain", records, write=True)
    assert [r["score"] for r in records] == scores == [1 + 16, 0, 0, 4 + 1024]
    grades = rules.evaluate_many("chain_grade", records, write=True)
    assert [r["company"] for r in records] == grades == ["g0", "none", "none", "none"]
    before = [dict(r) for r in records]
    rules.evaluate_many("chain_grade", records)  # without write: records untouched
    assert records == before


def test_routing_values_are_fresh_dicts(rules: RuleService) -> None:
    a, b = rules.evaluate_many("chain_route", [{"company_size": 90}, {"company_size": 90}])
    assert a == b == {"rule": "r0", "type": "assign", "to": "user", "target": "u0",
                      "strategy": None}  # fmt: skip
    a["target"] = "changed"
    assert rules.evaluate_many("chain_route", [{"company_size": 90}])[0]["target"] == "u0"


def test_source_shape(rules: RuleService) -> None:
    """The chains are there (and only where the ranges are disjoint)."""
    source = rules.rulesets()["chain"].compiled.source
    fast = source[: source.index("def _ruleset_traced")]
    assert fast.count("elif") >= 4  # 0-2, 5-6, 7-8 and the source equality chain
    lines = [line.strip() for line in fast.splitlines()]
    # c3 (>= 5000) overlaps c0 (>= 500): a new if under a new null test, not an elif
    assert sum(line.startswith("if _h") and "is not None:" in line for line in lines) >= 4
    grade = rules.rulesets()["chain_grade"].compiled.source
    assert "_ruleset_many" in grade


@pytest.mark.parametrize(
    ("a", "b", "disjoint"),
    [
        (Range(low=500, low_in=True), Range(100, True, 499, True), True),
        (Range(100, True, 499, True), Range(high=10), True),
        (Range(low=500, low_in=True), Range(high=500), True),
        (Range(low=500, low_in=True), Range(high=500, high_in=True), False),
        (Range(low=500), Range(high=500, high_in=True), True),
        (Range(low=500, low_in=True), Range(low=5000, low_in=True), False),
        (Range(high=10), Range(high=10, high_in=True), False),
        (Range(low=Decimal("0.5")), Range(high=Decimal("0.5"), high_in=True), True),
        (Range(low=Decimal("499.5")), Range(low=500, low_in=True), False),
        (Range(), Range(high=1), False),
    ],
)
def test_range_disjoint(a: Range, b: Range, disjoint: bool) -> None:
    assert a.disjoint(b) is disjoint
    assert b.disjoint(a) is disjoint


def test_write_comes_after_every_value(rules: RuleService) -> None:
    """As before the batch loop: the values first, then the writes, so a record that
    raises leaves every record of the batch unwritten."""
    records = [{"company_size": 600}, {"company_size": "600"}]
    with pytest.raises(TypeError):
        rules.evaluate("chain", records[1])
    with pytest.raises(TypeError):
        rules.evaluate_many("chain", records, write=True)
    assert records == [{"company_size": 600}, {"company_size": "600"}]
