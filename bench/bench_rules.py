"""How fast do rule sets run? Tessera's compiled lead scoring, grading and routing against the
same logic written by hand (the limit), rule-engine, zen-engine and simpleeval.

Run: ``python bench/bench_rules.py [--n 100000] [--runs 3] [--slice 5000] [--clock cpu] [--parts]``. The workload is the
example of RULES_DSL.md grown to a 12-rule scoring set, the hot / warm / cold
grading and a 6-rule first-match routing, over generated leads
(``bench/leads.py``: ``generate_scoring_leads``) with a fixed clock. Every
implementation must give the same score, grade and route (rule label and
assignment target) for every lead as the hand-written code; the script counts
disagreements and exits non-zero if there is any.
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import json
import os
import platform
import sys
import time
from collections import Counter
from collections.abc import Callable
from decimal import Decimal
from operator import itemgetter
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import rule_engine
import simpleeval
import zen

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.leads import SCORING_LEAD_DEFINITION, SCORING_NOW, generate_scoring_leads
from engine.rules.service import RuleService

TIMEZONE = "Asia/Shanghai"
TZ = ZoneInfo(TIMEZONE)
#: "today" for every implementation: the bench clock's date in the platform's zone.
TODAY = SCORING_NOW.astimezone(TZ).date()

#: The rules, as an admin writes them (RULES_DSL.md section 2, three more scoring rules).
RULES = """\
scoring lead_score on lead into score:
    +20 "Came from the website"     when source == "website"
    +10 "Met at an expo"            when source == "expo"
    +10 "Referred by a customer"    when source == "referral"
    +15 "Manufacturing"             when industry == "manufacturing"
    +5  "Software or finance"       when industry in ["software", "finance"]
    +10 "Large company"             when company_size >= 500
    +5  "Mid-size company"          when company_size between 100 and 499
    -10 "Very small company"        when company_size < 10
    +15 "Decision maker"            when title contains "director" or title contains "vp"
    +20 "Downloaded the price list" when downloaded_pricing
    +min(page_visits * 2, 20) "Engaged visitor"
    -10 "Gone stale"                when days_since(created_at) > 90

grading lead_grade on lead from score into grade:
    "hot"  when score > 80
    "warm" when score >= 50
    "cold" otherwise

routing lead_routing on lead:
    "East China goes to Shanghai" when region == "east"             assign team "shanghai" round robin
    "Manufacturing specialist"    when industry == "manufacturing"  assign user "specialist_a"
    "Hot leads to key accounts"   when grade == "hot"               assign team "key_accounts" least loaded
    "Enterprise desk"             when company_size >= 5000         assign team "enterprise" round robin
    "Expo follow-up"              when source == "expo" and region in ["north", "west"] assign user "events_rep"
    otherwise                                                       assign queue "pool"

test "website manufacturing lead is hot and goes to the specialist":
    given lead {source: "website", industry: "manufacturing", company_size: 800, downloaded_pricing: true, page_visits: 10}
    expect score == 85 and grade == "hot" and owner == "specialist_a"
