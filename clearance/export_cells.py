"""The one way a cell leaves Taiwa in a spreadsheet (CSV or XLSX).

Spreadsheet programs run a cell that starts with = + - @ (or a tab or carriage
return before one) as a formula, so a company called "=HYPERLINK(…)" or a
feedback text "@SUM(…)" could act on the officer's machine (CSV/formula
injection). Every CSV and XLSX export in the application writes its cells
through this module (``tests/test_export_cells.py`` fails on any module that
builds a csv.writer or an openpyxl workbook of its own):

- ``safe_cell`` prefixes such text with an apostrophe (OWASP's advice; the
  text stays readable and is never evaluated, whatever program opens it and
  whatever the user does with the cell afterwards). Numbers, dates and None
  pass unchanged: they are typed values, not text a formula could hide in.
- ``csv_writer`` is a csv.writer whose rows pass through ``safe_cell``.
- ``xlsx_workbook``/``xlsx_cell`` write every text as a string cell (never a
  formula, whatever openpyxl would guess) after ``safe_cell``, without the
  control characters XML 1.0 cannot carry.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any, Protocol

#: ASCII as OWASP lists them, plus the full-width forms a Japanese IME produces
#: (Excel on Japanese Windows accepts "＝SUM(…)" as a formula when typed).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")


def safe_cell(value: Any) -> Any:
    """A cell value no spreadsheet will evaluate: text that starts like a formula gets a leading apostrophe."""
    if value is None or isinstance(value, (bool, int, float, date, datetime)):
        return value
    text = _printable(str(value))
    # Spreadsheets skip leading blanks before a formula, and "|" starts a DDE call in some of them.
    lead = text.lstrip(" \u3000\n\u00a0")
    return "'" + text if text.startswith(FORMULA_START) or lead.startswith((*FORMULA_START, "|")) else text


def _printable(text: str) -> str:
    # NUL breaks CSV readers; XML 1.0 cannot carry most control characters (openpyxl would refuse the file).
    if text.isprintable():
        return text
    return "".join(ch for ch in text if ch in "\t\n\r" or ord(ch) >= 0x20)


class _Writer(Protocol):
    def writerow(self, row: Iterable[Any]) -> Any: ...


class SafeCsvWriter:
    """csv.writer with every cell through safe_cell."""

    def __init__(self, out: Any, **kw: Any) -> None:
        self._w: _Writer = csv.writer(out, **kw)

    def writerow(self, row: Iterable[Any]) -> Any:
        return self._w.writerow([safe_cell(v) for v in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def csv_writer(out: Any, **kw: Any) -> SafeCsvWriter:
    return SafeCsvWriter(out, **kw)


def xlsx_workbook():
    """A write-only (streaming) openpyxl workbook; fill it with xlsx_cell."""
    from openpyxl import Workbook

    return Workbook(write_only=True)


def xlsx_cell(ws: Any, value: Any, *, bold: bool = False):
    """One cell for a write-only sheet: typed numbers and dates stay typed, everything else is a string."""
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    value = safe_cell(value)
    c = WriteOnlyCell(ws, value=value)
    if isinstance(value, str):
        c.data_type = "s"  # openpyxl would otherwise guess: it stores "=…" as a formula
    if bold:
        c.font = Font(bold=True)
    return c


def xlsx_row(ws: Any, row: Iterable[Any], *, bold: bool = False) -> list:
    return [xlsx_cell(ws, v, bold=bold) for v in row]
