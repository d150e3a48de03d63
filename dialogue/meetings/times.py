"""Time zones: dialogues are stored in naive UTC with an IANA zone; shown in that zone and the viewer's.

Pure functions, no database and no request, so the conversions can be tested with plain values.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from babel.dates import format_datetime as babel_format

DEFAULT_ZONE = "Asia/Tokyo"

# The zones offered in forms: Japan first, then the places METI officers and companies meet from.
COMMON_ZONES = (
    "Asia/Tokyo", "UTC", "Asia/Seoul", "Asia/Shanghai", "Asia/Taipei", "Asia/Hong_Kong", "Asia/Singapore",
    "Asia/Bangkok", "Asia/Ho_Chi_Minh", "Asia/Jakarta", "Asia/Manila", "Asia/Kolkata", "Asia/Dubai",
    "Australia/Sydney", "Pacific/Auckland", "Europe/London", "Europe/Brussels", "Europe/Paris", "Europe/Berlin",
    "Europe/Amsterdam", "America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles",
    "America/Sao_Paulo", "America/Mexico_City",
)


@cache
def _known() -> frozenset[str]:
    return frozenset(available_timezones())


def is_zone(name: str | None) -> bool:
    return bool(name) and name in _known()


def zone(name: str | None) -> ZoneInfo:
    """The zone, or Asia/Tokyo for anything unknown (a bad stored value must not break a page)."""
    try:
        return ZoneInfo(name) if is_zone(name) else ZoneInfo(DEFAULT_ZONE)
    except ZoneInfoNotFoundError:
        return ZoneInfo(DEFAULT_ZONE)


class NonexistentLocalTime(ValueError):
    """The wall-clock time does not exist in that zone (skipped by a daylight-saving change)."""


def to_utc(local: datetime, tz_name: str) -> datetime:
    """Naive wall-clock time in tz_name → naive UTC.

    A time skipped by a daylight-saving jump is refused rather than silently moved;
    an ambiguous one (the repeated hour) takes the first occurrence (fold=0).
    """
    tz = zone(tz_name)
    aware = local.replace(tzinfo=tz, fold=0)
    back = aware.astimezone(UTC).astimezone(tz)
    if back.replace(tzinfo=None) != local.replace(tzinfo=None, fold=0):
        raise NonexistentLocalTime(f"{local:%Y-%m-%d %H:%M} does not exist in {tz_name}")
    return aware.astimezone(UTC).replace(tzinfo=None)


def to_local(utc_naive: datetime, tz_name: str) -> datetime:
    """Naive UTC → aware datetime in tz_name."""
    return utc_naive.replace(tzinfo=UTC).astimezone(zone(tz_name))


@dataclass(frozen=True)
class Shown:
    """A moment as the page shows it: in the dialogue's zone and, if different, the viewer's."""

    local: str
    zone: str
    viewer: str | None
    viewer_zone: str | None


def offset_label(aware: datetime) -> str:
    off = aware.utcoffset()
    minutes = int(off.total_seconds() // 60) if off is not None else 0
    sign = "+" if minutes >= 0 else "−"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


_WEEKDAYS_JA = "月火水木金土日"
_WEEKDAYS_EN = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def fmt(aware: datetime, locale: str, pattern: str | None = None) -> str:
    """The two formats the pages use, written out (CLDR's "y年M月d日(E) H:mm" / "EEE d MMM y, HH:mm"):
    a list shows a hundred of them and Babel's pattern formatter costs ~100 µs each."""
    if pattern is not None:
        return babel_format(aware, pattern, tzinfo=aware.tzinfo, locale=locale)
    if locale == "ja":
        return (f"{aware.year}年{aware.month}月{aware.day}日({_WEEKDAYS_JA[aware.weekday()]}) "
                f"{aware.hour}:{aware.minute:02d}")
    return (f"{_WEEKDAYS_EN[aware.weekday()]} {aware.day} {_MONTHS_EN[aware.month - 1]} {aware.year}, "
            f"{aware.hour:02d}:{aware.minute:02d}")


def show(utc_naive: datetime, tz_name: str, viewer_tz: str | None, locale: str) -> Shown:
    """Format a stored moment for a page; the viewer's zone appears only when it differs in offset."""
    here = to_local(utc_naive, tz_name)
    there = to_local(utc_naive, viewer_tz or tz_name)
    viewer = None
    if there.utcoffset() != here.utcoffset():
        viewer = f"{fmt(there, locale)} ({offset_label(there)})"
    return Shown(
        local=fmt(here, locale),
        zone=f"{zone(tz_name).key} ({offset_label(here)})",
        viewer=viewer,
        viewer_zone=zone(viewer_tz).key if viewer else None,
    )


def local_input(utc_naive: datetime | None, tz_name: str) -> datetime | None:
    """The naive wall-clock value a datetime-local form field shows."""
    return None if utc_naive is None else to_local(utc_naive, tz_name).replace(tzinfo=None)
