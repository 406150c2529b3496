"""Rule sets in JavaScript: the same values and traces as Python, on the DSL example and more."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from fixtures import DEFINITIONS, definitions
from hypothesis import given, settings
from hypothesis import strategies as st
from node_runner import NODE, NodeSession, exact
from test_rules_parse import DSL_EXAMPLE

from engine.rules.check import Checker
from engine.rules.check_rules import check_file
from engine.rules.compile_js_rules import compile_js_ruleset
from engine.rules.parse import parse_file
from engine.rules.service import RuleService

pytestmark = pytest.mark.skipif(NODE is None, reason="node is not installed")

NOW = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)

EXTRA = (
    "scoring capped on lead into score cap 50:\n"
    "    group fit cap 30:\n"
    '        +20 "web" when source == "website"\n'
    '        +20 "big" when company_size > 100\n'
    '    +25 "pricing" when downloaded_pricing\n'
    '    +round(budget * 0.1, 1) "budget share"\n'
    "table t_collect on opportunity (collect) into approver:\n"
    "    | amount | => approver |\n"
    '    | > 10 | "a" |\n'
    '    | [20..30], > 100 | "b" |\n'
    '    | not(5) | "c" |\n'
    "table t_sum on opportunity (sum) into discount:\n"
    "    | amount | => discount |\n"
    "    | > 10 | 0.1 |\n"
    "    | > 20 | 0.05 |\n"
    "table t_unique on opportunity (unique) into approver:\n"
    "    | amount | => approver |\n"
    '    | > 1 | "a" |\n'
    '    | >= discount | "b" |\n'
    "table t_pair on opportunity (first) into approver, discount:\n"
    "    | stage | amount | => approver | => discount |\n"
    '    | "won" | - | "x" | 0.1 |\n'
    "    | - | >= 10 | name | amount / 1000 |\n"
    "validation names on lead:\n"
    '    error "Company {company} needs a title" when company is not empty and title is empty\n'
    '    warning "Budget {budget} is low for {company_size} people" when budget < company_size * 10\n'
)

CASES: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
    ("lead_score", {"source": "website", "industry": "manufacturing", "company_size": 800,
                    "downloaded_pricing": True, "page_visits": 10, "title": "VP Sales",
                    "created_at": "2025-01-01T00:00:00Z"}, {}),
    ("lead_score", {"source": "expo", "company_size": 250, "page_visits": 3.5}, {}),
    ("lead_score", {}, {}),
    ("lead_grade", {"score": 81}, {}),
    ("lead_grade", {"score": 60}, {}),
    ("lead_grade", {"score": None}, {}),
    ("lead_routing", {"region": "east"}, {}),
    ("lead_routing", {"industry": "manufacturing"}, {}),
    ("lead_routing", {"region": "north", "grade": "hot"}, {}),
    ("lead_routing", {}, {}),
    ("hot_lead_follow_up", {"grade": "hot", "company": "华为", "owner": "bob"}, {"event": "created"}),
    ("hot_lead_follow_up", {"grade": "hot"}, {"event": "updated"}),
    ("lead_sla", {"status": "new", "created_at": "2026-01-01T00:00:00Z", "company": "X"}, {}),
    ("lead_sla", {"status": "new", "created_at": "2026-01-05T00:00:00Z"}, {}),
    ("opportunity_checks", {"close_date": "2025-01-01", "stage": "new", "discount": 0.3}, {}),
    ("opportunity_checks", {"close_date": "2027-01-01", "stage": "won", "discount": 0.1}, {}),
    ("discount_approver", {"amount": 600000, "discount": 0}, {}),
    ("discount_approver", {"amount": 200000, "discount": 0.15}, {}),
    ("discount_approver", {"amount": 200000, "discount": 0.05}, {}),
    ("capped", {"source": "website", "company_size": 500, "downloaded_pricing": True}, {}),
    ("capped", {"source": "website", "budget": 55.5}, {}),
    ("t_collect", {"amount": 25}, {}),
    ("t_collect", {"amount": 5}, {}),
    ("t_collect", {}, {}),
    ("t_sum", {"amount": 30}, {}),
    ("t_sum", {"amount": 3}, {}),
    ("t_unique", {"amount": 5, "discount": 10}, {}),
    ("t_unique", {"amount": 5, "discount": 0}, {}),
    ("t_pair", {"stage": "won"}, {}),
    ("t_pair", {"amount": 12.5, "name": "大单"}, {}),
    ("names", {"company": "ACME", "title": " ", "budget": 0.5, "company_size": 7}, {}),
]  # fmt: skip


@pytest.fixture(scope="module")
def loaded() -> tuple[RuleService, dict[str, str]]:
    rules = RuleService(definitions, entities=DEFINITIONS, clock=lambda: NOW, users={}.get)
    sources: dict[str, str] = {}
    for text in (DSL_EXAMPLE, EXTRA):
        names = rules.load_ruleset(text)
        tree = parse_file(text)
        checked = check_file(tree, Checker(rules.catalog))
        for rs in tree.rulesets:
            options = None
            if getattr(rs, "targets", None) and len(rs.targets) == 1:
                info = rules.catalog.lookup(rs.entity, rs.targets[0])
                options = info.type.options if info else None
            sources[rs.name] = compile_js_ruleset(rs, checked, rules.tz, options)
        assert set(names) <= set(sources)
    return rules, sources


@pytest.fixture(scope="module")
def node() -> Iterator[NodeSession]:
    session = NodeSession()
    yield session
    session.close()


def _python(rules: RuleService, name: str, record: dict[str, Any], event: str | None) -> Any:
    try:
        result = rules.evaluate(name, record, trace=True, event=event)
    except Exception as exc:
        return {"error": type(exc).__name__}
    trace = [[t["rule"], t["fired"], t["value"]] for t in result["trace"]]
    return {"value": exact(result["value"]), "trace": exact(trace)}


def test_rule_sets_agree_with_python(
    loaded: tuple[RuleService, dict[str, str]], node: NodeSession
) -> None:
    rules, sources = loaded
    inputs = [
        {"record": record, "trace": True, "ctx": {"tz": "UTC", "now": NOW.isoformat(), **ctx}}
        for _, record, ctx in CASES
    ]
    got = node.run([sources[name] for name, _, _ in CASES], inputs)
    for (name, record, ctx), answer in zip(CASES, got):
        want = _python(rules, name, record, ctx.get("event"))
        if "error" in want:
            assert "error" in answer and "unique" in answer["error"], (name, record)
        else:
            assert answer == want, (name, record)


def test_every_kind_compiles(loaded: tuple[RuleService, dict[str, str]]) -> None:
    _, sources = loaded
    kinds = {name.split("_")[0] for name in sources}
    assert {"lead", "opportunity", "discount", "capped", "t", "names"} <= kinds
    assert all("function (r, old, user, ctx, t)" in s for s in sources.values())


LEADS = st.fixed_dictionaries(
    {
        "source": st.sampled_from([None, "website", "expo", "ads"]),
        "industry": st.sampled_from([None, "manufacturing", "retail"]),
        "region": st.sampled_from([None, "east", "north"]),
        "company_size": st.one_of(st.none(), st.integers(-5, 1000)),
        "downloaded_pricing": st.sampled_from([None, True, False]),
        "page_visits": st.one_of(st.none(), st.integers(0, 30), st.sampled_from([0.5, 2.25])),
        "title": st.one_of(st.none(), st.text(alphabet="VPvpDirectorß总监 ", max_size=10)),
        "created_at": st.sampled_from([None, "2025-09-01T00:00:00Z", "2026-01-01T23:00:00"]),
        "budget": st.one_of(st.none(), st.sampled_from([0.1, 55.5, 1000, -3.25])),
        "score": st.one_of(st.none(), st.integers(0, 120)),
        "grade": st.sampled_from([None, "hot", "warm"]),
        "company": st.one_of(st.none(), st.text(alphabet="AC华为 {}", max_size=5)),
    }
)
OPPORTUNITIES = st.fixed_dictionaries(
    {
        "amount": st.one_of(st.none(), st.integers(0, 700000), st.sampled_from([25.5, 100.01])),
        "discount": st.one_of(st.none(), st.sampled_from([0, 0.05, 0.15, 0.3, 10])),
        "stage": st.sampled_from([None, "new", "won", "lost"]),
        "close_date": st.sampled_from([None, "2025-01-31", "2026-02-28", "2026-01-05"]),
        "name": st.one_of(st.none(), st.text(alphabet="ab大单", max_size=4)),
    }
)
LEAD_SETS = ["lead_score", "lead_grade", "lead_routing", "hot_lead_follow_up", "capped", "names"]
OPPORTUNITY_SETS = ["opportunity_checks", "discount_approver", "t_collect", "t_sum", "t_unique",
                    "t_pair"]  # fmt: skip


@settings(max_examples=100)
@given(
    st.lists(
        st.one_of(
            st.tuples(st.sampled_from(LEAD_SETS), LEADS),
            st.tuples(st.sampled_from(OPPORTUNITY_SETS), OPPORTUNITIES),
        ),
        min_size=1,
        max_size=15,
    ),
    st.sampled_from([None, "created", "updated"]),
)
def test_rule_sets_agree_on_generated_records(
    loaded: tuple[RuleService, dict[str, str]],
    node: NodeSession,
    batch: list[tuple[str, dict[str, Any]]],
    event: str | None,
) -> None:
    rules, sources = loaded
    ctx = {"tz": "UTC", "now": NOW.isoformat(), "event": event}
    got = node.run(
        [sources[name] for name, _ in batch],
        [{"record": record, "trace": True, "ctx": ctx} for _, record in batch],
    )
    for (name, record), answer in zip(batch, got):
        want = _python(rules, name, record, event)
        if "error" in want:
            assert "error" in answer, (name, record)
        else:
            assert answer == want, (name, record)
