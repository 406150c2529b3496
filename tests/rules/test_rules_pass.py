"""evaluate_chain's one compiled pass gives what the rule sets' general bodies give.

``RuleService.evaluate_chain(names, records)`` runs rule sets in order as a save
runs them on one record: each set sees the values of the sets before it. For
scoring and grading sets (a routing set last) it is one compiled loop
(compile_py_pass) that guards each record once, reads each field once and hands
an earlier set's value to a later set as a local. Here it must agree, value for
value and error for error, with the definition: each record copied, each set's
general body (compiled without the special body) run on the copy, its value
written into the copy, the written sets' values written into the records after
the last record. Records that pass every guard, fail one (a Decimal score for a
grading that wants an int, a missing key, a float), dict subclasses, records
listed twice and batches mixing them all.
"""

from __future__ import annotations

import datetime as dt
import sys
from decimal import Decimal
from typing import Any

import pytest
from fixtures import DEFINITIONS, definitions
from hypothesis import given, settings
from hypothesis import strategies as st
from test_rules_special import FIELDS, Row

from engine.rules.compile_rules import CompiledRuleSet, compile_ruleset
from engine.rules.service import RuleService

NOW = dt.datetime(2026, 6, 30, 12, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))

RULES = """\
scoring pass_score on lead into score:
    +20 "web"        when source == "website"
    +10 "expo"       when source == "expo"
    +5  "soft"       when industry in ["software", "retail"]
    +10 "large"      when company_size >= 500
    +5  "mid"        when company_size between 100 and 499
    -10 "small"      when company_size < 10
    +15 "dm"         when title contains "director" or title contains "vp"
    +20 "dl"         when downloaded_pricing
    +min(page_visits * 2, 20) "visits"
    -10 "stale"      when days_since(created_at) > 90

scoring pass_budget on lead into score:
    +max(budget, 0.5) "budget"
    +1 "east"        when region == "east"

grading pass_grade on lead from score into grade:
    "hot"  when score > 40
    "warm" when score >= 20
    "cold" otherwise

grading pass_status on lead from score into status:
    "closed"  when grade == "hot" and score > 50
    "working" when score > 10 or title contains "vp"
    "new"     otherwise

routing pass_route on lead:
    "east"  when region == "east"               assign team "east"
    "mfg"   when industry == "manufacturing"    assign user "spec"
    "hot"   when grade == "hot"                 assign team "key" least loaded
    "big"   when company_size >= 5000 and score > 10 assign user "ent"
    "new"   when status == "new"                assign user "newbie"
    otherwise                                   assign queue "pool"

routing pass_route_open on lead:
    "east"  when region == "east"               assign team "east"
    "vp"    when title contains "vp"            assign field title
"""

#: Chains and whether they run as one compiled pass.
CHAINS = {
    ("pass_score", "pass_grade", "pass_route"): True,
    ("pass_score", "pass_grade", "pass_status", "pass_route"): True,
    ("pass_budget", "pass_grade", "pass_route"): True,  # a Decimal score: the general path
    ("pass_grade", "pass_score", "pass_grade"): True,  # the first grading reads the record
    ("pass_score", "pass_budget", "pass_status"): True,  # two sets into one field
    ("pass_route",): True,
    ("pass_score", "pass_grade", "pass_route_open"): True,  # no otherwise, a computed value
    ("pass_score", "pass_route", "pass_status"): False,  # routing may set any field
}
NAMES = sorted({n for chain in CHAINS for n in chain})


@pytest.fixture(scope="module")
def setup() -> tuple[RuleService, dict[str, CompiledRuleSet]]:
    """The service, and each rule set compiled with its general body only."""
    svc = RuleService(
        definitions, entities=DEFINITIONS, timezone="Asia/Shanghai", clock=lambda: NOW
    )
    svc.load_ruleset(RULES, "pass.rules")
    general = {}
    for name in NAMES:
        loaded = svc.rulesets()[name]
        assert loaded.checked is not None
        general[name] = compile_ruleset(loaded.compiled.node, loaded.checked, svc.tz, special=False)
    return svc, general


def definition(
    general: dict[str, CompiledRuleSet],
    names: tuple[str, ...],
    records: list[Any],
    written: set[str],
    ctx: Any,
) -> list[list[Any]]:
    """What evaluate_chain means, from the general bodies: a save's steps per record on
    a copy, then the written values into the records (none if any record raised)."""
    columns: list[list[Any]] = [[] for _ in names]
    for record in records:
        copy = dict(record)
        for n, name in enumerate(names):
            value = general[name].run(copy, None, None, ctx)
            columns[n].append(value)
            general[name].write_back(copy, value)
    for i, record in enumerate(records):
        for n, name in enumerate(names):
            if name in written:
                general[name].write_back(record, columns[n][i])
    return columns


