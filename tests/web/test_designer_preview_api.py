"""The designer's live preview, renames and section conditions over real HTTP.

The preview's logic is compiled from the draft (not the saved entity), a rename keeps the
column and its data, and a section hidden by its condition does not ask for its fields.
"""

from __future__ import annotations

import base64
import copy
import datetime as dt
import json
import zlib

import pytest

from tests.floor_defs import ACCOUNT, save


@pytest.fixture
def p(platform):
    save(platform, ACCOUNT)
    platform.users.add("root", password="root-secret", roles=["admin"])
    platform.users.add("ann", password="ann-secret-1", roles=[])
    return platform


def _packed(draft: dict) -> str:
    """What the designer puts in ``?d=``: base64url of raw-deflated JSON."""
    deflate = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    raw = deflate.compress(json.dumps(draft).encode()) + deflate.flush()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


VISIT = {
    "schema": {
        "type": "object",
        "required": ["subject"],
        "properties": {
            "subject": {"type": "string"},
            "kind": {"type": "string", "enum": ["call", "visit"]},
            "notes": {"type": "string", "x-visible-when": "kind == 'visit'"},
            "shout": {"type": "string", "x-computed": "upper(subject)"},
            "address": {"type": "string"},
        },
    },
    "layout": [
        {"section": "Main", "fields": ["subject", "kind", "notes", "shout"]},
        {"section": "On site", "x-visible-when": "kind == 'visit'", "fields": ["address"]},
    ],
}


def test_the_preview_script_is_compiled_from_the_draft(p, client, new_client):
    client.login("root", "root-secret")
    status, body, headers = client.get(f"/build/entities/site_visit/preview.js?d={_packed(VISIT)}")
    assert status == 200 and headers["Content-Type"].startswith("text/javascript")
    script = body.decode()
    assert 'TesseraForms || {})["site_visit"]' in script
    for part in ('["notes"]:', '["shout"]:', 'sections: {\n    ["1"]:'):
        assert part in script  # fields of an entity that does not exist yet
    assert '"skipped": []' in script or "skipped: []" in script
    assert "site_visit" not in p.meta.names("entity")  # nothing saved

    assert client.get("/build/entities/site_visit/preview.js?d=not-a-draft")[0] == 400
    ann = new_client()
    ann.login("ann", "ann-secret-1")
    assert ann.get(f"/build/entities/site_visit/preview.js?d={_packed(VISIT)}")[0] == 403
    assert new_client().get(f"/build/entities/site_visit/preview.js?d={_packed(VISIT)}")[0] in (
        401,
        302,
    )


def test_the_preview_numbers_its_sections_for_their_conditions(p, client):
    client.login("root", "root-secret")
    status, html, _h = client.post("/build/entities/site_visit/preview", {"definition": VISIT})
    assert status == 200
    assert b'id="preview-form"' in html
    assert b'data-section="0"' in html and b'data-section="1"' in html


def test_a_rename_keeps_the_column_and_its_data(p, client):
    client.login("root", "root-secret")
    first = p.records("account").create({"name": "Acme", "industry": "tech"})
    _s, found, _h = client.get("/api/v1/meta/entity/account")
    renamed = copy.deepcopy(found["definition"])
    props = renamed["schema"]["properties"]
    props["sector"] = {**props.pop("industry"), "x-renamed-from": "industry"}

    status, plan, _ = client.post("/api/v1/meta/entity/account/plan", {"definition": renamed})
    assert status == 200 and plan["refused"] is False
    steps = [(s["action"], s["field"]) for s in plan["steps"]]
    assert ("rename", "sector") in steps
    assert not any(a in ("add_column", "soft_remove") for a, _f in steps)

    status, saved, _ = client.call(
        "PUT", "/api/v1/meta/entity/account", {"definition": renamed, "version": found["version"]}
    )
    assert status == 200, saved
    status, record, _ = client.get(f"/api/v1/records/account/{first['id']}")
    assert status == 200 and record["sector"] == "tech" and "industry" not in record
    model = p.entities.get("account").model
    assert "industry" not in model.fields and model.fields["sector"].column == "industry"


def _site_visit(p) -> None:
    save(p, {"name": "site_visit", **copy.deepcopy(VISIT)})
    definition = copy.deepcopy(p.meta.get("entity", "site_visit")["definition"])
    definition["schema"]["required"] = ["subject", "address"]
    p.meta.save("entity", "site_visit", definition, user="admin")


def test_a_hidden_sections_fields_are_not_required(p, client):
    _site_visit(p)
    client.login("root", "root-secret")
    status, made, _ = client.post("/api/v1/records/site_visit", {"subject": "a", "kind": "call"})
    assert status == 201, made  # "On site" is hidden for a call: its address is not asked for
    status, problem, _ = client.post(
        "/api/v1/records/site_visit", {"subject": "b", "kind": "visit"}
    )
    assert status == 422
    assert [e["field"] for e in problem["errors"]] == ["address"]
    status, made, _ = client.post(
        "/api/v1/records/site_visit", {"subject": "c", "kind": "visit", "address": "1 Main St"}
    )
    assert status == 201


