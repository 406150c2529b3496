"""The record views' gates without a browser: sign-in, read permission, CSRF on comments."""

from __future__ import annotations

import pytest

from engine.store import comments


@pytest.fixture(scope="module")
def app(crm):
    from web.app import create_app

    app = create_app(crm, config={"TESTING": True, "SECRET_KEY": "record-pages"})
    for name in ("tang_mei", "wang_lei", "xu_jing"):
        if crm.users.find(name):
            crm.users.set_password(name, "pw-" + name)
    return app


def signed_in(app, name):
    client = app.test_client()
    r = client.post("/login", data={"username": name, "password": "pw-" + name})
    assert r.status_code in (302, 303)
    with client.session_transaction() as s:
        csrf = s["csrf"]
    return client, csrf


def test_the_form_script_needs_a_user_who_may_read_the_entity(app):
    anonymous = app.test_client()
    assert anonymous.get("/app/lead/form.js").status_code == 401
    assert anonymous.get("/app/lead/new").status_code in (302, 303)
    agent, _ = signed_in(app, "tang_mei")  # service agents do not read leads
    assert agent.get("/app/lead/form.js").status_code == 403
    assert agent.get("/app/lead/new").status_code == 403
    rep, _ = signed_in(app, "wang_lei")
    r = rep.get("/app/lead/form.js")
    assert r.status_code == 200 and r.mimetype == "text/javascript"
    assert rep.get("/app/nothing/form.js").status_code == 404


def test_a_record_outside_the_users_scope_is_not_shown(app, crm):
    lead = crm.records("lead").create({"company": "Nobody's Lead", "source": "other"})
    rep, _ = signed_in(app, "wang_lei")
    r = rep.get(f"/app/lead/{lead['id']}")
    assert r.status_code in (403, 404)
    assert b"Nobody's Lead" not in r.data


def test_comments_need_the_csrf_token_and_are_escaped(app, crm):
    account = crm.records("account").create({"name": "Escaped Co", "owner": "wang_lei"})
    rep, csrf = signed_in(app, "wang_lei")
    url = f"/app/account/{account['id']}/comments"
    assert rep.post(url, data={"body": "no token"}).status_code == 403
    r = rep.post(url, data={"body": "<script>x()</script>", "csrf_token": csrf})
    assert r.status_code == 303
    page = rep.get(f"/app/account/{account['id']}").data.decode()
    assert "&lt;script&gt;x()&lt;/script&gt;" in page and "<script>x()" not in page
    found = comments.for_record(crm, "account", account["id"], user="wang_lei")
    assert [c["author"] for c in found] == ["wang_lei"]
