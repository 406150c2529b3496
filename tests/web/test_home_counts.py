"""The home page counts each readable entity no further than the lists do ("10,000+")."""

from __future__ import annotations

import re

import pytest

from tests.floor_defs import ACCOUNT, save
from tests.test_security import PERMISSIONS


@pytest.fixture
def p(platform):
    save(platform, ACCOUNT)
    platform.meta.save("permissions", "sales", PERMISSIONS)
    platform.users.add("ann", password="ann-secret-1", roles=["sales_rep"], team="east")
    platform.users.add("cat", password="cat-secret-1", roles=["sales_rep"], team="west")
    for i in range(5):
        platform.records("account", "ann").create({"name": f"East {i}"})
    platform.records("account", "cat").create({"name": "West"})
    return platform


def _count(page: bytes) -> str:
    found = re.search(r'href="/app/account".*?<span class="count">([^<]*)</span>', page.decode())
    assert found, "no count for account on the home page"
    return found.group(1)


def _home(new_client, user):
    c = new_client()
    assert c.login(user, f"{user}-secret-1") == 200
    status, page, _ = c.get("/?start=1", headers={"Accept": "text/html"})
    assert status == 200
    return page


def test_counts_are_exact_below_the_bound_and_only_what_the_user_may_read(p, new_client):
    assert _count(_home(new_client, "ann")) == "5"
    assert _count(_home(new_client, "cat")) == "1"


def test_past_the_bound_the_count_stops_and_says_so(p, new_client, monkeypatch):
    import web.ui.shell

    monkeypatch.setattr(web.ui.shell, "TOTAL_BOUND", 3)
    assert _count(_home(new_client, "ann")) == "3+"
    assert _count(_home(new_client, "cat")) == "1"


def test_the_bound_is_the_lists_bound_and_reads_10000_plus(p):
    from web.api import TOTAL_BOUND
    from web.ui.shell import _bounded_count

    class Many:
        def count_upto(self, bound):
            return (bound, False)

    assert TOTAL_BOUND == 10_000
    assert _bounded_count(Many()) == "10,000+"
