"""The RFM report page and report exports in the browser (QA findings on the CRM demo).

The segment keys must read as words in the user's language in the table and the
chart, the customer counts must have an axis of their own beside the amounts,
an XLSX export of a non-pivot report must download, and a failed export must
say why on the page.
"""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

from tests.browser.conftest import shot

DOCS_IMAGES = Path(__file__).resolve().parents[2] / "docs" / "images"


def _option(page) -> dict:
    """The ECharts option the page drew (series and axes), as plain JSON."""
    return page.evaluate(
        """() => {
          const chart = echarts.getInstanceByDom(document.getElementById("report-chart"));
          const o = chart.getOption();
          return JSON.parse(JSON.stringify({xAxis: o.xAxis, yAxis: o.yAxis,
            series: o.series.map((s) => ({name: s.name, yAxisIndex: s.yAxisIndex}))}));
        }"""
    )


def test_rfm_segments_read_as_words_and_counts_have_their_own_axis(page, crm_site):
    director = crm_site.by_role["sales_director"]
    crm_site.login(page, director, lang="zh-CN")
    page.goto(crm_site.url + "/reports/customer_rfm")
    page.wait_for_selector("#report[data-state=ready]")
    segments = [t.strip() for t in page.locator("#report-table tbody th").all_inner_texts()]
    assert "重要价值客户" in segments and "其他客户" in segments, segments
    assert not {"champions", "at_risk", "hibernating", "other"} & set(segments)
    option = _option(page)
    assert "沉睡客户" in option["xAxis"][0]["data"]
    assert len(option["yAxis"]) == 2
    axes = {s["name"]: s["yAxisIndex"] for s in option["series"]}
    assert axes == {"客户数": 1, "金额": 0}, axes
    path = shot(page, "rfm_report_zh")
    shutil.copy(path, DOCS_IMAGES / "rfm_report_zh.png")


def test_funnel_xlsx_downloads_and_a_failed_export_says_why(page, crm_site):
    from openpyxl import load_workbook

    director = crm_site.by_role["sales_director"]
    crm_site.login(page, director, lang="en")
    page.goto(crm_site.url + "/reports/opportunity_funnel")
    page.wait_for_selector("#report[data-state=ready]")
    with page.expect_download() as download:
        page.click("a.export[data-format=xlsx]")
    assert download.value.suggested_filename == "opportunity_funnel.xlsx"
    sheet = load_workbook(io.BytesIO(Path(download.value.path()).read_bytes())).active
    assert [c.value for c in sheet[1]][:3] == ["Stage", "Count", "Amount"]

    # The server refuses the next export: the page shows the problem's words.
    problem = {"title": "Report failed", "detail": "the report could not be written", "status": 500}
    page.route(
        "**/export?format=pdf*",
        lambda route: route.fulfill(
            status=500, content_type="application/problem+json", body=json.dumps(problem)
        ),
    )
    page.click("a.export[data-format=pdf]")
    status = page.locator("#report-status")
    status.wait_for(state="visible")
    page.wait_for_function(
        "() => document.getElementById('report-status').textContent.includes('could not be written')"
    )
    assert status.inner_text().startswith("Export failed:")
    path = shot(page, "report_export_failed")
    shutil.copy(path, DOCS_IMAGES / "report_export_failed.png")
