"""Every page about an entity answers 404 for an entity that does not exist
(``web.http.model_or_404``), after the sign-in gate, and serves a known one."""

from __future__ import annotations

import pytest

from tests.floor_defs import save
from tests.test_import import LEAD

PAGE = {"Accept": "text/html"}
PATHS = ("", "/kanban", "/new", "/1/edit", "/1", "/form.js", "/import")


@pytest.fixture
def signed_in(platform, client):
    save(platform, LEAD)
    platform.users.add("ann", password="ann-secret-1", roles=["admin"])
    assert client.login("ann", "ann-secret-1") == 200
    return client


@pytest.mark.parametrize("tail", PATHS)
def test_a_page_of_an_unknown_entity_is_not_found(signed_in, tail):
    assert signed_in.get(f"/app/nothing{tail}", headers=PAGE)[0] == 404


def test_the_pages_of_a_known_entity_are_served(signed_in):
    for tail in ("", "/new", "/form.js", "/import"):
        status, _body, _ = signed_in.get(f"/app/lead{tail}", headers=PAGE)
        assert status == 200, tail
