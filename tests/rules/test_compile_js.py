"""JavaScript evaluation: the same answers as Python, case by case and on generated records.

semantics.yaml documents every rule of the language's meaning; each case runs
through the Python runtime and, in one Node process for the whole module,
through the compiled JavaScript. A Hypothesis test then generates records
(nulls, Chinese and other Unicode, decimals, dates near month ends) and
requires the two runtimes to agree. Without node the JavaScript half skips.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import unicodedata
from collections.abc import Iterator
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from fixtures import DEFINITIONS
from hypothesis import given, settings
from hypothesis import strategies as st
from node_runner import NODE, NodeSession, exact

from engine.rules.compile_js import JsUnsupported, js_literal
from engine.rules.functions import Function, functions, register_function
from engine.rules.service import RuleService

needs_node = pytest.mark.skipif(NODE is None, reason="node is not installed")

NOW = "2026-01-05T09:00:00Z"
ACCOUNTS = {7: {"name": "ACME", "industry": "manufacturing"}}
USERS = {"bob": {"name": "bob", "team": "east", "role": "sales_rep"}}

# The fixture lead, plus two free-text fields the cases use as data-driven arguments.
LEAD = copy.deepcopy(DEFINITIONS["lead"])
LEAD["schema"]["properties"].update(
    {"pattern_text": {"type": "string"}, "unit": {"type": "string"}}
)
DEFS = {**DEFINITIONS, "lead": LEAD}


def _parse_now(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


@cache
def service(tz: str, now: str) -> RuleService:
    return RuleService(
        DEFS.get,
        entities=DEFS,
        timezone=tz,
        clock=lambda: _parse_now(now),
        loader=lambda entity, key: ACCOUNTS.get(key) if entity == "account" else None,
        users=USERS.get,
    )


def js_context(tz: str, now: str, event: str | None = None) -> dict[str, Any]:
    return {
        "tz": tz,
        "now": now,
        "event": event,
        "records": {"account": {str(k): v for k, v in ACCOUNTS.items()}},
        "userTable": USERS,
    }


def load_cases() -> list[dict[str, Any]]:
    data = yaml.safe_load((Path(__file__).parent / "semantics.yaml").read_text(encoding="utf-8"))
    out = []
    for section, cases in data.items():
        for n, case in enumerate(cases):
            out.append({"id": f"{section}-{n}-{case['expr']}", "section": section, **case})
    return out


CASES = load_cases()


def expected(value: Any) -> Any:
    """The YAML's expectation in exact form; {datetime}, {duration} are tagged values."""
    if isinstance(value, dict) and set(value) == {"datetime"}:
        return exact(_parse_now(value["datetime"]))
    if isinstance(value, dict) and set(value) == {"duration"}:
        return exact(dt.timedelta(seconds=0) + Decimal(str(value["duration"])) * _SECOND)
    if isinstance(value, dict) and set(value) == {"decimal"}:
        return exact(Decimal(value["decimal"]))
    if isinstance(value, list):
        return [expected(v) for v in value]
    return exact(value)


class _Second:
    def __rmul__(self, amount: Decimal) -> dt.timedelta:
        return dt.timedelta(microseconds=int(amount * 1_000_000))


_SECOND = _Second()


def run_python(case: dict[str, Any]) -> Any:
    rules = service(case.get("tz", "UTC"), case.get("now", NOW))
    compiled = rules.compile(case["expr"], case.get("entity", "lead"))
    return compiled(case.get("record") or {}, old=case.get("old"), user=case.get("user"))


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_python_gives_the_documented_value(case: dict[str, Any]) -> None:
    assert exact(run_python(case)) == expected(case["expect"])


@pytest.fixture(scope="module")
def node() -> Iterator[NodeSession]:
    """The module's one Node process."""
    if NODE is None:
        pytest.skip("node is not installed")
    session = NodeSession()
    yield session
    session.close()


@pytest.fixture(scope="module")
def js_results(node: NodeSession) -> dict[str, Any]:
    """Every case of semantics.yaml in one batch."""
    sources, inputs = [], []
    for case in CASES:
        rules = service(case.get("tz", "UTC"), case.get("now", NOW))
        sources.append(rules.compile(case["expr"], case.get("entity", "lead")).js())
        inputs.append(
            {
                "record": case.get("record") or {},
                "old": case.get("old"),
                "user": case.get("user"),
                "ctx": js_context(case.get("tz", "UTC"), case.get("now", NOW)),
            }
        )
    return dict(zip([c["id"] for c in CASES], node.run(sources, inputs)))


