"""CRM.md's cleansing beyond import: a lead saved through the API (the form page posts to
the same endpoint) stores the e-mail trimmed and lower-cased, and a phone saved as typed
still lines up with an imported one for duplicate detection (the import normalises both
sides). Phones are not normalised on every write: see engine.forms.builtin_types.Phone."""

from __future__ import annotations

import uuid

from tests.crm.test_http import signed_in
from tests.crm.test_import_duplicates import upload


def test_a_saved_lead_is_cleansed_as_an_import_is(crm, crm_server):
    admin = signed_in(crm_server, "admin")
    tag = uuid.uuid4().hex[:6]
    status, made, _ = admin.post(
        "/api/v1/records/lead",
        {
            "company": f"测{tag}公司",
            "person_name": "王五",
            "phone": " +86 138-0013-8000 ",
            "email": f" Foo@{tag}.Example.COM ",
        },
    )
    assert status == 201, made
    assert made["email"] == f"foo@{tag}.example.com"

    status, updated, _ = admin.patch(
        f"/api/v1/records/lead/{made['id']}", {"email": " Bar@Example.ORG"}
    )
    assert status == 200, updated
    assert updated["email"] == "bar@example.org"


def test_a_form_saved_phone_and_an_imported_one_are_one_duplicate(crm, crm_server):
    admin = signed_in(crm_server, "admin")
    tag = uuid.uuid4().hex[:6]
    phone = f"139{int(tag, 16) % 10**8:08d}"
    status, made, _ = admin.post(
        "/api/v1/records/lead", {"company": f"甲{tag}", "person_name": "甲", "phone": phone}
    )
    assert status == 201, made
    answer = upload(
        admin,
        [[f"乙{tag}", "乙", f"+86 {phone[:3]} {phone[3:7]} {phone[7:]}", "", "", "", ""]],
        "flag",
    )
    assert [d["row"] for d in answer["duplicates"]] == [2], answer
