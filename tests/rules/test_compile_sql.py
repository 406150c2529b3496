"""Python and SQL agree: every expression gives the same value in both, on both databases.

Records go through the real record service into real tables; the SQL side
runs the compiled clause in the database, the Python side runs the compiled
function over the same records read back. The platform's zone has a DST
change (Europe/Berlin) and the clock is frozen, so "today" is the same for
both sides.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from engine import Platform
from engine.rules.compile_sql import SqlNotSupported
from tests.floor_defs import save
from tests.rules.sql_defs import ACCOUNT, DEAL

NOW = "2025-03-30T12:00:00+02:00"


def make_platform(url: str) -> Platform:
    from engine.clock import Clock

    clock = Clock("Europe/Berlin")
    clock.set(NOW)
    p = Platform(url, clock=clock)
    save(p, ACCOUNT, DEAL)
    return p


@pytest.fixture
def p(db_url):
    platform = make_platform(db_url)
    yield platform
    platform.close()


RECORDS: list[dict[str, Any]] = [
    {
        "title": "Big DIRECTOR deal 大客户",
        "region": "east",
        "amount": "1200.50",
        "qty": 3,
        "closes_on": "2025-01-31",
        "seen_at": "2025-03-30T00:59:59Z",
        "vip": True,
        "tags": ["a", "重要"],
        "items": [{"sku": "x", "price": 1.5, "n": 2}, {"sku": "y", "price": None, "n": 1}],
    },
    {},
    {
        "title": "ΣΑΣ İstanbul \u212a",
        "region": "北方",
        "amount": "0.1",
        "qty": -7,
        "closes_on": "2024-02-29",
        "seen_at": "2025-03-30T01:00:00Z",
        "vip": False,
        "tags": [],
        "items": [],
    },
    {
        "title": "\u3000",
        "region": "west",
        "amount": "-3.75",
        "qty": 0,
        "closes_on": "2025-12-31",
        "seen_at": "2025-03-29T23:30:00Z",
        "items": [{"sku": "z", "price": 0.2, "n": 5}],
    },
    {
        "title": "straße vp",
        "amount": "0.2",
        "qty": 10,
        "closes_on": "2025-03-30",
        "seen_at": "2025-10-26T00:30:00Z",
        "tags": ["b"],
    },
]

EXPRESSIONS = [
    # text: == is case-sensitive, contains/starts/ends ignore case (Unicode lower case)
    'title == "straße vp"',
    'title contains "director"',
    'title contains "大客户"',
    'title contains "σας"',
    'title contains "i"',
    'title contains "k"',
    'title starts with "BIG"',
    'title ends with "VP"',
    'title < "b"',
    'title between "A" and "Z"',
    'title + "!"',
    "title is empty",
    "title is not empty",
    'title matches "^[a-z]+"',
    'title matches "(?i)DEAL"',
    "lower(title)",
    "upper(title)",
    "trim(title)",
    "len(title)",
    "left(title, 3)",
    "right(title, 2)",
    "substr(title, 2, 3)",
    'replace(title, "a", "o")',
    'concat(title, "-", region)',
    # numbers, decimals, division by zero, remainders
    "amount > 1000",
    "amount + 0.1 == 0.2",
    "amount * 2",
    "amount / 4",
    "qty / 0",
    "qty % 3",
    "-qty",
    "abs(qty)",
    "round(amount, 1)",
    "floor(amount)",
    "ceil(amount)",
    "min(qty, 5)",
    "max(qty, amount)",
    "clamp(qty, 0, 5)",
    "coalesce(qty, 42)",
    "amount between 0.1 and 0.2",
    "qty in [3, 10]",
    "qty not in [3, null]",
    "qty in []",
    # booleans and three-valued logic
    "vip",
    "not vip",
    "vip and amount > 0",
    "vip or amount > 0",
    "not (vip or qty > 100)",
    "if vip then amount else qty",
    # enums, lists
    'region == "北方"',
    'region in ["east", "west"]',
    'tags contains "重要"',
    '"b" in tags',
    "tags is empty",
    "len(tags)",
    # dates and datetimes (Europe/Berlin, DST change on 2025-03-30)
    "closes_on + 1d",
    "closes_on - 2w",
    "closes_on + 36h",
    "closes_on > @2025-01-31",
    "closes_on - @2025-01-01",
    "days_since(closes_on)",
    "days_between(closes_on, today())",
    "year(closes_on) == 2024",
    "month(seen_at)",
    "quarter(closes_on)",
    "week(closes_on)",
    "weekday(seen_at)",
    "date(seen_at)",
    "seen_at + 24h",
    "seen_at - 90m",
    "date(seen_at) > @2025-03-29",
    "seen_at < @2025-03-30T03:00",
    "now() - seen_at > 24h",
    "hours_since(seen_at) > 10",
    "days_since(seen_at) >= 1",
    "days_since(seen_at) == 0",
    "days_since(seen_at) != 0",
    "days_since(closes_on) == 59",
    "30 < days_since(closes_on)",
    "days_since(closes_on) <= 0",
    "hours_since(seen_at) <= 36",
    "now() - seen_at >= 11h",
    "24h > now() - seen_at",
    "add_days(closes_on, 30)",
    "add_days(seen_at, 1)",
    'closes_on > start_of(today(), "month")',
    "seen_at is null",
    # references and child tables
    'account.industry == "制造"',
    "account.size > 100",
    "any(items, it.price > 1)",
    "all(items, it.price > 0.1)",
    "count(items)",
    "count(items, it.n > 1)",
    "sum(items, it.price)",
    "sum(items, it.n * 2)",
    "min(items, it.price)",
    "max(items, it.n)",
    "avg(items, it.n)",
    "items is empty",
    'any(items, it.sku == "x" and it.n > 1)',
]


def _insert(p: Platform, records: list[dict[str, Any]]) -> None:
    account = p.records("account").create({"name": "Acme", "industry": "制造", "size": 500})
    for i, r in enumerate(records):
        data = dict(r)
        if i % 2 == 0:
            data["account"] = account["id"]
        p.records("deal").create(data)


def _normal(value: Any) -> Any:
    """One comparable form: exact decimals (SQLite's doubles rounded), UTC datetimes, seconds."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, dt.timedelta):
        value = Decimal(str(value.total_seconds()))
    if isinstance(value, int | float | Decimal):
        return Decimal(str(value)).quantize(Decimal("0.000001"))
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC)
    return value


