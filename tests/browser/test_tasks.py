"""The tasks inbox against a real ``tessera serve``: approve, return, transfer from dialogs,
the instance's diagram and history, copies (CC), my requests and notifications."""

from __future__ import annotations

import uuid

import pytest

from engine import ConflictError
from engine.store.outbox import enqueue
from tests.browser.conftest import shot

expect = pytest.importorskip("playwright.sync_api").expect


@pytest.fixture(scope="module")
def flow(crm_site):
    """A two-step approval on opportunities (manager, then any sales director), copying finance."""
    name = "tasks_test_" + uuid.uuid4().hex[:8]
    manager = crm_site.by_role["sales_manager"]
    with crm_site.platform() as p:
        p.flows.publish(
            {
                "name": name,
                "label": {"en": "Discount approval", "zh-CN": "折扣审批"},
                "entity": "opportunity",
                "nodes": {
                    "start": {"type": "start"},
                    "manager": {
                        "type": "approval",
                        "label": {"en": "Manager review", "zh-CN": "经理审核"},
                        "config": {"approvers": {"user": manager}},
                    },
                    "director": {
                        "type": "approval",
                        "label": {"en": "Director sign-off", "zh-CN": "总监签批"},
                        "config": {"approvers": {"role": "sales_director"}},
                    },
                    "copy": {
                        "type": "notify",
                        "label": {"en": "Copy finance", "zh-CN": "抄送财务"},
                        "config": {"to": {"role": "finance"}, "message": "Discount approved"},
                    },
                    "end": {"type": "end", "config": {"outcome": "approved"}},
                },
                "edges": [
                    ["start", "manager"],
                    ["manager", "director"],
                    ["director", "copy"],
                    ["copy", "end"],
                ],
            }
        )
    return name


def start(site, flow_name):
    """An instance started by the sales rep on one of the rep's opportunities."""
    rep = site.by_role["sales_rep"]
    with site.platform() as p:
        for opp in p.records("opportunity", rep).list(limit=50, order_by="id"):
            try:  # a flow runs once at a time on a record: the next one free of it
                inst = p.flows.start(flow_name, record=("opportunity", opp["id"]), user=rep)
            except ConflictError:
                continue
            return inst["id"], opp
    raise AssertionError("no opportunity of the rep is free of " + flow_name)


def as_user(site, page, user, lang="en"):
    """Sign out whoever is signed in, then sign ``user`` in."""
    page.context.clear_cookies()
    site.login(page, user, lang=lang)


def row_of(page, instance_id):
    return page.locator(f'tr.task:has(a[href="/flows/instances/{instance_id}"])')


def test_approving_from_the_inbox_and_the_diagram(page, crm_site, flow):
    inst, opp = start(crm_site, flow)
    manager = crm_site.by_role["sales_manager"]
    as_user(crm_site, page, manager)
    page.goto(crm_site.url + "/tasks")
    row = row_of(page, inst)
    assert row.count() == 1
    assert "Discount approval" in row.inner_text() and "Manager review" in row.inner_text()
    assert row.locator(f'a[href="/app/opportunity/{opp["id"]}"]').count() == 1
    shot(page, "tasks-inbox")
    row.locator("button[data-outcome=approve]").click()
    dialog = page.locator("#decide-dialog")
    assert dialog.is_visible() and "Approve" in dialog.locator("h2").inner_text()
    dialog.locator("textarea[name=comment]").fill("Margin is fine")
    dialog.locator("button[type=submit]").click()
    expect(page.locator(".toast")).to_have_count(1)
    expect(row_of(page, inst)).to_have_count(0)

    director = crm_site.by_role["sales_director"]
    as_user(crm_site, page, director)
    page.goto(crm_site.url + "/tasks")
    row_of(page, inst).locator("a.instance-link").click()
    page.wait_for_selector("#flow-diagram")
    assert page.get_attribute('[data-node="director"]', "data-state") == "current"
    assert page.get_attribute('[data-node="manager"]', "data-state") == "done"
    assert page.get_attribute('[data-node="end"]', "data-state") == "pending"
    history = page.inner_text("#history")
    assert "Approved" in history and "Margin is fine" in history
    shot(page, "flow-diagram")
    page.locator("#my-part button[data-outcome=approve]").click()
    page.locator("#decide-dialog button[type=submit]").click()
    page.wait_for_selector("#instance-status[data-status=completed]")

    with crm_site.platform() as p:
        p.jobs.run_due()
    finance = crm_site.by_role["finance"]
    as_user(crm_site, page, finance)
    page.goto(crm_site.url + "/tasks?tab=cc")
    copy = page.locator(f'#cc li:has(a[href="/flows/instances/{inst}"])')
    assert copy.count() == 1 and "Discount approved" in copy.inner_text()
    copy.locator("a").click()  # finance may follow what it was copied on
    page.wait_for_selector("#instance-status[data-status=completed]")
    assert page.get_attribute('[data-node="copy"]', "data-state") == "done"
    page.goto(crm_site.url + "/tasks?tab=cc")  # opening it read it
    expect(page.locator(f'#cc li.unread:has(a[href="/flows/instances/{inst}"])')).to_have_count(0)


