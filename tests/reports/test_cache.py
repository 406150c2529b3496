"""The report result cache: a write invalidates exactly the reports over what it wrote.

Entries are keyed by the SQL, its parameters, the viewer's scope and the data
version of every entity the report reads; each committed write bumps its
entity's version once. Hits and misses are counted by the cache itself, so
these tests see which runs reached the database.
"""

from __future__ import annotations

import pytest

from engine import Platform
from engine.store import versions
from tests.floor_defs import save
from tests.rules.sql_defs import ACCOUNT, DEAL

ON_DEAL = {
    "name": "by_region",
    "source": "deal",
    "rows": ["region"],
    "measures": [{"name": "n", "agg": "count"}, {"name": "amt", "agg": "sum", "field": "amount"}],
}
ON_ACCOUNT = {
    "name": "by_industry",
    "source": "account",
    "rows": ["industry"],
    "measures": [{"name": "n", "agg": "count"}],
}
JOINED = {
    "name": "deal_by_industry",
    "source": "deal",
    "rows": ["account.industry"],
    "measures": [{"name": "n", "agg": "count"}],
}
PERMISSIONS = {
    "roles": {"rep": {"label": "Rep"}},
    "permissions": [
        {"role": "rep", "entity": "deal", "create": True, "read": "own", "update": "own",
         "delete": "none"},
    ],
}  # fmt: skip


@pytest.fixture
def p(db_url):
    platform = Platform(db_url)
    save(platform, ACCOUNT, DEAL)
    acme = platform.records("account").create({"name": "Acme", "industry": "tech"})["id"]
    platform.records("deal").create_many(
        [{"title": f"d{i}", "region": "east", "amount": 10, "account": acme} for i in range(3)]
    )
    yield platform
    platform.close()


def total(result):
    return result["totals"]["total"][0]


def runs(p, *reports):
    """Run each report; returns (results, how many of the runs missed the cache)."""
    before = p.reports.cache.misses
    results = [p.reports.run(r) for r in reports]
    return results, p.reports.cache.misses - before


def test_a_second_run_is_a_hit_with_the_same_result(p):
    first, missed = runs(p, ON_DEAL, ON_ACCOUNT, JOINED)
    assert missed == 3
    again, missed = runs(p, ON_DEAL, ON_ACCOUNT, JOINED)
    assert missed == 0
    assert again == first
    again[0]["rows"].clear()  # a caller changing its copy does not change the entry
    assert runs(p, ON_DEAL)[0][0] == first[0]


def test_a_write_invalidates_the_reports_on_its_entity_only(p):
    runs(p, ON_DEAL, ON_ACCOUNT, JOINED)
    p.records("deal").create({"title": "new", "region": "west", "amount": 5})
    (deal, account, joined), missed = runs(p, ON_DEAL, ON_ACCOUNT, JOINED)
    assert missed == 2  # the deal report and the report joining deals to accounts
    assert total(deal) == 4 and total(joined) == 4 and total(account) == 1
    p.records("account").create({"name": "Bee", "industry": "retail"})
    (deal, account, joined), missed = runs(p, ON_DEAL, ON_ACCOUNT, JOINED)
    assert missed == 2  # the account report and the joined one; deals kept their entry
    assert total(account) == 2


def test_a_referenced_record_changing_expires_the_joined_report(p):
    (joined,), _ = runs(p, JOINED)
    acme = p.records("account").list(limit=None)[0]["id"]
    p.records("account").update(acme, {"industry": "retail"})
    (joined,), missed = runs(p, JOINED)
    assert missed == 1
    assert [r["key"] for r in joined["rows"]] == [["retail"]]


def test_one_bump_per_entity_per_transaction_and_none_on_rollback(p):
    with p.db.transaction(write=False) as conn:
        before = versions.current(conn, ["deal", "account"])
    p.records("deal").create_many([{"title": f"b{i}"} for i in range(25)])
    with p.db.transaction(write=False) as conn:
        after = versions.current(conn, ["deal", "account"])
    assert after == {"deal": before["deal"] + 1, "account": before["account"]}
    runs(p, ON_DEAL)
    with pytest.raises(RuntimeError), p.db.transaction() as _conn:
        p.records("deal").create({"title": "rolled back"})
        raise RuntimeError("abort")
    with p.db.transaction(write=False) as conn:
        assert versions.current(conn, ["deal"]) == {"deal": after["deal"]}
    (deal,), missed = runs(p, ON_DEAL)
    assert missed == 0 and total(deal) == 28


def test_viewers_with_different_scopes_never_share_an_entry(p):
    p.meta.save("permissions", "sales", PERMISSIONS)
    p.users.add("ann", password="ann-secret-1", roles=["rep"], team="east")
    p.users.add("bob", password="bob-secret-1", roles=["rep"], team="east")
    p.records("deal", "ann").create({"title": "a", "region": "east", "amount": 100})
    for _ in range(2):
        p.records("deal", "bob").create({"title": "b", "region": "east", "amount": 1})
    seen = {}
    for _round in range(2):
        for who in ("ann", "bob", None):
            seen[who] = p.reports.run(ON_DEAL, user=who)
    assert total(seen["ann"]) == 1 and total(seen["bob"]) == 2 and total(seen[None]) == 6
    assert seen["ann"]["totals"]["cells"] != seen["bob"]["totals"]["cells"]
    assert p.reports.cache.hits == 3  # the second round: one entry each, none shared


def test_the_cache_is_bounded_by_size():
    from engine.reports.cache import ResultCache

    cache = ResultCache(max_bytes=2000)
    for i in range(50):
        cache.put(str(i), {"rows": ["x" * 100]})
    assert 0 < len(cache) < 50
    assert cache.get("49") is not None and cache.get("0") is None  # the oldest went first


def test_a_changed_definition_is_never_served_from_an_old_entry(p):
    first = p.reports.run(ON_DEAL)
    relabelled = {**ON_DEAL, "measures": [{**ON_DEAL["measures"][0], "label": "Deals"}]}
    second = p.reports.run(relabelled)
    assert first["measures"][0]["label"] == "n" and second["measures"][0]["label"] == "Deals"
