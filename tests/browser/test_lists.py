"""List views, the filter builder, saved views, bulk actions and kanban boards on a real server."""

from __future__ import annotations

import csv
import io
import re
import time
import uuid

from tests.browser.conftest import shot


def _opportunities(site, user, n, tag, **values):
    """``n`` opportunities of ``user`` named after ``tag`` (so a test finds its own)."""
    with site.platform() as p:
        account = p.records("account", user).list(limit=1, order_by="id")[0]["id"]
        service = p.records("opportunity", user)
        return [
            service.create(
                {
                    "name": f'{tag} "quoted" #{i:02d}',
                    "account": account,
                    "amount": 1000 + i,
                    **values,
                }
            )
            for i in range(n)
        ]


def _wait_for(check, timeout=10.0):
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.1)


def _without_own_url(html):
    """The page without the language switch's ``next`` (the URL the user typed, not data)."""
    return re.sub(r'<input type="hidden" name="next" value="[^"]*">', "", html)


def _row_ids(page):
    return [
        int(i)
        for i in page.eval_on_selector_all("#records tbody tr", "rs => rs.map(r => r.dataset.id)")
    ]


def test_a_manager_sorts_pages_filters_and_saves_a_view(page, crm_site):
    manager = crm_site.by_role["sales_manager"]
    tag = "LT-" + uuid.uuid4().hex[:6]
    mine = _opportunities(crm_site, manager, 12, tag)
    crm_site.login(page, manager, lang="en")
    with crm_site.platform() as p:
        total = p.records("opportunity", manager).count()
    page.goto(crm_site.url + "/app/opportunity?per=10")
    assert page.inner_text("#totals") == f"1–10 of {total:,}"
    assert page.locator("#records tbody tr").count() == 10
    href = page.get_attribute("#records tbody tr >> nth=0 >> td:nth-child(2) a", "href")
    assert href.startswith("/app/opportunity/")
    assert page.get_attribute("#new-record", "href") == "/app/opportunity/new"

    # Columns: add amount and stage with the picker.
    page.click("#columns-panel summary")
    page.check("#columns-form input[value=amount]")
    page.check("#columns-form input[value=stage]")
    page.click("#columns-form button[type=submit]")
    page.wait_for_selector("#records th[data-key=amount]")

    # Sort by amount, descending after a second click.
    page.click("#records th[data-key=amount] a")
    page.wait_for_selector("#records th[data-key=amount][aria-sort=ascending]")
    page.click("#records th[data-key=amount] a")
    page.wait_for_selector("#records th[data-key=amount][aria-sort=descending]")
    with crm_site.platform() as p:
        expected = [
            r["id"] for r in p.records("opportunity", manager).list(order_by="-amount", limit=10)
        ]
    assert _row_ids(page) == expected

    # Next page.
    page.click("#next-page")
    page.wait_for_url("**page=2**")
    assert page.inner_text("#totals") == f"11–{min(20, total)} of {total:,}"

    # The filter builder: name contains a text with quotes in it.
    page.goto(crm_site.url + "/app/opportunity?per=10")
    page.click("#filter-panel summary")
    page.click("#add-condition")
    page.select_option("#builder .cond-field", "name")
    page.select_option("#builder .cond-op", "contains")
    page.fill("#builder .cond-value", f'{tag} "quoted"')
    expression = page.input_value("#where")
    assert expression == f'name contains "{tag} \\"quoted\\""'
    page.wait_for_selector("#where-problems li.valid")
    page.click("#apply-filter")
    page.wait_for_url("**where=**")
    with crm_site.platform() as p:
        matching = p.records("opportunity", manager).count(where=expression)
    assert matching == len(mine) == 12
    assert page.inner_text("#totals") == f"1–10 of {matching}"
    page.click("#next-page")
    page.wait_for_url("**page=2**")
    assert set(_row_ids(page)) <= {r["id"] for r in mine}
    assert page.locator("#records tbody tr").count() == 2
    shot(page, "list")

    # A bad expression: the checker's message, live and after submitting; never a 500.
    page.click("#builder .cond-mode")  # edit as text
    page.fill("#where", "amount >")
    with crm_site.platform() as p:
        message = p.rules.check("amount >", entity="opportunity")[0]["message"]
    page.wait_for_selector(f'#where-problems li:has-text("{message}")')
    with page.expect_navigation() as nav:
        page.click("#apply-filter")
    response = nav.value
    assert response.status == 200
    assert message in page.inner_text("#where-problems")

    # Save a view (filter + columns + sort), find it again from the dropdown.
    page.goto(
        crm_site.url
        + "/app/opportunity?col=name&col=amount&sort=-amount&where="
        + f'name contains "{tag}"'.replace('"', "%22").replace(" ", "%20")
    )
    view_name = f"Mine {tag}"
    page.fill("#view-name", view_name)
    page.click("#save-view-button")
    page.wait_for_url("**view=**")
    page.goto(crm_site.url + "/app/opportunity")
    option = page.locator("#view-select option", has_text=view_name)
    view_id = option.get_attribute("value")
    page.select_option("#view-select", view_id)
    page.wait_for_url(f"**view={view_id}")
    assert page.inner_text("#totals") == "1–12 of 12"
    assert [
        h.strip(" ▲▼")
        for h in page.eval_on_selector_all(
            "#records thead th[data-key]", "hs => hs.map(h => h.dataset.key)"
        )
    ] == ["name", "amount"]
    assert page.get_attribute("#records th[data-key=amount]", "aria-sort") == "descending"


