"""The dashboard editor against a real ``tessera serve`` over the CRM demo: an admin builds a
new dashboard by dragging a pivot beside a funnel, adds a global period filter, resizes a
widget, shares it with the sales managers and saves; a sales manager opens it, filters the
period and drills into a cell, and the records listed are the database's."""

from __future__ import annotations

import json
from decimal import Decimal

from tests.browser.conftest import shot

BOARD = "won_overview"
PIVOT = {
    # not the report builder's test report (won_by_owner_quarter): both tests share one
    # site, and the builder's test starts from a report that does not exist yet
    "name": "won_by_owner_per_quarter",
    "label": {"en": "Won amount by owner and quarter", "zh-CN": "按负责人与季度的成交金额"},
    "type": "pivot",
    "source": "opportunity",
    "filters": 'stage == "won"',
    "rows": ["owner"],
    "columns": [{"field": "closed_on", "bucket": "quarter"}],
    "measures": [
        {
            "name": "won",
            "agg": "sum",
            "field": "amount",
            "label": {"en": "Won amount", "zh-CN": "成交金额"},
        }
    ],
    "totals": {"rows": True, "columns": True},
}


#: Won deals of the Shanghai team (li_na's) and one of another team, over two quarters.
WON_DEALS = [
    ("wang_lei", 120000, "2025-02-14"),
    ("wang_lei", 80000, "2025-05-06"),
    ("chen_jie", 45000, "2025-05-28"),
    ("chen_jie", 30000, "2024-11-02"),
    ("gao_yu", 99000, "2025-05-10"),
]


def _drag(page, source: str, x: float, y: float) -> None:
    """Drag a palette item onto the grid at (x, y) from its top left corner (the browser's
    own drag and drop, as a person's mouse does it)."""
    page.drag_and_drop(source, "#editor-grid", target_position={"x": x, "y": y})


def _node(page, index: int) -> dict:
    return page.evaluate(
        """(i) => { const n = document.querySelectorAll('#editor-grid .grid-stack-item')[i].gridstackNode;
                    return {x: n.x, y: n.y, w: n.w, h: n.h}; }""",
        index,
    )


def _previewed(page, before: int) -> int:
    page.wait_for_function(
        "(n) => Number(document.getElementById('dashboard-editor').dataset.preview || 0) > n",
        arg=before,
    )
    return int(page.get_attribute("#dashboard-editor", "data-preview"))


