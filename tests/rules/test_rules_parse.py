"""Parser: the grammar's shapes, positions, and syntax errors in plain words."""

from __future__ import annotations

import contextlib
import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.errors import RuleSyntaxError
from engine.rules import ast
from engine.rules.parse import MAX_DEPTH, parse_expression, parse_file, suggest

DSL_EXAMPLE = """\
# lead_scoring.rules
scoring lead_score on lead into score:
    +20 "Came from the website"     when source == "website"
    +10 "Met at an expo"            when source == "expo"
    +15 "Manufacturing"             when industry == "manufacturing"
    +10 "Large company"             when company_size >= 500
    +5  "Mid-size company"          when company_size between 100 and 499
    +15 "Decision maker"            when title contains "director" or title contains "vp"
    +20 "Downloaded the price list" when downloaded_pricing
    +min(page_visits * 2, 20) "Engaged visitor"
    -10 "Gone stale"                when days_since(created_at) > 90

grading lead_grade on lead from score into grade:
    "hot"  when score > 80
    "warm" when score >= 50
    "cold" otherwise

routing lead_routing on lead:
    "East China goes to Shanghai" when region == "east"            assign team "shanghai" round robin
    "Manufacturing specialist"    when industry == "manufacturing" assign user "specialist_a"
    "Hot leads to key accounts"   when grade == "hot"              assign team "key_accounts" least loaded
    otherwise                                                      assign queue "pool"

trigger hot_lead_follow_up on lead when created and grade == "hot":
    create task "First contact with {company}" for owner due in 24h
    notify owner "New hot lead: {company}"

schedule lead_sla on lead every 1h where status == "new" and hours_since(created_at) > 24:
    notify owner "Lead {company} has waited more than 24 hours"
    set escalated = true

validation opportunity_checks on opportunity:
    error "Close date cannot be in the past" when close_date < today() and stage not in ["won", "lost"]
    warning "Large discount"                 when discount > 0.2

table discount_approver on opportunity (first) into approver:
    | amount      | discount | => approver        |
    | >= 500000   | -        | "sales_director"   |
    | >= 100000   | > 0.1    | "sales_manager"    |
    | -           | -        | null               |

test "website manufacturing lead is hot and goes to the specialist":
    given lead {source: "website", industry: "manufacturing", company_size: 800, downloaded_pricing: true, page_visits: 10}
    expect score == 85 and grade == "hot" and owner == "specialist_a"
"""


def test_literals() -> None:
    assert parse_expression("1_000_000") == ast.Literal(1000000, "number")
    assert parse_expression("3.5") == ast.Literal(Decimal("3.5"), "number")
    assert parse_expression("'a\\'b\\n'") == ast.Literal("a'b\n", "string")
    assert parse_expression("@2025-03-01") == ast.Literal(dt.date(2025, 3, 1), "date")
    assert parse_expression("@2025-03-01T09:30").value == dt.datetime(2025, 3, 1, 9, 30)
    assert parse_expression("@2025-03-01T09:30:00+08:00").value.utcoffset() == dt.timedelta(hours=8)
    assert parse_expression("30m").value == dt.timedelta(minutes=30)
    assert parse_expression("2w").value == dt.timedelta(weeks=2)
    assert parse_expression("null") == ast.Literal(None, "null")
    assert parse_expression('["a", "b"]') == ast.ListLiteral(
        (ast.Literal("a", "string"), ast.Literal("b", "string"))
    )


def test_precedence_and_positions() -> None:
    node = parse_expression("a or b and not c == 1 + 2 * 3")
    assert isinstance(node, ast.BoolOp) and node.op == "or"
    right = node.operands[1]
    assert isinstance(right, ast.BoolOp) and right.op == "and"
    neg = right.operands[1]
    assert isinstance(neg, ast.Unary) and neg.op == "not"
    cmp = neg.operand
    assert isinstance(cmp, ast.Binary) and cmp.op == "=="
    assert cmp.right == ast.Binary(
        "+",
        ast.Literal(1, "number"),
        ast.Binary("*", ast.Literal(2, "number"), ast.Literal(3, "number")),
    )
    assert (node.line, node.column, node.end_column) == (1, 1, 30)
    assert (cmp.column, cmp.end_column) == (16, 30)