@needs_node
@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_javascript_gives_the_documented_value(
    case: dict[str, Any], js_results: dict[str, Any]
) -> None:
    if case.get("js") == "refused":
        assert "error" in js_results[case["id"]]
    else:
        assert js_results[case["id"]] == {"value": expected(case["expect"])}


def test_every_function_is_documented() -> None:
    """semantics.yaml holds at least one case per registered function."""
    text = " ".join(c["expr"] for c in CASES if c["section"] == "functions")
    missing = [name for name in functions() if f"{name}(" not in text]
    assert missing == []


# ---------------------------------------------------------------- the generated source


def test_literals_are_json_and_script_safe() -> None:
    rules = service("UTC", NOW)
    source = rules.compile("company == '</script><!-- \u2028 \" \\' ${x}'", "lead").js()
    assert "</script>" not in source and "<!--" not in source and "\u2028" not in source
    assert js_literal("</x>&\u2029") == '"\\u003c/x\\u003e\\u0026\\u2029"'
    assert "company" not in source.split("const k")[0]


@needs_node
def test_hostile_text_stays_data(node: NodeSession) -> None:
    rules = service("UTC", NOW)
    text = 'company == "\\"); globalThis.pwned = 1; (\\"" or company == \'`${1}`\''
    source = rules.compile(text, "lead").js()
    probe = "(function () { return function () { return globalThis.pwned === undefined; }; })()"
    record = {"company": '"); globalThis.pwned = 1; ("'}
    out = node.run([source, probe], [{"record": record, "ctx": {}}, {"ctx": {}}])
    assert out == [{"value": True}, {"value": True}]


def test_function_without_javascript_is_refused() -> None:
    original = functions()["trim"]
    register_function(Function("py_only", ("string",), "string", lambda ctx, s: s, js=None))
    try:
        rules = RuleService(DEFS.get, entities=DEFS)
        compiled = rules.compile("py_only(company)", "lead")
        assert compiled({"company": "x"}) == "x"
        with pytest.raises(JsUnsupported, match="py_only"):
            compiled.js()
    finally:
        from engine.rules import functions as registry

        registry._registry.pop("py_only", None)
        assert functions()["trim"] is original


@needs_node
def test_developer_function_with_inline_javascript(node: NodeSession) -> None:
    register_function(
        Function(
            "shout", ("string",), "string", lambda ctx, s: s.upper() + "!",
            js="(ctx, s) => (s === null ? null : s.toUpperCase() + '!')",
        )
    )  # fmt: skip
    try:
        rules = RuleService(DEFS.get, entities=DEFS)
        compiled = rules.compile("shout(company)", "lead")
        out = node.run([compiled.js()], [{"record": {"company": "hi"}, "ctx": {}}])
        assert out == [{"value": compiled({"company": "hi"})}]
    finally:
        from engine.rules import functions as registry

        registry._registry.pop("shout", None)


@needs_node
def test_every_builtin_has_a_browser_implementation(node: NodeSession) -> None:
    probe = "(function (T) { return function () { return Object.keys(T.fn); }; })(TesseraRules)"
    [answer] = node.run([probe], [{"ctx": {}}])
    spelled = {f.js for f in functions().values() if f.js and f.js.isidentifier()}
    assert spelled <= set(answer["value"])


@needs_node
def test_plain_values_for_display(node: NodeSession) -> None:
    """T.plain gives what a page shows: numbers, ISO text, seconds, arrays."""
    rules = service("Asia/Shanghai", NOW)
    texts = ["budget * 3", "close_date + 1d", "created_at", "90m", "tags", "company"]
    wrap = "(function (f) {{ return (...a) => JSON.stringify(TesseraRules.plain(f(...a))); }})({})"
    sources = [wrap.format(rules.compile(t, "lead").js()) for t in texts]
    record = {"budget": 0.1, "close_date": "2026-01-31", "created_at": "2026-01-31T09:00",
              "tags": ["vip"], "company": "华为"}  # fmt: skip
    got = node.run(sources, [{"record": record, "ctx": {"tz": "Asia/Shanghai"}}] * len(texts))
    assert [json.loads(g["value"]) for g in got] == [
        0.3, "2026-02-01", "2026-01-31T09:00:00+08:00", 5400, ["vip"], "华为"
    ]  # fmt: skip


