"""CRM.md's approvals and the signed-contract hand-over, end to end through HTTP and the services.

The flows are the bundle's own (apps/crm/flows/); the users come from the demo recipe.
Every step is taken by the user whose role the flow asks for.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from engine import ValidationError
from engine.flows.tables import flow_instances
from tests.crm.test_http import signed_in


def instances_of(p: Any, entity: str, record_id: int, flow: str) -> list[dict[str, Any]]:
    """The flow instances running or run on one record, oldest first."""
    with p.db.transaction(write=False) as conn:
        rows = conn.execute(
            select(flow_instances)
            .where(
                flow_instances.c.entity == entity,
                flow_instances.c.record_id == record_id,
                flow_instances.c.flow == flow,
            )
            .order_by(flow_instances.c.id)
        ).mappings()
        return [dict(r) for r in rows]


def only_instance(p: Any, entity: str, record_id: int, flow: str) -> dict[str, Any]:
    (found,) = instances_of(p, entity, record_id, flow)
    return p.flows.instance(found["id"])


def open_tasks(client: Any, instance_id: int) -> list[dict[str, Any]]:
    """The signed-in user's open tasks (GET /api/v1/tasks) of one instance."""
    status, answer, _ = client.get("/api/v1/tasks")
    assert status == 200, answer
    return [t for t in answer["items"] if t["instance_id"] == instance_id]


def decide(client: Any, instance_id: int, outcome: str) -> dict[str, Any]:
    """Complete the signed-in user's one open task of the instance over HTTP."""
    (task,) = open_tasks(client, instance_id)
    status, answer, _ = client.post(
        f"/api/v1/tasks/{task['id']}/complete", {"outcome": outcome, "comment": "ok"}
    )
    assert status == 200, answer
    return answer


@pytest.fixture(scope="module")
def account(crm) -> dict[str, Any]:
    return crm.records("account", user="wang_lei").create({"name": "苏州精工制造有限公司"})


# ---------------------------------------------------------------- opportunity over 500,000


def test_a_large_deal_waits_for_the_director_and_approval_moves_it_on(crm, crm_server, account):
    rep = signed_in(crm_server, "wang_lei")
    status, opp, _ = rep.post(
        "/api/v1/records/opportunity",
        {"name": "智能工厂 MES", "account": account["id"], "stage": "needs_analysis",
         "amount": 800000},
    )  # fmt: skip
    assert status == 201, opp
    assert opp["approval_level"] == "sales_director"
    assert instances_of(crm, "opportunity", opp["id"], "large_deal_approval") == []

    status, moved, _ = rep.patch(f"/api/v1/records/opportunity/{opp['id']}", {"stage": "proposal"})
    assert status == 200, moved
    inst = only_instance(crm, "opportunity", opp["id"], "large_deal_approval")
    assert inst["status"] == "running" and inst["started_by"] == "wang_lei"
    assert crm.records("opportunity").get(opp["id"])["approval_status"] == "pending"

    # The gate holds the stage until the director approves.
    status, refused, _ = rep.patch(
        f"/api/v1/records/opportunity/{opp['id']}", {"stage": "negotiation"}
    )
    assert status == 422, refused
    assert "sales director" in str(refused)
    status, _, _ = rep.patch(  # nor may the rep approve it himself
        f"/api/v1/records/opportunity/{opp['id']}", {"approval_status": "approved"}
    )
    assert status in (403, 422)
    assert open_tasks(signed_in(crm_server, "li_na"), inst["id"]) == []  # a manager cannot

    decide(signed_in(crm_server, "zhou_qiang"), inst["id"], "approve")
    done = crm.flows.instance(inst["id"])
    assert (done["status"], done["outcome"]) == ("completed", "approved")
    stored = crm.records("opportunity").get(opp["id"])
    assert (stored["stage"], stored["approval_status"]) == ("negotiation", "approved")


def test_a_rejected_large_deal_stays_at_proposal(crm, crm_server, account):
    rep = signed_in(crm_server, "wang_lei")
    status, opp, _ = rep.post(
        "/api/v1/records/opportunity",
        {"name": "集团ERP", "account": account["id"], "stage": "proposal", "amount": 1200000},
    )
    assert status == 201, opp
    inst = only_instance(crm, "opportunity", opp["id"], "large_deal_approval")
    decide(signed_in(crm_server, "zhou_qiang"), inst["id"], "reject")
    stored = crm.records("opportunity").get(opp["id"])
    assert (stored["stage"], stored["approval_status"]) == ("proposal", "rejected")
    assert crm.flows.instance(inst["id"])["outcome"] == "rejected"


def test_a_small_deal_needs_no_approval(crm, crm_server, account):
    rep = signed_in(crm_server, "wang_lei")
    _, opp, _ = rep.post(
        "/api/v1/records/opportunity",
        {"name": "CRM订阅", "account": account["id"], "stage": "proposal", "amount": 300000},
    )
    assert instances_of(crm, "opportunity", opp["id"], "large_deal_approval") == []
    status, moved, _ = rep.patch(
        f"/api/v1/records/opportunity/{opp['id']}", {"stage": "negotiation"}
    )
    assert status == 200 and moved["stage"] == "negotiation"


