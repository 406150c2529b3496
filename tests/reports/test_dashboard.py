"""Dashboards: checked when a bundle is installed, global filters applied per widget."""

from __future__ import annotations

import pytest

from engine import BundleError
from tests.floor_defs import ACCOUNT, CONTACT
from tests.test_install import write_bundle

REPORT = """name: revenue
label: {en: Revenue by industry, zh-CN: 各行业收入}
source: account
rows: [industry]
measures:
  - {name: revenue, agg: sum, field: revenue}
"""
GOOD = """name: cockpit
label: {en: Cockpit, zh-CN: 驾驶舱}
filters:
  - {name: industry, type: select, field: industry, label: {en: Industry, zh-CN: 行业}}
  - {name: period, type: period, field: created_on}
widgets:
  - {kpi: total, source: account, agg: sum, field: revenue, label: {en: Revenue, zh-CN: 收入}}
  - {kpi: people, source: contact, agg: count}
  - {report: revenue, chart: bar, width: 2}
"""
BAD = """name: cockpit
label: {en: Cockpit}
filters:
  - {name: industry, type: dropdown, field: industry}
widgets:
  - {kpi: total, source: account, agg: sum, field: name}
  - {report: revenu}
  - {report: revenue, width: 9}
"""


def _install(platform, tmp_path, dashboard: str):
    root = write_bundle(
        tmp_path / "b",
        "1.0.0",
        ACCOUNT,
        CONTACT,
        extra={"reports/revenue.yaml": REPORT, "dashboards/cockpit.yaml": dashboard},
    )
    platform.install(root)
    return root


def test_a_bad_dashboard_stops_the_install_at_its_lines(platform, tmp_path):
    with pytest.raises(BundleError) as info:
        _install(platform, tmp_path, BAD)
    found = {
        e["line"]: e["message"] for e in info.value.errors if e["file"] == "dashboards/cockpit.yaml"
    }
    assert "dropdown" in found[4]
    assert "adds numbers" in found[6]
    assert "'revenu' is not a report" in found[7]
    assert "width" in found[8]


def test_global_filters_apply_to_the_widgets_whose_source_has_the_field(platform, tmp_path):
    _install(platform, tmp_path, GOOD)
    accounts = platform.records("account")
    accounts.create({"name": "A", "industry": "tech", "revenue": "10"})
    accounts.create({"name": "B", "industry": "retail", "revenue": "5"})
    platform.records("contact").create({"full_name": "Ann"})

    board = platform.reports.dashboard("cockpit")
    kpi, people, chart = board["widgets"]
    assert float(kpi["value"]) == 15 and people["value"] == 1
    assert {r["key"][0] for r in chart["result"]["rows"]} == {"tech", "retail"}
    [industry, period] = board["filters"]
    assert [o["value"] for o in industry["options"]] == ["tech", "retail", "finance"]
    assert period["type"] == "period"

    board = platform.reports.dashboard("cockpit", values={"industry": "tech"})
    kpi, people, chart = board["widgets"]
    assert float(kpi["value"]) == 10 and kpi["applied"] == ["industry"]
    assert people["value"] == 1 and people["ignored"] == ["industry"]  # contacts have no industry
    assert [r["key"] for r in chart["result"]["rows"]] == [["tech"]]

    later = {"period": {"from": "2999-01-01"}}
    kpi = platform.reports.dashboard("cockpit", values=later)["widgets"][0]
    assert kpi["value"] in (None, 0)


def test_dashboard_problems_through_the_service(platform, tmp_path):
    _install(platform, tmp_path, GOOD)
    entries = platform.reports.dashboard_problems(
        {"name": "x", "label": "X", "widgets": [{"report": "nope"}]}
    )
    assert entries and entries[0]["field"] == "widgets[0].report"


def test_report_parameters_become_a_filter(platform, tmp_path):
    _install(platform, tmp_path, GOOD)
    [industry] = platform.reports.parameters("revenue")
    assert industry["kind"] == "select"
    text = platform.reports.parameter_filter("revenue", {"industry": "tech"})
    assert text == '(industry == "tech")'
    assert platform.reports.parameter_filter("revenue", {"unknown": 1}) is None