@needs_node
def test_documented_function_example(node: NodeSession) -> None:
    """The with_vat example of docs/rules.md works as written, in both runtimes."""
    register_function(
        Function(
            "with_vat", ("number",), "number",
            lambda ctx, amount: None if amount is None else amount * Decimal("1.13"),
            js="(ctx, amount) => (amount === null ? null : T.mul(amount, T.dec('1.13')))",
        )
    )  # fmt: skip
    try:
        rules = RuleService(DEFS.get, entities=DEFS)
        compiled = rules.compile("with_vat(budget)", "lead")
        records = [{"budget": 100.5}, {}]
        out = node.run([compiled.js()] * 2, [{"record": r, "ctx": {}} for r in records])
        assert out == [{"value": exact(compiled(r))} for r in records]
        assert out[0] == {"value": {"n": "113.565"}}
    finally:
        from engine.rules import functions as registry

        registry._registry.pop("with_vat", None)


@needs_node
def test_case_folding_matches_python_for_every_character(node: NodeSession) -> None:
    """fold() in text.js agrees with the Python runtime's fold (Unicode lower case) on every
    assigned code point, lower/upper too.

    Letters Python's Unicode database does not know yet are left out: there the
    browser's newer Unicode decides (documented in docs/rules.md).
    """
    chars = [chr(c) for c in range(0x110000) if unicodedata.category(chr(c)) not in ("Cn", "Cs")]
    probe = (
        "(function (T) { return function (r) { return r.chars.map("
        "(c) => [T.fold(c), c.toLowerCase(), c.toUpperCase()]); }; })(globalThis.TesseraRules)"
    )
    [answer] = node.run([probe], [{"record": {"chars": chars}, "ctx": {}}])
    got = answer["value"]
    known = lambda text: all(unicodedata.category(ch) != "Cn" for ch in text)  # noqa: E731
    wrong = [
        (hex(ord(c)), what)
        for c, (f, lo, up) in zip(chars, got)
        if known(f + lo + up)
        for what, ok in (
            ("fold", f == c.lower()),
            ("lower", lo == c.lower()),
            ("upper", up == c.upper()),
        )
        if not ok
    ]
    assert wrong == []


# ---------------------------------------------------------------- property test

TEMPLATES = [
    "company contains title",
    "company starts with title",
    "company ends with title",
    "title == company",
    "company < title",
    "lower(company) + upper(title)",
    "concat(left(company, 2), '|', right(title, 3), '|', len(company))",
    "trim(company) is empty",
    "substr(company, 2, 3)",
    "budget + company_size",
    "budget * company_size - budget",
    "budget / company_size",
    "company_size % 7",
    "round(budget, 1)",
    "floor(budget) + ceil(budget)",
    "budget between 0 and company_size",
    "company_size > 10 and budget < 100 or company is null",
    "add_months(close_date, company_size % 25)",
    "add_days(close_date, company_size)",
    "end_of(close_date, 'month')",
    "start_of(close_date, 'week')",
    "days_between(close_date, @2026-03-01)",
    "week(close_date) + weekday(close_date)",
    "close_date + 1d",
    "created_at + 24h",
    "date(created_at)",
    "hours_since(created_at)",
    "sum(items, it.amount)",
    "avg(items, it.amount)",
    "max(items, it.amount)",
    "any(items, it.amount > 1)",
    "count(items, it.product contains '华')",
    "if budget > 10 then company else title",
    "concat(budget, created_at, close_date)",
    "created_at < now() and now() - created_at > 24h",
    "end_of(created_at, 'month')",
    "start_of(created_at, 'week')",
    "business_hours_since(created_at)",
    "days_since(created_at) + days_since(close_date)",
    "company_size in [1, 2, 3, null]",
    "title in ['aA', 'ß', '华东']",
    "company matches '^[a-zß]+$'",
    "coalesce(company, title, 'x')",
]

