"""Substring search that behaves the same on SQLite and PostgreSQL.

Both sides of the comparison are folded the same way in Python: NFKC (full-width
ＡＢＣ and half-width ｶﾀｶﾅ become ABC and カタカナ) and case-folding. The stored side
is `Company.search_text`; the typed side goes through `contains_pattern`, which also
escapes LIKE's wildcards so a typed % or _ matches itself. A plain LIKE on folded text
then needs no ILIKE (PostgreSQL only) and no lower() (ASCII-only on SQLite).
"""

from __future__ import annotations

import unicodedata

ESCAPE = "\\"


def fold(text: str | None) -> str:
    return unicodedata.normalize("NFKC", text or "").casefold()


def search_key(*parts: str | None) -> str:
    """The stored, searchable form of a row: its folded parts joined by a separator nobody types."""
    return "\x1f".join(fold(p) for p in parts if p)


def escape_like(text: str) -> str:
    return text.replace(ESCAPE, ESCAPE * 2).replace("%", ESCAPE + "%").replace("_", ESCAPE + "_")


def contains_pattern(query: str) -> str:
    """LIKE pattern for 'contains the folded query'; use with escape=ESCAPE."""
    return f"%{escape_like(fold(query).strip())}%"