def test_the_record_form_carries_the_section_conditions(p, client):
    _site_visit(p)
    client.login("root", "root-secret")
    status, html, _h = client.get("/app/site_visit/new")
    assert status == 200 and b'data-section="1"' in html
    status, script, _h = client.get("/app/site_visit/form.js")
    assert status == 200 and b'sections: {\n    ["1"]:' in script


def test_a_section_condition_that_does_not_check_is_refused_at_its_place(p, client):
    client.login("root", "root-secret")
    _s, found, _h = client.get("/api/v1/meta/entity/account")
    broken = copy.deepcopy(found["definition"])
    broken["layout"] = [{"section": "Main", "fields": ["name"]},
                        {"section": "Money", "x-visible-when": "revenu > 5", "fields": ["revenue"]}]  # fmt: skip
    status, problem, _ = client.post("/api/v1/meta/entity/account/plan", {"definition": broken})
    assert status == 422, problem
    assert any(e.get("field") == "layout[1].x-visible-when" for e in problem["errors"]), problem


def test_a_refused_narrowing_names_the_record_ids_to_link(p, client):
    client.login("root", "root-secret")
    acme = p.records("account").create({"name": "Acme Holdings"})
    _s, found, _h = client.get("/api/v1/meta/entity/account")
    narrowed = copy.deepcopy(found["definition"])
    narrowed["schema"]["properties"]["name"]["maxLength"] = 3
    status, plan, _ = client.post("/api/v1/meta/entity/account/plan", {"definition": narrowed})
    assert status == 200 and plan["refused"] is True
    (refusal,) = [s for s in plan["steps"] if s["action"] == "refuse"]
    assert refusal["field"] == "name" and acme["id"] in refusal["ids"]


def test_a_reference_to_a_missing_entity_is_refused_at_its_field(p, client):
    client.login("root", "root-secret")
    _s, found, _h = client.get("/api/v1/meta/entity/account")
    broken = copy.deepcopy(found["definition"])
    broken["schema"]["properties"]["parent"] = {"type": "integer", "x-ref": "acount"}
    status, problem, _ = client.post("/api/v1/meta/entity/account/plan", {"definition": broken})
    assert status == 422
    (error,) = [e for e in problem["errors"] if e.get("field") == "schema.properties.parent.x-ref"]
    assert "acount" in error["message"]
    assert "parent" not in p.entities.get("account").model.fields  # nothing saved


def _large_draft(n: int = 300) -> dict:
    """A draft whose packed URL would pass gunicorn's 4 KB request line: many fields with
    conditions that do not repeat (so deflate cannot shrink them away)."""
    draft = copy.deepcopy(VISIT)
    props = draft["schema"]["properties"]
    for i in range(n):
        props[f"extra_{i}_{i * 7919 % 10007}"] = {
            "type": "string",
            "x-visible-when": f"kind == 'visit' and subject != 'probe {i * 104729 % 99991}'",
        }
    draft["layout"].append(
        {"section": "More", "fields": [k for k in props if k.startswith("extra")]}
    )
    return draft


def test_a_large_draft_is_posted_and_its_script_loaded_by_a_short_id(p, client, new_client):
    draft = _large_draft()
    assert len(f"/build/entities/site_visit/preview.js?d={_packed(draft)}") > 4096
    client.login("root", "root-secret")
    status, answer, _ = client.post(
        "/build/entities/site_visit/preview-logic", {"definition": draft}
    )
    assert status == 200, answer
    url = f"/build/entities/site_visit/preview.js?id={answer['id']}"
    assert len(url) < 200
    status, body, headers = client.get(url)
    assert status == 200 and headers["Content-Type"].startswith("text/javascript")
    assert '["extra_299_' in body.decode() and "Cache-Control" in headers
    # for its author only, for that entity only, and only for a while
    other = new_client()
    p.users.add("rooty", password="rooty-secret", roles=["admin"])
    other.login("rooty", "rooty-secret")
    assert other.get(url)[0] == 404
    assert client.get(f"/build/entities/account/preview.js?id={answer['id']}")[0] == 404
    p.clock.set(p.clock.now() + dt.timedelta(minutes=11))
    try:
        assert client.get(url)[0] == 404
    finally:
        p.clock.set(None)


def test_posting_a_preview_needs_the_customize_permission(p, client, new_client):
    ann = new_client()
    ann.login("ann", "ann-secret-1")
    assert ann.post("/build/entities/site_visit/preview-logic", {"definition": VISIT})[0] == 403
    client.login("root", "root-secret")
    assert client.post("/build/entities/site_visit/preview-logic", {"definition": 3})[0] == 400
    broken = {"schema": 5}
    assert client.post("/build/entities/site_visit/preview-logic", {"definition": broken})[0] == 400


def test_the_record_page_hides_a_section_whose_condition_does_not_hold(p, client):
    _site_visit(p)
    client.login("root", "root-secret")
    call = client.post("/api/v1/records/site_visit", {"subject": "a", "kind": "call"})[1]
    visit = client.post(
        "/api/v1/records/site_visit", {"subject": "b", "kind": "visit", "address": "1 Main St"}
    )[1]
    status, html, _h = client.get(f"/app/site_visit/{call['id']}")
    assert status == 200 and b'data-section="0"' in html and b'data-section="1"' not in html
    status, html, _h = client.get(f"/app/site_visit/{visit['id']}")
    assert status == 200 and b'data-section="1"' in html and b"1 Main St" in html
