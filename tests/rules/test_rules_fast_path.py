"""The fast path of compiled rule sets gives what the general one gives.

Rule sets run an untraced body (no trace bookkeeping), ``days_since``,
two-argument ``min``/``max`` and ``+ - *`` written inline for typed
arguments, and exclusive equality tests chained with ``elif``. Each of those
must agree, record by record, with the traced body and with the same
expressions compiled on their own (which call the function registry): the
null and out-of-calendar rules of RULES_DSL.md are the contract.
"""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from fixtures import DEFINITIONS, definitions

from engine.rules.functions import Function, get_function, register_function
from engine.rules.service import RuleService

NOW = dt.datetime(2026, 6, 30, 12, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))

#: Computed points, each exercising an inlined form.
POINTS = [
    "min(page_visits * 2, 20)",
    "max(budget, 0.5)",
    "min(company_size, page_visits)",
    "(page_visits + company_size - 3)",
    "days_since(created_at)",
    "days_since(close_date)",
]

#: Conditions on one field: the first two, and the last, may chain with elif; the
#: third overlaps them ("expo") and must still fire on its own.
CONDITIONS = [
    'source == "website"',
    'source == "expo"',
    'source in ["expo", "ads"]',
    'source == "ads"',
    'source in ["referral", "social"]',
    "days_since(created_at) > 90",
    "days_since(created_at) > 90 and days_since(close_date) < 0",
]

VALUES = {
    "source": [None, "website", "expo", "ads", "referral", "social", "other"],
    "page_visits": [None, 0, 5, 2.5, 30, True],
    "budget": [None, 0.1, 1, 0.5],
    "company_size": [None, 7, 7.5, 10**30],
    "created_at": [
        None,
        "2026-06-30T00:00:00Z",
        "2026-03-01T23:59:59+08:00",
        "2026-01-01T00:00:00",
        "0001-01-01T00:00:00+00:00",
        "9999-12-31T23:00:00+00:00",
        "not a date",
    ],
    "close_date": [None, "2026-07-15", "2026-06-30", "0001-01-01", "9999-12-31", "bad"],
}


@pytest.fixture
def rules() -> RuleService:
    svc = RuleService(
        definitions, entities=DEFINITIONS, timezone="Asia/Shanghai", clock=lambda: NOW
    )
    lines = ["scoring probe on lead into score:"]
    lines += [f'    +{p} "p{n}"' for n, p in enumerate(POINTS)]
    lines += [f'    +{10**n} "c{n}" when {c}' for n, c in enumerate(CONDITIONS)]
    lines += ["", "grading probe_grade on lead from score into company:"]
    lines += [f'    "g{n}" when {c}' for n, c in enumerate(CONDITIONS)]
    lines += ['    "none" otherwise', "", "routing probe_route on lead:"]
    lines += [f'    "r{n}" when {c} assign user "u{n}"' for n, c in enumerate(CONDITIONS)]
    lines += ['    otherwise assign queue "pool"']
    svc.load_ruleset("\n".join(lines) + "\n", "probe.rules")
    return svc


def _records() -> list[dict]:
    out: list[dict] = [{}]
    for key, values in VALUES.items():
        out += [{key: v} for v in values]
    for a, b in itertools.combinations(VALUES, 2):
        out += [{a: x, b: y} for x in VALUES[a] for y in VALUES[b]]
    return out


def test_fast_body_agrees_with_the_trace_and_the_registry(rules: RuleService) -> None:
    points = [rules.compile(p, "lead") for p in POINTS]
    conds = [rules.compile(c, "lead") for c in CONDITIONS]
    for record in _records():
        values = [p(record) for p in points]
        holds = [c(record) is True for c in conds]
        fast = rules.evaluate("probe", record)["value"]
        traced = rules.evaluate("probe", record, trace=True)
        expected = sum(v for v in values if v is not None)
        expected += sum(10**n for n, h in enumerate(holds) if h)
        assert fast == traced["value"] == expected, record
        assert [t["value"] for t in traced["trace"][: len(POINTS)]] == values, record
        assert [t["fired"] for t in traced["trace"][len(POINTS) :]] == holds, record
        first = next((n for n, h in enumerate(holds) if h), None)
        for name, word in (("probe_grade", "g"), ("probe_route", "r")):
            fast = rules.evaluate(name, record)["value"]
            assert fast == rules.evaluate(name, record, trace=True)["value"], record
            got = fast if isinstance(fast, str) else fast["rule"]
            assert got == ("none" if first is None and word == "g" else
                           "otherwise" if first is None else f"{word}{first}"), record  # fmt: skip


def test_days_since_inline_keeps_null_and_calendar_rules(rules: RuleService) -> None:
    days = get_function("days_since").py  # type: ignore[union-attr]
    ctx = rules.context()
    for created in VALUES["created_at"]:
        record = {"created_at": created}
        trace = rules.evaluate("probe", record, trace=True)["trace"]
        value = trace[POINTS.index("days_since(created_at)")]["value"]
        read = rules.compile("created_at", "lead")(record)
        assert value == days(ctx, read), created
    # out of the calendar in the platform's zone: null, not an error
    assert (
        rules.compile("days_since(created_at)", "lead")({"created_at": "9999-12-31T23:00:00+00:00"})
        is None
    )


def test_a_replaced_builtin_is_not_inlined() -> None:
    original = get_function("days_since")
    assert original is not None
    register_function(Function("days_since", ("temporal",), "number", lambda ctx, a: 42))
    try:
        svc = RuleService(definitions, entities=DEFINITIONS, timezone="Asia/Shanghai")
        svc.load_ruleset(
            'scoring s on lead into score:\n    +days_since(created_at) "age"\n', "s.rules"
        )
        assert svc.evaluate("s", {"created_at": "2026-01-01T00:00:00Z"})["value"] == 42
    finally:
        register_function(original)


def test_evaluate_many_gives_evaluate_values_and_writes_targets(rules: RuleService) -> None:
    records = _records()[:200]
    expected = [rules.evaluate("probe", r)["value"] for r in records]
    copies = [dict(r) for r in records]
    assert rules.evaluate_many("probe", copies) == expected
    assert all("score" not in c for c in copies)
    assert rules.evaluate_many("probe", copies, write=True) == expected
    assert [c["score"] for c in copies] == expected
    routes = rules.evaluate_many("probe_route", copies, write=True)
    assert [c.get("owner") for c in copies] == [
        r["target"] if r["to"] == "user" else None for r in routes
    ]
    with pytest.raises(KeyError):
        rules.evaluate_many("nothing", copies)
