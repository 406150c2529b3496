"""Each CRM role sees what CRM.md's roles section says (QA: the service agent saw every
account and contract; finance saw opportunities and every account).

"Service agents see tickets and the customers behind them": a scope over the tickets that
name an account is not expressible, so the closest is customers (accounts past the prospect
stage), their contacts and their signed or running contracts. "Finance sees contracts and
orders read-only": no pipeline (opportunities, quotes), accounts only as customers.
"""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def world(crm):
    system = crm.records
    prospect = system("account").create({"name": "Visibility Prospect", "lifecycle": "prospect"})
    customer = system("account").create({"name": "Visibility Customer", "lifecycle": "customer"})
    ids = {"prospect": prospect["id"], "customer": customer["id"]}
    for key, account in list(ids.items()):
        ids[f"contact_{key}"] = system("contact").create(
            {"full_name": f"Contact of {key}", "account": account}
        )["id"]
    ids["draft"] = system("contract").create(
        {"account": ids["customer"], "amount": 100, "status": "draft"}
    )["id"]
    ids["active"] = system("contract").create(
        {"account": ids["customer"], "amount": 100, "status": "active", "signed_on": "2026-01-05"}
    )["id"]
    return ids


def _ids(crm, entity: str, user: str) -> set[int]:
    return {r["id"] for r in crm.records(entity, user=user).list(limit=None)}


def _denied(crm, entity: str, user: str) -> bool:
    return not crm.access(user).scopes(entity, "read")


def test_service_agent_sees_tickets_and_customers_not_prospects(crm, world):
    agent = "tang_mei"
    accounts = _ids(crm, "account", agent)
    assert world["customer"] in accounts and world["prospect"] not in accounts
    contacts = _ids(crm, "contact", agent)
    assert world["contact_customer"] in contacts and world["contact_prospect"] not in contacts
    contracts = _ids(crm, "contract", agent)
    assert world["active"] in contracts and world["draft"] not in contracts
    assert crm.access(agent).scopes("ticket", "read") == ["all"]
    for entity in ("lead", "opportunity", "quote", "order", "payment"):
        assert _denied(crm, entity, agent), entity


def test_finance_sees_contracts_and_orders_read_only_and_no_pipeline(crm, world):
    finance = "qian_hui"
    for entity in ("contract", "order"):
        access = crm.access(finance)
        assert access.scopes(entity, "read") == ["all"], entity
        for action in ("create", "update", "delete"):
            assert not access.scopes(entity, action), (entity, action)
    assert crm.access(finance).scopes("payment", "create")
    for entity in ("opportunity", "quote", "lead", "ticket"):
        assert _denied(crm, entity, finance), entity
    accounts = _ids(crm, "account", finance)
    assert world["customer"] in accounts and world["prospect"] not in accounts
