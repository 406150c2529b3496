"""A report result as CSV, XLSX or PDF, written row by row to the caller's stream.

Both formats lay the pivot out the way a manager reads it: the row
dimensions on the left, one column per (column key, measure), the row total
at the right, the total row at the bottom. The XLSX file has a bold header,
number formats (two decimals for amounts, whole numbers for counts), bold
totals and a frozen header row and row-label columns.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from typing import IO, Any

FORMATS = ("csv", "xlsx", "pdf")

#: A font with Chinese glyphs for PDF (the Debian package fonts-wqy-microhei).
CJK_FONTS = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
)

#: Report types whose rows are flat maps: (key, header) per column, in order.
FLAT: dict[str, list[tuple[str, str]]] = {
    "funnel": [("stage", "Stage"), ("count", "Count"), ("amount", "Amount"),
               ("entered", "Entered"), ("reached", "Reached"),
               ("conversion", "Conversion %"), ("of_first", "Of first %")],
    "forecast": [("month", "Close month"), ("count", "Count"), ("amount", "Pipeline"),
                 ("weighted", "Weighted")],
    "rfm": [("segment", "Segment"), ("customers", "Customers"), ("monetary", "Monetary")],
}  # fmt: skip


def _name(value: Any, lang: str, fallback: str = "") -> str:
    """A label that may be an ``{en, zh-CN}`` map, in ``lang``."""
    if isinstance(value, dict):
        from engine.forms.entity import label_text

        return label_text(value, lang, fallback)
    return fallback if value is None else str(value)


def _header(result: dict[str, Any], lang: str = "en") -> list[str]:
    if result.get("type") == "leaderboard":
        return ["Rank", "Who", "Value", "Target", "Attainment %"]
    if result.get("type") in FLAT:
        return [label for _, label in FLAT[result["type"]]]
    dims = [_name(d["label"], lang, d["name"]) for d in result["row_dimensions"]]
    measures = [_name(m["label"], lang, m["name"]) for m in result["measures"]]
    head = list(dims)
    for col in result["columns"]:
        prefix = " / ".join(col["labels"])
        for m in measures:
            head.append(f"{prefix} · {m}" if prefix else m)
    if result["rows"] and result["rows"][0].get("total") is not None:
        head.extend(f"Total · {m}" for m in measures)
    return head


def table_rows(result: dict[str, Any], lang: str = "en") -> Iterator[tuple[list[Any], bool]]:
    """``(cells, is_total)`` for every line of the table below the header.

    RFM segments are written as their words in ``lang``, not their keys.
    """
    if result.get("type") == "leaderboard":
        for row in result["rows"]:
            yield [row["rank"], row["key"], row["value"], row["target"], row["attainment"]], False
        return
    if result.get("type") in FLAT:
        words: dict[Any, str] = {}  # an RFM segment's words, worked out once per segment
        for row in result["rows"]:
            cells = [row.get(key) for key, _ in FLAT[result["type"]]]
            if result["type"] == "rfm":
                from engine.reports.rfm import segment_label

                if cells[0] not in words:
                    words[cells[0]] = segment_label(cells[0], lang)
                cells[0] = words[cells[0]]
            yield cells, False
        return
    n_dims = len(result["row_dimensions"])
    for row in result["rows"]:
        labels = list(row["labels"]) + [""] * (n_dims - len(row["labels"]))
        if row["level"] < n_dims:
            labels[row["level"]] = "Subtotal"
        values = [v for cell in row["cells"] for v in cell]
        if row.get("total") is not None:
            values.extend(row["total"])
        yield labels + values, row["level"] < n_dims
    totals = result.get("totals")
    if totals:
        labels = ["Total"] + [""] * max(n_dims - 1, 0)
        values = [v for cell in totals["cells"] for v in cell]
        if totals.get("total") is not None:
            values.extend(totals["total"])
        yield labels + values, True


def label_columns(result: dict[str, Any]) -> int:
    """How many columns on the left label a row (the XLSX freezes them).

    A pivot has one per row dimension; leaderboard, funnel, forecast and RFM
    rows (any type without ``row_dimensions``) are labelled by their first column.
    """
    return max(len(result.get("row_dimensions") or ()), 1)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def write_csv(result: dict[str, Any], out: IO[str], lang: str = "en") -> None:
    """CSV (UTF-8, as Excel and every spreadsheet read it when the caller adds a BOM)."""
    writer = csv.writer(out)
    writer.writerow(_header(result, lang))
    for cells, _ in table_rows(result, lang):
        writer.writerow([_text(c) for c in cells])


def write_xlsx(result: dict[str, Any], out: IO[bytes], lang: str = "en") -> None:
    """A formatted workbook: header and totals bold, number formats, frozen panes."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    bold = Font(bold=True)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=str(result.get("report") or "report")[:31])
    sheet.freeze_panes = f"{_column_letter(label_columns(result) + 1)}2"

    def cell(value: Any, strong: bool) -> Any:
        if isinstance(value, Decimal):
            value = float(value)
        c = WriteOnlyCell(sheet, value=value)
        if isinstance(value, float):
            c.number_format = "#,##0.00"
        elif isinstance(value, int) and not isinstance(value, bool):
            c.number_format = "#,##0"
        elif isinstance(value, dt.date):
            c.number_format = "yyyy-mm-dd"
        if strong:
            c.font = bold
        return c

    sheet.append([cell(h, True) for h in _header(result, lang)])
    for cells, is_total in table_rows(result, lang):
        sheet.append([cell(v, is_total) for v in cells])
    workbook.save(out)


