"""Classification labels: levels, compartments and the lattice they form.

A label is a level plus a set of compartments (need-to-know sets: a sector, a
company group, a programme). Label A *dominates* label B when A's level is at
least B's and A's compartments include all of B's. Material derived from
labelled sources (a quotation, a PDF, an export) carries the *join* of their
labels: the least label that dominates every source.

The functions at the top are pure (tested with hypothesis); the compartment
register (names in Japanese and English) and the per-object compartment table
sit at the bottom.

特定秘密 (Specially Designated Secrets) are not hosted here at all: any attempt
to label material at that level raises NotHostedHere with an explanation.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from enum import IntEnum

from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from clearance.db import db, utcnow


class Level(IntEnum):
    """Classification levels, ordered."""

    PUBLIC = 0  # 公開
    OFFICIAL_SENSITIVE = 1  # 取扱注意: the ministry's own handling level
    CRITICAL = 2  # 重要経済安保情報: Critical Economic Security Information


#: What a caller may name but we refuse: 特定秘密 lives in other, accredited systems.
SPECIALLY_DESIGNATED_SECRET = 3

LEVEL_NAMES_JA = {Level.PUBLIC: "公開", Level.OFFICIAL_SENSITIVE: "取扱注意", Level.CRITICAL: "重要経済安保情報"}
LEVEL_NAMES_EN = {
    Level.PUBLIC: "PUBLIC",
    Level.OFFICIAL_SENSITIVE: "OFFICIAL-SENSITIVE",
    Level.CRITICAL: "CRITICAL ECONOMIC SECURITY INFORMATION",
}
#: short portion marks, shown before paragraphs when parts of a document differ
PORTION_MARKS = {Level.PUBLIC: ("公開", "P"), Level.OFFICIAL_SENSITIVE: ("取扱注意", "OS"), Level.CRITICAL: ("重要", "CESI")}

LEVEL_LABELS = {
    Level.PUBLIC: _l("Public"),
    Level.OFFICIAL_SENSITIVE: _l("Official-sensitive"),
    Level.CRITICAL: _l("Critical economic security information"),
}

COMPARTMENT_CODE = re.compile(r"^[A-Z][A-Z0-9]{1,15}$")


class NotHostedHere(ValueError):
    """Material at a level this system may not hold (特定秘密)."""

    EXPLANATION = _l(
        "Specially Designated Secrets (特定秘密) are not handled in Taiwa. They may only be kept in systems "
        "accredited under the Act on the Protection of Specially Designated Secrets. Do not enter them here; "
        "contact your security officer."
    )


class InvalidLabel(ValueError):
    """A level or compartment code that is not part of the lattice."""


def level_of(value: int | str | Level) -> Level:
    """Parse a level; 3 (特定秘密) is refused with NotHostedHere, anything else unknown with InvalidLabel."""
    if isinstance(value, bool):
        raise InvalidLabel("a level is not a boolean")
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise InvalidLabel(f"unknown level {value!r}") from None
    if number == SPECIALLY_DESIGNATED_SECRET:
        # Plain text here (this also runs outside requests); forms show the translated EXPLANATION.
        raise NotHostedHere("特定秘密 (Specially Designated Secrets) are not handled in Taiwa")
    try:
        return Level(number)
    except ValueError:
        raise InvalidLabel(f"unknown level {value!r}") from None


def check_compartment_code(code: str) -> str:
    if not isinstance(code, str) or not COMPARTMENT_CODE.match(code):
        raise InvalidLabel(f"compartment codes are 2-16 capital letters or digits, starting with a letter: {code!r}")
    return code


@dataclass(frozen=True, order=False)
class Label:
    """A level plus a set of compartment codes. Immutable and hashable."""

    level: Level = Level.PUBLIC
    compartments: frozenset[str] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        object.__setattr__(self, "level", level_of(self.level))
        object.__setattr__(self, "compartments", frozenset(self.compartments))
        for code in self.compartments:
            check_compartment_code(code)

    @classmethod
    def of(cls, level: int | Level, compartments: Iterable[str] = ()) -> Label:
        return cls(level_of(level), frozenset(compartments))

    @property
    def is_public(self) -> bool:
        """Public and in no compartment: readable by anyone the release list reaches."""
        return self.level == Level.PUBLIC and not self.compartments

    def code(self) -> str:
        """Compact, stable text for audit entries and logs: "2:AERO+SEMI"."""
        return f"{int(self.level)}:{'+'.join(sorted(self.compartments))}" if self.compartments else str(int(self.level))

    def banner(self, locale: str = "ja") -> str:
        """The classification banner: level name, then the compartments ("重要経済安保情報 // SEMI / QNT")."""
        name = LEVEL_NAMES_JA[self.level] if locale == "ja" else LEVEL_NAMES_EN[self.level]
        if self.compartments:
            return f"{name} // {' / '.join(sorted(self.compartments))}"
        return name


PUBLIC = Label()


def dominates(a: Label, b: Label) -> bool:
    """True when a is at least as high as b: level ≥ and compartments ⊇."""
    return a.level >= b.level and a.compartments >= b.compartments


def join(*labels: Label) -> Label:
    """Least upper bound: the lowest label that dominates every argument (PUBLIC for none).

    Use it for derived material: a PDF, minutes quoting briefings, an export."""
    level = max((lab.level for lab in labels), default=Level.PUBLIC)
    compartments: frozenset[str] = frozenset().union(*(lab.compartments for lab in labels))
    return Label(level, compartments)


def meet(*labels: Label) -> Label:
    """Greatest lower bound (what every argument dominates); needs at least one label."""
    if not labels:
        raise ValueError("meet() of no labels is undefined (it would be the top of an open lattice)")
    level = min(lab.level for lab in labels)
    compartments = frozenset.intersection(*(lab.compartments for lab in labels))
    return Label(level, compartments)


def is_lowering(old: Label, new: Label) -> bool:
    """Changing old → new removes protection unless new dominates old."""
    return not dominates(new, old)


# ---------------------------------------------------------------------------
# Storage: the compartment register and each object's compartments
# ---------------------------------------------------------------------------


class Compartment(db.Model):
    """A need-to-know set, e.g. SEMI (半導体) or a programme. Codes are never reused."""

    __tablename__ = "compartment"
    __table_args__ = (CheckConstraint("length(code) BETWEEN 2 AND 16", name="code_length"),)

    code: Mapped[str] = mapped_column(String(16), primary_key=True)
    name_ja: Mapped[str] = mapped_column(String(120), nullable=False)
    name_en: Mapped[str] = mapped_column(String(120), nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    #: account id of the security officer who created it (no FK: survives account removal, like the audit log)
    created_by: Mapped[str | None] = mapped_column(String(36))

    def name(self, locale: str) -> str:
        return self.name_ja if locale == "ja" else self.name_en


class LabelCompartment(db.Model):
    """The compartments of one labelled object (any table: named by owner_table and owner_id)."""

    __tablename__ = "label_compartment"
    __table_args__ = (Index("ix_label_compartment_code", "code"),)

    owner_table: Mapped[str] = mapped_column(String(64), primary_key=True)
    owner_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    code: Mapped[str] = mapped_column(ForeignKey("compartment.code"), primary_key=True)
