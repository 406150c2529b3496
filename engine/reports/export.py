"""A report result as CSV or XLSX, written row by row to the caller's stream.

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

FORMATS = ("csv", "xlsx")

#: Report types whose rows are flat maps: (key, header) per column, in order.
FLAT: dict[str, list[tuple[str, str]]] = {
    "funnel": [("stage", "Stage"), ("count", "Count"), ("amount", "Amount"),
               ("entered", "Entered"), ("reached", "Reached"),
               ("conversion", "Conversion %"), ("of_first", "Of first %")],
    "forecast": [("month", "Close month"), ("count", "Count"), ("amount", "Pipeline"),
                 ("weighted", "Weighted")],
    "rfm": [("segment", "Segment"), ("customers", "Customers"), ("monetary", "Monetary")],
}  # fmt: skip


def _header(result: dict[str, Any]) -> list[str]:
    if result.get("type") == "leaderboard":
        return ["Rank", "Who", "Value", "Target", "Attainment %"]
    if result.get("type") in FLAT:
        return [label for _, label in FLAT[result["type"]]]
    dims = [d["label"] for d in result["row_dimensions"]]
    measures = [m["label"] for m in result["measures"]]
    head = list(dims)
    for col in result["columns"]:
        prefix = " / ".join(col["labels"])
        for m in measures:
            head.append(f"{prefix} · {m}" if prefix else m)
    if result["rows"] and result["rows"][0].get("total") is not None:
        head.extend(f"Total · {m}" for m in measures)
    return head


def table_rows(result: dict[str, Any]) -> Iterator[tuple[list[Any], bool]]:
    """``(cells, is_total)`` for every line of the table below the header."""
    if result.get("type") == "leaderboard":
        for row in result["rows"]:
            yield [row["rank"], row["key"], row["value"], row["target"], row["attainment"]], False
        return
    if result.get("type") in FLAT:
        for row in result["rows"]:
            yield [row.get(key) for key, _ in FLAT[result["type"]]], False
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


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def write_csv(result: dict[str, Any], out: IO[str]) -> None:
    """CSV (UTF-8, as Excel and every spreadsheet read it when the caller adds a BOM)."""
    writer = csv.writer(out)
    writer.writerow(_header(result))
    for cells, _ in table_rows(result):
        writer.writerow([_text(c) for c in cells])


def write_xlsx(result: dict[str, Any], out: IO[bytes]) -> None:
    """A formatted workbook: header and totals bold, number formats, frozen panes."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    bold = Font(bold=True)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=str(result.get("report") or "report")[:31])
    n_dims = max(len(result["row_dimensions"]), 1)
    sheet.freeze_panes = f"{_column_letter(n_dims + 1)}2"

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

    sheet.append([cell(h, True) for h in _header(result)])
    for cells, is_total in table_rows(result):
        sheet.append([cell(v, is_total) for v in cells])
    workbook.save(out)


def _column_letter(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(index)


__all__ = ["FORMATS", "table_rows", "write_csv", "write_xlsx"]
