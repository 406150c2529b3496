"""Checker: every refusal RULES_DSL.md section 3 lists, in words an admin reads."""

from __future__ import annotations

import pytest
from fixtures import DEFINITIONS, definitions

from engine.rules.service import RuleService


@pytest.fixture
def rules() -> RuleService:
    return RuleService(definitions, entities=DEFINITIONS)


def messages(rules: RuleService, text: str, entity: str = "lead") -> list[str]:
    return [d["message"] for d in rules.check(text, entity=entity)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("sorce == 1", "'sorce' is not a field of lead; did you mean 'source'?"),
        ("lenght(company) > 1", "There is no function called 'lenght'; did you mean 'len'?"),
        ('source == "webiste"', '"webiste" is not one of the options; did you mean "website"?'),
        ('source in ["website", "fair"]', '"fair" is not one of the options.'),
        ("company == null", "Nothing is ever equal to null; write 'company is null'"),
        ("company != null", "write 'company is not null'"),
        ('company_size + "a" > 1', "'+' cannot combine a number with a text."),
        ("close_date < now()", "Cannot compare a date with a date and time."),
        ("account.industri == 1", "'industri' is not a field of account; did you mean 'industry'?"),
        ("company.x == 1", "'x' cannot be read from a text"),
        ("round(1, 2, 3) > 1", "round(...) takes 1 to 2 value(s), but 3 were given."),
        ("lower(company_size) == 'a'", "lower(...) expects a text here, but this is a number."),
        ("company matches '('", "This pattern is not a valid regular expression"),
        ("any(company, 1) ", "any(...) works over a child table"),
        ("sum(items, it.product) > 1", "sum(...) adds numbers, but this is a text."),
        ("company_size in 5", "'in' needs a list on its right"),
        ('tags contains "gold"', '"gold" is not one of the options'),
        ("if downloaded_pricing then 1 else 'a'", "Both branches must give the same kind"),
        ("start_of(close_date, 'decade') == close_date", "The period must be one of"),
        ("(company_size + 1) changed", "'changed' applies to a field of the record"),
    ],
)
def test_refusals(rules: RuleService, text: str, expected: str) -> None:
    found = messages(rules, text)
    assert any(expected in m for m in found), found


def test_accepted_expressions(rules: RuleService) -> None:
    for text in [
        'source == "website" and company_size >= 500',
        'account.industry == "retail"',
        "sum(items, it.amount) > 10 and count(items) >= 1",
        'owner.team == "east" or user.role == "admin"',
        '`Company` starts with "ac" and `公司` ends with "me"',
        'stage changed to "won"',
        "created_at + 3d < now() and now() - created_at > 24h",
        "days_since(created_at) > 90",
        "company is empty or budget is null",
    ]:
        entity = "opportunity" if "stage" in text else "lead"
        assert rules.check(text, entity=entity) == [], text


def test_diagnostic_shape(rules: RuleService) -> None:
    [d] = rules.check('source == "webiste"', path="x", entity="lead")
    assert d == {
        "file": "x",
        "line": 1,
        "column": 11,
        "end": {"line": 1, "column": 20},
        "message": d["message"],
        "severity": "error",
    }
    assert '"website", "expo", "referral", "ads", "social"' in d["message"]


def test_unknown_entity(rules: RuleService) -> None:
    assert "did you mean 'lead'" in messages(rules, "a == 1", entity="leed")[0]


def file_messages(rules: RuleService, text: str) -> list[tuple[int, str]]:
    return [(d["line"], d["message"]) for d in rules.check(text, path="t.rules")]


def test_unreachable_after_otherwise(rules: RuleService) -> None:
    found = file_messages(
        rules,
        'grading g on lead into grade:\n    "cold" otherwise\n    "hot" when score > 80\n',
    )
    assert found[0][0] == 3 and "can never apply" in found[0][1]


def test_grade_output_must_be_an_option(rules: RuleService) -> None:
    found = file_messages(rules, 'grading g on lead into grade:\n    "hott" when score > 80\n')
    assert '"hott" is not one of the options; did you mean "hot"?' in found[0][1]


def test_unique_table_overlap(rules: RuleService) -> None:
    text = (
        "table t on opportunity (unique) into approver:\n"
        "    | amount | => approver |\n"
        '    | >= 100 | "a" |\n'
        '    | [50..150] | "b" |\n'
        '    | < 50 | "c" |\n'
    )
    found = file_messages(rules, text)
    assert found == [
        (
            4,
            "Under 'unique' only one row may match, but a record can match both row 1 and "
            "row 2. Narrow one of them or use 'first'.",
        )
    ]
    assert file_messages(rules, text.replace("[50..150]", "[50..99]")) == []


def test_cycles(rules: RuleService) -> None:
    text = (
        'scoring s on lead into score:\n    +1 "a" when grade == "hot"\n'
        'grading g on lead from score into grade:\n    "hot" when score > 1\n'
    )
    found = file_messages(rules, text)
    assert any("go round in a circle" in m for _, m in found), found


def test_targets_and_duplicates(rules: RuleService) -> None:
    found = file_messages(
        rules,
        'scoring s on lead into scor:\n    +1 "a"\nscoring s on lead into company:\n    +1 "a"\n',
    )
    text = " | ".join(m for _, m in found)
    assert "did you mean 'score'" in text
    assert "already called 's'" in text
    assert "A score goes into a number field" in text


def test_failing_example_is_reported(rules: RuleService) -> None:
    text = (
        'scoring s on lead into score:\n    +10 "web" when source == "website"\n'
        'test "web is worth 20":\n    given lead {source: "website"}\n    expect score == 20\n'
    )
    [(line, message)] = file_messages(rules, text)
    assert line == 5
    assert message == 'The example "web is worth 20" fails: after the rules ran, score is 10'


def test_conditions_must_be_yes_or_no(rules: RuleService) -> None:
    found = file_messages(rules, 'validation v on lead:\n    error "x" when company_size\n')
    assert found[0][1].startswith("A condition must be true or false, but this gives a number.")
