"""The import page and its API: preview, the flagged duplicates' review, permissions, CSRF."""

from __future__ import annotations

import pytest

from tests.floor_defs import save
from tests.test_import import LEAD
from tests.web.test_import_api import csv_bytes, multipart

PAGE = {"Accept": "text/html"}

PERMISSIONS = {
    "roles": {"clerk": {"label": "Clerk"}, "rep": {"label": "Rep"}, "lead_boss": {"label": "Boss"}},
    "permissions": [
        {"role": "clerk", "entity": "lead", "create": True, "read": "all", "update": "all",
         "import": True},
        {"role": "rep", "entity": "lead", "create": True, "read": "all", "update": "own",
         "import": "none"},
        {"role": "lead_boss", "entity": "lead", "create": True, "read": "all", "update": "all",
         "delete": "all", "import": True},
    ],
}  # fmt: skip

ROWS = [
    ["Company", "Name", "E-mail", "Phone", "Remarks"],
    ["  Acme Co., Ltd. ", "Ann", "ann@ACME.example", "+86 (21) 5555-0101", "call back"],
    ["Beta Ltd", "Bo", "bo@beta.example", "", "x"],
    ["", "Nobody", "no@where.example", "", "bad: no company"],
]


@pytest.fixture
def p(platform):
    save(platform, LEAD)
    platform.meta.save("permissions", "imp", PERMISSIONS)
    platform.users.add("clara", password="clara-secret-1", roles=["clerk"], team="east")
    platform.users.add("rick", password="rick-secret-1", roles=["rep"], team="east")
    platform.users.add("bea", password="bea-secret-1", roles=["lead_boss"], team="east")
    return platform


def _preview(client, rows=ROWS, name="leads.csv", query=""):
    body, headers = multipart(name, csv_bytes(rows))
    return client.post("/api/v1/import/lead/preview" + query, raw=body, headers=headers)


def _flag_run(client, rows):
    body, headers = multipart("leads.csv", csv_bytes(rows))
    status, answer, _ = client.post(
        "/api/v1/import/lead?policy=flag&restart=1", raw=body, headers=headers
    )
    assert status == 200, answer
    return answer


def test_the_page_and_the_list_link_follow_the_import_permission(p, client, new_client):
    status, html, _ = client.get("/app/lead/import", headers=PAGE)  # redirected to sign in
    assert b"imports.js" not in html and b'name="password"' in html
    client.login("clara", "clara-secret-1")
    status, html, _ = client.get("/app/lead/import", headers=PAGE)
    assert status == 200 and b'id="import-meta"' in html and b"imports.js" in html
    status, html, _ = client.get("/app/lead", headers=PAGE)
    assert b'id="import-link"' in html
    rick = new_client()
    rick.login("rick", "rick-secret-1")
    status, _, _ = rick.get("/app/lead/import", headers=PAGE)
    assert status == 403
    status, html, _ = rick.get("/app/lead", headers=PAGE)
    assert status == 200 and b'id="import-link"' not in html
    assert client.get("/app/nothing/import", headers=PAGE)[0] == 404


def test_preview_maps_by_label_cleanses_the_sample_and_stores_nothing(p, client):
    client.login("clara", "clara-secret-1")
    status, answer, _ = _preview(client)
    assert status == 200, answer
    fields = {c["name"]: c["field"] for c in answer["columns"]}
    assert fields == {"Company": "company", "Name": "person_name", "E-mail": "email",
                      "Phone": "phone", "Remarks": None}  # fmt: skip
    remarks = answer["columns"][4]
    assert remarks["note"] and not remarks["ignored"]
    first = answer["sample"][0]
    assert first["row"] == 2
    assert first["values"]["company"] == "Acme Co., Ltd."
    assert first["values"]["email"] == "ann@acme.example"
    assert first["values"]["phone"] == "+862155550101"
    assert "duplicate_of" in {f["key"] for f in answer["fields"]}
    assert answer["flag_field"] == "duplicate_of"
    assert p.records("lead").count() == 0


def test_preview_takes_an_edited_mapping_and_names_a_bad_one(p, client):
    client.login("clara", "clara-secret-1")
    status, answer, _ = _preview(client, query="?map=Phone%3D-&map=Remarks%3Dcompany_size")
    assert status == 200, answer
    by_name = {c["name"]: c for c in answer["columns"]}
    assert by_name["Phone"]["field"] is None and by_name["Phone"]["ignored"]
    assert by_name["Remarks"]["field"] == "company_size"
    assert "phone" not in answer["sample"][0]["values"]
    status, answer, _ = _preview(client, query="?map=Phone%3Dscore")
    assert status == 422
    assert answer["errors"][0]["field"] == "Phone" and "score" in answer["errors"][0]["message"]