def _column_letter(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(index)


def cjk_font() -> str | None:
    """The first installed font with Chinese glyphs, or None."""
    import os

    return next((path for path in CJK_FONTS if os.path.isfile(path)), None)


def _needs_cjk(texts: list[str]) -> bool:
    return any(ord(ch) > 0xFF for text in texts for ch in text)


def write_pdf(result: dict[str, Any], out: IO[bytes], *, title: str = "", lang: str = "en") -> None:
    """A printable table (A4, landscape when wide): title, header, rows, totals in bold.

    Chinese text needs a CJK font: the first of :data:`CJK_FONTS` installed is
    embedded. Without one, characters outside Latin-1 are written as ``?`` and the
    page says a CJK font is missing, rather than failing the export.
    """
    from fpdf import FPDF
    from fpdf.enums import XPos, YPos

    header = _header(result, lang)
    lines = [([_text(c) for c in cells], total) for cells, total in table_rows(result, lang)]
    texts = [title, *header, *(c for cells, _ in lines for c in cells)]
    wide = len(header) > 6
    pdf = FPDF(orientation="L" if wide else "P", unit="mm", format="A4")
    pdf.set_auto_page_break(auto=True, margin=12)
    pdf.add_page()
    font, missing = "helvetica", False
    if _needs_cjk(texts):
        path = cjk_font()
        if path is not None:
            pdf.add_font("cjk", "", path)
            pdf.add_font("cjk", "B", path)
            font = "cjk"
        else:
            missing = True

    def safe(text: str) -> str:
        if font != "helvetica":
            return text
        return text.encode("latin-1", "replace").decode("latin-1")

    pdf.set_font(font, "B", 13)
    pdf.cell(
        0, 8, safe(title or str(result.get("report") or "")), new_x=XPos.LMARGIN, new_y=YPos.NEXT
    )
    if missing:
        pdf.set_font(font, "", 8)
        pdf.cell(
            0,
            5,
            "No CJK font installed (fonts-wqy-microhei): Chinese text is shown as ?",
            new_x=XPos.LMARGIN,
            new_y=YPos.NEXT,
        )
    if result.get("truncated"):
        pdf.set_font(font, "", 8)
        pdf.cell(0, 5, "Truncated", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    size = 7 if len(header) > 10 else 8
    width = (pdf.w - pdf.l_margin - pdf.r_margin) / max(len(header), 1)
    rows = [(header, True, True), *((cells, total, False) for cells, total in lines)]
    for cells, strong, is_head in rows:
        if pdf.will_page_break(6):
            pdf.add_page()
        pdf.set_font(font, "B" if strong else "", size)
        for i, text in enumerate(cells):
            value = safe(text)
            while value and pdf.get_string_width(value) > width - 1.5:
                value = value[:-1]
            numeric = not is_head and i > 0 and _numeric(text)
            pdf.cell(width, 6, value, border=1, align="R" if numeric else "L")
        pdf.ln(6)
    pdf.output(out)


def _numeric(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


__all__ = [
    "FORMATS",
    "cjk_font",
    "label_columns",
    "table_rows",
    "write_csv",
    "write_pdf",
    "write_xlsx",
]
