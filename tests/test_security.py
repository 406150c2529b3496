"""Users, passwords, tokens and the permission layer, tried the way a hostile user would."""

from __future__ import annotations

import datetime as dt

import pytest

from engine import NotFound, PermissionDenied, ValidationError
from tests.floor_defs import ACCOUNT, save

PERMISSIONS = {
    "roles": {
        "sales_rep": {"label": {"en": "Sales rep", "zh-CN": "销售代表"}},
        "sales_manager": {"label": "Sales manager"},
        "marketing": {"label": "Marketing"},
    },
    "permissions": [
        {"role": "sales_rep", "entity": "account", "create": True, "read": "team",
         "update": "own", "delete": "none", "fields": {"revenue": "read"}},
        {"role": "sales_manager", "entity": "account", "create": True, "read": "team",
         "update": "team", "delete": "team"},
        {"role": "marketing", "entity": "account", "read": 'industry == "tech"',
         "fields": {"revenue": "hidden"}},
    ],
}  # fmt: skip


@pytest.fixture
def p(platform):
    save(platform, ACCOUNT)
    platform.meta.save("permissions", "sales", PERMISSIONS)
    users = platform.users
    users.add("root", password="correct horse", roles=["admin"])
    users.add("ann", password="ann-secret-1", roles=["sales_rep"], team="east")
    users.add("bob", password="bob-secret-1", roles=["sales_rep"], team="east")
    users.add("cat", password="cat-secret-1", roles=["sales_rep"], team="west")
    users.add("mia", password="mia-secret-1", roles=["sales_manager"], team="east")
    users.add("mo", password="mo-secret-12", roles=["marketing"])
    users.add("nobody", password="nobody-pw-1")
    ann = platform.records("account", "ann")
    mine = ann.create({"name": "Ann's", "industry": "tech"})
    platform.records("account", "root").update(mine["id"], {"revenue": "100"})
    platform.records("account", "cat").create({"name": "Cat's", "industry": "retail"})
    return platform


def test_passwords_are_hashed_and_guessing_locks_the_account(p):
    from sqlalchemy import select

    from engine.security.users import users_table

    with p.db.transaction() as conn:
        stored = conn.execute(
            select(users_table.c.password_hash).where(users_table.c.name == "ann")
        ).scalar()
    assert stored.startswith("$argon2id$") and "ann-secret-1" not in stored
    assert p.users.authenticate("ann", "ann-secret-1")["team"] == "east"
    assert p.users.authenticate("ghost", "whatever1") is None
    for _ in range(5):
        assert p.users.authenticate("bob", "wrong-guess") is None
    assert p.users.authenticate("bob", "bob-secret-1") is None  # locked
    p.clock.set(p.clock.now() + dt.timedelta(minutes=16))
    assert p.users.authenticate("bob", "bob-secret-1") is not None
    with pytest.raises(ValidationError, match="too short"):
        p.users.add("eve", password="short")


def test_tokens_are_shown_once_expire_and_can_be_revoked(p):
    issued = p.users.create_token("ann", label="laptop", expires_in=dt.timedelta(hours=1))
    assert p.users.verify_token(issued["token"])["name"] == "ann"
    assert p.users.verify_token(issued["token"][:-1] + "x") is None
    p.clock.set(p.clock.now() + dt.timedelta(hours=2))
    assert p.users.verify_token(issued["token"]) is None
    other = p.users.create_token("ann")
    p.users.revoke_token(other["id"])
    assert p.users.verify_token(other["token"]) is None
    p.users.update("ann", active=False)
    fresh = p.users.create_token("ann")
    assert p.users.verify_token(fresh["token"]) is None


def test_a_busy_token_records_its_last_use_without_a_write_per_call(p):
    from sqlalchemy import select

    from engine.security.users import LAST_USED_EVERY, tokens_table

    issued = p.users.create_token("ann")

    def last_used():
        with p.db.transaction(write=False) as conn:
            return conn.execute(
                select(tokens_table.c.last_used_on).where(tokens_table.c.id == issued["id"])
            ).scalar_one()

    assert last_used() is None
    p.users.verify_token(issued["token"])
    first = last_used()
    assert first is not None
    p.clock.set(p.clock.now() + LAST_USED_EVERY / 2)
    p.users.verify_token(issued["token"])
    assert last_used() == first
    p.clock.set(p.clock.now() + LAST_USED_EVERY)
    p.users.verify_token(issued["token"])
    assert last_used() > first


