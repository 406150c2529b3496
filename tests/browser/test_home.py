"""Sign in in a real browser and land on the home page, with markup in data shown as text."""

from __future__ import annotations

import threading

import pytest
from werkzeug.serving import make_server

from tests.floor_defs import ACCOUNT, save
from web.app import create_app


@pytest.fixture
def site(platform):
    save(platform, ACCOUNT)
    platform.users.add("root", password="root-secret", roles=["admin"], label="<b>Root</b>")
    platform.records("account").create({"name": "Acme"})
    app = create_app(platform, config={"SECRET_KEY": "page-test"})
    srv = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{srv.server_port}"
    finally:
        srv.shutdown()


def test_sign_in_lands_on_the_home_page(page, site):
    page.goto(site + "/")
    assert page.url.endswith("/login")
    page.fill("input[name=username]", "root")
    page.fill("input[name=password]", "wrong-password")
    page.click("button[type=submit]")
    assert "Wrong user name or password" in page.content()
    page.fill("input[name=username]", "root")
    page.fill("input[name=password]", "root-secret")
    page.click("button[type=submit]")
    page.wait_for_selector("#entities")
    assert page.inner_text("#who").startswith("<b>Root</b>")  # escaped: shown, not rendered
    assert page.locator("#entities li").count() == 1
    assert "1" in page.inner_text("#entities li")
    page.click("text=Sign out")
    page.wait_for_url("**/login")