def test_operators_of_level_five() -> None:
    assert parse_expression("x between 1 and 2 and y") == ast.BoolOp(
        "and",
        (
            ast.Between(ast.Name("x"), ast.Literal(1, "number"), ast.Literal(2, "number")),
            ast.Name("y"),
        ),
    )
    assert parse_expression("t starts with 'a'").op == "starts with"
    assert parse_expression("s not in ['a']").op == "not in"
    assert parse_expression("x is not empty") == ast.IsTest(ast.Name("x"), "empty", True)
    assert parse_expression('stage changed from "a" to "b"') == ast.Changed(
        ast.Name("stage"), to=ast.Literal("b", "string"), from_=ast.Literal("a", "string")
    )
    assert parse_expression("if a then 1 else 2") == ast.If(
        ast.Name("a"), ast.Literal(1, "number"), ast.Literal(2, "number")
    )
    assert parse_expression("account.`行业`") == ast.Attr(ast.Name("account"), "行业", True)
    assert parse_expression("`客户来源` == 'x'").left == ast.Name("客户来源", quoted=True)
    assert parse_expression("客户 == 1").left == ast.Name("客户")
    assert parse_expression("a # a comment\n  and b") == ast.BoolOp(
        "and", (ast.Name("a"), ast.Name("b"))
    )


def test_dsl_example_file() -> None:
    tree = parse_file(DSL_EXAMPLE)
    kinds = [type(r).__name__ for r in tree.rulesets]
    assert kinds == [
        "Scoring", "Grading", "Routing", "Trigger", "Schedule", "Validation", "DecisionTable",
    ]  # fmt: skip
    scoring = tree.rulesets[0]
    assert isinstance(scoring, ast.Scoring)
    assert [r.label for r in scoring.items][:2] == ["Came from the website", "Met at an expo"]
    assert scoring.items[-1].sign == -1
    assert scoring.items[7].when is None
    routing = tree.rulesets[2]
    assert routing.rules[0].action == ast.AssignAction(
        "team", ast.Literal("shanghai", "string"), "round_robin"
    )
    assert routing.rules[-1].when is None
    table = tree.rulesets[-1]
    assert isinstance(table, ast.DecisionTable)
    assert table.policy == "first" and table.output_columns == ("approver",)
    assert table.rows[0].inputs[1].any
    assert table.rows[1].inputs[1].tests[0].op == ">"
    assert tree.examples[0].given[0].entity == "lead"
    assert scoring.line == 2 and table.line == 36


def test_groups_caps_and_cells() -> None:
    tree = parse_file(
        "scoring s on lead into score cap 100:\n"
        "    group fit cap 60:\n"
        '        +40 "a" when x\n'
        '    +5 "b"\n'
        "table t on lead (unique) into grade:\n"
        "    | size | region | => grade |\n"
        '    | [100..500] | "east", "north" | "hot" |\n'
        '    | < 100 | not("west") | "cold" |\n'
    )
    scoring, table = tree.rulesets
    assert scoring.cap == 100 and scoring.items[0].cap == 60
    cell = table.rows[0].inputs[0]
    assert cell.tests[0].op == "range" and cell.tests[0].high == ast.Literal(500, "number")
    assert len(table.rows[0].inputs[1].tests) == 2
    assert table.rows[1].inputs[1].negated


