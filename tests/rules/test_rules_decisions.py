"""Rule sets write their conditions inline (plain ``and``/``or``, comparisons with a literal
without helper calls, integer fields read without conversion): every rule must still fire
exactly when the same condition, compiled as an expression, is true."""

from __future__ import annotations

import itertools

import pytest
from fixtures import DEFINITIONS, definitions

from engine.rules.service import RuleService

CONDITIONS = [
    'source == "website"',
    'source != "website"',
    "company_size >= 500",
    "company_size < 10",
    "company_size == 7",
    "company_size between 100 and 499",
    "budget > 0.2",
    "budget between 0.1 and 0.3",
    'source in ["website", "expo"]',
    'source not in ["website", "expo"]',
    'title contains "director" or title contains "vp"',
    'title contains "ΣΑΣ"',
    "company_size > 5 and downloaded_pricing",
    "company_size > 5 or downloaded_pricing",
    "not (company_size > 5)",
    "downloaded_pricing",
    "page_visits * 2 > 10",
    "created_at > @2025-06-01T00:00",
]

VALUES = {
    "source": [None, "website", "expo", "ads"],
    "company_size": [None, 0, 7, 7.0, 100, 499, 500, True, False],
    "budget": [None, 0.1, 0.3, 0.25, 1],
    "title": [None, "Sales DIRECTOR", "svp", "engineer", "", ["vp"], "Σας"],
    "downloaded_pricing": [None, True, False],
    "page_visits": [None, 5, 6, 2.5],
    "created_at": [None, "2025-06-01T00:00:00Z", "2026-01-01T00:00:00+08:00"],
}


@pytest.fixture
def rules() -> RuleService:
    return RuleService(definitions, entities=DEFINITIONS, timezone="Asia/Shanghai")


def _records() -> list[dict]:
    out: list[dict] = [{}]
    keys = list(VALUES)
    # every value of every field once, then pairs over the fields conditions combine
    for key in keys:
        out += [{key: v} for v in VALUES[key]]
    for a, b in itertools.combinations(("company_size", "downloaded_pricing", "title"), 2):
        out += [{a: x, b: y} for x in VALUES[a] for y in VALUES[b]]
    return out


def test_scoring_grading_routing_fire_as_the_expression_holds(rules: RuleService) -> None:
    lines = ["scoring probe on lead into score:"]
    lines += [f'    +{n + 1} "c{n}" when {c}' for n, c in enumerate(CONDITIONS)]
    lines += ["", "grading probe_grade on lead from score into company:"]
    lines += [f'    "g{n}" when {c}' for n, c in enumerate(CONDITIONS)]
    lines += ['    "none" otherwise', "", "routing probe_route on lead:"]
    lines += [f'    "r{n}" when {c} assign user "u{n}"' for n, c in enumerate(CONDITIONS)]
    lines += ['    otherwise assign queue "pool"']
    rules.load_ruleset("\n".join(lines) + "\n", "probe.rules")
    exprs = [rules.compile(c, "lead") for c in CONDITIONS]
    for record in _records():
        holds = [e(record) is True for e in exprs]
        trace = rules.evaluate("probe", record, trace=True)
        assert [t["fired"] for t in trace["trace"]] == holds, record
        assert trace["value"] == sum(n + 1 for n, h in enumerate(holds) if h), record
        first = next((n for n, h in enumerate(holds) if h), None)
        grade = rules.evaluate("probe_grade", record)["value"]
        assert grade == ("none" if first is None else f"g{first}"), record
        route = rules.evaluate("probe_route", record)["value"]
        assert route["rule"] == ("otherwise" if first is None else f"r{first}"), record
