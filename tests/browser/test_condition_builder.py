"""The condition builder on a real server: nested groups on the opportunity list, the list
shows exactly the matching records, text and back, and the checker's message at its column."""

from __future__ import annotations

import time

from tests.browser.conftest import shot

CONDITION = 'stage in ["proposal", "negotiation"] and (amount > 100000 or region == "east_china")'


def _row_ids(page):
    return {
        int(i)
        for i in page.eval_on_selector_all("#records tbody tr", "rs => rs.map(r => r.dataset.id)")
    }


def _wait_text(page, selector, wanted, timeout=10.0):
    deadline = time.monotonic() + timeout
    while True:
        text = page.inner_text(selector)
        if all(w in text for w in wanted) or time.monotonic() > deadline:
            return text
        time.sleep(0.1)


def test_nested_groups_filter_the_list_and_the_text_view_is_checked(page, crm_site):
    manager = crm_site.by_role["sales_manager"]
    crm_site.login(page, manager, lang="en")
    page.goto(crm_site.url + "/app/opportunity?per=100")
    page.click("#filter-panel summary")
    page.wait_for_selector("#builder .cond-builder[data-ready]")

    # stage is one of proposal, negotiation
    page.click("#add-condition")
    rows = page.locator("#builder .condition")
    rows.nth(0).locator(".cond-field").select_option("stage")
    rows.nth(0).locator(".cond-op").select_option("in")
    options = rows.nth(0).locator(".cond-value option")
    assert "Proposal" in options.all_inner_texts()  # enum labels, not keys
    rows.nth(0).locator(".cond-value").select_option(["proposal", "negotiation"])

    # and a nested "any" group: amount > 100000 or region == east_china
    page.click("#builder .cond-tree > .cond-group > .cond-foot .cond-add-group")
    nested = page.locator("#builder .cond-group.nested")
    assert nested.locator(".cond-match").input_value() == "any"
    first = nested.locator(".condition").nth(0)
    first.locator(".cond-field").select_option("amount")
    first.locator(".cond-op").select_option(">")
    first.locator(".cond-value").fill("100000")
    nested.locator(".cond-foot .cond-add-row").click()
    second = nested.locator(".condition").nth(1)
    second.locator(".cond-field").select_option("region")
    second.locator(".cond-op").select_option("==")
    second.locator(".cond-value").fill("east_china")
    assert page.input_value("#where") == CONDITION
    page.wait_for_selector("#where-problems li.valid")
    shot(page, "condition-builder")

    page.click("#apply-filter")
    page.wait_for_url("**where=**")
    with crm_site.platform() as p:
        records = p.records("opportunity", manager)
        count = records.count(where=CONDITION)
        expected = {r["id"] for r in records.list(where=CONDITION, limit=100)}
    assert count > 0
    if count <= 100:
        assert _row_ids(page) == expected
    assert f"of {count:,}" in page.inner_text("#totals")

    # The page reads the filter back into the builder: three rows, one nested group.
    page.wait_for_selector("#builder .cond-builder[data-ready]")
    assert page.locator("#builder .condition").count() == 3
    assert page.locator("#builder .cond-group.nested .condition").count() == 2
    assert page.locator("#builder .cond-group.nested .cond-match").input_value() == "any"

    # Text and back.
    page.click("#builder .cond-mode")
    assert page.is_visible("#where") and page.input_value("#where") == CONDITION
    page.click("#builder .cond-mode")
    page.wait_for_selector("#builder .cond-tree:not([hidden]) .condition")
    assert page.locator("#builder .condition").count() == 3
    assert not page.is_visible("#where")

    # A wrong expression in the text view: the checker's message at its line and column.
    page.click("#builder .cond-mode")
    bad = "amount > 100000 and stage =="
    page.fill("#where", bad)
    with crm_site.platform() as p:
        (problem,) = p.rules.check(bad, entity="opportunity")
    located = f"Line {problem['line']}, column {problem['column']}"
    text = _wait_text(page, "#where-problems", [located, problem["message"]])
    assert located in text and problem["message"] in text

    # Text the builder cannot show stays text, and says why.
    page.fill("#where", "amount * 2 > 100000")
    page.wait_for_selector("#where-problems li.valid")
    page.click("#builder .cond-mode")
    page.wait_for_selector("#builder .cond-reason:not([hidden])")
    assert "arithmetic" in page.inner_text("#builder .cond-reason")
    assert page.is_visible("#where")


def test_menus_speak_the_users_language_and_hide_what_the_user_may_not_read(page, crm_site):
    rep = crm_site.by_role["sales_rep"]
    crm_site.login(page, rep, lang="zh-CN")
    page.goto(crm_site.url + "/app/opportunity")
    page.click("#filter-panel summary")
    page.wait_for_selector("#builder .cond-builder[data-ready]")
    page.click("#add-condition")
    row = page.locator("#builder .condition").nth(0)
    row.locator(".cond-field").select_option("stage")
    assert "方案呈现" in row.locator(".cond-value option").all_inner_texts()
    assert "是其中之一" in row.locator(".cond-op option").all_inner_texts()
    with crm_site.platform() as p:
        hidden = p.access(rep).hidden("opportunity")
    offered = set(
        page.eval_on_selector_all("#builder .cond-field option", "os => os.map(o => o.value)")
    )
    assert offered and not (offered & hidden)
