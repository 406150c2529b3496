"""The importer settles their own import's duplicates without a general delete right.

QA: marketing (xu_jing, no delete on leads) imported leads, the import flagged a row as a
duplicate, and "Merge into existing" answered 403 "xu_jing may not delete lead records".
Someone else reviewing that row still needs delete.
"""

from __future__ import annotations

import uuid

import pytest

from tests.crm.test_http import signed_in
from tests.crm.test_import_duplicates import upload


def _flagged(crm, client, tag: str) -> tuple[int, int]:
    original = crm.records("lead").create(
        {"company": f"温州瓯{tag}科技有限公司", "person_name": "陈杰", "email": f"cj@ou{tag}.cn"}
    )
    row = [f"温州瓯{tag}科技", "陈杰", "", f"cj@ou{tag}.cn", "east_china", "it", "import"]
    answer = upload(client, [row], "flag")
    [dup] = answer["duplicates"]
    assert dup["created_id"], answer
    return dup["created_id"], original["id"]


@pytest.mark.parametrize("action", ["skip", "merge"])
def test_the_importer_settles_their_own_duplicate(crm, crm_server, action):
    marketing = signed_in(crm_server, "xu_jing")
    assert not crm.access("xu_jing").scopes("lead", "delete")
    flagged, original = _flagged(crm, marketing, uuid.uuid4().hex[:6])
    status, answer, _ = marketing.post(
        f"/api/v1/import/lead/duplicates/{flagged}", {"action": action}
    )
    assert status == 200, answer
    assert answer["original_id"] == original
    assert not crm.records("lead").list(where=f"id == {flagged}")


def test_someone_else_still_needs_delete(crm, crm_server):
    flagged, _ = _flagged(crm, signed_in(crm_server, "xu_jing"), uuid.uuid4().hex[:6])
    colleague = signed_in(crm_server, "ma_lan")  # marketing too: may import, may not delete
    status, answer, _ = colleague.post(
        f"/api/v1/import/lead/duplicates/{flagged}", {"action": "skip"}
    )
    assert status == 403 and "ma_lan" in str(answer), answer
    assert crm.records("lead").list(where=f"id == {flagged}")
