"""``/api/v1/files`` over real HTTP: upload, download, CSRF, limits and another team's rep."""

from __future__ import annotations

import pytest

from tests.floor_defs import save
from tests.test_files import DOC, EXE, PDF, PERMISSIONS, PNG
from tests.web.test_import_api import multipart


@pytest.fixture
def p(platform):
    save(platform, DOC)
    platform.meta.save("permissions", "docs", PERMISSIONS)
    platform.users.add("ann", password="ann-secret-1", roles=["rep"], team="east")
    platform.users.add("bob", password="bob-secret-1", roles=["rep"], team="east")
    platform.users.add("cat", password="cat-secret-1", roles=["rep"], team="west")
    return platform


def _upload(client, name, content, query="?entity=doc&field=scan"):
    body, headers = multipart(name, content)
    return client.post("/api/v1/files" + query, raw=body, headers=headers)


def test_upload_attach_and_download(p, new_client):
    ann, bob, cat = new_client(), new_client(), new_client()
    for c, who in ((ann, "ann"), (bob, "bob"), (cat, "cat")):
        assert c.login(who, f"{who}-secret-1") == 200
    status, info, _ = _upload(ann, "scan 扫描.png", PNG)
    assert status == 201, info
    assert (
        info["size"] == len(PNG) and info["type"] == "image/png" and info["name"] == "scan 扫描.png"
    )
    status, doc, _ = ann.post("/api/v1/records/doc", {"title": "A", "scan": info["id"]})
    assert status == 201, doc
    status, data, headers = ann.get(info["url"])
    assert status == 200 and data == PNG
    assert headers["Content-Disposition"].startswith("attachment;")
    assert "UTF-8''scan%20%E6%89%AB%E6%8F%8F.png" in headers["Content-Disposition"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Content-Type"] == "image/png"
    assert "sandbox" in headers["Content-Security-Policy"]
    # a teammate reads the record and so the file; another team's rep gets nothing
    assert bob.get(info["url"])[0] == 200
    status, body, _ = cat.get(info["url"])
    assert status == 404 and body["status"] == 404


def test_an_unattached_file_is_only_for_its_uploader(p, new_client):
    ann, bob = new_client(), new_client()
    ann.login("ann", "ann-secret-1")
    bob.login("bob", "bob-secret-1")
    status, info, _ = _upload(ann, "note.pdf", PDF, query="")
    assert status == 201
    assert ann.get(info["url"])[0] == 200
    assert bob.get(info["url"])[0] == 404


def test_a_session_upload_needs_the_csrf_token(p, client):
    client.login("ann", "ann-secret-1")
    client.csrf = None
    status, body, _ = _upload(client, "scan.png", PNG)
    assert status == 403 and "CSRF" in body["detail"]


def test_too_large_and_refused_types_are_located_problems(p, client):
    client.login("ann", "ann-secret-1")
    status, body, headers = _upload(client, "big.png", PNG + bytes(5000))
    assert status == 413 and headers["Content-Type"].startswith("application/problem+json")
    assert body["errors"][0]["field"] == "file"
    status, body, _ = _upload(client, "cat.png", EXE)
    assert status == 415 and body["errors"][0]["field"] == "file"
    status, body, _ = _upload(client, "words.txt", b"hello")
    assert status == 415


def test_a_token_uploads_without_csrf(p, client):
    status, answer, _ = client.post(
        "/api/v1/auth/token", {"username": "ann", "password": "ann-secret-1"}
    )
    client.token = answer["token"]
    status, info, _ = _upload(client, "note.pdf", PDF, query="")
    assert status == 201
    assert client.get(info["url"])[1] == PDF


def test_a_list_cell_shows_rich_texts_words_without_markup():
    from web.ui.lists import _rich_words

    cell = _rich_words(
        "<p><b>Tom &amp; Jerry</b></p><ul><li>one</li><li>two<script>x()</script></li></ul>"
    )
    assert cell == "Tom & Jerry one two"
