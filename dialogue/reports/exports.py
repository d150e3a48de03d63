"""Spreadsheet versions of the reports' tables: XLSX (openpyxl, write-only) and CSV (UTF-8 with BOM for Excel).

Cells that begin like a formula are prefixed with an apostrophe, so text that
came from a company can never run as a formula in the officer's spreadsheet.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from typing import Any

from dialogue.reports.builders import Table

_FORMULA = ("=", "+", "-", "@", "\t", "\r")
_SHEET_BAD = re.compile(r"[\[\]:*?/\\]")


def safe_cell(value: Any) -> Any:
    if isinstance(value, str):
        value = value.replace("\x00", "")
        if value.startswith(_FORMULA):
            return "'" + value
    return value


def xlsx(tables: Sequence[Table], *, banner: str = "") -> bytes:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    wb = Workbook(write_only=True)
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
            cell = WriteOnlyCell(ws, value=banner)
            cell.font = Font(bold=True)
            ws.append([cell])
        header = []
        for h in table.header:
            c = WriteOnlyCell(ws, value=safe_cell(h))
            c.font = Font(bold=True)
            header.append(c)
        ws.append(header)
        for row in table.rows:
            ws.append([safe_cell(v) for v in row])
    if not tables:
        wb.create_sheet(title="Empty")
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def csv_bytes(table: Table, *, banner: str = "") -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    if banner:
        writer.writerow([banner])
    writer.writerow([safe_cell(h) for h in table.header])
    for row in table.rows:
        writer.writerow([safe_cell(v) for v in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def csv_stream(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Iterable[bytes]:
    """Streamed CSV for long lists (the feedback export)."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    yield "\ufeff".encode()
    writer.writerow([safe_cell(h) for h in header])
    for row in rows:
        writer.writerow([safe_cell(v) for v in row])
        if buf.tell() > 64_000:
            yield buf.getvalue().encode("utf-8")
            buf.seek(0)
            buf.truncate()
    yield buf.getvalue().encode("utf-8")
