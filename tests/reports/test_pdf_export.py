"""Reports export to PDF, with a CJK font for Chinese labels (or a clear fallback)."""

from __future__ import annotations

import io

from engine.reports import export
from tests.floor_defs import ACCOUNT
from tests.test_install import write_bundle

REPORT = """name: revenue
label: {en: Revenue by industry, zh-CN: 各行业收入}
source: account
rows: [industry]
measures:
  - {name: revenue, agg: sum, field: revenue, label: {en: Revenue, zh-CN: 收入}}
  - {name: accounts, agg: count}
"""


def _platform_with_data(platform, tmp_path):
    root = write_bundle(tmp_path / "b", "1.0.0", ACCOUNT, extra={"reports/revenue.yaml": REPORT})
    platform.install(root)
    for i, industry in enumerate(["tech", "retail", "tech"]):
        platform.records("account").create(
            {"name": f"A{i}", "industry": industry, "revenue": "10.5"}
        )


def _text(pdf: bytes) -> bytes:
    import zlib

    out = b""
    for chunk in pdf.split(b"stream")[1:]:
        body = chunk.split(b"endstream")[0].strip(b"\r\n")
        try:
            out += zlib.decompress(body)
        except zlib.error:
            out += body
    return out


def test_a_report_exports_as_a_pdf(platform, tmp_path):
    _platform_with_data(platform, tmp_path)
    out = io.BytesIO()
    result = platform.reports.export("revenue", "pdf", out)
    data = out.getvalue()
    assert data.startswith(b"%PDF-") and data.rstrip().endswith(b"%%EOF")
    assert len(result["rows"]) == 2
    assert b"retail" in _text(data) and b"Revenue" in _text(data)


def test_chinese_labels_embed_a_cjk_font(platform, tmp_path):
    _platform_with_data(platform, tmp_path)
    out = io.BytesIO()
    platform.reports.export("revenue", "pdf", out, lang="zh-CN")
    data = out.getvalue()
    assert data.startswith(b"%PDF-")
    if export.cjk_font() is not None:
        assert b"FontFile2" in data  # the CJK font is embedded (subset)
        assert b"No CJK font" not in _text(data)


def test_without_a_cjk_font_the_pdf_says_so(platform, tmp_path, monkeypatch):
    _platform_with_data(platform, tmp_path)
    monkeypatch.setattr(export, "CJK_FONTS", ("/nonexistent/font.ttc",))
    out = io.BytesIO()
    platform.reports.export("revenue", "pdf", out, lang="zh-CN")
    assert out.getvalue().startswith(b"%PDF-")
    assert b"No CJK font installed" in _text(out.getvalue())


def test_unknown_format_is_refused(platform, tmp_path):
    import pytest

    from engine.errors import ValidationError

    _platform_with_data(platform, tmp_path)
    with pytest.raises(ValidationError):
        platform.reports.export("revenue", "docx", io.BytesIO())
