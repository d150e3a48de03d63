"""Bounds for numbers and dates a user can type: one place, used by every list, filter and report.

A page number, a revision number or a date arrives as text in a query string or a
form. Python parses 10**20 and 9999-12-31 happily; the database (BIGINT offsets,
timestamps) and date arithmetic (`+ timedelta(days=1)`) do not. Everything that
turns user text into an offset, a revision or a period goes through here, so a
hostile value is clamped or dropped instead of becoming a 500.
"""

from __future__ import annotations

from datetime import date, datetime

from flask import request

#: No list has this many pages; beyond it the page is simply empty.
MAX_PAGE = 10_000
#: The dates anyone can mean here: a filter, a report period, a meeting, a deadline.
DATE_MIN = date(2000, 1, 1)
DATE_MAX = date(2100, 12, 31)
#: Integers stored in a 32-bit column (counts, revisions, levels) stay below this.
INT_MAX = 2**31 - 1


def clamp_int(value: object, default: int, lo: int, hi: int) -> int:
    """`value` as an int in [lo, hi]; `default` when it is not a plain decimal number (full-width
    digits, signs, exponents and 10**20-digit strings included)."""
    text = str(value).strip() if value is not None else ""
    if not text or len(text) > 12 or not text.isascii() or not text.lstrip("-").isdigit():
        return default
    return max(lo, min(int(text), hi))


def page_number(arg: str = "page", maximum: int = MAX_PAGE) -> int:
    """?page= of the current request, clamped to 1..maximum (1 when absent or not a number)."""
    return clamp_int(request.args.get(arg), 1, 1, maximum)


def revision_number(arg: str, default: int, latest: int) -> int:
    """A revision number from the query string, clamped to the revisions that exist (1..latest)."""
    return clamp_int(request.args.get(arg), default, 1, max(1, latest))


def in_range(day: date | datetime | None) -> bool:
    """Whether a date (or datetime) lies in the range the app works with."""
    if day is None:
        return True
    d = day.date() if isinstance(day, datetime) else day
    return DATE_MIN <= d <= DATE_MAX


def bounded_date(value: object) -> date | None:
    """A date from text (YYYY-MM-DD, a longer ISO string is cut) or a date, or None when it is not
    one or lies outside DATE_MIN..DATE_MAX."""
    if isinstance(value, datetime):
        day: date | None = value.date()
    elif isinstance(value, date):
        day = value
    else:
        try:
            day = date.fromisoformat(str(value or "")[:10])
        except ValueError:
            return None
    return day if in_range(day) else None


def bounded_period(start: object, end: object) -> tuple[date | None, date | None]:
    """A from/to pair, each bounded; a period that ends before it starts keeps only its start."""
    a, b = bounded_date(start), bounded_date(end)
    if a and b and b < a:
        b = None
    return a, b