def _drag(page, card, target):
    box = page.locator(card).bounding_box()
    goal = page.locator(target).bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] / 2 + 5, box["y"] + box["height"] / 2 + 5, steps=3)
    page.mouse.move(goal["x"] + goal["width"] / 2, goal["y"] + goal["height"] - 5, steps=12)
    page.mouse.up()


def test_dragging_a_card_saves_the_stage_and_a_refused_move_snaps_back(page, crm_site):
    manager = crm_site.by_role["sales_manager"]
    tag = "KB-" + uuid.uuid4().hex[:6]
    (opp,) = _opportunities(crm_site, manager, 1, tag)
    page.set_viewport_size({"width": 1920, "height": 900})
    crm_site.login(page, manager, lang="en")
    page.goto(crm_site.url + "/app/opportunity")
    assert page.get_attribute("#kanban-link", "href") == "/app/opportunity/kanban?by=stage"
    page.goto(crm_site.url + f'/app/opportunity/kanban?by=stage&where=name contains "{tag}"')
    card = f"li.kanban-card[data-id='{opp['id']}']"
    assert page.locator(f"ol.cards[data-value=initial_contact] {card}").count() == 1
    assert "Needs analysis" in page.inner_text("#kanban")

    _drag(page, card, "ol.cards[data-value=needs_analysis]")
    page.wait_for_selector(f"ol.cards[data-value=needs_analysis] {card}")

    def stage():
        with crm_site.platform() as p:
            return p.records("opportunity").get(opp["id"])["stage"]

    assert _wait_for(lambda: stage() == "needs_analysis")
    page.wait_for_function(
        f"document.querySelector(\"{card}\").dataset.version !== '{opp['version']}'"
    )
    shot(page, "kanban")

    # Closed lost without a lost reason: the validation rule refuses, the card goes back.
    _drag(page, card, "ol.cards[data-value=lost]")
    page.wait_for_selector("#kanban-message:has-text('lost reason')")
    page.wait_for_selector(f"ol.cards[data-value=needs_analysis] {card}")
    assert page.locator(f"ol.cards[data-value=lost] {card}").count() == 0
    assert stage() == "needs_analysis"
    shot(page, "kanban-refused")