# ---------------------------------------------------------------- quote discounts


def make_quote(crm: Any, account: dict[str, Any], discount: float) -> dict[str, Any]:
    """A quote by wang_lei for one 90,000 BI licence with ``discount`` off the whole quote."""
    opp = crm.records("opportunity", user="wang_lei").create(
        {"name": "BI 驾驶舱", "account": account["id"], "stage": "proposal", "amount": 90000}
    )
    (bi,) = [p for p in crm.records("product").list(limit=None) if p["code"] == "SW-BI"]
    return crm.records("quote", user="wang_lei").create(
        {
            "opportunity": opp["id"],
            "account": account["id"],
            "discount": discount,
            "lines": [{"product": bi["id"], "quantity": 1, "unit_price": 90000}],
        }
    )


def test_a_15_percent_discount_goes_to_the_manager_only(crm, account):
    quote = make_quote(crm, account, 0.15)
    assert quote["approval_level"] == "sales_manager"
    inst = only_instance(crm, "quote", quote["id"], "quote_discount_approval")
    assert crm.records("quote").get(quote["id"])["approval_status"] == "pending"
    (task,) = crm.flows.tasks(instance=inst["id"])
    assert task["assignee"] == "li_na"  # wang_lei's manager

    crm.flows.complete(task["id"], "approve", user="li_na")
    done = crm.flows.instance(inst["id"])
    assert (done["status"], done["outcome"]) == ("completed", "approved")
    assert crm.flows.tasks(instance=inst["id"]) == []  # the director never saw it
    assert [t["role"] for t in done["tasks"]] == [None]
    assert crm.records("quote").get(quote["id"])["approval_status"] == "approved"
    sent = crm.records("quote", user="wang_lei").update(quote["id"], {"status": "sent"})
    assert sent["status"] == "sent"


def test_a_25_percent_discount_goes_to_the_manager_then_the_director(crm, account):
    quote = make_quote(crm, account, 0.25)
    assert quote["approval_level"] == "sales_director"
    inst = only_instance(crm, "quote", quote["id"], "quote_discount_approval")
    (first,) = crm.flows.tasks(instance=inst["id"])
    assert (first["assignee"], first["role"]) == ("li_na", None)
    assert crm.flows.tasks(roles=["sales_director"], instance=inst["id"]) == []

    crm.flows.complete(first["id"], "approve", user="li_na")
    (second,) = crm.flows.tasks(instance=inst["id"])
    assert second["role"] == "sales_director"
    assert crm.records("quote").get(quote["id"])["approval_status"] == "pending"

    crm.flows.complete(second["id"], "approve", user="zhou_qiang")
    assert crm.flows.instance(inst["id"])["outcome"] == "approved"
    assert crm.records("quote").get(quote["id"])["approval_status"] == "approved"


def test_a_manager_rejection_ends_a_director_level_quote(crm, account):
    quote = make_quote(crm, account, 0.25)
    inst = only_instance(crm, "quote", quote["id"], "quote_discount_approval")
    (task,) = crm.flows.tasks(instance=inst["id"])
    with pytest.raises(ValidationError, match="a comment is required to reject"):
        crm.flows.complete(task["id"], "reject", user="li_na")  # the CRM asks for the reason
    crm.flows.complete(task["id"], "reject", user="li_na", comment="折扣过高")
    assert crm.flows.instance(inst["id"])["outcome"] == "rejected"
    assert crm.records("quote").get(quote["id"])["approval_status"] == "rejected"


def test_no_discount_needs_no_approval(crm, account):
    quote = make_quote(crm, account, 0)
    assert quote["approval_level"] == "none"
    assert instances_of(crm, "quote", quote["id"], "quote_discount_approval") == []


# ---------------------------------------------------------------- contracts


def submit_contract(crm: Any, crm_server: str, account: dict[str, Any]) -> tuple[Any, dict, dict]:
    """Li Na (the Shanghai manager) submits a contract for a 300,000 deal of Wang Lei's."""
    opp = crm.records("opportunity", user="wang_lei").create(
        {"name": "MES 一期", "account": account["id"], "stage": "negotiation", "amount": 300000}
    )
    manager = signed_in(crm_server, "li_na")
    status, contract, _ = manager.post(
        "/api/v1/records/contract",
        {"title": "MES 一期合同", "account": account["id"], "opportunity": opp["id"],
         "amount": 300000, "start_date": "2027-01-01", "end_date": "2027-12-31",
         "terms": "一年运维支持"},
    )  # fmt: skip
    assert status == 201, contract
    status, submitted, _ = manager.patch(
        f"/api/v1/records/contract/{contract['id']}", {"status": "pending_approval"}
    )
    assert status == 200, submitted
    return manager, contract, opp


