"""CRM.md's import step over HTTP: a lead file with duplicates is cleansed, and its duplicates
flagged or merged into the leads already there (CRM.md, Marketing and Duplicates).

The same e-mail or the same phone is a duplicate; so is the same normalised company
(有限公司, full-width letters and case ignored) with the same person. ``policy=flag``
creates the row with ``duplicate_of`` pointing at the original and reports it for
review; ``policy=update`` merges the row's non-empty values into the original.
"""

from __future__ import annotations

import csv
import io
import uuid
from typing import Any

from tests.crm.test_http import signed_in

HEADER = ["company", "person_name", "phone", "email", "region", "industry", "source"]


def upload(client: Any, rows: list[list[str]], policy: str) -> dict[str, Any]:
    buf = io.StringIO()
    csv.writer(buf).writerows([HEADER, *rows])
    boundary = uuid.uuid4().hex
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="policy"\r\n\r\n{policy}\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="leads.csv"\r\n'
            "Content-Type: text/csv\r\n\r\n"
        ).encode()
        + buf.getvalue().encode("utf-8")
        + f"\r\n--{boundary}--\r\n".encode()
    )
    status, answer, _ = client.post(
        "/api/v1/import/lead",
        raw=body,
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    assert status == 200, answer
    return answer


def leads(crm, company_part: str) -> list[dict[str, Any]]:
    return [r for r in crm.records("lead").list(limit=None) if company_part in (r["company"] or "")]


def test_an_imported_file_is_cleansed_and_its_duplicates_flagged_for_review(crm, crm_server):
    marketing = signed_in(crm_server, "xu_jing")
    tag = uuid.uuid4().hex[:6]
    original = crm.records("lead").create(
        {
            "company": f"杭州澄{tag}科技有限公司",
            "person_name": "周明",
            "phone": "0571-8888 6666",
            "email": f"zhouming@cheng{tag}.cn",
        }
    )
    answer = upload(
        marketing,
        [
            # the same e-mail, the domain in capitals and spaces around it
            [
                f"杭州澄{tag}科技",
                "周明",
                "",
                f"  zhouming@CHENG{tag}.CN ",
                "east_china",
                "it",
                "import",
            ],
            # the same phone written another way (no E.164: +86 would not match)
            [f"澄{tag}集团", "王芳", "(0571) 8888-6666", "", "east_china", "it", "import"],
            # the same company (full-width letters, no 有限公司) and the same person
            [f"杭州澄{tag}科技", "周明", "", "", "east_china", "it", "import"],
            # two new rows that repeat each other inside the file
            [
                f"宁波新{tag}制造",
                "李强",
                "13900001111",
                "",
                "east_china",
                "manufacturing",
                "import",
            ],
            [f"宁波新{tag}制造有限公司", "李强", "139 0000 1111", "", "east_china", "it", "import"],
        ],
        "flag",
    )
    assert answer["created"] == 5 and answer["rejected"] == 0, answer
    flagged = {d["row"]: d for d in answer["duplicates"]}
    assert set(flagged) == {2, 3, 4, 6}, answer["duplicates"]
    made = leads(crm, tag)
    by_row = sorted(made, key=lambda r: r["id"])
    assert by_row[0]["id"] == original["id"]
    # Cleansed: the e-mail trimmed and lower-cased, phones in E.164.
    assert by_row[1]["email"] == f"zhouming@cheng{tag}.cn"
    assert by_row[2]["phone"] == "+8657188886666"
    # Flagged for review: each duplicate points at the lead it repeats.
    assert [r["duplicate_of"] for r in by_row[1:4]] == [original["id"]] * 3
    assert by_row[4]["duplicate_of"] is None and by_row[5]["duplicate_of"] == by_row[4]["id"]
    # The rules acted on every imported row (scored, graded), as on a user's input.
    assert all(r["grade"] in ("hot", "warm", "cold") for r in by_row[1:])


def test_a_duplicate_row_is_merged_into_the_existing_lead(crm, crm_server):
    marketing = signed_in(crm_server, "ma_lan")
    tag = uuid.uuid4().hex[:6]
    original = crm.records("lead").create(
        {"company": f"苏州合{tag}电子有限公司", "person_name": "陈静", "email": f"cj@he{tag}.cn"}
    )
    answer = upload(
        marketing,
        [[f"苏州合{tag}电子", "陈静", "0512-6666 1234", f"CJ@HE{tag}.CN", "east_china", "it", ""]],
        "update",
    )
    assert (answer["created"], answer["updated"]) == (0, 1), answer
    [lead] = leads(crm, tag)
    assert lead["id"] == original["id"]
    assert lead["phone"] == "+8651266661234" and lead["region"] == "east_china"
    assert crm.records("lead").history(lead["id"]), "the merge is audited"
