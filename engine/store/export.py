"""Export records as CSV or XLSX, streamed page by page, as the user may see them.

An export is a list: the same ``where``, the same row scope (the user's
``export`` scope, not only ``read``), the same hidden fields left out. Rows
are read in pages ordered by id (keyset paging, so a page never re-reads
what came before) and written as they come, so a million-row export never
sits in memory.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from typing import IO, Any

from sqlalchemy import select

from engine.forms.entity import label_text
from engine.store.query import order_clauses
from engine.store.values import record_from_row

PAGE = 2000
SYSTEM_COLUMNS = ("id", "owner", "team", "created_on", "modified_on")


def _columns(service: Any, hidden: set[str], lang: str) -> list[tuple[str, str]]:
    cols = [(k, k) for k in SYSTEM_COLUMNS]
    for f in service.model.active_fields():
        if f.child is None and f.stored and f.key not in hidden:
            cols.append((f.key, label_text(f.label, lang, f.key)))
    return cols


def _cell(value: Any) -> Any:
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def iter_rows(service: Any, where: str | None = None, *, lang: str = "en") -> Iterator[list[Any]]:
    """The header, then one list per record the service's user may export."""
    access = service.access
    hidden = access.hidden(service.entity) if access is not None else set()
    columns = _columns(service, hidden, lang)
    table = service.live.table
    clauses = service._conditions(where, None)  # a bad filter fails before anything is written
    if access is not None:
        clauses.append(access.clause(service.entity, "export", table))
    yield [label for _, label in columns]
    last = 0
    while True:
        stmt = (
            select(table)
            .where(*clauses, table.c.id > last)
            .order_by(*order_clauses(service.model, table, "id"))
            .limit(PAGE)
        )
        with service.platform.db.transaction(write=False) as conn:
            rows = [record_from_row(service.model, r) for r in conn.execute(stmt).mappings()]
        if not rows:
            return
        for record in rows:
            yield [_cell(record.get(key)) for key, _ in columns]
        last = rows[-1]["id"]


def write_csv(service: Any, out: IO[str], where: str | None = None, *, lang: str = "en") -> int:
    """CSV to a text stream; returns the number of records written."""
    writer = csv.writer(out)
    count = -1
    for row in iter_rows(service, where, lang=lang):
        writer.writerow(["" if v is None else v for v in row])
        count += 1
    return count


def _xlsx_value(value: Any) -> Any:
    """A cell value the XLSX format can hold: control characters (which the format has no
    way to store, and which openpyxl refuses) are dropped from text."""
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, str):
        return ILLEGAL_CHARACTERS_RE.sub("", value)
    return value


def write_xlsx(service: Any, out: IO[bytes], where: str | None = None, *, lang: str = "en") -> int:
    """A workbook written row by row (openpyxl's write-only mode), bold frozen header."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=service.entity[:31])
    sheet.freeze_panes = "A2"
    rows = iter_rows(service, where, lang=lang)
    header = []
    for title in next(rows):
        cell = WriteOnlyCell(sheet, value=_xlsx_value(title))
        cell.font = Font(bold=True)
        header.append(cell)
    sheet.append(header)
    count = 0
    for row in rows:
        sheet.append([_xlsx_value(v) for v in row])
        count += 1
    workbook.save(out)
    return count


__all__ = ["iter_rows", "write_csv", "write_xlsx"]
