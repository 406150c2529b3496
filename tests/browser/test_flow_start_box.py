"""The record page's Start a flow box and an approval that needs a reason to reject."""

from __future__ import annotations

import uuid

import pytest

from tests.browser.conftest import shot

expect = pytest.importorskip("playwright.sync_api").expect


def _review_flow(p, director: str, **config) -> str:
    name = "account_check_" + uuid.uuid4().hex[:6]
    p.flows.publish(
        {
            "name": name,
            "label": {"en": "Account check", "zh-CN": "客户检查"},
            "entity": "account",
            "nodes": {
                "start": {"type": "start"},
                "review": {
                    "type": "approval",
                    "config": {"approvers": {"user": director}, **config},
                },
                "end": {"type": "end"},
            },
            "edges": [["start", "review"], ["review", "end"]],
        }
    )
    return name


def test_the_box_hides_a_running_flow_and_shows_a_refused_start(page, crm_site):
    director = crm_site.by_role["sales_director"]
    with crm_site.platform() as p:
        flow = _review_flow(p, director)
        running = p.records("account").create({"name": "Running " + uuid.uuid4().hex[:6]})
        p.flows.start(flow, record=("account", running["id"]), user=director)
        free = p.records("account").create({"name": "Free " + uuid.uuid4().hex[:6]})
    crm_site.login(page, director, lang="en")
    page.goto(crm_site.url + f"/app/account/{running['id']}")
    page.wait_for_selector("#record-title")
    expect(page.locator(f".start-flow[data-flow={flow}]")).to_have_count(0)

    page.goto(crm_site.url + f"/app/account/{free['id']}")
    button = page.locator(f".start-flow[data-flow={flow}]")
    expect(button).to_have_count(1)
    with crm_site.platform() as p:  # someone else starts it while the page is open
        p.flows.start(flow, record=("account", free["id"]), user=director)
    button.click()
    error = page.locator("#start-flow-error")
    expect(error).to_be_visible()
    assert f"flow {flow} already runs on this record: instance" in error.inner_text()
    shot(page, "flow_start_refused")


def test_a_rejection_asks_for_its_reason(page, crm_site):
    director = crm_site.by_role["sales_director"]
    with crm_site.platform() as p:
        flow = _review_flow(p, director, comment_required="on_reject")
        account = p.records("account").create({"name": "Reject " + uuid.uuid4().hex[:6]})
        inst = p.flows.start(flow, record=("account", account["id"]), user=director)
    crm_site.login(page, director, lang="en")
    page.goto(crm_site.url + "/tasks")
    row = page.locator(f'tr.task:has(a[href="/flows/instances/{inst["id"]}"])')
    row.locator("button[data-outcome=reject]").click()
    comment = page.locator("#decide-dialog textarea[name=comment]")
    expect(comment).to_have_attribute("required", "")
    assert comment.get_attribute("placeholder") == "A comment is required to reject"
    page.locator("#decide-dialog button[type=submit]").click()  # the browser holds it
    expect(page.locator("#decide-dialog")).to_be_visible()
    shot(page, "approval_reject_needs_comment")
    comment.fill("Credit check failed")
    page.locator("#decide-dialog button[type=submit]").click()
    expect(row).to_have_count(0)
    with crm_site.platform() as p:
        done = p.flows.instance(inst["id"])
        assert done["outcome"] == "rejected"
        assert [t["comment"] for t in done["tasks"]] == ["Credit check failed"]
