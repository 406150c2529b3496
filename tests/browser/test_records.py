"""Record forms and record pages against a real ``tessera serve`` over the CRM demo."""

from __future__ import annotations

import datetime as dt
import re
import uuid

from tests.browser.conftest import shot


def _unique(prefix: str) -> str:
    return f"{prefix} {uuid.uuid4().hex[:6]}"


def test_marketing_creates_a_lead_and_sees_its_score_grade_owner_and_why(page, crm_site):
    # Marketing takes in leads and reads them all (a rep may not see leads routed to other teams).
    user = crm_site.by_role["marketing"]
    crm_site.login(page, user, lang="en")
    page.goto(crm_site.url + "/app/lead/new")
    page.wait_for_selector("#record-form")
    company = _unique("Cloudrise Technology Co., Ltd.")
    # The computed field follows the company while typing (compiled rule language, in the page).
    page.fill("#f-company", company)
    norm = page.input_value("#f-company_norm")
    assert norm == company.replace("Co., Ltd.", "").strip().lower()
    assert page.locator("#f-company_norm").get_attribute("readonly") is not None
    page.fill("#f-person_name", "Li Wei")
    page.fill("#f-title", "Technical director")
    page.select_option("#f-region", "east_china")
    page.select_option("#f-industry", "it")
    page.fill("#f-company_size", "600")
    page.select_option("#f-source", "website")
    recent = (dt.datetime.now() - dt.timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    page.fill("#f-price_list_downloaded_at", recent)
    page.fill("#f-key_page_visits", "4")
    page.fill("#f-event_attended_at", recent)
    # select labels come in the user's language
    assert page.locator("#f-region option[value=east_china]").inner_text() == "East China"
    # fields the user may not write are not editable
    assert page.locator("#f-score").get_attribute("readonly") is not None
    # the score and grade a save would give, previewed by the compiled rule sets
    assert page.input_value("#f-score") == "85"
    assert page.input_value("#f-grade") == "hot"
    shot(page, "form-lead")
    page.click("#save")
    page.wait_for_url(re.compile(r"/app/lead/\d+$"))
    page.wait_for_selector("#record-title")
    assert page.inner_text("#record-title") == company
    score = page.inner_text("[data-field=score] .field-value")
    grade = page.inner_text("[data-field=grade] .field-value")
    assert score == "85" and grade == "Hot"
    owner = page.inner_text("#record-owner, #record-team")
    assert owner.strip()
    with crm_site.platform() as p:
        lead = p.records("lead").list(where=f'company == "{company}"')[0]
    assert lead["team"] == "shanghai"
    why = page.locator("#why [data-ruleset=lead_score]")
    assert "85" in why.locator(".why-value").inner_text()
    rules = why.locator(".why-rule").all_inner_texts()
    assert "Website form" in rules and "Downloaded the price list" in rules
    routing = page.locator("#why [data-ruleset=lead_routing]").inner_text()
    assert "East China to Shanghai" in routing
    assert page.locator("#timeline li[data-kind=audit]").count() >= 1
    assert "created this record" in page.inner_text("#timeline")
    shot(page, "record-lead")


def test_visibility_follows_the_rules_while_typing_and_errors_land_on_their_fields(page, crm_site):
    rep = crm_site.by_role["sales_director"]
    crm_site.login(page, rep, lang="en")
    page.goto(crm_site.url + "/app/opportunity/new")
    page.wait_for_selector("#record-form")
    lost = page.locator(".field[data-field=lost_detail]")
    assert lost.is_hidden()
    page.select_option("#f-stage", "lost")
    assert lost.is_visible()
    assert "required" in (page.get_attribute(".field[data-field=lost_reason]", "class") or "")
    page.select_option("#f-stage", index=1)
    assert lost.is_hidden()

    page.goto(crm_site.url + "/app/lead/new")
    page.wait_for_selector("#record-form")
    page.fill("#f-company", _unique("Bad Mail"))
    page.fill("#f-email", "not-an-address")
    page.click("#save")
    error = page.locator("[data-error-for=email]")
    error.wait_for(state="visible")
    assert error.inner_text().strip()
    assert "invalid" in (page.get_attribute(".field[data-field=email]", "class") or "")
    assert "/app/lead/new" in page.url


def test_leaving_a_changed_form_warns(page, crm_site):
    user = crm_site.by_role["marketing"]
    crm_site.login(page, user, lang="en")
    page.goto(crm_site.url + "/app/lead/new")
    page.wait_for_selector("#record-form")
    page.fill("#f-company", "Unsaved Ltd")
    seen = []

    def on_dialog(dialog):
        seen.append(dialog.type)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.click("nav.sidebar a.nav-home")
    page.wait_for_timeout(500)
    assert seen == ["beforeunload"]
    assert "/app/lead/new" in page.url


def test_an_account_page_lists_its_related_records(page, crm_site):
    director = crm_site.by_role["sales_director"]
    with crm_site.platform() as p:
        account = p.records("account").create({"name": _unique("Related Holdings")})
        p.records("contact").create({"full_name": "Wang Fang", "account": account["id"]})
        p.records("opportunity").create(
            {
                "name": _unique("Big deal"),
                "account": account["id"],
                "amount": 1000,
                "stage": "proposal",
            }
        )
    crm_site.login(page, director, lang="en")
    page.goto(crm_site.url + f"/app/account/{account['id']}")
    page.wait_for_selector("#record-title")
    assert page.locator("section.related[data-related=contact] li").count() == 1
    assert page.locator("section.related[data-related=opportunity] li").count() == 1
    assert "Wang Fang" in page.inner_text("section.related[data-related=contact]")
    assert page.locator("[role=tab]").count() >= 2
    page.locator("[role=tab]").nth(1).click()
    assert page.locator("[role=tabpanel][data-panel='2']").is_visible()
    assert "created this record" in page.inner_text("#timeline")
    page.fill(".comment-form textarea", "<b>Met the CFO</b>")
    page.click("#add-comment")
    page.wait_for_selector("#timeline li[data-kind=comment]")
    assert page.inner_text("#timeline li[data-kind=comment] .comment-body") == "<b>Met the CFO</b>"
    shot(page, "record-account")


def test_hidden_fields_are_absent_from_the_page(page, crm_site):
    user = crm_site.by_role["marketing"]  # the account's revenue_12m is hidden from marketing
    with crm_site.platform() as p:
        account = p.records("account").create({"name": _unique("Hidden Revenue")})
    crm_site.login(page, user, lang="en")
    page.goto(crm_site.url + f"/app/account/{account['id']}")
    page.wait_for_selector("#record-title")
    assert page.locator("[data-field=revenue_12m]").count() == 0
    assert "revenue_12m" not in page.content()


def test_a_quote_with_a_reference_picked_by_search_and_grid_rows(page, crm_site):
    director = crm_site.by_role["sales_director"]
    name = _unique("Grid deal")
    with crm_site.platform() as p:
        account = p.records("account").create({"name": _unique("Grid Buyer")})
        p.records("opportunity").create(
            {"name": name, "account": account["id"], "stage": "proposal", "amount": 500}
        )
        product = p.records("product").list(limit=1)[0]
    crm_site.login(page, director, lang="en")
    page.goto(crm_site.url + "/app/quote/new")
    page.wait_for_selector("#record-form")
    page.fill("#f-opportunity", name)
    option = page.locator("#f-opportunity-list li[data-id]")
    option.first.wait_for()
    assert option.count() == 1 and option.first.inner_text() == name
    option.first.click()
    grid = page.locator(".grid[data-name=lines]")
    grid.locator(".row-add").click()
    grid.locator(".row-add").click()
    assert grid.locator("tbody tr").count() == 2
    grid.locator("tbody tr").nth(1).locator(".row-remove").click()
    assert grid.locator("tbody tr").count() == 1
    row = grid.locator("tbody tr").first
    row.locator(".reference .ref-search").fill(product["name"])
    choice = row.locator(f'.ref-results li[data-id="{product["id"]}"]')
    choice.wait_for()
    choice.click()
    assert row.locator("input[data-col=product]").input_value() == str(product["id"])
    row.locator("input[data-col=quantity]").fill("2")
    row.locator("input[data-col=unit_price]").fill("150")
    # computed over the child rows, live
    assert page.input_value("#f-list_total") == "300"
    page.click("#save")
    page.wait_for_url(re.compile(r"/app/quote/\d+$"))
    page.wait_for_selector("#record-title")
    assert page.locator("[data-field=lines] .grid-view tbody tr").count() == 1
    assert page.inner_text("[data-field=opportunity] .field-value a") == name
    # edit: the form opens with the values and saves a change with If-Match
    page.click("#edit")
    page.wait_for_selector("#record-form")
    page.fill("#f-valid_until", "2030-01-31")
    page.click("#save")
    page.wait_for_url(re.compile(r"/app/quote/\d+$"))
    assert "2030-01-31" in page.inner_text("[data-field=valid_until] .field-value")


def test_a_flow_starts_from_the_record_page_and_shows_on_its_timeline(page, crm_site):
    director = crm_site.by_role["sales_director"]
    flow = "account_review_" + uuid.uuid4().hex[:6]
    with crm_site.platform() as p:
        p.flows.publish(
            {
                "name": flow,
                "label": {"en": "Account review", "zh-CN": "客户审核"},
                "entity": "account",
                "nodes": {
                    "start": {"type": "start"},
                    "review": {"type": "task", "config": {"assignee": {"user": director}}},
                    "end": {"type": "end"},
                },
                "edges": [["start", "review"], ["review", "end"]],
            }
        )
        account = p.records("account").create({"name": _unique("Flowing Trade")})
    crm_site.login(page, director, lang="en")
    page.goto(crm_site.url + f"/app/account/{account['id']}")
    page.wait_for_selector("#record-title")
    button = page.locator(f".start-flow[data-flow={flow}]")
    assert button.inner_text() == "Account review"
    button.click()
    page.wait_for_selector("#timeline li[data-kind=flow]")
    assert "Account review: started" in page.inner_text("#timeline")  # by its label


def test_the_form_speaks_chinese(page, crm_site):
    user = crm_site.by_role["marketing"]
    crm_site.login(page, user, lang="zh-CN")
    page.goto(crm_site.url + "/app/lead/new")
    page.wait_for_selector("#record-form")
    assert page.locator("#f-region option[value=east_china]").inner_text() == "华东"
    assert page.inner_text("#save") == "保存"
    assert "公司" in page.inner_text(".field[data-field=company] label")
