"""Spreadsheet versions of the reports' tables: XLSX (openpyxl, write-only) and CSV (UTF-8 with BOM for Excel).

Every cell goes through clearance.export_cells, so text that came from a company
can never run as a formula in the officer's spreadsheet.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Sequence
from typing import Any

from clearance.export_cells import csv_writer, xlsx_cell, xlsx_row, xlsx_workbook
from dialogue.reports.builders import Table

_SHEET_BAD = re.compile(r"[\[\]:*?/\\]")


def xlsx(tables: Sequence[Table], *, banner: str = "") -> bytes:
    wb = xlsx_workbook()
    used: set[str] = set()
    for table in tables:
        name = _SHEET_BAD.sub(" ", table.name)[:31] or "Sheet"
        base, n = name, 2
        while name in used:
            name = f"{base[:28]} {n}"
            n += 1
        used.add(name)
        ws = wb.create_sheet(title=name)
        if banner:
            ws.append([xlsx_cell(ws, banner, bold=True)])
        ws.append(xlsx_row(ws, table.header, bold=True))
        for row in table.rows:
            ws.append(xlsx_row(ws, row))
    if not tables:
        wb.create_sheet(title="Empty")
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def csv_bytes(table: Table, *, banner: str = "") -> bytes:
    out = io.StringIO()
    writer = csv_writer(out)
    if banner:
        writer.writerow([banner])
    writer.writerow(table.header)
    writer.writerows(table.rows)
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def csv_stream(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Iterable[bytes]:
    """Streamed CSV for long lists (the feedback export)."""
    buf = io.StringIO()
    writer = csv_writer(buf)
    yield "\ufeff".encode()
    writer.writerow(header)
    for row in rows:
        writer.writerow(row)
        if buf.tell() > 64_000:
            yield buf.getvalue().encode("utf-8")
            buf.seek(0)
            buf.truncate()
    yield buf.getvalue().encode("utf-8")