TEXT = st.one_of(
    st.none(),
    st.text(alphabet="aAbBßẞσΣςİı华东销售总监经理😀 \u3000\t-", max_size=8),
)
DECIMALS = st.one_of(
    st.none(),
    # JSON cannot tell 2.0 from 2, so integral amounts are generated as integers (see docs).
    st.decimals(min_value=-10_000, max_value=10_000, places=2, allow_nan=False).map(
        lambda d: int(d) if d == d.to_integral_value() else float(d)
    ),
    st.integers(min_value=-50, max_value=50),
)
DATES = st.one_of(
    st.none(),
    st.builds(
        lambda y, m, d: f"{y}-{m:02d}-{d:02d}",
        st.sampled_from([2024, 2025, 2026, 2028]),
        st.integers(1, 12),
        st.sampled_from([1, 27, 28, 29, 30, 31]),
    ).filter(_valid := lambda s: _is_date(s)),
)
# Days when New York changes its clocks are drawn often, with the hours around the change.
DST_DAYS = st.sampled_from(["2026-03-08", "2026-11-01", "2025-03-09", "2025-11-02"])
TIMES = st.one_of(
    st.none(),
    st.builds(
        lambda d, sep, h, rest, z: f"{d}{sep}{h:02d}{rest}{z}",
        st.one_of(DATES.filter(lambda d: d is not None), DST_DAYS),
        st.sampled_from(["T", " "]),
        st.one_of(st.integers(0, 23), st.sampled_from([0, 1, 2, 3])),
        st.sampled_from([":30:00", ":00", ":59:59.5", ""]),
        st.sampled_from(["", "Z", "+08:00", "-0330", "+05"]),
    ),
)
RECORDS = st.fixed_dictionaries(
    {
        "company": TEXT,
        "title": TEXT,
        "budget": DECIMALS,
        "company_size": st.one_of(st.none(), st.integers(-100, 1000)),
        "close_date": DATES,
        "created_at": TIMES,
        "items": st.lists(st.fixed_dictionaries({"amount": DECIMALS, "product": TEXT}), max_size=3),
    }
)


def _is_date(text: str) -> bool:
    try:
        dt.date.fromisoformat(text)
    except ValueError:
        return False
    return True


def _python_or_error(compiled: Any, record: dict[str, Any]) -> Any:
    try:
        return {"value": exact(compiled(record))}
    except Exception:  # a runtime error must be an error in both runtimes
        return "error"


@needs_node
@settings(max_examples=100)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(TEMPLATES), RECORDS, st.sampled_from(["UTC", "America/New_York"])
        ),
        min_size=1,
        max_size=20,
    )
)
def test_python_and_javascript_agree(
    node: NodeSession, batch: list[tuple[str, dict[str, Any], str]]
) -> None:
    sources, inputs, wanted = [], [], []
    for template, record, tz in batch:
        compiled = service(tz, NOW).compile(template, "lead")
        sources.append(compiled.js())
        inputs.append({"record": record, "ctx": js_context(tz, NOW)})
        wanted.append(_python_or_error(compiled, record))
    got = [r if "value" in r else "error" for r in node.run(sources, inputs)]
    for (template, record, tz), want, have in zip(batch, wanted, got):
        assert have == want, (template, record, tz)


PATTERN_PIECES = ["a", "b", "ß", "华", ".", "\\s", "\\d", "\\w", "[a-c]", "[^a]", "(", ")", "|",
                  "*", "+", "?", "{2}", "{1,3}", "^", "$", "(?i)", "\\b", "\\pL", "[[:alpha:]]",
                  "\\A", "\\z", "(?:", "\\1", "(?=", "{", "]", "\\Q.\\E"]  # fmt: skip


@needs_node
@settings(max_examples=100)
@given(
    st.lists(
        st.tuples(
            st.lists(st.sampled_from(PATTERN_PIECES), max_size=8).map("".join),
            st.text(alphabet="abAB ß华\n1_.", max_size=8),
        ),
        min_size=1,
        max_size=20,
    )
)
def test_patterns_agree_with_re2_or_are_refused(
    node: NodeSession, batch: list[tuple[str, str]]
) -> None:
    """A pattern the browser takes gives RE2's answer (or RE2's refusal: null)."""
    compiled = service("UTC", NOW).compile("title matches pattern_text", "lead")
    source = compiled.js()
    records = [{"title": text, "pattern_text": pattern} for pattern, text in batch]
    got = node.run([source] * len(records), [{"record": r, "ctx": {}} for r in records])
    for record, answer in zip(records, got):
        if "error" in answer:
            assert "browser cannot run this pattern" in answer["error"], record
        else:
            assert answer == {"value": compiled(record)}, record
