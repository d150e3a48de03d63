"""CSV and XLSX downloads of any filtered register list.

Cells go through clearance.export_cells (the one helper every export uses):
text a spreadsheet would run as a formula (= + - @, a tab or carriage return
first) gets a leading apostrophe, and XLSX cells are always strings.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from typing import Any
from urllib.parse import quote

from flask import Response

from clearance.export_cells import csv_writer, xlsx_row, xlsx_workbook

#: the most rows one download carries; the page says when a list was cut
MAX_EXPORT_ROWS = 100_000


def csv_bytes(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    """UTF-8 with BOM: Excel on Japanese Windows opens it without garbling."""
    buf = io.StringIO()
    writer = csv_writer(buf, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def xlsx_bytes(title: str, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    wb = xlsx_workbook()
    ws = wb.create_sheet(title=_sheet_title(title))
    ws.freeze_panes = "A2"
    ws.append(xlsx_row(ws, header, bold=True))
    for row in rows:
        ws.append(xlsx_row(ws, row))
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


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
