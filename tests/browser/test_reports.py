"""Report and dashboard pages against a real ``tessera serve`` over the CRM demo."""

from __future__ import annotations

import io
import json
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from tests.browser.conftest import shot

REPORT = "lead_sources"


def _key(values: list) -> str:
    return json.dumps(values, separators=(",", ":"), ensure_ascii=False, default=str)


def _number(text: str) -> Decimal | None:
    text = text.replace(",", "").strip()
    return Decimal(text) if text else None


def _rounded(value) -> Decimal | None:
    """Two places, halves away from zero: how the page's number format rounds (53.125 → 53.13)."""
    if value is None:
        return None
    return Decimal(str(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _leaf_figures(result) -> dict[str, list]:
    """Per leaf row (its key as the page writes it), every cell value then the row total."""
    n = len(result["row_dimensions"])
    out = {}
    for row in result["rows"]:
        if row["level"] == n:
            values = [
                v for cell in row["cells"] for v in (cell or [None] * len(result["measures"]))
            ]
            values += list(row["total"] or [])
            out[_key(row["key"])] = [_rounded(v) for v in values]
    return out


def _page_figures(page) -> dict[str, list]:
    out = {}
    for tr in page.locator("#report-table tbody tr.leaf").all():
        cells = [_number(td.inner_text()) for td in tr.locator("td").all()]
        out[tr.get_attribute("data-key")] = [None if c is None else _rounded(c) for c in cells]
    return out


def _wait_ready(page, selector: str = "#report[data-state=ready]") -> None:
    page.wait_for_selector(selector)


def test_a_director_reads_drills_and_exports_a_report(page, crm_site):
    director = crm_site.by_role["sales_director"]
    crm_site.login(page, director, lang="en")
    page.goto(crm_site.url + f"/reports/{REPORT}")
    _wait_ready(page)
    assert page.locator("#report-chart canvas, #report-chart svg").count() >= 1
    with crm_site.platform() as p:
        result = p.reports.run(REPORT, user=director)
    assert result["rows"], "the demo data has leads"
    assert _page_figures(page) == _leaf_figures(result)
    assert "Website form" in page.inner_text("#report-table") or "Referral" in page.inner_text(
        "#report-table"
    )  # option labels, not stored keys
    shot(page, "report")

    # a parameter: only the leads of the most common grade
    counts = [
        (cell[0] or 0, col["key"][0])
        for col, cell in zip(result["columns"], result["totals"]["cells"])
    ]
    grade = max(c for c in counts if c[1] is not None)[1]
    page.select_option("select[name=grade]", grade)
    page.click("#report-params button[type=submit]")
    _wait_ready(page)
    with crm_site.platform() as p:
        hot = p.reports.run(REPORT, user=director, filters=f'grade == "{grade}"')
    assert hot["rows"]
    assert _page_figures(page) == _leaf_figures(hot)
    assert _page_figures(page) != _leaf_figures(result)

    # drill into the first cell: the records the drill API returns
    cell = page.locator("#report-table tr.leaf td.drill").first
    key = json.loads(cell.get_attribute("data-key"))
    cell.click()
    page.wait_for_selector("#report-drill[data-state=ready]")
    shown = {int(li.get_attribute("data-id")) for li in page.locator("#drill-list li").all()}
    with crm_site.platform() as p:
        drill = p.reports.drill(REPORT, key, user=director, filters=f'grade == "{grade}"')
    assert shown == {r["id"] for r in drill["records"]}
    if shown:
        first = min(shown)
        assert page.locator(f'#drill-list a[href="/app/lead/{first}"]').count() == 1

    # XLSX export: the same figures as the (filtered) page
    from openpyxl import load_workbook

    with page.expect_download() as download:
        page.click("a.export[data-format=xlsx]")
    book = load_workbook(io.BytesIO(Path(download.value.path()).read_bytes()))
    sheet = book.active
    figures = {}
    for row in sheet.iter_rows(min_row=2, values_only=True):
        if row[0] and row[0] != "Total":
            figures[row[0]] = [_rounded(v) for v in row[1:]]
    expected = {k: v for k, v in _leaf_figures(hot).items()}
    assert figures == {json.loads(k)[0]: v for k, v in expected.items()}

    with page.expect_download() as download:
        page.click("a.export[data-format=pdf]")
    data = Path(download.value.path()).read_bytes()
    assert data.startswith(b"%PDF")


def test_the_sales_cockpit_follows_its_global_filters(page, crm_site):
    director = crm_site.by_role["sales_director"]
    crm_site.login(page, director, lang="en")
    page.goto(crm_site.url + "/dashboards/sales_cockpit")
    page.wait_for_selector("#dashboard[data-loads='1']")
    assert page.locator(".widget-chart canvas, .widget-chart svg").count() >= 1
    kpi = page.locator(".widget[data-index='0'] .kpi-value")
    with crm_site.platform() as p:
        everywhere = p.reports.dashboard("sales_cockpit", user=director)
        east = p.reports.dashboard("sales_cockpit", user=director, values={"region": "east_china"})
    assert _rounded(kpi.get_attribute("data-value") or 0) == _rounded(
        everywhere["widgets"][0]["value"] or 0
    )
    page.select_option("select[name=region]", "east_china")
    page.click("#dashboard-filters button[type=submit]")
    page.wait_for_selector("#dashboard[data-loads='2']")
    assert _rounded(kpi.get_attribute("data-value") or 0) == _rounded(
        east["widgets"][0]["value"] or 0
    )
    assert everywhere["widgets"][0]["value"] != east["widgets"][0]["value"]
    funnel = page.locator(".widget[data-index='5']")
    assert funnel.locator(".widget-note").inner_text() == ""  # opportunities have a region
    shot(page, "dashboard-sales")


def test_a_report_on_an_entity_the_user_may_not_read_is_refused(page, crm_site):
    marketer = crm_site.by_role["marketing"]  # no access to opportunities
    crm_site.login(page, marketer, lang="en")
    response = page.goto(crm_site.url + "/reports/pipeline_by_region")
    assert response.status == 403
    assert "may not open" in page.inner_text(".report-error")
    answer = page.goto(crm_site.url + "/api/v1/reports/pipeline_by_region")
    assert answer.status == 403


def test_a_sales_reps_figures_and_drill_stay_within_their_scope(page, crm_site):
    rep = crm_site.by_role["sales_rep"]
    director = crm_site.by_role["sales_director"]
    crm_site.login(page, rep, lang="en")
    page.goto(crm_site.url + "/reports/pipeline_by_region")
    _wait_ready(page)
    with crm_site.platform() as p:
        mine = p.reports.run("pipeline_by_region", user=rep)
        everyone = p.reports.run("pipeline_by_region", user=director)
        visible = {r["id"] for r in p.records("opportunity", rep).list(limit=None)}
    assert mine["rows"] and _leaf_figures(mine) != _leaf_figures(everyone)
    assert _page_figures(page) == _leaf_figures(mine)
    cell = page.locator("#report-table tr.leaf td.drill").last
    key = json.loads(cell.get_attribute("data-key"))
    cell.click()
    page.wait_for_selector("#report-drill[data-state=ready]")
    shown = {int(li.get_attribute("data-id")) for li in page.locator("#drill-list li").all()}
    with crm_site.platform() as p:
        drill = p.reports.drill("pipeline_by_region", key, user=rep)
    assert shown and shown <= visible
    assert shown == {r["id"] for r in drill["records"]}


def test_every_crm_report_page_draws_for_a_director(page, crm_site):
    director = crm_site.by_role["sales_director"]
    crm_site.login(page, director, lang="zh-CN")
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    names = sorted(p.stem for p in (crm_site_root() / "reports").glob("*.yaml"))
    for name in names:
        page.goto(crm_site.url + f"/reports/{name}")
        page.wait_for_selector("#report[data-state=ready], #report[data-state=error]")
        assert page.get_attribute("#report", "data-state") == "ready", name
        assert page.locator("#report-table thead th").count() >= 1, name
    assert not errors
    page.goto(crm_site.url + "/dashboards/service_cockpit")
    page.wait_for_selector("#dashboard[data-loads='1']")
    assert "服务驾驶舱" in page.inner_text("h1")
    assert not errors


def crm_site_root() -> Path:
    from tests.browser.conftest import CRM_BUNDLE

    return CRM_BUNDLE