def _outcome(call: Any, *args: Any, **kw: Any) -> tuple[str, Any]:
    try:
        return "value", call(*args, **kw)
    except Exception as e:  # the same error either way is the contract
        return "error", type(e)


def _copies(records: list[Any]) -> list[Any]:
    """The batch again, with fresh records (of the same class), duplicates kept as such."""
    fresh: dict[int, Any] = {}
    return [fresh.setdefault(id(r), type(r)(r)) for r in records]


#: The special test's fields, and the targets the chains write (a stale value the
#: record holds must never reach a set after the one that gives it).
TARGETS = {
    "score": st.one_of(
        st.integers(-50, 120), st.sampled_from([None, Decimal("10.5"), 3.5, "7", True])
    ),
    "grade": st.sampled_from(["hot", "warm", "cold", None, 1]),
    "status": st.sampled_from(["new", "working", "closed", None]),
}
RECORDS = st.one_of(
    st.fixed_dictionaries({**FIELDS, **TARGETS}),
    st.fixed_dictionaries({**FIELDS, **TARGETS}),
    st.fixed_dictionaries(FIELDS),
    st.fixed_dictionaries({}, optional={**FIELDS, **TARGETS}),
)

#: A batch mixes plain records (most pass the guard), dict subclasses and duplicates.
BATCHES = st.lists(
    st.tuples(RECORDS, st.sampled_from(["dict", "dict", "row", "again"])), max_size=8
)


def _batch(drawn: list[tuple[dict, str]]) -> list[Any]:
    out: list[Any] = []
    for record, how in drawn:
        if how == "again" and out:
            out.append(out[-1])
        else:
            out.append(Row(record) if how == "row" else record)
    return out


@settings(max_examples=300, deadline=None)
@given(
    drawn=BATCHES,
    chain=st.sampled_from(sorted(CHAINS)),
    write=st.sampled_from(["none", "all", "first"]),
)
def test_chain_agrees_with_the_general_bodies(
    setup: tuple[RuleService, dict[str, CompiledRuleSet]],
    drawn: list[tuple[dict, str]],
    chain: tuple[str, ...],
    write: str,
) -> None:
    svc, general = setup
    records = _batch(drawn)
    written = {"none": set(), "all": set(chain), "first": {chain[0]}}[write]
    mine, theirs = _copies(records), _copies(records)
    ctx = svc.context()
    want = _outcome(definition, general, chain, theirs, written, ctx)
    got = _outcome(svc.evaluate_chain, chain, mine, write=written)
    assert got == want, (chain, records)
    assert mine == theirs  # the same writes, or none after an error
    assert [type(r) for r in mine] == [type(r) for r in records]


@settings(max_examples=150, deadline=None)
@given(drawn=BATCHES)
def test_chain_agrees_with_evaluate_many_set_by_set(
    setup: tuple[RuleService, dict[str, CompiledRuleSet]], drawn: list[tuple[dict, str]]
) -> None:
    """Without an error, a chain is what evaluate_many(write=True) set by set gives (on
    records of its own, which that writes into)."""
    svc, _ = setup
    records = _batch(drawn)
    names = ("pass_score", "pass_grade", "pass_status", "pass_route")
    theirs = _copies(records)
    try:
        want = [svc.evaluate_many(n, theirs, write=True) for n in names]
    except Exception:  # set by set, the first set's error comes first: not compared
        return
    mine = _copies(records)
    assert svc.evaluate_chain(names, mine) == want
    assert mine == records  # nothing written without write
    assert svc.evaluate_chain(names, mine, write=True) == want
    assert mine == theirs


def _chain_source(svc: RuleService, names: tuple[str, ...]) -> str | None:
    svc.evaluate_chain(names, [])
    chain = svc._chains[(names, frozenset())][1][1]
    return None if chain is None else chain.source


def test_which_chains_fuse(setup: tuple[RuleService, dict[str, CompiledRuleSet]]) -> None:
    svc, _ = setup
    for names, fused in CHAINS.items():
        assert (_chain_source(svc, names) is not None) is fused, names


def test_each_field_read_once_and_values_handed_on(
    setup: tuple[RuleService, dict[str, CompiledRuleSet]],
) -> None:
    """The fused loop reads company_size once for scoring and routing, and the grading and
    routing read the score and grade the sets before them gave, not the record's."""
    svc, _ = setup
    names = ("pass_score", "pass_grade", "pass_route")
    source = _chain_source(svc, names)
    assert source is not None
    reads = [line.strip() for line in source.splitlines() if "= r[" in line]
    # seven fields for the scoring, region and status for the routing: not score nor grade
    assert len(reads) == len(set(reads)) == 9
    assert source.count("while True:") == 2
    lead = {
        "source": "website", "industry": "software", "region": "north", "company_size": 600,
        "budget": Decimal("1"), "page_visits": 9, "downloaded_pricing": True, "title": "VP",
        "created_at": dt.datetime(2026, 6, 1, tzinfo=dt.UTC), "close_date": None,
        "score": -5, "grade": "cold",
    }  # fmt: skip
    scores, grades, routes = svc.evaluate_chain(names, [lead])
    assert scores == [88] and grades == ["hot"] and routes[0]["rule"] == "hot"
    assert lead["score"] == -5 and lead["grade"] == "cold"  # not written
    svc.evaluate_chain(names, [lead], write=["pass_score", "pass_route"])
    assert (lead["score"], lead["grade"], lead["team"]) == (88, "cold", "key")