def test_a_contract_is_reviewed_by_legal_then_countersigned(crm, crm_server, account):
    manager, contract, opp = submit_contract(crm, crm_server, account)
    inst = only_instance(crm, "contract", contract["id"], "contract_approval")
    assert inst["started_by"] == "li_na"
    finance, director = signed_in(crm_server, "qian_hui"), signed_in(crm_server, "zhou_qiang")
    assert open_tasks(finance, inst["id"]) == [] and open_tasks(director, inst["id"]) == []

    decide(signed_in(crm_server, "zheng_yi"), inst["id"], "approve")  # legal
    # Finance and the director both have the countersign open at once.
    assert len(open_tasks(finance, inst["id"])) == 1
    assert len(open_tasks(director, inst["id"])) == 1
    decide(finance, inst["id"], "approve")
    assert crm.records("contract").get(contract["id"])["status"] == "pending_approval"
    decide(director, inst["id"], "approve")
    done = crm.flows.instance(inst["id"])
    assert (done["status"], done["outcome"]) == ("completed", "approved")
    assert crm.records("contract").get(contract["id"])["status"] == "approved"

    # Signing starts the service project and wins the deal, in one step.
    status, signed, _ = manager.patch(
        f"/api/v1/records/contract/{contract['id']}",
        {"status": "signed", "signed_on": "2026-12-01"},
    )
    assert status == 200, signed
    hand_over = only_instance(crm, "contract", contract["id"], "contract_signed")
    assert (hand_over["status"], hand_over["outcome"]) == ("completed", "started")
    (project,) = [
        r for r in crm.records("service_project").list(limit=None)
        if r["contract"] == contract["id"]
    ]  # fmt: skip
    assert project["name"] == "MES 一期合同 服务项目"
    assert (project["account"], project["opportunity"]) == (account["id"], opp["id"])
    assert (project["status"], project["owner"]) == ("not_started", "li_na")
    assert str(project["start_date"]) == "2027-01-01"
    won = crm.records("opportunity").get(opp["id"])
    assert (won["stage"], str(won["closed_on"]), won["probability"]) == ("won", "2026-12-01", 100)
    status, seen, _ = signed_in(crm_server, "wang_lei").get(
        f"/api/v1/records/service_project/{project['id']}"
    )
    assert status == 200, seen  # the rep's team sees the project


def test_a_rejected_contract_returns_to_the_initiator(crm, crm_server, account):
    manager, contract, _ = submit_contract(crm, crm_server, account)
    inst = only_instance(crm, "contract", contract["id"], "contract_approval")
    finance, director = signed_in(crm_server, "qian_hui"), signed_in(crm_server, "zhou_qiang")
    decide(signed_in(crm_server, "zheng_yi"), inst["id"], "approve")
    decide(finance, inst["id"], "reject")
    # The director's countersign is withdrawn; the submitter decides what happens next.
    assert open_tasks(director, inst["id"]) == []
    (revise,) = open_tasks(manager, inst["id"])
    assert revise["kind"] == "revise" and revise["outcomes"] == ["resubmit", "withdraw"]
    assert crm.records("contract").get(contract["id"])["status"] == "pending_approval"

    decide(manager, inst["id"], "resubmit")  # asks finance and the director again
    assert len(open_tasks(finance, inst["id"])) == 1
    assert len(open_tasks(director, inst["id"])) == 1
    decide(director, inst["id"], "reject")
    assert open_tasks(finance, inst["id"]) == []
    decide(manager, inst["id"], "withdraw")
    done = crm.flows.instance(inst["id"])
    assert (done["status"], done["outcome"]) == ("completed", "rejected")
    assert crm.records("contract").get(contract["id"])["status"] == "draft"


def test_a_legal_rejection_also_returns_to_the_initiator(crm, crm_server, account):
    manager, contract, _ = submit_contract(crm, crm_server, account)
    inst = only_instance(crm, "contract", contract["id"], "contract_approval")
    decide(signed_in(crm_server, "zheng_yi"), inst["id"], "reject")
    assert open_tasks(signed_in(crm_server, "qian_hui"), inst["id"]) == []
    decide(manager, inst["id"], "withdraw")
    assert crm.records("contract").get(contract["id"])["status"] == "draft"
    status, refused, _ = manager.patch(
        f"/api/v1/records/contract/{contract['id']}",
        {"status": "signed", "signed_on": "2026-12-01"},
    )
    assert status == 422, refused  # signing needs an approved contract


def test_a_quote_by_someone_without_a_manager_goes_to_the_director_role(crm, account):
    opp = crm.records("opportunity", user="zhou_qiang").create(
        {"name": "总监自报", "account": account["id"], "stage": "proposal", "amount": 90000}
    )
    (bi,) = [p for p in crm.records("product").list(limit=None) if p["code"] == "SW-BI"]
    quote = crm.records("quote", user="zhou_qiang").create(  # the director has no manager
        {"opportunity": opp["id"], "account": account["id"], "discount": 0.15,
         "lines": [{"product": bi["id"], "quantity": 1, "unit_price": 90000}]}
    )  # fmt: skip
    inst = only_instance(crm, "quote", quote["id"], "quote_discount_approval")
    (task,) = crm.flows.tasks(instance=inst["id"])
    assert (task["assignee"], task["role"]) == (None, "sales_director")
    crm.flows.complete(task["id"], "approve", user="zhou_qiang")
    assert crm.records("quote").get(quote["id"])["approval_status"] == "approved"
