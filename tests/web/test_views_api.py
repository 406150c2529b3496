"""Saved list views: the store's rules and the ``/api/v1/views`` endpoints over real HTTP,
and the list page's HTML without the fields a role may not see."""

from __future__ import annotations

import re

import pytest

from engine.errors import NotFound, PermissionDenied, ValidationError
from engine.store.views import SavedViews
from tests.floor_defs import ACCOUNT, save

PERMISSIONS = {
    "roles": {"sales_rep": {"label": "Sales rep"}, "marketing": {"label": "Marketing"}},
    "permissions": [
        {"role": "sales_rep", "entity": "account", "create": True, "read": "team",
         "update": "own", "delete": "none", "fields": {"revenue": "hidden"}},
    ],
}  # fmt: skip


@pytest.fixture
def p(platform):
    save(platform, ACCOUNT)
    platform.meta.save("permissions", "sales", PERMISSIONS)
    platform.users.add("root", password="root-secret", roles=["admin"])
    platform.users.add("ann", password="ann-secret-1", roles=["sales_rep"], team="east")
    platform.users.add("bob", password="bob-secret-1", roles=["sales_rep"], team="east")
    platform.users.add("mo", password="mo-secret-12", roles=["marketing"])
    return platform


def test_own_views_are_private_shared_ones_are_seen_and_only_the_owner_deletes(p):
    views = SavedViews(p)
    mine = views.create("ann", "account", "Tech", where='industry == "tech"', columns=["name"])
    shared = views.create("ann", "account", "Big", order_by="-name", shared=True)
    assert [v["name"] for v in views.list("account", "ann")] == ["Big", "Tech"]
    assert [v["name"] for v in views.list("account", "bob")] == ["Big"]
    with pytest.raises(NotFound):
        views.get(mine["id"], "bob")
    with pytest.raises(PermissionDenied):
        views.delete(shared["id"], "bob")
    with pytest.raises(PermissionDenied):
        views.list("account", "mo")  # marketing may not read accounts here
    views.delete(shared["id"], "root")  # an admin may
    assert [v["name"] for v in views.list("account", "bob")] == []
    renamed = views.update(mine["id"], "ann", {"name": "Tech only", "shared": True})
    assert renamed["name"] == "Tech only" and views.get(mine["id"], "bob")["shared"]


def test_a_view_is_checked_before_it_is_stored(p):
    views = SavedViews(p)
    with pytest.raises(ValidationError) as bad:
        views.create("ann", "account", "", where="industry ==", columns=["revenue", "nope"])
    fields = {e["field"] for e in bad.value.errors}
    assert fields == {"name", "where", "columns"}  # revenue is hidden from ann: not a column
    assert any(e["line"] == 1 for e in bad.value.errors if e["field"] == "where")
    with pytest.raises(ValidationError):
        views.create("ann", "account", "x", order_by="-revenue")
    ok = views.create("root", "account", "y", columns=["revenue"], where='name contains "\\""')
    assert ok["columns"] == ["revenue"] and ok["where"] == 'name contains "\\""'


def test_views_over_http(p, client, new_client):
    assert client.login("ann", "ann-secret-1") == 200
    status, view, headers = client.post(
        "/api/v1/views",
        {"entity": "account", "name": "Mine", "columns": ["name", "industry"], "shared": True},
    )
    assert status == 201 and headers["Location"] == f"/api/v1/views/{view['id']}"
    status, bad, _ = client.post(
        "/api/v1/views", {"entity": "account", "name": "x", "where": "1 +"}
    )
    assert status == 422 and bad["errors"][0]["field"] == "where"
    status, listed, _ = client.get("/api/v1/views?entity=account")
    assert status == 200 and [v["name"] for v in listed["items"]] == ["Mine"]
    bob = new_client()
    bob.login("bob", "bob-secret-1")
    assert bob.get(f"/api/v1/views/{view['id']}")[0] == 200
    assert bob.delete(f"/api/v1/views/{view['id']}")[0] == 403
    assert bob.patch(f"/api/v1/views/{view['id']}", {"name": "Hijacked"})[0] == 403
    no_csrf = new_client()
    no_csrf.login("ann", "ann-secret-1")
    no_csrf.csrf = None
    assert no_csrf.delete(f"/api/v1/views/{view['id']}")[0] in (400, 403)
    assert client.delete(f"/api/v1/views/{view['id']}")[0] == 204
    assert client.get(f"/api/v1/views/{view['id']}")[0] == 404


def test_the_list_page_leaves_hidden_fields_out_and_reports_a_bad_filter(p, client):
    p.records("account", "ann").create({"name": 'Quote "Co"', "industry": "tech"})
    p.records("account").create({"name": "Secret", "industry": "tech", "revenue": 987654})
    client.login("ann", "ann-secret-1")
    status, html, _ = client.get("/app/account?col=name&col=revenue")
    text = re.sub(r'<input type="hidden" name="next" value="[^"]*">', "", html.decode())
    assert status == 200 and "Quote &#34;Co&#34;" in text
    assert "revenue" not in text.lower() and "987" not in text
    status, html, _ = client.get("/app/account?where=industry%20%3D%3D%20%22tec%22")
    assert status == 200 and "tec" in html.decode() and 'id="where-problems"' in html.decode()
    assert "<li>" in html.decode().split('id="where-problems"')[1].split("</ul>")[0]
    client.login("root", "root-secret")
    status, html, _ = client.get("/app/account?col=name&col=revenue&sort=-revenue")
    assert status == 200 and "987,654.00" in html.decode()


def test_a_saved_view_opens_with_its_filter_and_clearing_keeps_it_cleared(p, client):
    p.records("account", "ann").create({"name": "Retail one", "industry": "retail"})
    p.records("account", "ann").create({"name": "Tech one", "industry": "tech"})
    view = SavedViews(p).create("ann", "account", "Retail", where='industry == "retail"')
    client.login("ann", "ann-secret-1")
    _, html, _ = client.get(f"/app/account?view={view['id']}")
    text = html.decode()
    assert "Retail one" in text and "Tech one" not in text
    clear = re.search(r'href="([^"]*)" id="clear-filter"', text).group(1).replace("&amp;", "&")
    assert "where=&" in clear + "&"
    _, html, _ = client.get(clear)
    assert "Retail one" in html.decode() and "Tech one" in html.decode()