def test_an_admin_builds_a_dashboard_and_a_manager_drills_into_it(page, browser, crm_site):
    crm_site.login(page, "admin", lang="en")
    saved = page.evaluate(
        "([name, d]) => Tessera.api('PUT', '/api/v1/meta/report/' + name, {definition: d})",
        [PIVOT["name"], PIVOT],
    )
    assert saved["version"] >= 1

    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.set_viewport_size({"width": 1500, "height": 1000})
    page.goto(crm_site.url + f"/build/dashboards/{BOARD}")
    page.wait_for_selector("#dashboard-editor[data-ready='1']")
    seen = _previewed(page, 0)
    assert page.locator(".palette-item[data-report=won_by_owner_per_quarter]").count() == 1

    # the pivot to the left of the grid, the funnel beside it
    _drag(page, ".palette-item[data-report=won_by_owner_per_quarter]", 30, 30)
    page.wait_for_selector("#editor-grid .grid-stack-item >> nth=0")
    seen = _previewed(page, seen)
    width = page.locator("#editor-grid").bounding_box()["width"]
    _drag(page, ".palette-item[data-report=opportunity_funnel]", width * 0.75, 30)
    page.wait_for_selector("#editor-grid .grid-stack-item >> nth=1")
    seen = _previewed(page, seen)
    pivot, funnel = _node(page, 0), _node(page, 1)
    assert pivot["x"] == 0 and funnel["x"] >= pivot["x"] + pivot["w"]
    assert funnel["y"] == pivot["y"] == 0
    tiles = page.locator("#editor-grid .grid-stack-item-content")
    tiles.nth(1).locator(".widget-chart canvas").wait_for()  # the funnel previews live

    # the pivot as a table with its own title
    tiles.nth(0).click()
    page.select_option("#prop-chart", "table")
    page.fill("#prop-label-en", "Won by owner")
    page.fill("#prop-label-zh", "各负责人成交")
    seen = _previewed(page, seen)
    tiles.nth(0).locator("td.drill").first.wait_for()

    # resize the funnel by its corner handle: taller by two rows
    before = _node(page, 1)
    tiles.nth(1).hover()
    handle = page.locator("#editor-grid .grid-stack-item >> nth=1").locator(".ui-resizable-se")
    box = handle.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    for step in range(1, 11):
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2 + 15 * step)
    page.mouse.up()
    page.wait_for_function(
        "(h) => document.querySelectorAll('#editor-grid .grid-stack-item')[1].gridstackNode.h > h",
        arg=before["h"],
    )
    resized = _node(page, 1)

    # a global period on the close date; share with the sales managers; label
    page.check("#filter-choices input[value=period]")
    page.select_option("#period-field", "closed_on")
    page.check("#share-roles input[value=sales_manager]")
    page.fill("#board-label-en", "Won overview")
    page.fill("#board-label-zh", "成交概览")
    seen = _previewed(page, seen)
    shot(page, "dashboard-editor")
    page.click("#save-board")
    page.wait_for_selector("#dashboard-editor[data-saved='1']")

    with crm_site.platform() as p:
        stored = p.meta.get("dashboard", BOARD)["definition"]
    assert [w.get("report") for w in stored["widgets"]] == [
        "won_by_owner_per_quarter",
        "opportunity_funnel",
    ]
    assert stored["widgets"][0]["chart"] == "table"
    assert stored["widgets"][1]["grid"] == resized
    assert stored["filters"] == [{"name": "period", "type": "period", "field": "closed_on"}]
    assert stored["share"] == ["sales_manager"]

    # a second save from a stale copy is refused, and the page says how to recover
    other = browser.new_page()
    try:
        crm_site.login(other, "admin", lang="en")
        other.goto(crm_site.url + f"/build/dashboards/{BOARD}")
        other.wait_for_selector("#dashboard-editor[data-ready='1']")
        page.fill("#board-label-en", "Won overview!")
        page.click("#save-board")
        page.wait_for_selector("#dashboard-editor[data-saved='2']")
        other.fill("#board-label-en", "Stale")
        other.click("#save-board")
        other.wait_for_selector("#dashboard-editor[data-saved='error']")
        assert "reload" in other.inner_text("#editor-error")
        assert other.locator("#reload-board").is_visible()
    finally:
        other.close()

    # the sales manager of the Shanghai team: opens it, filters the period, drills into a cell
    manager = "li_na"
    with crm_site.platform() as p:
        assert "sales_manager" in p.users.get(manager)["roles"]
        account = p.records("account").list(limit=1)[0]["id"]
        for owner, amount, closed in WON_DEALS:
            p.records("opportunity").create(
                {
                    "name": f"Dashboard deal {owner} {closed}",
                    "account": account,
                    "stage": "won",
                    "amount": amount,
                    "closed_on": closed,
                    "owner": owner,
                }
            )
    viewer = browser.new_page(viewport={"width": 1400, "height": 1000})
    try:
        crm_site.login(viewer, manager, lang="en")
        viewer.goto(crm_site.url + f"/dashboards/{BOARD}")
        viewer.wait_for_selector("#dashboard[data-loads='1']")
        viewer.fill("input[name='period.from']", "2025-01-01")
        viewer.fill("input[name='period.to']", "2025-12-31")
        viewer.click("#dashboard-filters button[type=submit]")
        viewer.wait_for_selector("#dashboard[data-loads='2']")
        funnel_note = viewer.locator(".widget[data-index='1'] .widget-note").inner_text()
        assert funnel_note == ""  # opportunities have the close date: the funnel is filtered too
        table = viewer.locator(".widget[data-index='0'] table")
        keys = {
            tuple(json.loads(c.get_attribute("data-key")))
            for c in table.locator("tr.leaf td.drill").all()
        }
        assert ("wang_lei", "2025-04-01") in keys
        assert not any(k[0] == "gao_yu" for k in keys)  # another team: outside the scope
        assert not any(len(k) == 2 and k[1].startswith("2024") for k in keys)  # the period
        cell = table.locator("""td.drill[data-key='["wang_lei","2025-04-01"]']""")
        cell.click()
        viewer.wait_for_selector("#dashboard-drill[data-state=ready]")
        shown = {int(li.get_attribute("data-id")) for li in viewer.locator("#drill-list li").all()}
        with crm_site.platform() as p:
            expected = [
                r
                for r in p.records("opportunity", manager).list(
                    'stage == "won" and owner == "wang_lei" and closed_on >= @2025-04-01 '
                    "and closed_on <= @2025-06-30",
                    limit=None,
                )
            ]
        assert shown == {r["id"] for r in expected}
        assert Decimal(cell.inner_text().replace(",", "")) == sum(
            Decimal(str(r["amount"])) for r in expected
        )
        shot(viewer, "dashboard-editor-drill")

        # the funnel drills too: a stage (the middle segment) to its records, same scope
        chart = viewer.locator(".widget[data-index='1'] .widget-chart canvas").first
        box = chart.bounding_box()
        viewer.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        viewer.wait_for_selector("#dashboard-drill[data-state=ready][data-widget='1']")
        [stage] = json.loads(viewer.get_attribute("#dashboard-drill", "data-key"))
        shown = {int(li.get_attribute("data-id")) for li in viewer.locator("#drill-list li").all()}
        with crm_site.platform() as p:
            expected = {
                r["id"]
                for r in p.records("opportunity", manager).list(
                    f'stage == "{stage}" and closed_on >= @2025-01-01 and closed_on <= @2025-12-31',
                    limit=None,
                )
            }
        assert shown <= expected and len(shown) == min(len(expected), 50)
        shot(viewer, "dashboard-funnel-drill")
    finally:
        viewer.close()
    assert not errors


