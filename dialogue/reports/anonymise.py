"""Anonymising quotations for reports that leave the ministry ("representative quotations, anonymised").

Names of every company and association in the register are replaced (with and
without their legal-form words), as are e-mail addresses, telephone numbers,
URLs and corporate numbers. Lookup goes through a two-character index, so a
register of thousands of names costs a few dictionary lookups per character
of text, not a regular expression with thousands of alternatives.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from dialogue.registry.models import Association, Company

_LEGAL_FORMS = ("株式会社", "有限会社", "合同会社", "（株）", "(株)", "co., ltd.", "co.,ltd.", "co. ltd.",
                "corporation", "inc.", "ltd.", "k.k.", "corp.")
_PATTERNS = [
    re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+"),  # e-mail
    re.compile(r"https?://\S+"),  # URL
    re.compile(r"\b\d{13}\b"),  # 法人番号
    re.compile(r"(\+81[-\s]?|0)\d{1,4}[-\s]?\d{1,4}[-\s]?\d{3,4}"),  # telephone
]


def _norm(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


def _variants(name: str) -> set[str]:
    n = _norm(name).strip()
    out = {n}
    for form in _LEGAL_FORMS:
        if form in n:
            out.add(n.replace(form, "").strip(" ,"))
    return {v for v in out if len(v) >= 3}


class Anonymiser:
    def __init__(self, names: Iterable[str], placeholder: str) -> None:
        self.placeholder = placeholder
        self.index: dict[str, list[str]] = defaultdict(list)
        for name in names:
            for v in _variants(name):
                self.index[v[:2]].append(v)
        for bucket in self.index.values():
            bucket.sort(key=len, reverse=True)  # longest first: "三河エナジーセル株式会社" before "三河エナジー"

    @classmethod
    def from_register(cls, session: Session, placeholder: str) -> Anonymiser:
        names: list[str] = []
        for ja, en in session.execute(select(Company.name_ja, Company.name_en)).all():
            names += [ja, en]
        for ja, en in session.execute(select(Association.name_ja, Association.name_en)).all():
            names += [ja, en]
        return cls(names, placeholder)

    def __call__(self, text: str) -> str:
        text = unicodedata.normalize("NFKC", text or "")
        low = text.casefold()
        # casefold keeps lengths for Japanese and ASCII; if not, fall back to matching the text as is
        if len(low) != len(text):
            low = text
        out: list[str] = []
        i = 0
        while i < len(text):
            hit = None
            for cand in self.index.get(low[i:i + 2], ()):
                if low.startswith(cand, i):
                    hit = cand
                    break
            if hit:
                out.append(self.placeholder)
                i += len(hit)
            else:
                out.append(text[i])
                i += 1
        result = "".join(out)
        for pattern in _PATTERNS:
            result = pattern.sub("［…］", result)
        return result