def _called(call: Any, *args: Any, **kw: Any) -> list[str]:
    """The names of the Python functions ``call`` calls."""
    names: list[str] = []

    def profile(frame: Any, event: str, arg: Any) -> None:
        if event == "call":
            names.append(frame.f_code.co_name)

    sys.setprofile(profile)
    try:
        call(*args, **kw)
    finally:
        sys.setprofile(None)
    return names


def test_the_guard_picks_the_fused_body(
    setup: tuple[RuleService, dict[str, CompiledRuleSet]],
) -> None:
    """A typed, complete record runs in the loop itself; a float, a missing key, a
    Decimal score for the grading or a dict subclass runs each set's own function."""
    svc, _ = setup
    names = ("pass_score", "pass_grade", "pass_status", "pass_route")
    lead = {
        "source": "expo", "industry": "retail", "region": "west", "company_size": 60,
        "page_visits": 2, "downloaded_pricing": False, "title": "Buyer",
        "created_at": dt.datetime(2026, 1, 1, tzinfo=dt.UTC), "status": "new",
        "score": 99, "grade": "hot", "budget": Decimal("3"),
    }  # fmt: skip
    svc.evaluate_chain(names, [lead])  # compiled outside the profile
    assert "_ruleset" not in _called(svc.evaluate_chain, names, [lead])
    for change in ({"page_visits": 2.0}, {"title": None}, {"created_at": dt.datetime(2026, 1, 1)}):
        assert "_ruleset" in _called(svc.evaluate_chain, names, [{**lead, **change}]), change
    missing = {k: v for k, v in lead.items() if k != "region"}
    assert "_ruleset" in _called(svc.evaluate_chain, names, [missing])
    assert "_ruleset" in _called(svc.evaluate_chain, names, [Row(lead)])
    budget = ("pass_budget", "pass_grade")  # a Decimal score: the grading's guard fails
    svc.evaluate_chain(budget, [lead])
    assert _called(svc.evaluate_chain, budget, [lead]).count("_ruleset") == 2
    typed = ("pass_score", "pass_grade")  # an int score passes it
    svc.evaluate_chain(typed, [lead])
    assert "_ruleset" not in _called(svc.evaluate_chain, typed, [lead])


def test_routing_values_are_fresh_dicts(
    setup: tuple[RuleService, dict[str, CompiledRuleSet]],
) -> None:
    """The loop copies a routing set's constant values after the loop: still one fresh
    dict per record, whichever path the record took."""
    svc, _ = setup
    names = ("pass_score", "pass_route")
    typed = {"region": "east", "company_size": 5, "page_visits": 1, "title": "x",
             "created_at": dt.datetime(2026, 6, 1, tzinfo=dt.UTC)}  # fmt: skip
    records = [typed, dict(typed), {"region": "east"}, Row(typed)]
    _, routes = svc.evaluate_chain(names, records)
    assert all(r == {"rule": "east", "type": "assign", "to": "team", "target": "east",
                     "strategy": None} for r in routes)  # fmt: skip
    assert len({id(r) for r in routes}) == 4
    routes[0]["target"] = "changed"
    assert svc.evaluate_chain(names, records)[1][0]["target"] == "east"
    source = _chain_source(svc, names)
    assert source is not None and ".copy()" not in source
    assert ".copy()" in (_chain_source(svc, ("pass_score", "pass_route_open")) or "")


def test_a_record_that_raises_writes_nothing(
    setup: tuple[RuleService, dict[str, CompiledRuleSet]],
) -> None:
    svc, _ = setup
    records = [{"company_size": 600}, {"company_size": "600"}]
    with pytest.raises(TypeError):
        svc.evaluate_chain(("pass_score", "pass_grade"), records, write=True)
    assert records == [{"company_size": 600}, {"company_size": "600"}]


def test_bad_calls(setup: tuple[RuleService, dict[str, CompiledRuleSet]]) -> None:
    svc, _ = setup
    with pytest.raises(KeyError):
        svc.evaluate_chain(("pass_score", "nothing"), [{}])
    with pytest.raises(ValueError, match="at least one"):
        svc.evaluate_chain((), [{}])
    with pytest.raises(ValueError, match="pass_route"):
        svc.evaluate_chain(("pass_score",), [{}], write=["pass_route"])


