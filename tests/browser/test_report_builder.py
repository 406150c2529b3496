"""The report builder in a real browser: a pivot built by dragging fields, its grand total
checked against the database, saved with labels in both languages and opened as a report;
a funnel saved from its own small form."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func, select

from tests.browser.conftest import shot

NAME = "won_by_owner_quarter"
LABEL_EN = "Won amount by owner and quarter"
LABEL_ZH = "赢单金额（按负责人和季度）"


def _drag(page, source, target) -> None:
    """Drag with the mouse in small, paced steps, as SortableJS's pointer fallback expects."""
    source.scroll_into_view_if_needed()
    a = source.bounding_box()
    b = target.bounding_box()
    x, y = a["x"] + a["width"] / 2, a["y"] + a["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.wait_for_timeout(50)
    page.mouse.move(x + 8, y + 8, steps=4)
    page.wait_for_timeout(100)
    tx, ty = b["x"] + b["width"] / 2, b["y"] + b["height"] - 8
    page.mouse.move(tx, ty, steps=15)
    page.wait_for_timeout(100)
    page.mouse.move(tx, ty + 2, steps=2)
    page.wait_for_timeout(100)
    page.mouse.up()


def _drop(page, path: str, zone: str) -> None:
    """Drag field ``path`` from the field list into ``zone`` and wait for the item to appear."""
    items = page.locator(f"#zone-{zone} > li.rb-item")
    before = items.count()
    _drag(page, page.locator(f'#rb-field-list li.rb-field[data-path="{path}"]'),
          page.locator(f"#zone-{zone}"))  # fmt: skip
    try:
        page.wait_for_function(
            "([sel, n]) => document.querySelectorAll(sel).length > n",
            arg=[f"#zone-{zone} > li.rb-item", before],
        )
    except Exception:
        shot(page, f"report-builder-drop-{zone}-failed")
        raise


def _previewed(page, action) -> None:
    """Do ``action`` and wait until the preview after it is shown (a new one, ready).

    The page marks a preview ready only when no change came after it was asked for, so
    ``action`` may make several choices as long as one of them surely changes the draft.
    """
    before = int(page.get_attribute("#report-builder", "data-previews") or 0)
    action()
    page.wait_for_function(
        "n => { const r = document.getElementById('report-builder');"
        " return r.dataset.state === 'ready' && Number(r.dataset.previews || 0) > n; }",
        arg=before,
    )


def _won_by_owner(p) -> tuple[Decimal, dict]:
    """The sum of won amounts, overall and per owner, straight from the table."""
    _model, table = p.rules.tables("opportunity")
    won = table.c.stage == "won"
    with p.db.transaction(write=False) as conn:
        total = conn.execute(select(func.sum(table.c.amount)).where(won)).scalar_one()
        per = conn.execute(
            select(table.c.owner, func.sum(table.c.amount)).where(won).group_by(table.c.owner)
        ).all()
    return Decimal(str(total or 0)), {o: Decimal(str(s)) for o, s in per}


def test_an_admin_builds_a_pivot_by_dragging_and_saves_it(page, crm_site):
    page.set_viewport_size({"width": 1400, "height": 1800})
    crm_site.login(page, "admin", lang="en")
    page.goto(crm_site.url + f"/build/reports/{NAME}")
    page.wait_for_selector("#report-builder[data-state=idle]")
    page.select_option("#rb-source", "opportunity")
    page.wait_for_selector('#rb-field-list li[data-path="owner"]')
    assert page.locator('#rb-field-list li[data-path="account.industry"]').count() == 1

    _drop(page, "owner", "rows")
    _drop(page, "closed_on", "columns")
    _previewed(page, lambda: _drop(page, "amount", "measures"))
    # a date dropped into columns is bucketed by month at first: make it quarters
    _previewed(page, lambda: page.select_option("#zone-columns .rb-bucket", "quarter"))
    assert page.locator("#zone-measures .rb-agg").input_value() == "sum"
    # text fields are not offered sum or average
    _drop(page, "name", "measures")
    text_measure = page.locator('#zone-measures li.rb-item[data-item*=\'"field":"name"\']')
    values = text_measure.locator(".rb-agg option").evaluate_all("os => os.map(o => o.value)")
    assert "count" in values and "sum" not in values and "avg" not in values
    text_measure.locator(".rb-remove").click()

    _drop(page, "stage", "filters")
    _previewed(page, lambda: page.select_option("#zone-filters .rb-value", "won"))
    # a dimension's heading in both languages
    page.fill("#zone-rows .rb-label-en", "Sales rep")
    page.fill("#zone-rows .rb-label-zh", "销售")
    page.locator("#zone-rows .rb-label-zh").dispatch_event("change")
    page.fill("#zone-measures .rb-label-en", "Won amount")
    page.fill("#zone-measures .rb-label-zh", "赢单金额")
    page.locator("#zone-measures .rb-label-zh").dispatch_event("change")

    grand = page.locator("#rb-table tfoot td.grand").first
    with crm_site.platform() as p:
        total, per_owner = _won_by_owner(p)
    assert total > 0, "the demo has won opportunities"
    assert Decimal(grand.get_attribute("data-value")) == total
    shown = {
        tr.get_attribute("data-key"): Decimal(tr.locator("td.total").get_attribute("data-value"))
        for tr in page.locator("#rb-table tbody tr.leaf").all()
    }
    assert {k.strip('[]"'): v for k, v in shown.items()} == per_owner
    assert page.locator("#rb-chart canvas, #rb-chart svg").count() >= 1

    # a computed measure with a mistake is marked where it is, then fixed
    page.click("#rb-add-computed")
    expr = page.locator("#zone-measures li.rb-item .rb-expr")
    expr.fill("sum_amount * nothing")
    page.wait_for_selector("#zone-measures li.rb-item.has-error .rb-item-error:not([hidden])")
    assert "nothing" in page.inner_text("#zone-measures li.rb-item.has-error")
    shot(page, "report-builder-error")
    page.locator("#zone-measures li.rb-item:has(.rb-expr) .rb-remove").click()
    page.wait_for_selector("#report-builder[data-state=ready]")

    page.fill("#rb-label-en", LABEL_EN)
    page.fill("#rb-label-zh", LABEL_ZH)
    page.select_option("#rb-chart-type", "stacked_bar")
    page.wait_for_selector("#report-builder[data-state=ready]")
    shot(page, "report-builder")
    page.click("#rb-save")
    page.wait_for_selector("#report-builder[data-saved='1']")

    with crm_site.platform() as p:
        saved = p.meta.get("report", NAME)
    definition = saved["definition"]
    assert definition["label"] == {"en": LABEL_EN, "zh-CN": LABEL_ZH}
    assert definition["type"] == "pivot" and definition["source"] == "opportunity"
    assert definition["rows"] == [{"field": "owner", "label": {"en": "Sales rep", "zh-CN": "销售"}}]
    assert definition["columns"] == [{"field": "closed_on", "bucket": "quarter"}]
    assert definition["filters"] == 'stage == "won"'
    measure = definition["measures"][0]
    assert measure["agg"] == "sum" and measure["field"] == "amount"
    assert measure["label"] == {"en": "Won amount", "zh-CN": "赢单金额"}
    with crm_site.platform() as p:
        assert p.reports.problems(definition) == []

    page.click("#rb-open")
    page.wait_for_selector("#report[data-state=ready]")
    assert LABEL_EN in page.inner_text("h1")
    shot(page, "report-builder-saved")

    # back in the builder, the saved condition is a filter item again, the labels editable
    page.goto(crm_site.url + f"/build/reports/{NAME}")
    page.wait_for_selector("#report-builder[data-state=ready]")
    item = page.locator("#zone-filters > li.rb-item")
    assert item.count() == 1
    assert item.locator(".rb-op").input_value() == "=="
    assert item.locator(".rb-value").input_value() == "won"
    assert page.input_value("#rb-condition") == ""
    assert page.input_value("#zone-rows .rb-label-zh") == "销售"


def test_a_second_editor_gets_a_conflict_on_save(browser, crm_site):
    """Two admins open the same saved report; the later save is refused with a message."""
    with crm_site.platform() as p:  # a copy, so the shipped report other tests read stays as is
        copy = dict(p.meta.get("report", "sales_by_owner")["definition"], name="sales_copy")
        p.meta.save("report", "sales_copy", copy)
    pages = []
    for _ in range(2):
        context = browser.new_context()
        one = context.new_page()
        crm_site.login(one, "admin", lang="en")
        one.goto(crm_site.url + "/build/reports/sales_copy")
        one.wait_for_selector("#report-builder[data-state=ready]")
        pages.append(one)
    first, second = pages
    first.fill(
        "#rb-label-en", "Sales by owner (first editor)"
    )  # an unchanged save keeps its version
    first.click("#rb-save")
    first.wait_for_selector("#report-builder[data-saved]")
    second.click("#rb-save")
    second.wait_for_selector("#report-builder[data-saved=conflict]")
    assert "Someone else saved" in second.inner_text("#rb-error")
    for one in pages:
        one.context.close()


def test_a_funnel_is_saved_from_its_own_form(page, crm_site):
    crm_site.login(page, "admin", lang="en")
    page.goto(crm_site.url + "/build/reports/deal_stages")
    page.wait_for_selector("#report-builder[data-state=idle]")
    page.select_option("#rb-type", "funnel")
    page.select_option("#rb-source", "opportunity")
    page.wait_for_selector("#rb-other-fields select[name=stage]")
    page.select_option("#rb-other-fields select[name=stage]", "stage")
    page.wait_for_selector("#rb-other-fields input[name=stages]")
    for stage in ("initial_contact", "proposal", "won"):
        page.check(f"#rb-other-fields input[name=stages][value={stage}]")
    _previewed(page, lambda: page.select_option("#rb-other-fields select[name=amount]", "amount"))
    assert page.locator("#rb-table tbody tr").count() == 3
    page.fill("#rb-label-en", "Deal stages")
    page.fill("#rb-label-zh", "商机阶段")
    shot(page, "report-builder-funnel")
    page.click("#rb-save")
    page.wait_for_selector("#report-builder[data-saved='1']")
    with crm_site.platform() as p:
        definition = p.meta.get("report", "deal_stages")["definition"]
        assert p.reports.problems(definition) == []
    assert definition["type"] == "funnel"
    assert definition["stages"] == ["initial_contact", "proposal", "won"]
    assert definition["label"] == {"en": "Deal stages", "zh-CN": "商机阶段"}


def test_a_saved_report_opens_in_the_builder_in_chinese(page, crm_site):
    """A shipped pivot comes back into the zones it was made of, with its preview, in Chinese."""
    crm_site.login(page, "admin", lang="zh-CN")
    page.goto(crm_site.url + "/build/reports/pipeline_by_region")
    page.wait_for_selector("#report-builder[data-state=ready]")
    assert page.locator("#zone-rows > li.rb-item").count() == 2
    assert page.locator("#zone-columns .rb-bucket").input_value() == "quarter"
    assert page.locator("#zone-measures > li.rb-item").count() == 4
    assert page.locator("#zone-measures .rb-expr").input_value() == "amount / deals"
    assert page.locator("#rb-label-zh").input_value() == "各区域在途商机"
    # its filter (stage not in [won, lost]) is an item of the filter zone, not free text
    item = page.locator("#zone-filters > li.rb-item")
    assert item.count() == 1
    assert item.locator(".rb-op").input_value() == "not in"
    chosen = item.locator(".rb-value option:checked").evaluate_all("os => os.map(o => o.value)")
    assert chosen == ["won", "lost"] or sorted(chosen) == ["lost", "won"]
    assert page.input_value("#rb-condition") == ""
    assert "度量" in page.inner_text("#rb-form-pivot")
    assert page.locator("#rb-table tbody tr").count() >= 1
    shot(page, "report-builder-zh")


def test_the_forecast_rfm_and_leaderboard_forms_preview(page, crm_site):
    """Each small form gives a definition the engine runs: a preview, no problems shown."""
    crm_site.login(page, "admin", lang="en")
    page.goto(crm_site.url + "/build/reports/form_tryout")
    page.wait_for_selector("#report-builder[data-state=idle]")
    form = "#rb-other-fields"

    def leaderboard():
        page.select_option("#rb-type", "leaderboard")
        page.select_option("#rb-source", "opportunity")
        page.wait_for_selector(f"{form} select[name=by] option[value=owner]", state="attached")
        page.select_option(f"{form} select[name=by]", "owner")
        page.select_option(f"{form} select[name=measure_agg]", "sum")
        page.select_option(f"{form} select[name=measure_field]", "amount")

    # Each form's type change surely asks for a preview; the one shown answers the last choice.
    _previewed(page, leaderboard)
    assert page.locator("#rb-table tbody tr").count() >= 1

    def forecast():
        page.select_option("#rb-type", "forecast")
        page.select_option(f"{form} select[name=stage]", "stage")
        page.select_option(f"{form} select[name=won]", "won")
        page.check(f"{form} input[name=lost][value=lost]")
        page.select_option(f"{form} select[name=amount]", "amount")
        page.select_option(f"{form} select[name=close]", "expected_close")

    _previewed(page, forecast)
    assert page.locator(".rb-item-error:not([hidden])").count() == 0

    def rfm():
        page.select_option("#rb-type", "rfm")
        page.select_option("#rb-source", "order")
        page.wait_for_selector(
            f"{form} select[name=customer] option[value=account]", state="attached"
        )
        page.select_option(f"{form} select[name=customer]", "account")
        page.select_option(f"{form} select[name=date]", "order_date")
        page.select_option(f"{form} select[name=amount]", "total")

    _previewed(page, rfm)
    assert page.locator(".rb-item-error:not([hidden])").count() == 0
    assert page.locator("#rb-table tbody tr").count() >= 1
