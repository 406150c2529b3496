"""The sign-in read of a request: token, user and settings in one statement.

``verify_token`` and ``find`` bring the user's settings along (an aggregate
subquery) and keep them for the unit of work, so a request reads its language
without a second query. These tests hold that fast path to the general one
(``UserSettings.all`` reading its table) and check that nothing is kept beyond
the unit of work: a change made through another platform (another worker or
process) shows at the next request.
"""

from __future__ import annotations

import datetime as dt

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, event, insert

from engine import Platform
from engine.security.settings import settings_table
from web.app import create_app

LEAD = {
    "name": "lead",
    "label": "Lead",
    "title_field": "company",
    "schema": {
        "type": "object",
        "required": ["company"],
        "properties": {"company": {"type": "string", "maxLength": 200}},
    },
}


def _general(p: Platform, name: str) -> dict:
    """Settings read the general way: outside any unit of work, straight from the table."""
    return p.users.settings.all(name)


def _through_token(p: Platform, token: str) -> dict:
    unit = p.users.remember()
    try:
        user = p.users.verify_token(token)
        return p.users.settings.all(user["name"])
    finally:
        p.users.forget(unit)


def _through_find(p: Platform, name: str) -> dict:
    unit = p.users.remember()
    try:
        p.users.find(name)
        return p.users.settings.all(name)
    finally:
        p.users.forget(unit)


def test_signin_read_gives_the_settings_a_settings_read_gives(platform):
    p = platform
    p.users.add("ann", password="secret-pass-1")
    token = p.users.create_token("ann")["token"]
    for value in (None, "zh-CN", "en", None):  # none, set, changed, removed
        p.users.settings.set("ann", "lang", value)
        expected = _general(p, "ann")
        assert _through_token(p, token) == expected
        assert _through_find(p, "ann") == expected
        assert expected == ({} if value is None else {"lang": value})


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=6,
)


#: Setting names as a database column holds them (PostgreSQL text has no NUL; no lone
#: surrogates, which UTF-8 cannot encode).
keys = st.text(
    st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",)),
    min_size=1,
    max_size=20,
)


@settings(max_examples=25)
@given(st.dictionaries(keys, json_values, max_size=4))
def test_any_stored_settings_come_back_the_same_through_signin(platform, stored):
    """Keys and JSON values of any shape (quotes, unicode, nesting) survive the aggregate."""
    p = platform
    if p.users.find("bob") is None:
        p.users.add("bob", password="secret-pass-1")
        p.users.create_token("bob")
    token = p.users.create_token("bob")["token"]
    with p.db.transaction(write=True) as conn:
        conn.execute(delete(settings_table).where(settings_table.c.user == "bob"))
        for key, value in stored.items():
            conn.execute(
                insert(settings_table).values(
                    user="bob", key=key, value=orjson.dumps(value).decode()
                )
            )
    expected = _general(p, "bob")
    assert expected == stored
    assert _through_token(p, token) == expected
    assert _through_find(p, "bob") == expected


def test_a_change_made_elsewhere_shows_at_the_next_unit_of_work(platform, db_url):
    p = platform
    p.users.add("cat", password="secret-pass-1")
    token = p.users.create_token("cat")["token"]
    assert _through_token(p, token) == {}
    with Platform(db_url) as other:  # another worker or process
        other.users.settings.set("cat", "lang", "zh-CN")
    assert _through_token(p, token) == {"lang": "zh-CN"}


def test_a_setting_written_in_the_unit_of_work_is_read_back(platform):
    p = platform
    p.users.add("dan", password="secret-pass-1")
    token = p.users.create_token("dan")["token"]
    unit = p.users.remember()
    try:
        p.users.verify_token(token)
        assert p.users.settings.all("dan") == {}
        p.users.settings.set("dan", "lang", "zh-CN")
        assert p.users.settings.get("dan", "lang") == "zh-CN"
    finally:
        p.users.forget(unit)


def test_refused_tokens_stay_refused(platform):
    p = platform
    p.users.add("eve", password="secret-pass-1")
    revoked = p.users.create_token("eve")
    p.users.revoke_token(revoked["id"])
    expired = p.users.create_token("eve", expires_in=dt.timedelta(seconds=-1))
    p.users.add("fay", password="secret-pass-1")
    inactive = p.users.create_token("fay")["token"]
    p.users.update("fay", active=False)
    for token in (revoked["token"], expired["token"], inactive, "tsr_unknown", ""):
        assert p.users.verify_token(token) is None


def test_read_once_joins_an_open_transaction(platform):
    p = platform
    with p.db.transaction(write=True):
        p.users.add("gus", password="secret-pass-1")
        assert p.users.find("gus")["name"] == "gus"  # the uncommitted row is seen
    assert p.users.find("gus")["name"] == "gus"


def test_an_api_create_reads_the_caller_once(platform):
    """One statement signs the request in (token, user, settings); none after it re-reads them."""
    p = platform
    p.meta.save("entity", "lead", LEAD, user="test")
    p.users.add("hal", password="secret-pass-1", roles=["admin"])
    p.users.settings.set("hal", "lang", "zh-CN")
    token = p.users.create_token("hal")["token"]
    client = create_app(p, config={"SECRET_KEY": "test"}).test_client()
    headers = {"Authorization": f"Bearer {token}"}
    first = client.post("/api/v1/records/lead", json={"company": "First"}, headers=headers)
    assert first.status_code == 201  # and notes the token's first use (a write, then none)
    seen: list[str] = []

    def _log(_conn, _cursor, statement, *_args) -> None:
        seen.append(statement)

    event.listen(p.db.engine, "before_cursor_execute", _log)
    try:
        reply = client.post("/api/v1/records/lead", json={"company": "Acme"}, headers=headers)
    finally:
        event.remove(p.db.engine, "before_cursor_execute", _log)
    assert reply.status_code == 201, reply.get_data(as_text=True)
    signin = [s for s in seen if "ts_user" in s or "ts_token" in s]
    assert len(signin) == 1, signin
    missing = client.post("/api/v1/records/lead", json={}, headers={"Authorization": "Bearer x"})
    assert missing.status_code == 401


def test_a_write_after_a_read_once_still_rolls_back(platform):
    """The autocommit of a lone read must not leak into the next transaction on that
    pooled connection: a failed write leaves nothing behind."""
    p = platform
    p.users.add("ian", password="secret-pass-1")
    for _ in range(3):  # every pooled connection has served a read_once
        p.users.find("ian")
    try:
        with p.db.transaction(write=True) as conn:
            conn.execute(insert(settings_table).values(user="ian", key="lang", value='"zh-CN"'))
            raise RuntimeError("the write fails after its first statement")
    except RuntimeError:
        pass
    assert p.users.settings.all("ian") == {}
