"""The desk's clock: calendar days in Japan, never instants.

Everything the desk stores about *when* is a date (the ministry's working day
in Asia/Tokyo), so one function answers "what day is it". Tests freeze it by
replacing `_now`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

JST = ZoneInfo("Asia/Tokyo")

_now: Callable[[], datetime] = lambda: datetime.now(UTC)  # noqa: E731 - replaced by tests


def now() -> datetime:
    """Aware UTC now (only for in-memory decisions: rate windows, session idle checks)."""
    return _now()


def today() -> date:
    """Today in Japan."""
    return _now().astimezone(JST).date()


def day_start_utc(day: date) -> datetime:
    """Naive UTC midnight of `day` (for columns of other areas that insist on a datetime)."""
    return datetime(day.year, day.month, day.day)


def first_of_month(day: date) -> date:
    return day.replace(day=1)