def test_preview_refuses_bad_files_a_user_without_import_and_a_missing_csrf_token(
    p, client, new_client
):
    client.login("clara", "clara-secret-1")
    status, answer, _ = _preview(client, name="leads.exe")
    assert status == 422 and answer["errors"][0]["field"] == "file"
    body, headers = multipart("empty.csv", b"")
    status, answer, _ = client.post("/api/v1/import/lead/preview", raw=body, headers=headers)
    assert status == 422 and answer["errors"][0]["field"] == "file"
    status, answer, _ = _preview(client, rows=[], name="none.csv")
    assert status == 422
    rick = new_client()
    rick.login("rick", "rick-secret-1")
    assert _preview(rick)[0] == 403
    forged = new_client()
    forged.login("clara", "clara-secret-1")
    forged.csrf = None
    assert _preview(forged)[0] == 403


def test_a_flagged_duplicate_is_shown_beside_its_original_and_merged(p, client):
    original = p.records("lead").create(
        {"company": "ACME Ltd", "person_name": "Ann", "email": "ann@acme.example"}
    )
    client.login("bea", "bea-secret-1")
    answer = _flag_run(client, ROWS)
    assert (answer["created"], answer["flagged"], answer["rejected"]) == (2, 1, 1)
    dup = next(d for d in answer["duplicates"] if d["action"] == "flagged")
    assert dup["record_id"] == original["id"] and dup["created_id"]
    status, pair, _ = client.get(f"/api/v1/import/lead/duplicates/{dup['created_id']}")
    assert status == 200, pair
    assert pair["original"]["id"] == original["id"]
    assert pair["record"]["duplicate_of"] == original["id"]
    fields = list(answer["mapping"].values())
    status, done, _ = client.post(
        f"/api/v1/import/lead/duplicates/{dup['created_id']}",
        {"action": "merge", "fields": fields},
    )
    assert status == 200, done
    assert done["changed"] == ["phone"]  # "Acme Co., Ltd." is a variant of "ACME Ltd"
    merged = p.records("lead").get(original["id"])
    assert merged["company"] == "ACME Ltd" and merged["phone"] == "+862155550101"
    assert p.records("lead").count(where=f"id == {dup['created_id']}") == 0
    status, _, _ = client.post(
        f"/api/v1/import/lead/duplicates/{dup['created_id']}", {"action": "merge"}
    )
    assert status == 404


NOTE = {
    "name": "note",
    "label": {"en": "Note", "zh-CN": "备注"},
    "title_field": "text",
    "schema": {
        "type": "object",
        "properties": {
            "text": {"type": "string", "x-label": {"en": "Text", "zh-CN": "内容"}},
            "lead": {
                "type": "integer",
                "x-ref": "lead",
                "x-label": {"en": "Lead", "zh-CN": "线索"},
            },
        },
    },
}


def test_a_merge_moves_the_records_that_refer_to_the_duplicate(p, client, new_client):
    save(p, NOTE)
    p.meta.save(
        "permissions",
        "notes",
        {"permissions": [{"role": "lead_boss", "entity": "note", "create": True, "read": "all",
                          "update": "all"},
                         {"role": "clerk", "entity": "note", "read": "all"}]},
    )  # fmt: skip
    original = p.records("lead").create(
        {"company": "ACME Ltd", "person_name": "Ann", "email": "ann@acme.example"}
    )
    client.login("bea", "bea-secret-1")
    dup = next(d for d in _flag_run(client, ROWS)["duplicates"] if d["action"] == "flagged")
    note = p.records("note").create({"text": "called", "lead": dup["created_id"]})
    other = p.records("note").create({"text": "elsewhere", "lead": original["id"]})
    url = f"/api/v1/import/lead/duplicates/{dup['created_id']}"

    # a clerk may merge leads but not update notes: the whole merge is refused
    clerk = new_client()
    clerk.login("clara", "clara-secret-1")
    status, answer, _ = clerk.post(url, {"action": "merge"})
    assert status == 403 and "note" in str(answer), answer
    assert p.records("lead").count(where=f"id == {dup['created_id']}") == 1
    assert p.records("note").get(note["id"])["lead"] == dup["created_id"]

    status, done, _ = client.post(url, {"action": "merge"})
    assert status == 200, done
    assert done["moved"] == {"note.lead": [note["id"]]}
    assert p.records("note").get(note["id"])["lead"] == original["id"]
    assert p.records("note").get(other["id"])["lead"] == original["id"]
    assert p.records("lead").count(where=f"id == {dup['created_id']}") == 0
    trail = p.records("note").history(note["id"])
    assert trail[-1]["user"] == "bea" and "lead" in str(trail[-1]), trail[-1]


