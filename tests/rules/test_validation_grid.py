"""Validation rule sets as a grid: severity, message in English and Chinese, the field the
message is shown on (``on FIELD``) and the condition, printed back to the same meaning."""

from __future__ import annotations

import pytest
from fixtures import DEFINITIONS, definitions

from engine.rules.parse import parse_file
from engine.rules.service import RuleService
from engine.rules.structured import split_message, to_model, to_text

TEXT = (
    "validation lead_checks on lead:\n"
    "    # asked by sales ops\n"
    '    error "A company is needed / 需要公司" on company when company is null\n'
    '    warning "Big budget" when budget > 1000\n'
)


@pytest.fixture
def rules() -> RuleService:
    return RuleService(definitions, entities=DEFINITIONS)


def test_validation_rows() -> None:
    block = next(b for b in to_model(TEXT)["blocks"] if b["kind"] == "validation")
    assert block["name"] == "lead_checks" and block["entity"] == "lead"
    assert block["rows"] == [
        {
            "severity": "error",
            "message": "A company is needed",
            "message_zh": "需要公司",
            "field": "company",
            "when": "company is null",
            "comments": ["asked by sales ops"],
        },
        {
            "severity": "warning",
            "message": "Big budget",
            "message_zh": "",
            "field": "",
            "when": "budget > 1000",
            "comments": [],
        },
    ]


def test_a_row_added_in_the_grid_prints_into_the_text() -> None:
    model = to_model(TEXT)
    block = next(b for b in model["blocks"] if b["kind"] == "validation")
    block["rows"].append(
        {
            "severity": "error",
            "message": 'Say "why"',
            "message_zh": "说明原因",
            "field": "source",
            "when": 'source == "other"',
            "comments": [],
        }
    )
    printed = to_text(model)
    last = " ".join(printed.rstrip().split("\n")[-1].split())
    assert last == 'error "Say \\"why\\" / 说明原因" on source when source == "other"'
    rule = parse_file(printed).rulesets[0].rules[-1]
    assert (rule.message, rule.field) == ('Say "why" / 说明原因', "source")
    # printed from the grid alone, the rest keeps its meaning and the layout is stable
    block.pop("original")
    again = to_model(to_text(model))
    assert parse_file(to_text(again)) == parse_file(printed)
    for b in again["blocks"]:
        b.pop("original", None)
    assert to_text(again) == to_text(model)


def test_message_halves() -> None:
    assert split_message("a / b / 中") == ("a / b", "中")
    assert split_message("no split/here") == ("no split/here", "")


def test_the_message_shows_on_its_field(rules: RuleService) -> None:
    rules.load_ruleset(TEXT, "lead_checks.rules")
    run = rules.rulesets()["lead_checks"].compiled.run
    record = {"company": None, "budget": 5000}
    found = run(record, None, None, None, None)
    assert [(m["severity"], m["fields"]) for m in found] == [
        ("error", ["company"]),
        ("warning", ["budget"]),
    ]


def test_an_unknown_field_is_refused_at_its_line(rules: RuleService) -> None:
    text = 'validation v on lead:\n    error "x" on compnay when company is null\n'
    found = [(d["line"], d["message"]) for d in rules.check(text, path="t.rules")]
    assert found and found[0][0] == 2
    assert "'compnay'" in found[0][1] and "did you mean 'company'" in found[0][1]
