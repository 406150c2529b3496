"""The customer's average CSAT (平均满意度) follows its survey answers (CRM.md, Account fields).

flows/survey_answered.yaml sets ``csat_avg`` with the ``update_related`` node's
``summarize``: the average is counted again from the stored answers, so a
corrected answer replaces the old one instead of being counted twice.
"""

from __future__ import annotations

from decimal import Decimal


def answer(crm, account_id: int, csat: int | None, nps: int | None = 9) -> dict:
    made = crm.records("survey_response").create({"account": account_id, "csat": csat, "nps": nps})
    crm.jobs.run_due()
    return made


def average(crm, account_id: int) -> Decimal | None:
    crm.jobs.run_due()
    value = crm.records("account").get(account_id)["csat_avg"]
    return None if value is None else Decimal(str(value))


def test_the_average_follows_every_answer_and_a_correction(crm):
    account = crm.records("account").create({"name": "满意度均值测试有限公司"})
    assert average(crm, account["id"]) is None
    first = answer(crm, account["id"], 5)
    assert average(crm, account["id"]) == Decimal("5")
    answer(crm, account["id"], 4)
    answer(crm, account["id"], 2)
    assert average(crm, account["id"]) == Decimal("3.67")
    # An NPS-only answer does not pull the CSAT average down.
    answer(crm, account["id"], None, nps=3)
    assert average(crm, account["id"]) == Decimal("3.67")
    # A corrected answer replaces the old figure: (3 + 4 + 2) / 3.
    crm.records("survey_response").update(first["id"], {"csat": 3})
    assert average(crm, account["id"]) == Decimal("3")
    assert crm.records("account").get(account["id"])["csat_last"] == 3


def test_answers_of_another_customer_do_not_count(crm):
    one = crm.records("account").create({"name": "均值隔离甲有限公司"})
    two = crm.records("account").create({"name": "均值隔离乙有限公司"})
    answer(crm, one["id"], 1)
    answer(crm, two["id"], 5)
    assert (average(crm, one["id"]), average(crm, two["id"])) == (Decimal("1"), Decimal("5"))
