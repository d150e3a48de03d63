"""Hostile values: what a careless client, a broken proxy or an attacker sends instead of form input.

Hypothesis strategies, so `make fuzz` keeps finding new combinations; the named lists
are also used one by one by the sweep, so every form meets every kind at least once.
"""

from __future__ import annotations

from hypothesis import strategies as st

HUGE = ("A" * 5_000, "あ" * 40_000, "x" * 300_000)
NUMBERS = ("99999999999999999999", "-99999999999999999999", "9223372036854775808", "2147483648", "-1", "0",
           "1e309", "NaN", "inf", "-0", "0x10", "1_000", "３", "１２３", "٣", "1.5", "", " ")
DATES = ("9999-12-31", "0001-01-01", "0000-00-00", "2026-02-30", "10000-01-01", "1969-12-31", "２０２６-０１-０１",
         "9999-12-31T23:59", "0001-01-01T00:00", "2026-03-29T02:30", "2026-13-01T25:61", "99999-01-01T00:00",
         "2026-05-01T10:00:00+99:00", "today", "-2026-01-01")
ZONES = ("Mars/Olympus_Mons", "../../etc/passwd", "UTC+99", "Etc/GMT+15", "Asia/Tokyo\x00", "", "local", "a" * 300)
RRULES = ("FREQ=SECONDLY;COUNT=999999999", "FREQ=DAILY;UNTIL=99991231T000000Z", "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=31",
          "FREQ=WEEKLY;INTERVAL=0", "FREQ=WEEKLY;INTERVAL=-1", "FREQ=MONTHLY;BYDAY=+99MO", "RRULE:", "FREQ=",
          "DTSTART:99991231T000000\nRRULE:FREQ=DAILY", "weekly", "FREQ=DAILY;COUNT=99999999999999999999")
IDS = ("0", "-1", "99999999999999999999", "../../etc/passwd", "%2e%2e", "x" * 400, "' OR '1'='1", "None", "null",
       "00000000-0000-0000-0000-000000000000", "ＡＢＣ", "\u202eevil", "a/b", "%00", "１")
TEXT = ("\x00", "a\x00b", "\u202e\u2066override\u2069", "\u200b\ufeff", "e\u0301" * 50, "\U0001f4a9" * 100,
        "<script>alert(1)</script>", "{{7*7}}", "%s%n", "\r\n\r\nX-Injected: 1", "=cmd|' /C calc'!A0", "\\", "'",
        "\t", " ", "   \n\t  ", "\ufffd", "\x1b[31m", "\x7f", "\x0b\x0c", "１２３４５６")
EMAILS = ("a@" + "b" * 300 + ".jp", "@", "a@b", "a" * 70 + "@example.jp", "ａ@example.jp", "a@例え.jp")

SPECIAL = (*NUMBERS, *DATES, *ZONES, *RRULES, *IDS, *TEXT, *EMAILS)
#: invalid UTF-8 and lone surrogates (CESU) as percent-encoded bytes: a browser never sends them, a script can
RAW_BYTES = (b"%FF%FE", b"%C0%AF", b"%ED%A0%80", b"%ED%B0%80x", b"%F4%90%80%80", b"\xff\xfe", b"%E3%81")


def value() -> st.SearchStrategy[str]:
    """One hostile field value."""
    return st.one_of(
        st.sampled_from(SPECIAL),
        st.text(max_size=40),
        st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=200),
        st.sampled_from(HUGE),
        st.integers().map(str),
        st.dates().map(lambda d: d.isoformat()),
        st.datetimes().map(lambda d: d.strftime("%Y-%m-%dT%H:%M")),
        st.builds(lambda a, b: a + b, st.sampled_from(SPECIAL), st.text(max_size=10)),
    )


def query_value() -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from(SPECIAL[:200]), st.text(max_size=30), st.integers().map(str))


#: query keys the app reads somewhere, plus junk
QUERY_KEYS = ("page", "a", "b", "full", "start", "end", "from", "to", "q", "status", "kind", "realm", "level",
              "period", "series", "next", "token", "locale", "sector", "region", "category", "open", "sort",
              "mine", "format", "day", "month", "year", "week", "tz", "rev", "revision", "company", "id", "zzz")
