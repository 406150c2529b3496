"""An API create on the one-statement path (PostgreSQL) answers as the transaction path.

``engine.store.lone_create`` takes a plain create out of a transaction; over
HTTP it must still check the token, the create right and the CSRF token of a
cookie session, and answer a refused duplicate with a 422 naming the field,
writing nothing. On SQLite the same answers come from the transaction path.
"""

from __future__ import annotations

import pytest

from engine.store import lone_create
from tests.test_lone_create import CONTACT


@pytest.fixture
def p(platform):
    platform.meta.save("entity", "contact", CONTACT, user="test")
    platform.users.add("root", password="root-secret", roles=["admin"])
    platform.users.add("nobody", password="nobody-secret-1", roles=[])
    return platform


def _count(p):
    return len(p.records("contact").list(limit=None))


@pytest.mark.parametrize("path", ["one statement", "transaction"])
def test_create_answers_alike_on_both_paths(p, client, monkeypatch, path):
    if path == "transaction":
        monkeypatch.setattr(lone_create, "applies", lambda service: False)
    client.token = p.users.create_token("root")["token"]
    status, created, headers = client.post("/api/v1/records/contact", {"email": "x@example.com"})
    assert status == 201 and created["owner"] == "root" and headers["ETag"] == '"1"'
    assert p.records("contact").get(created["id"])["email"] == "x@example.com"
    status, answer, headers = client.post("/api/v1/records/contact", {"email": "x@example.com"})
    assert status == 422 and headers["Content-Type"] == "application/problem+json"
    assert answer["errors"][0]["field"] == "email"
    assert _count(p) == 1
    history = p.records("contact").history(created["id"])
    assert [h["action"] for h in history] == ["create"]


def test_create_still_checks_rights_and_csrf(p, client):
    client.token = p.users.create_token("nobody")["token"]
    status, _, _ = client.post("/api/v1/records/contact", {"email": "n@example.com"})
    assert status == 403
    client.token = None
    assert client.login("root", "root-secret") == 200
    csrf, client.csrf = client.csrf, None
    status, _, _ = client.post("/api/v1/records/contact", {"email": "c@example.com"})
    assert status in (400, 403)
    client.csrf = csrf
    status, _, _ = client.post("/api/v1/records/contact", {"email": "c@example.com"})
    assert status == 201
    assert _count(p) == 1