def test_returning_a_request_and_withdrawing_it(page, crm_site, flow):
    inst, _opp = start(crm_site, flow)
    manager = crm_site.by_role["sales_manager"]
    as_user(crm_site, page, manager)
    page.goto(crm_site.url + "/tasks")
    row_of(page, inst).locator("button[data-outcome=return]").click()
    page.locator("#decide-dialog textarea[name=comment]").fill("Attach the quote")
    page.locator("#decide-dialog button[type=submit]").click()
    expect(page.locator(".toast")).to_have_count(1)
    expect(row_of(page, inst)).to_have_count(0)

    rep = crm_site.by_role["sales_rep"]
    as_user(crm_site, page, rep)
    page.goto(crm_site.url + "/tasks")
    returned = row_of(page, inst)
    assert "returned to you" in returned.inner_text()
    page.goto(crm_site.url + "/tasks?tab=requests")
    request_row = page.locator(f'tr.request[data-instance="{inst}"]')
    assert request_row.get_attribute("data-status") == "running"
    request_row.locator("button[data-action=withdraw]").click()
    page.locator("#withdraw-dialog button[type=submit]").click()
    page.wait_for_selector(f'tr.request[data-instance="{inst}"][data-status=withdrawn]')
    with crm_site.platform() as p:
        assert p.flows.instance(inst, history=False)["status"] == "withdrawn"


def test_rejecting_and_transferring(page, crm_site, flow):
    rejected, _ = start(crm_site, flow)
    moved, _ = start(crm_site, flow)
    manager = crm_site.by_role["sales_manager"]
    director = crm_site.by_role["sales_director"]
    as_user(crm_site, page, manager)
    page.goto(crm_site.url + "/tasks")
    row_of(page, rejected).locator("button[data-outcome=reject]").click()
    page.locator("#decide-dialog button[type=submit]").click()
    expect(row_of(page, rejected)).to_have_count(0)
    row_of(page, moved).locator("button[data-kind=transfer]").click()
    dialog = page.locator("#person-dialog")
    dialog.locator("input[name=to]").fill("nobody-at-all")
    dialog.locator("button[type=submit]").click()
    page.wait_for_selector("#person-dialog .dialog-error:not([hidden])")
    dialog.locator("input[name=to]").fill(director)
    dialog.locator("textarea[name=comment]").fill("You know this account")
    dialog.locator("button[type=submit]").click()
    expect(row_of(page, moved)).to_have_count(0)
    with crm_site.platform() as p:
        assert p.flows.instance(rejected, history=False)["outcome"] == "rejected"

    as_user(crm_site, page, director)
    page.goto(crm_site.url + "/tasks")
    assert "Manager review" in row_of(page, moved).inner_text()
    page.goto(crm_site.url + f"/flows/instances/{moved}")
    history = page.inner_text("#history")
    assert "Transferred to" in history and "You know this account" in history

    # The director asks the manager to sign too; the step waits for both.
    page.locator("#my-part button[data-kind=signer]").click()
    page.locator("#person-dialog input[name=to]").fill(manager)
    page.locator("#person-dialog button[type=submit]").click()
    expect(page.locator("#history")).to_contain_text("as a signer")
    page.locator("#my-part button[data-outcome=approve]").click()
    page.locator("#decide-dialog button[type=submit]").click()
    expect(page.locator("#my-part")).to_have_count(0)
    assert page.get_attribute('[data-node="manager"]', "data-state") == "current"
    as_user(crm_site, page, manager)
    page.goto(crm_site.url + "/tasks")
    assert "added signer" in row_of(page, moved).inner_text()


def test_a_notification_shows_in_the_list_and_on_the_bell(page, crm_site):
    manager = crm_site.by_role["sales_manager"]
    text = "Lead " + uuid.uuid4().hex[:6] + " was not contacted"
    with crm_site.platform() as p:
        with p.db.transaction(write=True) as conn:
            enqueue(conn, "notify", {"to": manager, "message": text}, now=p.clock.now())
        p.jobs.run_due()
        expected = len(
            p.flows.tasks(user=manager, roles=p.users.get(manager)["roles"])
        ) + p.notifications.unread(manager)
    as_user(crm_site, page, manager)
    assert page.get_attribute("#notifications .badge", "data-count") == str(expected)
    page.goto(crm_site.url + "/tasks?tab=notifications")
    note = page.locator(f'#notifications-list li:has-text("{text}")')
    assert note.count() == 1 and "unread" in note.get_attribute("class")
    note.locator("button[data-action=read]").click()
    expect(page.locator("#notifications .badge")).to_have_attribute("data-count", str(expected - 1))


def test_the_inbox_in_chinese(page, crm_site, flow):
    start(crm_site, flow)
    manager = crm_site.by_role["sales_manager"]
    as_user(crm_site, page, manager, lang="zh-CN")
    page.goto(crm_site.url + "/tasks")
    assert "我的待办" in page.inner_text("h1")
    assert "折扣审批" in page.inner_text("#todo")
    page.locator("#todo button[data-outcome=approve]").first.click()
    assert page.locator("#decide-dialog h2").inner_text() == "同意"
    page.locator("#decide-dialog button[data-close]").click()
    shot(page, "tasks-inbox-zh")
    page.click("#switch-lang")  # back to English for the other tests
    page.wait_for_selector("text=Home")
