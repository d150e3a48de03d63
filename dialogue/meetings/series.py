"""Repeating dialogues: RFC 5545 RRULE → the wall-clock starts of each dialogue (python-dateutil)."""

from __future__ import annotations

import itertools
import re
from datetime import datetime

from dateutil.rrule import DAILY, MONTHLY, WEEKLY, YEARLY, rrulestr

#: a series is a plan, not a subscription: beyond this, plan the next batch later
MAX_OCCURRENCES = 24
_ALLOWED_FREQ = {DAILY, WEEKLY, MONTHLY, YEARLY}
_WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
_SAFE = re.compile(r"^[A-Z0-9=;,+\-]+$")


class SeriesError(ValueError):
    """The rule cannot make a series; `code` picks the message the form shows."""

    def __init__(self, code: str, **values: object) -> None:
        super().__init__(code)
        self.code = code
        self.values = values


def preset_rule(preset: str, first: datetime, count: int) -> str:
    """The rule behind the form's presets; the monthly one repeats the first date's weekday-of-month."""
    if preset == "weekly":
        return f"FREQ=WEEKLY;COUNT={count}"
    if preset == "biweekly":
        return f"FREQ=WEEKLY;INTERVAL=2;COUNT={count}"
    if preset == "monthly_nth":
        nth = (first.day - 1) // 7 + 1
        nth = -1 if nth == 5 else nth  # a fifth weekday does not exist every month: use "last"
        return f"FREQ=MONTHLY;BYDAY={nth}{_WEEKDAYS[first.weekday()]};COUNT={count}"
    raise SeriesError("unknown_preset")


def normalise(rule: str) -> str:
    text = (rule or "").strip().upper()
    if text.startswith("RRULE:"):
        text = text[6:]
    return text.replace(" ", "")


def expand(rule: str, first: datetime) -> list[datetime]:
    """Naive wall-clock starts produced by ``rule`` from ``first`` (same zone as ``first``).

    Refuses what cannot be a sensible series, with a code for a friendly message: not RFC
    5545, a DTSTART inside the rule, more often than daily, no dates, or more than
    MAX_OCCURRENCES dates.
    """
    text = normalise(rule)
    if not text or len(text) > 300 or not _SAFE.match(text):
        raise SeriesError("syntax")
    if "DTSTART" in text or "FREQ=" not in text:
        raise SeriesError("syntax")
    try:
        rr = rrulestr(text, dtstart=first.replace(second=0, microsecond=0, tzinfo=None))
    except (ValueError, TypeError, KeyError, IndexError, OverflowError) as exc:
        if "UNTIL" in str(exc):
            raise SeriesError("until_utc") from None
        raise SeriesError("syntax") from None
    if getattr(rr, "_freq", None) not in _ALLOWED_FREQ:
        raise SeriesError("too_often")
    starts = list(itertools.islice(rr, MAX_OCCURRENCES + 1))
    if not starts:
        raise SeriesError("empty")
    if len(starts) > MAX_OCCURRENCES:
        raise SeriesError("too_many", cap=MAX_OCCURRENCES)
    return starts