def test_create_anyway_keeps_it_and_skip_deletes_it(p, client):
    p.records("lead").create(
        {"company": "ACME Ltd", "person_name": "Ann", "email": "ann@acme.example"}
    )
    p.records("lead").create({"company": "Beta", "person_name": "Bo", "email": "bo@beta.example"})
    client.login("bea", "bea-secret-1")
    answer = _flag_run(client, ROWS)
    first, second = [d["created_id"] for d in answer["duplicates"] if d["action"] == "flagged"]
    status, done, _ = client.post(f"/api/v1/import/lead/duplicates/{first}", {"action": "create"})
    assert status == 200 and done["record"]["duplicate_of"] is None
    status, problem, _ = client.get(f"/api/v1/import/lead/duplicates/{first}")
    assert status == 409 and problem["errors"][0]["field"] == "duplicate_of"
    status, done, _ = client.post(f"/api/v1/import/lead/duplicates/{second}", {"action": "skip"})
    assert status == 200
    assert p.records("lead").count() == 3  # two originals and the one kept


def test_settling_is_checked_and_all_or_nothing(p, client, new_client):
    p.records("lead").create(
        {"company": "ACME Ltd", "person_name": "Ann", "email": "ann@acme.example"}
    )
    client.login("clara", "clara-secret-1")  # may import and update, not delete
    answer = _flag_run(client, ROWS)
    flagged = next(d for d in answer["duplicates"] if d["action"] == "flagged")["created_id"]
    url = f"/api/v1/import/lead/duplicates/{flagged}"
    status, problem, _ = client.post(url, {"action": "explode"})
    assert status == 422 and problem["errors"][0]["field"] == "action"
    status, problem, _ = client.post(url, {"action": "create", "fields": ["score"]})
    assert status == 422 and problem["errors"][0]["field"] == "fields"
    status, problem, _ = client.post(url, {"action": "create", "fields": "company"})
    assert status == 422
    status, problem, _ = client.post(url, ["create"])
    assert status == 422 and problem["errors"][0]["field"] == "body"
    rick = new_client()
    rick.login("rick", "rick-secret-1")
    assert rick.get(url)[0] == 403
    assert rick.post(url, {"action": "create"})[0] == 403
    forged = new_client()
    forged.login("clara", "clara-secret-1")
    forged.csrf = None
    assert forged.post(url, {"action": "create"})[0] == 403
    assert p.records("lead").get(flagged)["duplicate_of"]
    # the importer settles her own flagged row without a general delete right
    status, _done, _ = client.post(url, {"action": "merge", "fields": ["company"]})
    assert status == 200
    assert p.records("lead").count(where='company == "ACME Ltd"') == 1


def test_an_unflagged_record_cannot_be_settled(p, client):
    plain = p.records("lead").create({"company": "Gamma"})
    client.login("bea", "bea-secret-1")
    status, _, _ = client.post(f"/api/v1/import/lead/duplicates/{plain['id']}", {"action": "skip"})
    assert status == 409
    assert p.records("lead").get(plain["id"])["company"] == "Gamma"


def test_a_column_left_out_on_the_page_is_not_imported(p, client):
    client.login("clara", "clara-secret-1")
    body, headers = multipart("leads.csv", csv_bytes(ROWS[:2]))
    status, answer, _ = client.post(
        "/api/v1/import/lead?map=Phone%3D-&map=Remarks%3D-", raw=body, headers=headers
    )
    assert status == 200, answer
    assert answer["created"] == 1 and "Phone" not in answer["mapping"]
    assert answer["unknown_columns"] == []  # left out on purpose: nothing to report
    (lead,) = p.records("lead").list()
    assert lead.get("phone") is None and lead["email"] == "ann@acme.example"