@pytest.mark.parametrize(
    ("text", "line", "column", "message"),
    [
        ('source = "x"', 1, 8, "A single '=' does not compare; write '=='"),
        ("a ==", 1, 5, "The text ends too early; expected a field name or a value."),
        ("(a", 1, 3, "The text ends too early; expected ')'."),
        ('x == "abc', 1, 6, "This text has no closing quote"),
        ("a == 1 == 2", 1, 8, "Comparisons cannot be chained"),
        ("a b", 1, 3, "Unexpected name 'b'; expected an operator"),
        ("@2025-13-01", 1, 1, "@2025-13-01 is not a real date"),
        ("f(x)(y)", 1, 1, "Only a function name can be followed by '('"),
        ("a and\n  b ==", 2, 7, "The text ends too early"),
        ("x $ 1", 1, 3, "The character '$' is not part of the rule language here."),
    ],
)
def test_syntax_errors(text: str, line: int, column: int, message: str) -> None:
    with pytest.raises(RuleSyntaxError) as info:
        parse_expression(text)
    entry = info.value.errors[0]
    assert (entry["line"], entry["column"]) == (line, column)
    assert message in entry["message"]
    assert entry["severity"] == "error" and entry["end"]["line"] == line
    assert "^" in str(info.value)


def test_file_errors() -> None:
    with pytest.raises(RuleSyntaxError) as info:
        parse_file('scoring a on lead into score:\n    +1 "x" when a\n   +2 "y"\n', file="a.rules")
    entry = info.value.errors[0]
    assert (entry["file"], entry["line"]) == ("a.rules", 3)
    assert "not lined up" in entry["message"]
    with pytest.raises(RuleSyntaxError, match="did you mean 'first'"):
        parse_file("table t on x (frist) into y:\n  | a | => y |\n  | 1 | 2 |\n")
    with pytest.raises(RuleSyntaxError, match="has 1 cells but the table has 2 columns"):
        parse_file("table t on x (first) into y:\n  | a | => y |\n  | 1 |\n")
    with pytest.raises(RuleSyntaxError, match="Unexpected 'if'"):
        parse_file('grading g on lead into grade:\n    "hot" if score > 1\n')


def test_limits() -> None:
    with pytest.raises(RuleSyntaxError, match="limit is 10,000"):
        parse_expression("a" * 10_001)
    deep = "(" * (MAX_DEPTH + 5) + "f(1)" + ")" * (MAX_DEPTH + 5)
    parse_expression(deep)  # parentheses alone do not nest the tree
    with pytest.raises(RuleSyntaxError, match="nested"):
        parse_expression("f(" * 70 + "1" + ")" * 70)
    with pytest.raises(RuleSyntaxError, match="nested"):
        parse_expression("not " * 2000 + "x")
    long_or = " or ".join(f"x == {i}" for i in range(300))
    assert len(parse_expression(long_or).operands) == 300


def test_suggest() -> None:
    assert "and" in suggest("source == 1 ")
    assert "==" in suggest("source ")
    assert "<name>" in suggest("source == 1 and sou")
    assert suggest("source == == ") == []


@given(st.text(max_size=80))
def test_random_text_only_raises_syntax_errors(text: str) -> None:
    for parse in (parse_expression, parse_file):
        with contextlib.suppress(RuleSyntaxError):
            parse(text)


TOKENS = st.sampled_from(
    [
        "a",
        "b.c",
        "1",
        "2.5",
        '"x"',
        "(",
        ")",
        "[",
        "]",
        ",",
        "and",
        "or",
        "not",
        "==",
        "<",
        "+",
        "-",
        "*",
        "/",
        "in",
        "between",
        "is",
        "null",
        "empty",
        "changed",
        "to",
        "from",
        "if",
        "then",
        "else",
        "f(",
        "@2025-01-01",
        "3d",
        ":",
        "\n",
        "    ",
        "|",
        "=>",
        "when",
        "scoring",
        "on",
        "into",
        "otherwise",
        "#c\n",
    ]
)


@given(st.lists(TOKENS, max_size=30))
def test_token_soup_only_raises_syntax_errors(tokens: list[str]) -> None:
    text = " ".join(tokens)
    for parse in (parse_expression, parse_file):
        with contextlib.suppress(RuleSyntaxError):
            parse(text)
