"""The grid editors' model of a rules file round-trips to text with the same meaning."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.rules.parse import parse_expression, parse_file
from engine.rules.structured import row_condition, to_model, to_text

ROOT = Path(__file__).resolve().parents[2]
FILES = sorted((ROOT / "apps").glob("*/rules/*.rules"))


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_app_rule_files_round_trip(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert to_text(to_model(text)) == text
    _assert_canonical_round_trip(text)


def _assert_canonical_round_trip(text: str) -> None:
    """Printed from the grids alone (no source kept), the text means the same and is stable."""
    model = to_model(text)
    for block in model["blocks"]:
        block.pop("original", None)
    printed = to_text(model)
    assert parse_file(printed) == parse_file(text)
    again = to_model(printed)
    for block in again["blocks"]:
        block.pop("original", None)
    assert to_text(again) == printed


def test_lead_model_has_the_grids() -> None:
    model = to_model((ROOT / "apps/crm/rules/lead.rules").read_text(encoding="utf-8"))
    kinds = {b["name"]: b for b in model["blocks"] if b["kind"] != "text"}
    score = kinds["lead_score"]
    assert score["cap"] == "100" and score["groups"] == [{"name": "fit", "cap": "30"}]
    assert score["original"].startswith("scoring lead_score on lead into score cap 100:")
    assert score["rows"][0] == {
        "points": "+30",
        "label": "Referral",
        "when": 'source == "referral"',
        "group": "",
        "comments": ["Source channel weights (来源渠道)"],
    }
    assert [r["group"] for r in score["rows"]].count("fit") == 5
    assert kinds["lead_grade"]["rows"][-1] == {"value": '"cold"', "when": "", "comments": []}
    route = kinds["lead_routing"]["rows"]
    assert route[1]["to"] == "team" and route[1]["strategy"] == "round_robin"
    assert route[1]["target"] == '"shanghai"'
    assert route[-1]["when"] == "" and route[-1]["target"] == '"pool"'


def test_editing_a_row_changes_only_that_rule() -> None:
    text = (ROOT / "apps/crm/rules/lead.rules").read_text(encoding="utf-8")
    model = to_model(text)
    score = next(b for b in model["blocks"] if b.get("name") == "lead_score")
    score["rows"][0]["points"] = "+35"
    tree = parse_file(to_text(model))
    before = parse_file(text)
    assert tree.rulesets[1:] == before.rulesets[1:]
    assert tree.rulesets[0] != before.rulesets[0]
    # the blocks the edit did not touch keep their text exactly
    printed = to_text(model)
    routing = next(b for b in model["blocks"] if b.get("name") == "lead_routing")
    assert routing["original"] in printed and routing["original"] in text


def test_a_block_without_source_prints_canonically() -> None:
    model = to_model('grading g on lead into grade:\n  "a"   when score > 1\n  "b" otherwise\n')
    del model["blocks"][0]["original"]
    assert (
        to_text(model)
        == 'grading g on lead into grade:\n    "a" when score > 1\n    "b" otherwise\n'
    )


# ---------------------------------------------------------------- generated files

labels = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=12
)
fields = st.sampled_from(["amount", "score", "region", "size", "名称"])
ops = st.sampled_from(["==", "!=", ">", ">=", "<", "<="])
values = st.one_of(
    st.integers(-1000, 1000).map(str),
    labels.map(lambda s: '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'),
)
conditions = st.builds(lambda f, o, v: f"{f} {o} {v}", fields, ops, values) | st.builds(
    lambda f, a, b: f"{f} between {a} and {b}", fields, st.integers(0, 9), st.integers(10, 99)
)


def _label(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


@st.composite
def rule_files(draw: st.DrawFn) -> str:
    out = ["# generated"]
    rows = draw(
        st.lists(st.tuples(st.integers(-50, 50), labels, conditions), min_size=1, max_size=5)
    )
    out.append("scoring s on lead into score" + draw(st.sampled_from(["", " cap 80"])) + ":")
    for points, label, cond in rows:
        sign = "+" if points >= 0 else "-"
        out.append(f"  {sign}{abs(points)}   {_label(label)} when {cond}  # note")
    out.append("")
    grades = draw(st.lists(st.tuples(labels, conditions), min_size=0, max_size=3))
    out.append("grading g on lead from score into grade:")
    for label, cond in grades:
        out.append(f"\t{_label(label)} when {cond}")
    out.append('\t"x" otherwise')
    out.append("routing r on lead:")
    for label, cond in draw(st.lists(st.tuples(labels, conditions), min_size=1, max_size=3)):
        how = draw(st.sampled_from(['user "a"', 'team "t" round robin', 'queue "q"']))
        out.append(f"    {_label(label)} when ({cond}) assign {how}")
    out.append('    otherwise assign team "t" least loaded')
    out.append("table t on lead (first) into a, b:")
    out.append("    | amount | region | => a | => b |")
    for cells in draw(
        st.lists(
            st.tuples(st.sampled_from(["-", ">= 5", "[1..9]", '"e", "n"', 'not("x")']), values),
            min_size=1,
            max_size=4,
        )
    ):
        out.append(f"    | {cells[0]} | - | {cells[1]} | amount * 2 |")
    out.append('test "t":')
    out.append("    given lead {amount: 1}")
    out.append("    expect score >= 0")
    return "\n".join(out) + "\n"


@settings(max_examples=60, deadline=None)
@given(rule_files())
def test_generated_files_round_trip(text: str) -> None:
    assert to_text(to_model(text)) == text
    _assert_canonical_round_trip(text)


def test_a_table_row_as_a_condition() -> None:
    assert row_condition(["amount", "discount"], [">= 500000", "-"]) == "amount >= 500000"
    assert row_condition(["region", "amount * 2"], ['"east", "north"', "[1..9]"]) == (
        '(region == "east" or region == "north") and (amount * 2) between 1 and 9'
    )
    assert row_condition(["stage"], ['not("won", "lost")']) == (
        'not ((stage == "won" or stage == "lost"))'
    )
    assert row_condition(["a"], ["-"]) == "true"
    for condition in (
        row_condition(["amount", "discount"], [">= 100000", "> 0.1"]),
        row_condition(["stage"], ['not("won")']),
    ):
        parse_expression(condition)