"""

#: One result per lead: (score, grade, routing rule label, assignment target).
Result = tuple[Any, str, str, str]
Runner = Callable[[list[dict[str, Any]]], list[Result]]

# The routing, shared by the peers' set-ups: label, target, condition per language.
ROUTES = [
    ("East China goes to Shanghai", "shanghai"),
    ("Manufacturing specialist", "specialist_a"),
    ("Hot leads to key accounts", "key_accounts"),
    ("Enterprise desk", "enterprise"),
    ("Expo follow-up", "events_rep"),
]
OTHERWISE = ("otherwise", "pool")


def days_since(created_at: dt.datetime) -> int:
    """Calendar days from the creation date (in the platform's zone) until today, as
    ``days_since`` does. The peers have no such function, so the caller computes it
    for them, inside the timed loop."""
    return (TODAY - created_at.astimezone(TZ).date()).days


# -- Tessera -------------------------------------------------------------------------


def tessera_service() -> RuleService:
    definitions = {"lead": SCORING_LEAD_DEFINITION}
    svc = RuleService(
        definitions.get, entities=["lead"], timezone=TIMEZONE, clock=lambda: SCORING_NOW
    )
    svc.load_ruleset(RULES, "bench/lead.rules")
    return svc


def tessera_api(svc: RuleService) -> Runner:
    """What a caller of the public API pays: ``evaluate`` per rule set, targets written back."""
    evaluate = svc.evaluate

    def run(leads: list[dict[str, Any]]) -> list[Result]:
        out = []
        for lead in leads:
            score = evaluate("lead_score", lead)["value"]
            lead["score"] = score
            grade = evaluate("lead_grade", lead)["value"]
            lead["grade"] = grade
            route = evaluate("lead_routing", lead)["value"]
            out.append((score, grade, route["rule"], route["target"]))
        return out

    return run


def tessera_batch(svc: RuleService) -> Runner:
    """What a caller with many records uses: ``RuleService.evaluate_many`` per rule set over
    the slice (one context per call), score and grade written back for the next set."""
    many = svc.evaluate_many

    def run(leads: list[dict[str, Any]]) -> list[Result]:
        scores = many("lead_score", leads, write=True)
        grades = many("lead_grade", leads, write=True)
        routes = many("lead_routing", leads)
        return [(s, g, r["rule"], r["target"]) for s, g, r in zip(scores, grades, routes)]

    return run


def tessera_chain(svc: RuleService) -> Runner:
    """What a caller running several rule sets over many records uses:
    ``RuleService.evaluate_chain``, one pass over the slice for the three sets, each
    seeing the values of the ones before it as a save does (the grading reads the score),
    one list of values per rule set. Like the hand-written code and the peers, it leaves the
    leads as they are (the batch row writes score and grade into them: the only way its
    grading could read the score)."""
    chain = svc.evaluate_chain
    names = ("lead_score", "lead_grade", "lead_routing")

    def run(leads: list[dict[str, Any]]) -> list[Result]:
        return _result_tuples(*chain(names, leads))

    return run


_RULE_OF, _TARGET_OF = itemgetter("rule"), itemgetter("target")


def _result_tuples(scores: list[Any], grades: list[str], routes: list[dict]) -> list[Result]:
    """The bench's result tuples from the one-pass row's three lists, built in C loops
    (zip, map, itemgetter): the same tuples the batch row's comprehension builds."""
    return list(zip(scores, grades, map(_RULE_OF, routes), map(_TARGET_OF, routes)))


def tessera_bare(svc: RuleService) -> Runner:
    """The compiled functions alone (``LoadedRuleSet.compiled.run``), one context per batch."""
    sets = svc.rulesets()
    score_fn = sets["lead_score"].compiled.run
    grade_fn = sets["lead_grade"].compiled.run
    route_fn = sets["lead_routing"].compiled.run

    def run(leads: list[dict[str, Any]]) -> list[Result]:
        ctx = svc.context()
        out = []
        for lead in leads:
            score = score_fn(lead, None, None, ctx)
            lead["score"] = score
            grade = grade_fn(lead, None, None, ctx)
            lead["grade"] = grade
            route = route_fn(lead, None, None, ctx)
            out.append((score, grade, route["rule"], route["target"]))
        return out

    return run


# -- the limit: the same logic written by hand ---------------------------------------


def hand_written(leads: list[dict[str, Any]]) -> list[Result]:
    """Straight-line Python for these rules: no nulls to handle (every field is present),
    mutually exclusive tests chained with elif, today computed once."""
    today = TODAY
    tz = TZ
    out = []
    append = out.append
    for lead in leads:
        source = lead["source"]
        industry = lead["industry"]
        size = lead["company_size"]
        score = 0
        if source == "website":
            score += 20
        elif source == "expo" or source == "referral":
            score += 10
        if industry == "manufacturing":
            score += 15
        elif industry == "software" or industry == "finance":
            score += 5
        if size >= 500:
            score += 10
        elif size >= 100:
            score += 5
        elif size < 10:
            score -= 10
        title = lead["title"].lower()
        if "director" in title or "vp" in title:
            score += 15
        if lead["downloaded_pricing"]:
            score += 20
        visits = lead["page_visits"] * 2
        score += visits if visits < 20 else 20
        if (today - lead["created_at"].astimezone(tz).date()).days > 90:
            score -= 10
        grade = "hot" if score > 80 else "warm" if score >= 50 else "cold"
        region = lead["region"]
        if region == "east":
            route = ROUTES[0]
        elif industry == "manufacturing":
            route = ROUTES[1]
        elif grade == "hot":
            route = ROUTES[2]
        elif size >= 5000:
            route = ROUTES[3]
        elif source == "expo" and (region == "north" or region == "west"):
            route = ROUTES[4]
        else:
            route = OTHERWISE
        append((score, grade, route[0], route[1]))
    return out


# -- peers: expression engines with the rules in their own words ----------------------

#: (points, condition) for the conditional scoring rules, in rule-engine's language.
RE_SCORING = [
    (20, 'source == "website"'),
    (10, 'source == "expo"'),
    (10, 'source == "referral"'),
    (15, 'industry == "manufacturing"'),
    (5, 'industry in ["software", "finance"]'),
    (10, "company_size >= 500"),
    (5, "company_size >= 100 and company_size <= 499"),
    (-10, "company_size < 10"),
    (15, '"director" in title.as_lower or "vp" in title.as_lower'),
    (20, "downloaded_pricing"),
    (-10, "days_since > 90"),
]
RE_VISITS = "$min([page_visits * 2, 20])"
RE_GRADES = [("hot", "score > 80"), ("warm", "score >= 50")]
RE_ROUTES = [
    'region == "east"',
    'industry == "manufacturing"',
    'grade == "hot"',
    "company_size >= 5000",
    'source == "expo" and region in ["north", "west"]',
]


def rule_engine_runner() -> Runner:
    """rule-engine: one ``Rule`` per condition, built once; points summed in Python."""
    context = rule_engine.Context()
    scoring = [(p, rule_engine.Rule(c, context=context).matches) for p, c in RE_SCORING]
    visits = rule_engine.Rule(RE_VISITS, context=context).evaluate
    grades = [(g, rule_engine.Rule(c, context=context).matches) for g, c in RE_GRADES]
    routes = [
        (route, rule_engine.Rule(c, context=context).matches) for route, c in zip(ROUTES, RE_ROUTES)
    ]

    def run(leads: list[dict[str, Any]]) -> list[Result]:
        out = []
        for lead in leads:
            data = dict(lead)
            data["days_since"] = days_since(lead["created_at"])
            score = 0
            for points, matches in scoring:
                if matches(data):
                    score += points
            score += int(visits(data))  # rule-engine computes in Decimal
            data["score"] = score
            grade = next((g for g, matches in grades if matches(data)), "cold")
            data["grade"] = grade
            route = next((r for r, matches in routes if matches(data)), OTHERWISE)
            out.append((score, grade, route[0], route[1]))
        return out

    return run


SE_SCORING = [
    (20, 'source == "website"'),
    (10, 'source == "expo"'),
    (10, 'source == "referral"'),
    (15, 'industry == "manufacturing"'),
    (5, 'industry in ("software", "finance")'),
    (10, "company_size >= 500"),
    (5, "100 <= company_size <= 499"),
    (-10, "company_size < 10"),
    (15, '"director" in title.lower() or "vp" in title.lower()'),
    (20, "downloaded_pricing"),
    (-10, "days_since > 90"),
]
SE_VISITS = "min(page_visits * 2, 20)"
SE_GRADES = [("hot", "score > 80"), ("warm", "score >= 50")]
SE_ROUTES = [
    'region == "east"',
    'industry == "manufacturing"',
    'grade == "hot"',
    "company_size >= 5000",
    'source == "expo" and region in ("north", "west")',
]


def simpleeval_runner() -> Runner:
    """simpleeval: one expression per condition, parsed once; the record's fields as names."""
    ev = simpleeval.EvalWithCompoundTypes(functions={"min": min})

    def parsed(text: str) -> Callable[[], Any]:
        tree = ev.parse(text)
        return lambda: ev.eval(text, previously_parsed=tree)

    scoring = [(p, parsed(c)) for p, c in SE_SCORING]
    visits = parsed(SE_VISITS)
    grades = [(g, parsed(c)) for g, c in SE_GRADES]
    routes = [(route, parsed(c)) for route, c in zip(ROUTES, SE_ROUTES)]

    def run(leads: list[dict[str, Any]]) -> list[Result]:
        out = []
        for lead in leads:
            data = dict(lead)
            data["days_since"] = days_since(lead["created_at"])
            ev.names = data
            score = 0
            for points, holds in scoring:
                if holds():
                    score += points
            score += visits()
            data["score"] = score
            grade = next((g for g, holds in grades if holds()), "cold")
            data["grade"] = grade
            route = next((r for r, holds in routes if holds()), OTHERWISE)
            out.append((score, grade, route[0], route[1]))
        return out

    return run


def _node(node_id: str, kind: str, content: dict[str, Any] | None = None) -> dict[str, Any]:
    node: dict[str, Any] = {
        "id": node_id,
        "type": kind,
        "name": node_id,
        "position": {"x": 0, "y": 0},
    }
    if content is not None:
        node["content"] = content
    return node


def _table(policy: str, inputs: list[str], outputs: list[str], rows: list[list[str]], **kw: Any):
    """A JDM decision table: one column per input field, cells as unary tests ("" = any)."""
    columns = [f"i{n}" for n in range(len(inputs))] + [f"o{n}" for n in range(len(outputs))]
    content = {
        "hitPolicy": policy,
        "passThrough": True,
        "inputField": None,
        "outputPath": None,
        "executionMode": "single",
        "inputs": [{"id": f"i{n}", "name": f, "field": f} for n, f in enumerate(inputs)],
        "outputs": [{"id": f"o{n}", "name": f, "field": f} for n, f in enumerate(outputs)],
        "rules": [{"_id": f"r{k}", **dict(zip(columns, row))} for k, row in enumerate(rows)],
    }
    content.update(kw)
    return content


DECISION_MAKER = 'contains(lower($), "director") or contains(lower($), "vp")'


def zen_graph() -> dict[str, Any]:
    """The three rule sets as one JDM graph: scoring as a ``collect`` table whose points an
    expression node sums, then grading and routing as ``first`` tables."""
    scoring = _table(
        "collect",
        ["source", "industry", "company_size", "title", "downloaded_pricing", "days_since"],
        ["p"],
        [
            ['"website"', "", "", "", "", "", "20"],
            ['"expo"', "", "", "", "", "", "10"],
            ['"referral"', "", "", "", "", "", "10"],
            ["", '"manufacturing"', "", "", "", "", "15"],
            ["", '"software", "finance"', "", "", "", "", "5"],
            ["", "", ">= 500", "", "", "", "10"],
            ["", "", "[100..499]", "", "", "", "5"],
            ["", "", "< 10", "", "", "", "-10"],
            ["", "", "", DECISION_MAKER, "", "", "15"],
            ["", "", "", "", "true", "", "20"],
            ["", "", "", "", "", "", "min([page_visits * 2, 20])"],
            ["", "", "", "", "", "> 90", "-10"],
        ],
        outputPath="hits",
    )
    total = {
        "passThrough": True,
        "inputField": None,
        "outputPath": None,
        "executionMode": "single",
        "expressions": [{"id": "e0", "key": "score", "value": "sum(map(hits, #.p))"}],
    }
    grading = _table(
        "first",
        ["score"],
        ["grade"],
        [["> 80", '"hot"'], [">= 50", '"warm"'], ["", '"cold"']],
    )
    routes = [
        ['"east"', "", "", "", ""],
        ["", '"manufacturing"', "", "", ""],
        ["", "", '"hot"', "", ""],
        ["", "", "", ">= 5000", ""],
        ['"north", "west"', "", "", "", '"expo"'],
    ]
    routing = _table(
        "first",
        ["region", "industry", "grade", "company_size", "source"],
        ["rule", "target"],
        [[*cells, json.dumps(r[0]), json.dumps(r[1])] for cells, r in zip(routes, ROUTES)]
        + [["", "", "", "", "", json.dumps(OTHERWISE[0]), json.dumps(OTHERWISE[1])]],
    )
    nodes = [
        _node("request", "inputNode"),
        _node("scoring", "decisionTableNode", scoring),
        _node("total", "expressionNode", total),
        _node("grading", "decisionTableNode", grading),
        _node("routing", "decisionTableNode", routing),
        _node("response", "outputNode"),
    ]
    chain = ["request", "scoring", "total", "grading", "routing", "response"]
    edges = [
        {"id": f"e{n}", "sourceId": a, "targetId": b, "type": "edge"}
        for n, (a, b) in enumerate(itertools.pairwise(chain))
    ]
    return {"nodes": nodes, "edges": edges}


_ZEN_FIELDS = ("source", "industry", "company_size", "title", "region", "downloaded_pricing",
               "page_visits")  # fmt: skip


def _zen_input(lead: dict[str, Any]) -> dict[str, Any]:
    """What zen-engine reads: JSON values only, so days_since is worked out by the caller."""
    data = {k: lead[k] for k in _ZEN_FIELDS}
    data["days_since"] = days_since(lead["created_at"])
    return data


def _zen_result(res: dict[str, Any]) -> Result:
    return (res["score"], res["grade"], res["rule"], res["target"])


def zen_runners() -> tuple[Runner, Runner]:
    """zen-engine with the graph loaded once (static loader, so the engine caches it; a
    ``create_decision`` handle was about ten times slower per call in a trial): per lead
    ``evaluate``, and ``evaluate_batch`` over the leads it is given."""
    engine = zen.ZenEngine({"loader": {"type": "static", "content": {"lead": zen_graph()}}})
    engine.evaluate("lead", {})  # load and compile outside the timing

    def one_by_one(leads: list[dict[str, Any]]) -> list[Result]:
        evaluate = engine.evaluate
        return [_zen_result(evaluate("lead", _zen_input(lead))["result"]) for lead in leads]

    def batch(leads: list[dict[str, Any]]) -> list[Result]:
        answers = engine.evaluate_batch(
            [{"key": "lead", "context": _zen_input(lead)} for lead in leads]
        )
        return [_zen_result(a["data"]["result"]) for a in answers]

    return one_by_one, batch


# -- timing ---------------------------------------------------------------------------


def tessera_parts(svc: RuleService) -> dict[str, Runner]:
    """The steps of :func:`tessera_batch` one by one, for ``--parts``: each rule set's
    ``evaluate_many`` and the bench's own assembly of the result tuples. Each part runs
    on the slice as the batch leaves it (score and grade written), so the parts sum to
    the batch's work; the values they return are not results and are not compared.
    Then the two steps of :func:`tessera_chain` (``ONE_PASS``): the one pass, and the
    assembly of the result tuples from its lists."""
    many = svc.evaluate_many
    values: dict[str, list[Any]] = {}

    def part(name: str, write: bool) -> Runner:
        def run(leads: list[dict[str, Any]]) -> list[Any]:
            values[name] = many(name, leads, write=write)
            return values[name]

        return run

    def assemble(leads: list[dict[str, Any]]) -> list[Any]:
        scores, grades, routes = (values[n] for n in ("lead_score", "lead_grade", "lead_routing"))
        return [(s, g, r["rule"], r["target"]) for s, g, r in zip(scores, grades, routes)]

    def one_pass(leads: list[dict[str, Any]]) -> list[Any]:
        values["chain"] = svc.evaluate_chain(("lead_score", "lead_grade", "lead_routing"), leads)
        return values["chain"]

    def chain_tuples(leads: list[dict[str, Any]]) -> list[Any]:
        return _result_tuples(*values["chain"])

    return {
        "scoring evaluate_many(write=True)": part("lead_score", True),
        "grading evaluate_many(write=True)": part("lead_grade", True),
        "routing evaluate_many()": part("lead_routing", False),
        "result tuples (the bench's own)": assemble,
        ONE_PASS[0]: one_pass,
        ONE_PASS[1]: chain_tuples,
    }


#: The parts of the one-pass row (evaluate_chain), summed apart from the batch row's.
ONE_PASS = ("one pass evaluate_chain()", "its result tuples (the bench's own)")


def time_parts(
    svc: RuleService, leads: list[dict[str, Any]], args: argparse.Namespace, clock: Any
) -> None:
    """``--parts``: where the batch row's time goes, each part against the hand-written
    code on the same slices (best of ``--runs`` per slice, summed, as the main table)."""
    copies = [dict(lead) for lead in leads]
    parts = tessera_parts(svc)
    starts = range(0, len(leads), args.slice)
    best = {name: 0.0 for name in ["hand-written Python (limit)", *parts]}
    for i in starts:
        pristine, mine = leads[i : i + args.slice], copies[i : i + args.slice]
        slice_best = dict.fromkeys(best, float("inf"))
        for _ in range(args.runs):
            start = clock()
            hand_written(pristine)
            slice_best["hand-written Python (limit)"] = min(
                slice_best["hand-written Python (limit)"], clock() - start
            )
            for name, run in parts.items():  # in order: each reads what the one before wrote
                start = clock()
                run(mine)
                slice_best[name] = min(slice_best[name], clock() - start)
        for name, t in slice_best.items():
            best[name] += t
    hand = best["hand-written Python (limit)"]
    print(f"parts of the batch row ({args.clock} clock):")
    for name, t in best.items():
        print(f"  {name:38} {t / len(leads) * 1e6:>6.2f} µs/lead {t / hand:>6.2f}x")
    for label, names in (
        ("sum of the batch row's parts", [n for n in parts if n not in ONE_PASS]),
        ("sum of the one-pass row's parts", list(ONE_PASS)),
    ):
        total = sum(best[n] for n in names)
        print(f"  {label:38} {total / len(leads) * 1e6:>6.2f} µs/lead {total / hand:>6.2f}x")


def _machine() -> str:
    """The CPU model and core count, for the figures' heading."""
    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{os.cpu_count()}-core {model}"


def _same(a: Result, b: Result) -> bool:
    score = a[0] == b[0] and type(a[0]) in (int, Decimal)
    return score and a[1:] == b[1:]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000, help="leads (default 100000)")
    parser.add_argument("--runs", type=int, default=3, help="best of this many runs")
    parser.add_argument("--slice", type=int, default=5000, help="leads per timed slice")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--only", default="", help="comma-separated names to run (debugging)")
    parser.add_argument(
        "--clock",
        choices=("wall", "cpu"),
        default="wall",
        help="time each slice by the wall clock (perf_counter, the default and what the "
        "figures before 2026-12-02 used) or by this process's CPU time (process_time, "
        "which other jobs on a shared machine do not inflate)",
    )
    parser.add_argument(
        "--parts",
        action="store_true",
        help="also time the batch row's parts (each rule set's evaluate_many, the result "
        "tuples) against the hand-written code, after the main table",
    )
    args = parser.parse_args(argv)

    leads = generate_scoring_leads(args.n, seed=args.seed)
    svc = tessera_service()
    zen_one, zen_batch = zen_runners()
    runners: dict[str, Runner] = {
        "hand-written Python (limit)": hand_written,
        "Tessera evaluate_chain() (one pass)": tessera_chain(svc),
        "Tessera evaluate_many() (batch)": tessera_batch(svc),
        "Tessera compiled run()": tessera_bare(svc),
        "Tessera evaluate() (public API)": tessera_api(svc),
        "rule-engine": rule_engine_runner(),
        "zen-engine evaluate": zen_one,
        "zen-engine evaluate_batch": zen_batch,
        "simpleeval": simpleeval_runner(),
    }
    if args.only:
        wanted = {w.strip() for w in args.only.split(",")}
        runners = {k: v for k, v in runners.items() if k in wanted or k.startswith("hand")}

    # Tessera's runners write score and grade into the records its later rule sets read:
    # they get their own copies, so the other implementations only ever see pristine leads.
    inputs = {name: [dict(lead) for lead in leads] for name in runners if "Tessera" in name}
    names = list(runners)
    # Timed slice by slice, every implementation on a slice before the next slice, the
    # order reversed each time: a burst of load from elsewhere on the machine then hits
    # all of them alike instead of whichever was running. Best of --runs per slice, summed.
    starts = range(0, len(leads), args.slice)
    slices = {name: [inputs.get(name, leads)[i : i + args.slice] for i in starts] for name in names}
    best_slice = {name: [float("inf")] * len(starts) for name in names}
    parts: dict[str, list[list[Result]]] = {name: [] for name in names}
    clock = time.process_time if args.clock == "cpu" else time.perf_counter
    for run in range(args.runs):
        for j in range(len(starts)):
            for name in names if (run + j) % 2 == 0 else names[::-1]:
                start = clock()
                result = runners[name](slices[name][j])
                elapsed = clock() - start
                best_slice[name][j] = min(best_slice[name][j], elapsed)
                if run == 0:
                    parts[name].append(result)
    best = {name: sum(times) for name, times in best_slice.items()}
    answers = {name: [r for part in parts[name] for r in part] for name in names}

    oracle = answers["hand-written Python (limit)"]
    disagree = {
        name: sum(not _same(a, b) for a, b in zip(got, oracle)) + abs(len(got) - len(oracle))
        for name, got in answers.items()
    }

    grades = Counter(r[1] for r in oracle)
    routes = Counter(r[2] for r in oracle)
    cpu = _machine()
    print(
        f"rules bench, {dt.date.today().isoformat()}, Python {sys.version.split()[0]}, {cpu}, "
        f"{args.n} leads, 12 scoring + 3 grading + 6 routing rules, best of {args.runs} "
        f"per slice of {args.slice} (interleaved), summed, {args.clock} clock"
    )
    print(
        "grades: "
        + ", ".join(f"{g} {grades[g] / len(oracle):.1%}" for g in ("hot", "warm", "cold"))
        + "; routes: "
        + ", ".join(f"{label} {n / len(oracle):.1%}" for label, n in routes.most_common())
    )
    hand = best["hand-written Python (limit)"]
    print(
        f"{'implementation':34} {'seconds':>8} {'leads/s':>10} {'µs/lead':>8} "
        f"{'vs hand-written':>16} {'disagree':>9}"
    )
    for name in names:
        s = best[name]
        print(
            f"{name:34} {s:>8.3f} {len(leads) / s:>10,.0f} {s / len(leads) * 1e6:>8.2f} "
            f"{s / hand:>15.2f}x {disagree[name]:>9}"
        )
    peers = [n for n in names if not n.startswith(("hand", "Tessera"))]
    tessera = [n for n in names if n.startswith("Tessera")]
    if tessera and peers:
        short = {"zen-engine evaluate": "zen evaluate", "zen-engine evaluate_batch": "zen batch"}
        print("Tessera speed-up over each peer (peer seconds / Tessera seconds):")
        print(f"{'':34} " + " ".join(f"{short.get(p, p):>13}" for p in peers))
        for t in tessera:
            print(f"{t:34} " + " ".join(f"{best[p] / best[t]:>12.1f}x" for p in peers))
    # the goals are judged on what a caller uses for many records and these three rule
    # sets: the one-pass batch API (until 2026-12-02 08:00 UTC: evaluate_many per set)
    bare = "Tessera evaluate_chain() (one pass)"
    zens = [v for k, v in best.items() if k.startswith("zen")]
    if bare in best and "rule-engine" in best and zens:
        goals = [
            ("compiled at most 1.5x hand-written", best[bare] / hand <= 1.5, best[bare] / hand),
            ("at least 10x faster than rule-engine", best["rule-engine"] / best[bare] >= 10,
             best["rule-engine"] / best[bare]),
            ("faster than zen-engine (its best mode)", best[bare] < min(zens),
             min(zens) / best[bare]),
        ]  # fmt: skip
        for goal, met, figure in goals:
            print(f"goal: {goal}: {figure:.2f}x - {'met' if met else 'NOT met'}")
    if args.parts:
        time_parts(svc, leads, args, clock)
    bad = {k: v for k, v in disagree.items() if v}
    print(
        "disagreements with hand-written: "
        + (", ".join(f"{k} {v}" for k, v in bad.items()) if bad else "none")
    )
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