def test_bulk_set_a_field_on_two_records(page, crm_site):
    manager = crm_site.by_role["sales_manager"]
    tag = "BK-" + uuid.uuid4().hex[:6]
    made = _opportunities(crm_site, manager, 2, tag)
    crm_site.login(page, manager, lang="en")
    page.goto(crm_site.url + f'/app/opportunity?where=name contains "{tag}"')
    assert page.locator("#records tbody tr").count() == 2
    page.check("#pick-all")
    page.wait_for_selector("#bulk:not([hidden])")
    assert "2 selected" in page.inner_text("#bulk-count")
    export = page.get_attribute("#bulk-export", "href")
    assert f"id%20in%20%5B{made[0]['id']}" in export
    lines = list(csv.reader(io.StringIO(page.request.get(crm_site.url + export).text())))
    assert len(lines) == 3 and {r["name"] for r in made} <= {
        cell for line in lines for cell in line
    }
    page.select_option("#bulk-field", "next_step")
    page.fill("#bulk-value", 'Call "them" back')
    page.click("#bulk-set")
    page.wait_for_selector("#bulk-report li.summary:has-text('2 done, 0 refused')")
    with crm_site.platform() as p:
        for r in made:
            assert p.records("opportunity").get(r["id"])["next_step"] == 'Call "them" back'

    # A refused change is reported per record (a won deal needs its close date).
    page.check("#pick-all")
    page.select_option("#bulk-field", "stage")
    page.select_option("#bulk-value", "won")
    page.click("#bulk-set")
    page.wait_for_selector("#bulk-report li.summary:has-text('0 done, 2 refused')")
    refused = page.inner_text("#bulk-report")
    assert refused.count("A won opportunity needs the close date") == 2
    assert "Nothing was changed" in refused
    with crm_site.platform() as p:
        assert {p.records("opportunity").get(r["id"])["stage"] for r in made} == {"initial_contact"}

    # One request, all or nothing: with one record refused, the other is not changed either.
    with crm_site.platform() as p:
        p.records("opportunity").update(made[0]["id"], {"closed_on": "2026-06-30"})
    page.reload()
    page.check("#pick-all")
    page.select_option("#bulk-field", "stage")
    page.select_option("#bulk-value", "won")
    page.click("#bulk-set")
    page.wait_for_selector("#bulk-report li.summary:has-text('0 done, 1 refused')")
    refused = page.locator("#bulk-report li.refused")
    assert refused.count() == 1 and "#01" in refused.inner_text()
    shot(page, "list-bulk-refused")
    with crm_site.platform() as p:
        assert {p.records("opportunity").get(r["id"])["stage"] for r in made} == {"initial_contact"}


def test_a_field_hidden_from_a_role_never_reaches_the_html(page, crm_site):
    agent = crm_site.by_role["service_agent"]  # revenue_12m is hidden from service agents
    crm_site.login(page, agent, lang="en")
    page.goto(crm_site.url + "/app/account?col=name&col=revenue_12m")
    page.wait_for_selector("#records")
    html = _without_own_url(page.content())
    assert "revenue_12m" not in html and "Revenue in the last 12 months" not in html
    response = page.goto(crm_site.url + "/app/account?sort=-revenue_12m&col=revenue_12m")
    assert response.status == 200
    html = _without_own_url(page.content())
    assert "revenue_12m" not in html and "Revenue in the last 12 months" not in html


def test_a_sales_rep_sees_only_their_scope_and_no_hidden_field(page, crm_site):
    rep = crm_site.by_role["sales_rep"]
    crm_site.login(page, rep, lang="zh-CN")
    page.goto(crm_site.url + "/app/opportunity")
    with crm_site.platform() as p:
        total = p.records("opportunity", rep).count()
        hidden = p.access(rep).hidden("opportunity")
    assert f"共 {total} 条" in page.inner_text("#totals")
    html = page.content()
    for key in hidden:
        assert f'value="{key}"' not in html
    page.goto(crm_site.url + "/app/opportunity/kanban?by=stage")
    board = page.inner_text("#kanban")
    assert "需求分析" in board and "签约成交" in board and "Needs analysis" not in board
    # A rep updates only their own records; the board is still draggable for those.
    assert page.locator("script[src='/vendor/sortable.js']").count() == 1
