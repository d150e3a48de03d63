"""法人番号 — the 13-digit corporate number and its check digit (National Tax Agency rules)."""

from __future__ import annotations

import unicodedata


def check_digit(base12: str) -> int:
    """Check digit for the 12 base digits: 9 − (Σ Pn×Qn mod 9), Pn counted from the right, Qn = 1 odd / 2 even."""
    if len(base12) != 12 or not base12.isdigit():
        raise ValueError("need exactly 12 digits")
    total = sum(int(d) * (1 if i % 2 else 2) for i, d in enumerate(reversed(base12), start=1))
    return 9 - total % 9


def normalise(raw: str) -> str:
    """Accept full-width digits, spaces and hyphens as people type them."""
    text = unicodedata.normalize("NFKC", raw or "")
    return "".join(ch for ch in text if ch not in " -‐－")


def is_valid(raw: str) -> bool:
    num = normalise(raw)
    return len(num) == 13 and num.isascii() and num.isdigit() and int(num[0]) == check_digit(num[1:])


def make(base12: str) -> str:
    return f"{check_digit(base12)}{base12}"