def _both(p: Platform, text: str) -> tuple[dict[int, Any], dict[int, Any], set[int]]:
    expr = p.rules.compile(text, "deal")
    table = p.entities.get("deal").table
    with p.db.transaction(write=False) as conn:
        sql_values = dict(conn.execute(select(table.c.id, expr.sql_value())).all())
        selected = set()
        if expr.type.kind == "boolean":
            selected = set(conn.execute(select(table.c.id).where(expr.sql())).scalars())
    py_values = {r["id"]: expr(r) for r in p.records("deal").list(limit=None, children=True)}
    return py_values, sql_values, selected


def test_every_expression_agrees_with_python(p):
    _insert(p, RECORDS)
    problems = []
    for text in EXPRESSIONS:
        try:
            py_values, sql_values, selected = _both(p, text)
        except Exception as exc:  # report every failing expression, not only the first
            problems.append(f"{text}: {type(exc).__name__}: {str(exc)[:300]}")
            continue
        py_norm = {k: _normal(v) for k, v in py_values.items()}
        sql_norm = {k: _normal(v) for k, v in sql_values.items()}
        if py_norm != sql_norm:
            problems.append(f"{text}: python {py_norm} sql {sql_norm}")
        if p.rules.compile(text, "deal").type.kind == "boolean":
            hits = {k for k, v in py_values.items() if v is True}
            if hits != selected:
                problems.append(f"{text}: python selects {hits}, sql selects {selected}")
    assert not problems, "\n".join(problems)


def test_list_where_and_count_use_the_compiled_filter(p):
    _insert(p, RECORDS)
    deals = p.records("deal")
    found = deals.list(where='title contains "director" or region == "北方"', order_by="id")
    assert [d["title"] for d in found] == ["Big DIRECTOR deal 大客户", "ΣΑΣ İstanbul \u212a"]
    assert deals.count(where="amount > 0") == 3
    assert deals.count(where="amount > 0", filters={"qty": 3}) == 1


def test_matching_counts_and_samples_in_sql(p):
    _insert(p, RECORDS)
    hit = p.rules.matching("amount > 0", entity="deal", limit=2)
    assert hit["count"] == 3 and len(hit["sample"]) == 2
    assert p.rules.matching("qty > 1000", entity="deal") == {"count": 0, "sample": []}


def test_user_attributes_are_bound_values(p):
    _insert(p, RECORDS)
    expr = p.rules.compile('user.name == "alice" and vip', "deal")
    table = p.entities.get("deal").table
    with p.db.transaction(write=False) as conn:
        ids = conn.execute(select(table.c.id).where(expr.sql(user={"name": "alice"}))).all()
        none = conn.execute(select(table.c.id).where(expr.sql(user={"name": "bob"}))).all()
    assert len(ids) == 1 and none == []


@pytest.mark.parametrize(
    "text",
    [
        "days_since(closes_on) > 30",
        "days_since(seen_at) <= 2",
        "hours_since(seen_at) > 24",
        "now() - seen_at > 3d",
    ],
)
def test_elapsed_time_filters_compare_the_bare_column(p, text):
    """So that an index on the column serves them: no function wraps the column."""
    sql = str(p.rules.compile(text, "deal").sql().compile(p.db.engine))
    assert "(t_deal." not in sql and "ts_" not in sql and "julianday" not in sql


