"""Report files in bundles and through the metadata API are checked before they are stored."""

from __future__ import annotations

import pytest

from engine import BundleError
from tests.floor_defs import ACCOUNT
from tests.test_install import write_bundle

BAD_REPORT = """name: revenue
label: {en: Revenue by industry, zh-CN: 各行业收入}
source: account
rows: [industy]
columns:
  - {field: name, bucket: month}
measures:
  - {name: revenue, agg: sum, field: name}
"""
GOOD_REPORT = """name: revenue
label: {en: Revenue by industry, zh-CN: 各行业收入}
source: account
rows: [industry]
measures:
  - {name: revenue, agg: sum, field: revenue}
  - {name: accounts, agg: count}
"""


def test_a_bad_report_file_stops_the_install_at_its_line(platform, tmp_path):
    root = write_bundle(
        tmp_path / "b", "1.0.0", ACCOUNT, extra={"reports/revenue.yaml": BAD_REPORT}
    )
    with pytest.raises(BundleError) as info:
        platform.install(root)
    found = {
        (e["line"], e["column"]): e["message"]
        for e in info.value.errors
        if e["file"] == "reports/revenue.yaml"
    }
    assert "did you mean 'industry'" in found[(4, 8)]
    assert "not a date" in found[(6, 5)]
    assert "adds numbers" in found[(8, 38)]
    (root / "reports" / "revenue.yaml").write_text(GOOD_REPORT, encoding="utf-8")
    platform.install(root)
    platform.records("account").create({"name": "A", "industry": "tech", "revenue": "10.50"})
    platform.records("account").create({"name": "B", "industry": "tech", "revenue": "1"})
    result = platform.reports.run("revenue")
    [tech] = result["rows"]
    assert (
        tech["key"] == ["tech"] and str(tech["cells"][0][0]) == "11.50" and tech["cells"][0][1] == 2
    )


def test_a_bad_report_saved_through_the_api_is_refused(platform, tmp_path):
    import yaml

    platform.install(write_bundle(tmp_path / "b", "1.0.0", ACCOUNT))
    with pytest.raises(BundleError) as info:
        platform.meta.save("report", "revenue", yaml.safe_load(BAD_REPORT))
    assert "industry" in str(info.value)
    platform.meta.save("report", "revenue", yaml.safe_load(GOOD_REPORT))
    assert platform.reports.run("revenue")["rows"] == []


BAD_FUNNEL = """name: funnel
label: Account funnel
type: funnel
source: account
stage: name
amount: industry
"""


def test_a_bad_funnel_file_is_located_too(platform, tmp_path):
    root = write_bundle(tmp_path / "b", "1.0.0", ACCOUNT, extra={"reports/funnel.yaml": BAD_FUNNEL})
    with pytest.raises(BundleError) as info:
        platform.install(root)
    found = {
        e["line"]: e["message"] for e in info.value.errors if e["file"] == "reports/funnel.yaml"
    }
    assert "no options" in found[5] and "not a number" in found[6]
