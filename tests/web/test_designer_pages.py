"""The builders' pages over real HTTP: who may open them, what they start from, the preview."""

from __future__ import annotations

import json
import re

import pytest

from tests.floor_defs import ACCOUNT, save


@pytest.fixture
def p(platform):
    save(platform, ACCOUNT)
    platform.users.add("root", password="root-secret", roles=["admin"])
    platform.users.add("ann", password="ann-secret-1", roles=[])
    return platform


def _data(html: bytes) -> dict:
    found = re.search(
        rb'<script type="application/json" id="designer-data">(.*?)</script>', html, re.S
    )
    assert found
    return json.loads(found.group(1))


def test_only_customizers_open_the_builders(p, new_client):
    ann = new_client()
    ann.login("ann", "ann-secret-1")
    for path in ("/build", "/build/entities/account", "/build/apps/x"):
        assert ann.get(path)[0] == 403
    status, _b, _h = ann.post("/build/entities/account/preview", {"definition": {}})
    assert status == 403
    assert b"build-link" not in ann.get("/")[1]


def test_the_designer_starts_from_the_live_definition_and_the_registry(p, client):
    client.login("root", "root-secret")
    assert b"build-link" in client.get("/")[1]
    status, html, _h = client.get("/build/entities/account")
    assert status == 200
    data = _data(html)
    assert data["found"]["version"] == p.meta.get("entity", "account")["version"]
    palette = {t["name"]: t for t in data["palette"]}
    assert palette["select"]["config"]["properties"]["x-options-colors"]
    assert palette["reference"]["config"]["required"] == ["x-ref"]
    assert data["types"]["name"] == "text"
    new = _data(client.get("/build/entities/brand_new")[1])
    assert new["found"] is None


def test_the_preview_renders_the_draft_with_the_form_widgets(p, client):
    client.login("root", "root-secret")
    draft = {
        "schema": {"type": "object", "properties": {
            "outcome": {"type": "string", "enum": ["good", "bad"], "x-label": {"en": "Outcome"}},
            "when": {"type": "string", "format": "date"}}},
        "layout": [{"section": {"en": "Visit <b>"}, "fields": ["outcome", "when"]}],
    }  # fmt: skip
    status, html, _h = client.post("/build/entities/site_visit/preview", {"definition": draft})
    assert status == 200
    assert b'<select id="f-outcome"' in html and b'type="date"' in html
    assert b"Visit &lt;b&gt;" in html  # escaped, never markup
    assert "site_visit" not in p.meta.names("entity")