def test_a_new_version_recompiles_the_chain() -> None:
    svc = RuleService(
        definitions, entities=DEFINITIONS, timezone="Asia/Shanghai", clock=lambda: NOW
    )
    svc.load_ruleset(RULES, "pass.rules")
    names = ("pass_score", "pass_grade")
    lead = {"source": "website", "company_size": 600}
    assert svc.evaluate_chain(names, [lead]) == [[30], ["warm"]]
    svc.load_ruleset(
        'grading pass_grade on lead from score into grade:\n    "hot" when score > 10\n'
        '    "cold" otherwise\n',
        "pass2.rules",
    )
    assert svc.evaluate_chain(names, [lead]) == [[30], ["hot"]]


WHOLE = """\
scoring w_consts on lead into score:
    +20 "web"    when source == "website"
    -10 "small"  when company_size < 10
    +min(page_visits * 2, 20) "visits"
    +(company_size - page_visits) "sum"

scoring w_decimal on lead into score:
    +0.5 "half"  when source == "website"

scoring w_budget on lead into score:
    +max(budget, 1) "budget"

scoring w_capped on lead into score cap 50:
    +20 "web"    when source == "website"

scoring w_days on lead into score:
    +days_since(created_at) "age"

scoring w_when on lead into score:
    +page_visits "visits" when source == "expo"
"""


@pytest.fixture(scope="module")
def whole_svc() -> RuleService:
    svc = RuleService(definitions, entities=DEFINITIONS, timezone="UTC", clock=lambda: NOW)
    svc.load_ruleset(WHOLE, "whole.rules")
    return svc


@pytest.mark.parametrize(
    ("name", "whole"),
    [
        ("w_consts", True),
        ("w_decimal", False),  # a decimal constant
        ("w_budget", False),  # a currency field is a Decimal
        ("w_capped", False),  # the cap's helper
        ("w_days", False),  # null out of the calendar
        ("w_when", False),  # points under a condition may be null
    ],
)
def test_whole_totals(whole_svc: RuleService, name: str, whole: bool) -> None:
    """Which scoring sets always give an int from their special body, so a chain drops
    the later sets' guard on their value (compile_py_special.whole_total)."""
    from engine.rules.compile_py import PyCompiler
    from engine.rules.compile_rules import special_body

    svc = whole_svc
    loaded = svc.rulesets()[name]
    assert loaded.checked is not None
    c = PyCompiler(loaded.checked, svc.tz)
    c.record_getter = "rg"
    node = loaded.compiled.node
    emit = lambda v: [f"_v = {v}"]  # noqa: E731
    assert special_body(c, node, None, loaded.checked, emit).whole is None  # not asked
    assert special_body(c, node, None, loaded.checked, emit, whole=True).whole is whole


def test_a_whole_total_is_worked_out_once_per_version(monkeypatch: pytest.MonkeyPatch) -> None:
    """Loading a set does not ask; the first chain over a version does, the next chains
    over it reuse the answer, and a new version asks again."""
    from engine.rules import compile_py_special

    asked: list[str] = []
    real = compile_py_special.whole_total
    monkeypatch.setattr(
        compile_py_special, "whole_total", lambda c, rs: asked.append(rs.name) or real(c, rs)
    )
    svc = RuleService(definitions, entities=DEFINITIONS, timezone="UTC", clock=lambda: NOW)
    svc.load_ruleset(WHOLE, "whole.rules")
    assert asked == []
    record = {"source": "website", "company_size": 30, "page_visits": 4}
    assert svc.evaluate_chain(("w_consts",), [dict(record)]) == [[54]]
    assert svc.evaluate_chain(("w_consts", "w_decimal"), [dict(record)]) == [[54], [0.5]]
    assert asked == ["w_consts", "w_decimal"]
    assert svc.rulesets()["w_consts"].compiled.whole is True
    svc.load_ruleset(WHOLE.replace('+20 "web"', '+21 "web"', 1), "whole.rules")
    assert svc.evaluate_chain(("w_consts",), [dict(record)]) == [[55]]
    assert asked[2:] == ["w_consts"]


@settings(max_examples=200, deadline=None)
@given(
    size=st.integers(-(10**9), 10**9),
    visits=st.integers(-(10**9), 10**9),
    source=st.sampled_from(["website", "expo", None]),
)
def test_a_whole_total_is_an_int(
    whole_svc: RuleService, size: int, visits: int, source: str | None
) -> None:
    record = {"source": source, "company_size": size, "page_visits": visits}
    [[score]] = whole_svc.evaluate_chain(("w_consts",), [record])
    assert type(score) is int
