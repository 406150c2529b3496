"""List totals are counted up to a bound, then shown as "N+": the page and the API agree,
and neither waits on a full count of a very large table."""

from __future__ import annotations

import re

import pytest

from tests.floor_defs import ACCOUNT, save
from web import api as rest
from web.ui import lists


@pytest.fixture
def p(platform, monkeypatch):
    save(platform, ACCOUNT)
    platform.users.add("root", password="root-secret", roles=["admin"])
    platform.records("account").create_many(
        [{"name": f"Firm {i:02d}", "industry": "tech" if i < 3 else "retail"} for i in range(30)]
    )
    # 30 rows: more than the bound, for the API and the list page alike
    monkeypatch.setattr(rest, "TOTAL_BOUND", 25)
    monkeypatch.setattr(lists, "TOTAL_BOUND", 25)
    return platform


def test_the_record_service_counts_no_further_than_the_bound(p):
    records = p.records("account")
    assert records.count_upto(25) == (25, False)
    assert records.count_upto(30) == (30, True)
    assert records.count_upto(100, 'industry == "tech"') == (3, True)
    assert records.count_upto(0) == (0, False)


def test_the_api_marks_a_capped_total(p, client):
    client.token = p.users.create_token("root")["token"]
    status, page, _ = client.get("/api/v1/records/account?limit=10")
    assert status == 200 and (page["total"], page["total_is_exact"]) == (25, False)
    status, page, _ = client.get("/api/v1/records/account?where=industry%20%3D%3D%20%22tech%22")
    assert (page["total"], page["total_is_exact"]) == (3, True)
    status, page, _ = client.get("/api/v1/records/account?limit=10&offset=20")
    assert len(page["items"]) == 10 and page["total_is_exact"] is False


def _text(html: bytes) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html.decode()))


def test_the_list_page_shows_a_capped_total_and_keeps_paging(p, client):
    assert client.login("root", "root-secret") == 200
    status, html, _ = client.get("/app/account?per=10", headers={"Accept": "text/html"})
    assert status == 200
    text = _text(html)
    assert "1–10 of 25+" in text and "Page 1 of 3+" in text
    status, html, _ = client.get("/app/account?per=10&page=3", headers={"Accept": "text/html"})
    assert "21–30 of 25+" in _text(html) and 'id="next-page"' in html.decode()
    status, html, _ = client.get("/app/account?per=10&page=4", headers={"Accept": "text/html"})
    assert 'id="next-page"' not in html.decode()  # the last, short page ends the paging
    where = 'industry == "tech"'
    status, html, _ = client.get(
        f"/app/account?where={where.replace(' ', '%20')}", headers={"Accept": "text/html"}
    )
    text = _text(html)
    assert "1–3 of 3 " in text and "3+" not in text