def test_a_number_and_a_list_preview_live_and_a_bad_filter_is_shown_at_its_field(page, crm_site):
    crm_site.login(page, "admin", lang="en")
    page.set_viewport_size({"width": 1500, "height": 1000})
    page.goto(crm_site.url + "/build/dashboards/numbers_board")
    page.wait_for_selector("#dashboard-editor[data-ready='1']")
    seen = _previewed(page, 0)

    page.click(".palette-item[data-kind=number] .add")
    page.wait_for_selector("#prop-agg")
    page.select_option("#prop-source", "opportunity")
    page.select_option("#prop-agg", "sum")
    page.select_option("#prop-field", "amount")
    page.fill("#prop-filter", 'stage == "won"')
    seen = _previewed(page, seen)
    value = page.locator("#editor-grid .grid-stack-item-content >> nth=0").locator(".kpi-value")
    with crm_site.platform() as p:
        won = p.records("opportunity").list('stage == "won"', limit=None)
    expected = sum(Decimal(str(r["amount"] or 0)) for r in won)
    assert Decimal(value.get_attribute("data-value")) == expected

    # a field the entity does not have: the error sits under the filter and on the tile
    page.fill("#prop-filter", "amout > 5")
    seen = _previewed(page, seen)
    assert "amout" in page.inner_text("[data-error=filters]")
    assert page.locator("#editor-grid .grid-stack-item.invalid").count() == 1
    page.fill("#prop-filter", "amount > 5")
    seen = _previewed(page, seen)
    assert page.inner_text("[data-error=filters]") == ""
    assert page.locator("#editor-grid .grid-stack-item.invalid").count() == 0

    page.click(".palette-item[data-kind=list] .add")
    page.wait_for_selector("#prop-columns")
    page.select_option("#prop-source", "account")
    seen = _previewed(page, seen)
    rows = page.locator("#editor-grid .grid-stack-item-content >> nth=1").locator("tbody tr")
    with crm_site.platform() as p:
        accounts = p.records("account").list(limit=10)
    assert rows.count() == len(accounts)
    shot(page, "dashboard-editor-number-list")
