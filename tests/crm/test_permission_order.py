"""Permission before validation, over real HTTP: a user who may not write an entity at all
hears 403 naming the user, the entity and the action, never the entity's field list.

QA found finance's ``PATCH /api/v1/records/order/1`` with an unknown field answering 422
with every order field: validation ran before the permission check.
"""

from __future__ import annotations

import pytest

from tests.crm.test_http import signed_in

UNKNOWN = {"no_such_field": 1}


def _refused(status: int, answer: dict, action: str) -> None:
    assert status == 403, answer
    text = str(answer)
    assert "qian_hui" in text and "order" in text and action in text
    assert "no_such_field" not in text and "order_no" not in text


@pytest.fixture(scope="module")
def finance(crm_server):
    return signed_in(crm_server, "qian_hui")


def test_update_is_refused_before_validation(finance):
    status, answer, _ = finance.patch("/api/v1/records/order/1", UNKNOWN)
    _refused(status, answer, "update")


def test_create_is_refused_before_validation(finance):
    status, answer, _ = finance.post("/api/v1/records/order", UNKNOWN)
    _refused(status, answer, "create")


def test_delete_is_refused_before_the_record_is_looked_up(finance):
    status, answer, _ = finance.delete("/api/v1/records/order/1")
    _refused(status, answer, "delete")


@pytest.mark.parametrize("action", ["update", "assign", "delete"])
def test_bulk_is_refused_before_validation(finance, action):
    values = {"owner": "qian_hui"} if action == "assign" else UNKNOWN
    status, answer, _ = finance.post(
        "/api/v1/records/order/bulk", {"action": action, "ids": [1, 2], "values": values}
    )
    _refused(status, answer, "delete" if action == "delete" else "update")


def test_finance_still_writes_payments_and_gets_validation_there(finance):
    """Where the user may write, validation answers as before (422 naming the field)."""
    status, answer, _ = finance.post("/api/v1/records/payment", UNKNOWN)
    assert status == 422 and "no_such_field" in str(answer), answer
