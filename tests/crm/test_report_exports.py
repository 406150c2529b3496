"""Every CRM report exports in every format over HTTP, whatever its type.

The QA walk found XLSX failing (500) for the funnel, RFM and forecast reports:
the writer assumed a pivot's row dimensions. CSV is the reference here: the
XLSX header must be the CSV header and the first row must hold the same values.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from tests.crm.conftest import CRM
from tests.crm.test_acceptance import tick
from tests.crm.test_http import signed_in

REPORTS = sorted(p.stem for p in (CRM / "reports").glob("*.yaml"))


@pytest.fixture(scope="module")
def director(crm, crm_server):
    """zhou_qiang (sales director) on a CRM with two more deals (open stages) and two orders."""
    client = signed_in(crm_server, "zhou_qiang")
    _, account, _ = client.post("/api/v1/records/account", {"name": "导出测试有限公司"})
    for name, stage in (("export open", "proposal"), ("export won", "initial_contact")):
        body = {"name": name, "account": account["id"], "stage": stage, "amount": 120000}
        body["expected_close"] = "2027-03-15"
        status, opp, _ = client.post("/api/v1/records/opportunity", body)
        assert status == 201, opp
    _, products, _ = client.get("/api/v1/records/product?limit=1")
    line = {"product": products["items"][0]["id"], "quantity": 2, "unit_price": 5000}
    for day in ("2026-10-01", "2026-10-20"):
        status, order, _ = client.post(
            "/api/v1/records/order",
            {"account": account["id"], "order_date": day, "lines": [line]},
        )
        assert status == 201, order
    tick(crm)
    return client


def _csv(client, name: str, lang: str = "en") -> list[list[str]]:
    status, body, _ = client.get(f"/api/v1/reports/{name}/export?format=csv&lang={lang}")
    assert status == 200, body
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


def _xlsx(client, name: str, lang: str = "en") -> list[list[object]]:
    from openpyxl import load_workbook

    status, body, headers = client.get(f"/api/v1/reports/{name}/export?format=xlsx&lang={lang}")
    assert status == 200, body
    assert headers["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(body), read_only=True).active
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def _same(text: str, value: object) -> bool:
    if value is None:
        return text == ""
    if isinstance(value, int | float):
        return float(text) == float(value)
    return text == str(value)


@pytest.mark.parametrize("name", REPORTS)
def test_every_crm_report_exports_as_csv_xlsx_and_pdf(director, name):
    table = _csv(director, name)
    sheet = _xlsx(director, name)
    assert sheet[0] == table[0], name
    assert len(sheet) == len(table), name
    if len(table) > 1:
        first = sheet[1]
        assert all(_same(t, v) for t, v in zip(table[1], first, strict=True)), (table[1], first)
    status, pdf, _ = director.get(f"/api/v1/reports/{name}/export?format=pdf")
    assert status == 200 and pdf.startswith(b"%PDF-"), name


def test_funnel_xlsx_has_its_header_and_counts(director):
    sheet = _xlsx(director, "opportunity_funnel")
    assert sheet[0][:3] == ["Stage", "Count", "Amount"]
    stages = {row[0]: row for row in sheet[1:]}
    assert stages["proposal"][1] >= 1 and stages["proposal"][2] >= 120000


def test_xlsx_writes_a_leaderboard(tmp_path: Path):
    from openpyxl import load_workbook

    from engine.reports.export import write_xlsx

    result = {
        "report": "top",
        "type": "leaderboard",
        "rows": [{"rank": 1, "key": "wang_lei", "value": 10, "target": 20, "attainment": 50}],
    }
    out = io.BytesIO()
    write_xlsx(result, out)
    rows = list(load_workbook(io.BytesIO(out.getvalue())).active.iter_rows(values_only=True))
    assert rows == [("Rank", "Who", "Value", "Target", "Attainment %"), (1, "wang_lei", 10, 20, 50)]


@pytest.mark.parametrize(
    ("lang", "words"),
    [
        ("en", ["Champions", "Hibernating", "Other customers"]),
        ("zh-CN", ["重要价值客户", "沉睡客户"]),
    ],
)
def test_rfm_exports_show_segment_words_not_keys(director, lang, words):
    table = _csv(director, "customer_rfm", lang)
    sheet = _xlsx(director, "customer_rfm", lang)
    segments = [row[0] for row in table[1:]]
    assert segments == [row[0] for row in sheet[1:]]
    assert all(w in segments for w in words), segments
    assert not {"champions", "at_risk", "hibernating", "other"} & set(segments)


def test_rfm_counts_get_their_own_axis(director, crm_server):
    """The RFM chart's customer counts are drawn on an axis of their own (axis 1)."""
    status, result, _ = director.get("/api/v1/reports/customer_rfm")
    assert status == 200, result
    series = {s["name"]: s for s in result["chart"]["series"]}
    assert series["customers"]["axis"] == 1 and "axis" not in series["monetary"]
