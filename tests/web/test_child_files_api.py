"""File fields inside child tables: uploaded with the field's limits, attached to the parent
record by its save, readable through the parent, deleted when their row goes."""

from __future__ import annotations

import copy

import pytest

from tests.floor_defs import save
from tests.test_files import EXE, PDF, PERMISSIONS, PNG
from tests.web.test_import_api import multipart

EXPENSE = {
    "name": "doc",
    "label": "Expense claim",
    "title_field": "title",
    "schema": {
        "type": "object",
        "properties": {
            "title": {"type": "string", "maxLength": 100},
            "lines": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "amount": {"type": "number"},
                        "receipt": {"type": "string", "x-type": "file",
                                    "x-accept": ["image/*", ".pdf"], "x-max-size": 1000},
                    },
                },
            },
        },
    },
}  # fmt: skip
QUERY = "?entity=doc&field=lines.receipt"


@pytest.fixture
def p(platform):
    save(platform, copy.deepcopy(EXPENSE))
    platform.meta.save("permissions", "docs", PERMISSIONS)
    platform.users.add("ann", password="ann-secret-1", roles=["rep"], team="east")
    platform.users.add("cat", password="cat-secret-1", roles=["rep"], team="west")
    return platform


def _client(new_client, who):
    c = new_client()
    assert c.login(who, f"{who}-secret-1") == 200
    return c


def _upload(client, name, content, query=QUERY):
    body, headers = multipart(name, content)
    return client.post("/api/v1/files" + query, raw=body, headers=headers)


def test_a_row_file_is_uploaded_saved_with_the_parent_and_read_through_it(p, new_client):
    ann, cat = _client(new_client, "ann"), _client(new_client, "cat")
    status, png, _ = _upload(ann, "taxi.png", PNG)
    assert status == 201, png
    status, pdf, _ = _upload(ann, "hotel.pdf", PDF)
    assert status == 201, pdf
    lines = [{"amount": 12, "receipt": png["id"]}, {"amount": 90, "receipt": pdf["id"]}]
    status, doc, _ = ann.post("/api/v1/records/doc", {"title": "Trip", "lines": lines})
    assert status == 201, doc
    assert [r["receipt"] for r in doc["lines"]] == [png["id"], pdf["id"]]
    info = p.files.info(png["id"], "ann")
    assert (info["entity"], info["record_id"], info["field"]) == ("doc", doc["id"], "lines.receipt")
    assert ann.get(png["url"])[1] == PNG
    assert cat.get(png["url"])[0] == 404  # another team's rep cannot read the record

    # dropping a row deletes its file; the other row's file stays
    status, doc, _ = ann.patch(
        f"/api/v1/records/doc/{doc['id']}",
        {"lines": [doc["lines"][1]]},
        headers={"If-Match": '"1"'},
    )
    assert status == 200, doc
    assert ann.get(png["url"])[0] == 404 and ann.get(pdf["url"])[0] == 200


def test_the_row_fields_limits_apply_to_size_and_type(p, new_client):
    ann = _client(new_client, "ann")
    status, problem, _ = _upload(ann, "big.png", PNG + bytes(2000))
    assert status == 413 and problem["errors"][0]["field"] == "file"
    status, problem, _ = _upload(ann, "setup.exe", EXE)
    assert status == 415
    status, problem, _ = _upload(ann, "a.png", PNG, query="?entity=doc&field=lines.amount")
    assert status == 422 and "no file field" in problem["detail"]


def test_a_file_someone_else_uploaded_cannot_be_put_in_a_row(p, new_client):
    ann, cat = _client(new_client, "ann"), _client(new_client, "cat")
    theirs = _upload(cat, "x.png", PNG)[1]
    status, problem, _ = ann.post(
        "/api/v1/records/doc", {"title": "T", "lines": [{"amount": 1, "receipt": theirs["id"]}]}
    )
    assert status == 422 and problem["errors"][0]["field"] == "lines.receipt"
