"""The condition builder's tree: rule text → tree → text is stable, and every tree the
builder can make is written as text that parses and type-checks."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.rules import condition_tree as ct
from engine.rules.catalog import Catalog
from engine.rules.parse import parse_expression
from tests.rules.fixtures import DEFINITIONS

CATALOG = Catalog(DEFINITIONS)
FIELDS = ct.fields(CATALOG, "lead")

# ---------------------------------------------------------------- strategies

texts = st.text(max_size=20)
numbers = st.one_of(
    st.integers(min_value=-(10**12), max_value=10**12),
    st.decimals(min_value=Decimal("-1e9"), max_value=Decimal("1e9"), places=2, allow_nan=False).map(
        lambda d: format(d, "f")
    ),
)
dates = st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2200, 1, 1)).map(
    lambda d: d.isoformat()
)
datetimes = st.datetimes(min_value=dt.datetime(1900, 1, 1), max_value=dt.datetime(2200, 1, 1)).map(
    lambda d: d.replace(microsecond=0).isoformat()
)


def _values(f: ct._Field) -> st.SearchStrategy:
    if f.kind == "enum" or (f.kind == "list" and f.options):
        return st.sampled_from(f.options)
    if f.kind == "number":
        return numbers
    if f.kind == "date":
        return dates
    if f.kind == "datetime":
        return datetimes
    if f.kind == "boolean":
        return st.booleans()
    return texts


@st.composite
def rows(draw):
    key = draw(st.sampled_from(sorted(FIELDS)))
    f = FIELDS[key]
    op = draw(st.sampled_from(ct.OPERATORS[f.kind]))
    values = _values(f)
    if op in ct.UNARY:
        value = None
    elif op in ct.RELATIVE:
        value = draw(st.integers(min_value=1, max_value=3650))
    elif op in ("in", "not in"):
        if f.kind in ("string", "user"):
            values = st.text(alphabet=st.characters(blacklist_characters=",\n"), max_size=20)
        value = draw(st.lists(values, min_size=1, max_size=4))
    elif op == "between":
        value = [draw(values), draw(values)]
    else:
        value = draw(values)
    return {"type": "row", "field": key, "op": op, "value": value}


def _group(children):
    return st.builds(
        lambda match, items: {"type": "group", "match": match, "items": items},
        st.sampled_from(["all", "any"]),
        st.lists(children, max_size=4),
    )


trees = _group(st.recursive(rows(), _group, max_leaves=10))


# ---------------------------------------------------------------- properties


@settings(max_examples=150)
@given(trees)
def test_a_tree_is_written_as_text_that_checks_and_reads_back_the_same(tree):
    text = ct.to_text(tree, "lead", CATALOG)
    assert ct.check(text, "lead", CATALOG) == []
    back, reason = ct.to_tree(text, "lead", CATALOG)
    assert reason is None, (text, reason)
    again = ct.to_text(back, "lead", CATALOG)
    assert again == text
    assert ct.to_tree(again, "lead", CATALOG) == (back, None)


@settings(max_examples=150)
@given(texts)
def test_strings_are_escaped_and_come_back_unchanged(value):
    tree = {
        "type": "group",
        "match": "all",
        "items": [{"type": "row", "field": "company", "op": "contains", "value": value}],
    }
    text = ct.to_text(tree, "lead", CATALOG)
    node = parse_expression(text)
    assert node.right.value == value
    assert ct.to_tree(text, "lead", CATALOG) == (tree, None)


@settings(max_examples=80)
@given(
    st.text(alphabet=st.sampled_from(['"', "'", "\\", "n", "\n", "中", "`", " ", "é"]), max_size=12)
)
def test_quotes_backslashes_and_unicode(value):
    text = ct.quote(value)
    assert parse_expression(f"company == {text}").right.value == value


# ---------------------------------------------------------------- examples


@pytest.mark.parametrize(
    "text",
    [
        'source in ["website", "expo"] and (budget > 100000 or region == "east")',
        "created_at between now() - 30d and now()",
        "close_date between today() - 7d and today()",
        "close_date between today() and today() + 14d",
        "close_date < today() - 90d",
        'tags contains "vip"',
        "company is not empty",
        "grade is null",
        "budget between 1.50 and -2",
        "escalated == false",
        'owner not in ["alice", "bob"]',
        '`company` starts with "上海"',
        '((company_size >= 500 or page_visits > 3) and status != "closed")',
    ],
)
def test_examples_read_and_write_the_same_tree(text):
    tree, reason = ct.to_tree(text, "lead", CATALOG)
    assert reason is None
    canonical = ct.to_text(tree, "lead", CATALOG)
    assert ct.check(canonical, "lead", CATALOG) == []
    assert ct.to_tree(canonical, "lead", CATALOG) == (tree, None)


def test_nested_groups():
    tree, _ = ct.to_tree('source == "expo" and (budget > 1 or region == "east")', "lead", CATALOG)
    assert tree == {
        "type": "group",
        "match": "all",
        "items": [
            {"type": "row", "field": "source", "op": "==", "value": "expo"},
            {
                "type": "group",
                "match": "any",
                "items": [
                    {"type": "row", "field": "budget", "op": ">", "value": 1},
                    {"type": "row", "field": "region", "op": "==", "value": "east"},
                ],
            },
        ],
    }


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("budget * 2 > 100", "arithmetic"),
        ("days_since(created_at) > 3", "days_since"),
        ("company_size > page_visits", "needs the text editor"),
        ('not (region == "east")', "'not'"),
        ('account.industry == "retail"', "path"),
        ('company matches "^a"', "matches"),
        ('company in ["a, b", "c"]', "comma"),
        ("created_at > @2025-03-01T09:30+08:00", "offset"),
        ("budget >", "ends too early"),
        ("nonsense == 1", "no field called 'nonsense'"),
    ],
)
def test_what_the_builder_cannot_show_says_why(text, words):
    tree, reason = ct.to_tree(text, "lead", CATALOG)
    assert tree is None and words in reason


def test_empty_text_is_an_empty_group():
    assert ct.to_tree("  ", "lead", CATALOG) == (ct.empty(), None)
    assert ct.to_text(ct.empty(), "lead", CATALOG) == ""


@pytest.mark.parametrize(
    "row",
    [
        {"field": "nonsense", "op": "==", "value": "x"},
        {"field": "budget", "op": "contains", "value": "x"},
        {"field": "budget", "op": ">", "value": "ten"},
        {"field": "source", "op": "==", "value": "webiste"},
        {"field": "close_date", "op": "==", "value": "2025-02-30"},
        {"field": "close_date", "op": "in last days", "value": 0},
        {"field": "escalated", "op": "==", "value": "yes"},
        {"field": "created_at", "op": ">", "value": "2025-03-01T09:30+08:00"},
        {"field": "company", "op": "==", "value": None},
        {"field": "source", "op": "in", "value": []},
    ],
)
def test_a_tree_that_does_not_fit_is_refused(row):
    tree = {"type": "group", "match": "all", "items": [{"type": "row", **row}]}
    with pytest.raises(ct.ConditionError):
        ct.to_text(tree, "lead", CATALOG)


def test_a_hidden_field_is_neither_offered_nor_read_nor_written():
    hidden = {"budget"}
    assert "budget" not in ct.operators(CATALOG, "lead", hidden)
    assert ct.to_tree("budget > 1", "lead", CATALOG, hidden)[0] is None
    row = {"type": "row", "field": "budget", "op": ">", "value": 1}
    with pytest.raises(ct.ConditionError):
        ct.to_text({"type": "group", "match": "all", "items": [row]}, "lead", CATALOG, hidden)


def test_names_that_are_not_plain_words_go_in_backticks():
    assert ct.name("amount") == "amount"
    assert ct.name("客户来源") == "客户来源"
    assert ct.name("not") == "`not`"
    assert ct.name("2nd") == "`2nd`"


@settings(max_examples=60)
@given(trees, st.sampled_from(["({})", " {} ", "\n{}\n", "(({}))"]))
def test_text_written_another_way_reads_into_the_same_tree(tree, wrap):
    text = ct.to_text(tree, "lead", CATALOG)
    if not text:
        return
    canonical = ct.to_tree(text, "lead", CATALOG)
    variant = wrap.format(text)
    assert ct.to_tree(variant, "lead", CATALOG) == canonical
    single = {
        "type": "group",
        "match": "all",
        "items": [{"type": "row", "field": "company", "op": "==", "value": 'it\'s "x"'}],
    }
    assert ct.to_tree("company == 'it\\'s \"x\"'", "lead", CATALOG) == (single, None)
    assert ct.to_tree('`Company` == "it\'s \\"x\\""', "lead", CATALOG) == (single, None)
