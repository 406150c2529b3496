"""A phone saved through the API as typed (the form page posts to the same endpoint)
still lines up with an imported one for duplicate detection: the import normalises both
sides when it compares. Cleansing on every write was measured and left (see
engine.forms.builtin_types.Email and Phone)."""

from __future__ import annotations

import uuid

from tests.crm.test_http import signed_in
from tests.crm.test_import_duplicates import upload


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
