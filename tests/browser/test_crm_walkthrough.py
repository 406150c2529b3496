"""The CRM's large-deal path in the browser, as docs/user/crm-walkthrough.md tells it.

A sales rep drags a deal over 500,000 to the proposal stage on the kanban board; the
bundle's own ``large_deal_approval`` flow (no test flow) puts it in the sales director's
inbox; the director approves in the dialog; the deal's page shows it moved on to
negotiation. Screenshots are the walkthrough's pictures.
"""

from __future__ import annotations

import time
import uuid

from playwright.sync_api import expect

from tests.browser.conftest import shot
from tests.browser.test_lists import _drag


def test_a_large_deal_goes_from_the_board_to_the_directors_inbox_and_on(page, crm_site):
    rep = crm_site.by_role["sales_rep"]
    director = crm_site.by_role["sales_director"]
    tag = "WALK-" + uuid.uuid4().hex[:6]
    with crm_site.platform() as p:
        account = p.records("account", rep).list(limit=1, order_by="id")[0]
        deal = p.records("opportunity", rep).create(
            {
                "name": f"{tag} 智能工厂 MES",
                "account": account["id"],
                "stage": "needs_analysis",
                "amount": 800000,
            }
        )
    assert deal["approval_level"] == "sales_director"

    page.set_viewport_size({"width": 1920, "height": 900})
    crm_site.login(page, rep, lang="en")
    page.goto(crm_site.url + f'/app/opportunity/kanban?by=stage&where=name contains "{tag}"')
    card = f"li.kanban-card[data-id='{deal['id']}']"
    page.wait_for_selector(f"ol.cards[data-value=needs_analysis] {card}")
    _drag(page, card, "ol.cards[data-value=proposal]")
    page.wait_for_selector(f"ol.cards[data-value=proposal] {card}")
    assert _settled(crm_site, deal["id"], ("proposal", "pending"))  # the save runs after the drop
    shot(page, "walkthrough-1-board")

    # The gate: the rep cannot move it on before the director decides.
    _drag(page, card, "ol.cards[data-value=negotiation]")
    page.wait_for_selector("#kanban-message:has-text('sales director')")
    page.wait_for_selector(f"ol.cards[data-value=proposal] {card}")

    page.context.clear_cookies()
    crm_site.login(page, director, lang="en")
    page.goto(crm_site.url + "/tasks")
    row = page.locator(f'tr.task:has(a[href="/app/opportunity/{deal["id"]}"])')
    expect(row).to_have_count(1)
    assert "Large deal approval" in row.inner_text()
    shot(page, "walkthrough-2-inbox")
    row.locator("button[data-outcome=approve]").click()
    page.locator("#decide-dialog textarea[name=comment]").fill("Strategic account, go ahead")
    page.locator("#decide-dialog button[type=submit]").click()
    expect(row).to_have_count(0)

    page.goto(crm_site.url + f"/app/opportunity/{deal['id']}")
    page.wait_for_selector("#record-title")
    assert page.inner_text("[data-field=stage] .field-value") == "Negotiation"
    region = page.inner_text("[data-field=region] .field-value")  # copied from the account
    assert region and "_" not in region  # its option label, not the stored key
    assert "Large deal approval" in page.inner_text("#timeline")
    shot(page, "walkthrough-3-deal")
    assert _settled(crm_site, deal["id"], ("negotiation", "approved"))


def _settled(site, deal_id: int, expected: tuple[str, str], seconds: float = 10.0) -> bool:
    """Whether the deal's (stage, approval_status) reaches ``expected`` within ``seconds``."""
    deadline = time.monotonic() + seconds
    with site.platform() as p:
        while True:
            stored = p.records("opportunity").get(deal_id)
            if (stored["stage"], stored["approval_status"]) == expected:
                return True
            if time.monotonic() > deadline:
                return False
            time.sleep(0.2)