def test_values_never_enter_the_sql_text(p):
    expr = p.rules.compile('title == "x\' OR 1=1 --" and region == "east"', "deal")
    sql = str(expr.sql().compile(p.db.engine))
    assert "OR 1=1" not in sql and "east" not in sql


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("add_months(closes_on, 1) > today()", "add_months"),
        ('title matches "\\\\bdeal"', "\\b"),
        ("business_hours_since(seen_at) > 8", "business_hours_since"),
    ],
)
def test_what_cannot_run_in_sql_is_a_located_error(p, text, says):
    expr = p.rules.compile(text, "deal")
    with pytest.raises(SqlNotSupported) as info:
        expr.sql()
    assert says in str(info.value)
    assert info.value.errors[0]["line"] == 1 and info.value.errors[0]["column"] >= 1


# ---------------------------------------------------------------- generated records and conditions

TEXT = st.text(alphabet=st.sampled_from(list("abcxyzABCXYZ 大客户北方ΣσςßİK\u3000-")), max_size=12)
DECIMAL = st.decimals(min_value=-1000, max_value=1000, places=2, allow_nan=False)
DAY = st.dates(min_value=dt.date(2024, 1, 1), max_value=dt.date(2026, 12, 31))
MOMENT = st.datetimes(
    min_value=dt.datetime(2025, 3, 29),
    max_value=dt.datetime(2025, 3, 31),
    timezones=st.just(dt.UTC),
)
RECORD = st.fixed_dictionaries(
    {},
    optional={
        "title": st.one_of(st.none(), TEXT),
        "region": st.sampled_from([None, "east", "west", "北方"]),
        "amount": st.one_of(st.none(), DECIMAL.map(str)),
        "qty": st.one_of(st.none(), st.integers(-50, 50)),
        "closes_on": st.one_of(st.none(), DAY.map(dt.date.isoformat)),
        "seen_at": st.one_of(st.none(), MOMENT.map(lambda m: m.isoformat())),
        "vip": st.one_of(st.none(), st.booleans()),
        "tags": st.lists(st.sampled_from(["a", "b", "重要"]), unique=True, max_size=3),
        "items": st.lists(
            st.fixed_dictionaries(
                {"price": st.one_of(st.none(), DECIMAL.map(float)), "n": st.integers(0, 5)}
            ),
            max_size=3,
        ),
    },
)


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


ATOM = st.one_of(
    TEXT.map(lambda s: f"title contains {_quote(s)}"),
    TEXT.map(lambda s: f"title starts with {_quote(s)}"),
    TEXT.map(lambda s: f"title == {_quote(s)}"),
    TEXT.map(lambda s: f"title < {_quote(s)}"),
    DECIMAL.map(lambda n: f"amount > {n}"),
    DECIMAL.map(lambda n: f"amount + qty * 2 >= {n}"),
    DECIMAL.map(lambda n: f"amount / 3 < {n}"),
    st.integers(-3, 3).map(lambda k: f"qty % 3 == {k}"),
    st.tuples(st.integers(-40, 40), DAY).map(lambda t: f"closes_on + {abs(t[0])}d > @{t[1]}"),
    DAY.map(lambda day: f"days_between(closes_on, @{day}) < 30"),
    MOMENT.map(lambda m: f"seen_at < @{m.strftime('%Y-%m-%dT%H:%M')}Z"),
    DAY.map(lambda day: f"date(seen_at) == @{day}"),
    st.sampled_from(
        [
            'region in ["east", "北方"]',
            'tags contains "a"',
            "vip",
            "title is empty",
            "tags is empty",
            "any(items, it.price > 1)",
            "all(items, it.n > 1)",
            "count(items, it.n > 1) >= 1",
            "sum(items, it.price) > 1",
            "weekday(closes_on) >= 6",
            "month(seen_at) == 3",
            "days_since(closes_on) > 100",
            "days_since(seen_at) < 1",
            "hours_since(seen_at) > 30",
            "if vip then amount > 0 else qty > 0",
            "account.size > 100",
        ]
    ),
)
CONDITION = st.recursive(
    ATOM,
    lambda inner: st.one_of(
        st.tuples(inner, inner).map(lambda t: f"({t[0]}) and ({t[1]})"),
        st.tuples(inner, inner).map(lambda t: f"({t[0]}) or ({t[1]})"),
        inner.map(lambda t: f"not ({t})"),
    ),
    max_leaves=4,
)


class _Rollback(Exception):
    pass


@settings(max_examples=min(settings().max_examples, 60))
@given(records=st.lists(RECORD, min_size=1, max_size=4), condition=CONDITION)
def test_generated_conditions_agree(db_url, records, condition):
    p = _shared(db_url)
    try:
        with p.db.transaction(write=True):
            _insert(p, records)
            py_values, sql_values, selected = _both(p, condition)
            assert sql_values == py_values, condition
            assert selected == {k for k, v in py_values.items() if v is True}, condition
            raise _Rollback
    except _Rollback:
        pass


_platforms: dict[str, Platform] = {}


def _shared(url: str) -> Platform:
    """One platform per test database across hypothesis examples (each example rolls back)."""
    if url not in _platforms:
        for old in _platforms.values():
            old.close()
        _platforms.clear()
        _platforms[url] = make_platform(url)
    return _platforms[url]
