"""CSV and XLSX downloads of any filtered register list.

Spreadsheet programs run a cell that starts with = + - @ (or a tab / carriage
return before one) as a formula, so a company called "=HYPERLINK(…)" could act
on the officer's machine. CSV has no types: such cells get a leading apostrophe
(as clearance/admin does for the audit CSV). XLSX has types: every cell is
written as a string, and those cells also carry Excel's "quote prefix" style,
so the text shows exactly as stored and is never evaluated.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any
from urllib.parse import quote

from flask import Response
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
#: the most rows one download carries; the page says when a list was cut
MAX_EXPORT_ROWS = 100_000


def csv_cell(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def csv_bytes(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    """UTF-8 with BOM: Excel on Japanese Windows opens it without garbling."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow([csv_cell(h) for h in header])
    for row in rows:
        writer.writerow([csv_cell(v) for v in row])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def xlsx_bytes(title: str, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title=_sheet_title(title))
    ws.freeze_panes = "A2"
    bold = Font(bold=True)

    def cell(value: object, *, head: bool = False) -> WriteOnlyCell:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return WriteOnlyCell(ws, value=value)
        text = _printable("" if value is None else str(value))
        c = WriteOnlyCell(ws, value=text)
        c.data_type = "s"  # openpyxl would otherwise store "=…" as a formula
        if text.startswith(FORMULA_START):
            c.quotePrefix = True
        if head:
            c.font = bold
        return c

    ws.append([cell(h, head=True) for h in header])
    for row in rows:
        ws.append([cell(v) for v in row])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _printable(text: str) -> str:
    # XML 1.0 cannot carry most control characters; openpyxl would refuse the whole file.
    return "".join(ch for ch in text if ch in "\t\n\r" or ord(ch) >= 0x20)


def _sheet_title(title: str) -> str:
    cleaned = "".join(ch for ch in title if ch not in "[]:*?/\\")
    return (cleaned or "Sheet")[:31]


def download(data: bytes, filename: str, kind: str) -> Response:
    mimetype = {"csv": "text/csv; charset=utf-8",
                "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}[kind]
    resp = Response(data, mimetype=mimetype)
    ascii_name = filename.encode("ascii", "ignore").decode() or f"export.{kind}"
    resp.headers["Content-Disposition"] = (f"attachment; filename=\"{ascii_name}\"; "
                                           f"filename*=UTF-8''{quote(filename)}")
    return resp