def test_a_unit_of_work_reads_each_user_once_and_forgets_on_change(p):
    token = p.users.remember()
    try:
        assert p.users.find("ann")["active"]
        p.users.find("ann")["team"] = "tampered"  # callers get copies
        assert p.users.find("ann")["team"] != "tampered"
        p.users.update("ann", active=False)  # a change to users forgets what was read
        assert not p.users.find("ann")["active"]
    finally:
        p.users.forget(token)
    assert not p.users.find("ann")["active"]


def test_row_scopes_filter_lists_counts_and_single_reads(p):
    accounts = {a["name"]: a["id"] for a in p.records("account").list()}
    ann, cat = p.records("account", "ann"), p.records("account", "cat")
    assert [a["name"] for a in ann.list()] == ["Ann's"]
    assert [a["name"] for a in p.records("account", "bob").list()] == ["Ann's"]  # same team
    assert cat.count() == 1
    with pytest.raises(NotFound):
        cat.get(accounts["Ann's"])  # another team's record does not exist for cat
    # a filter cannot widen the scope
    widened = cat.list(where='name == "Ann\'s" or industry == "tech" or true')
    assert [a["name"] for a in widened] == ["Cat's"]
    assert cat.count(where="true or true") == 1
    assert [a["name"] for a in p.records("account", "mo").list()] == ["Ann's"]
    assert len(p.records("account", "root").list()) == 2


def test_updates_and_deletes_respect_their_own_scopes(p):
    ids = {a["name"]: a["id"] for a in p.records("account").list()}
    bob, mia, ann = (p.records("account", u) for u in ("bob", "mia", "ann"))
    with pytest.raises(PermissionDenied, match="may not update"):
        bob.update(ids["Ann's"], {"industry": "retail"})  # team may read, only the owner updates
    ann.update(ids["Ann's"], {"industry": "finance"})
    with pytest.raises(PermissionDenied, match="revenue"):
        ann.update(ids["Ann's"], {"revenue": "5"})  # read-only field for reps
    with pytest.raises(PermissionDenied, match="may not delete"):
        ann.delete(ids["Ann's"])
    with pytest.raises(NotFound):
        mia.delete(ids["Cat's"])  # other team: not even visible
    mia.update(ids["Ann's"], {"revenue": "7"})
    mia.delete(ids["Ann's"])


def test_hidden_fields_are_absent_and_cannot_be_probed(p):
    mo = p.records("account", "mo")
    [row] = mo.list()
    assert "revenue" not in row and "revenue" not in mo.get(row["id"])
    for probe in ("revenue > 50", "revenue is null"):
        with pytest.raises(PermissionDenied, match="revenue"):
            mo.list(where=probe)
    with pytest.raises(PermissionDenied):
        mo.list(order_by="-revenue")
    with pytest.raises(PermissionDenied):
        mo.count(filters={"revenue": 100})


def test_unknown_users_and_roles_without_a_row_get_nothing(p):
    with pytest.raises(PermissionDenied, match="not an active user"):
        p.records("account", "ghost")
    with pytest.raises(PermissionDenied, match="may not read account"):
        p.records("account", "nobody").list()
    with pytest.raises(PermissionDenied, match="may not create"):
        p.records("account", "mo").create({"name": "M"})


def test_reports_aggregate_only_the_rows_in_scope(p):
    p.records("account", "cat").create({"name": "Cat 2", "industry": "retail"})
    report = {
        "name": "by_industry",
        "source": "account",
        "rows": ["industry"],
        "measures": [{"name": "n", "agg": "count"}],
    }
    ann = p.reports.run(report, user="ann")
    cat = p.reports.run(report, user="cat")
    assert ann["totals"]["total"] != cat["totals"]["total"] or ann["rows"] != cat["rows"]
    assert [r["key"] for r in ann["rows"]] == [["tech"]]
    assert [r["key"] for r in cat["rows"]] == [["retail"]] and cat["rows"][0]["cells"][0][0] == 2
    with pytest.raises(PermissionDenied):
        p.reports.run(
            {**report, "measures": [{"name": "r", "agg": "sum", "field": "revenue"}]}, user="mo"
        )
    with pytest.raises(PermissionDenied):
        p.reports.run(report, user="nobody")
    drilled = p.reports.drill(report, ["retail"], user="ann")
    assert drilled["count"] == 0
