"""Feedback items (産業界の声), the policy measures they informed, and their links."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Column, DateTime, ForeignKey, Integer, LargeBinary, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from clearance.crypto import EncryptedField
from clearance.db import db, new_id, utcnow
from clearance.policy import LabelledTable
from dialogue.feedback.taxonomy import CATEGORIES, INSTRUMENTS, KINDS, SOURCES, STATUSES


def _in(column: str, codes) -> str:
    return f"{column} IN ({', '.join(repr(c) for c in codes)})"


feedback_sector = Table(
    "feedback_sector",
    db.metadata,
    Column("item_id", ForeignKey("feedback_item.id", ondelete="CASCADE"), primary_key=True),
    Column("sector", String(32), primary_key=True, index=True),
)

feedback_measure = Table(
    "feedback_measure",
    db.metadata,
    Column("item_id", ForeignKey("feedback_item.id", ondelete="CASCADE"), primary_key=True),
    Column("measure_id", ForeignKey("policy_measure.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class PolicyMeasure(db.Model):
    """施策 — a policy measure that feedback can inform (a subsidy, a guideline, a rule change)."""

    __tablename__ = "policy_measure"
    __table_args__ = (
        CheckConstraint(_in("category", CATEGORIES), name="category_known"),
        CheckConstraint(_in("instrument", INSTRUMENTS), name="instrument_known"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    title_ja: Mapped[str] = mapped_column(String(200), nullable=False, unique=True)
    title_en: Mapped[str] = mapped_column(String(200), nullable=False)
    category: Mapped[str] = mapped_column(String(16), nullable=False)
    instrument: Mapped[str] = mapped_column(String(32), nullable=False)
    #: short public description of what the ministry did; shown in "you said, we did"
    description: Mapped[str] = mapped_column(Text, nullable=False, default="")
    #: when the measure was announced or took effect
    announced_on: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)

    items: Mapped[list[FeedbackItem]] = relationship(secondary=feedback_measure, back_populates="measures")

    def title(self, locale: str) -> str:
        return self.title_ja if locale == "ja" else self.title_en


class FeedbackItem(db.Model):
    """One thing industry asked for or said: from minutes, from the portal, or from an anonymous case.

    The company's size, region and tier are copied at capture time, so the
    analysis of last year does not shift when a company grows or moves. An
    anonymous item carries only the coarse attributes the consultation desk
    passes on and no link back to its case.
    """

    __tablename__ = "feedback_item"
    __table_args__ = (
        CheckConstraint(_in("source", SOURCES), name="source_known"),
        CheckConstraint(_in("kind", KINDS), name="kind_known"),
        CheckConstraint(_in("category", CATEGORIES), name="category_known"),
        CheckConstraint(_in("instrument", INSTRUMENTS), name="instrument_known"),
        CheckConstraint(_in("status", STATUSES), name="status_known"),
        CheckConstraint("size_class IS NULL OR size_class IN ('large', 'mid', 'small')", name="size_known"),
        CheckConstraint("tier IS NULL OR tier BETWEEN 1 AND 4", name="tier_range"),
        CheckConstraint("level BETWEEN 0 AND 2", name="level_range"),
        # An anonymous item names nobody; a company item always names its company.
        CheckConstraint("source <> 'anonymous' OR (company_id IS NULL AND submitted_by_id IS NULL)",
                        name="anonymous_names_nobody"),
        CheckConstraint("source <> 'company' OR company_id IS NOT NULL", name="company_item_has_company"),
        CheckConstraint("(status = 'answered') = (answer_ct IS NOT NULL)", name="answered_has_answer"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    #: short reference shown to companies and officers, e.g. FB-2025-00042
    ref: Mapped[str] = mapped_column(String(20), nullable=False, unique=True)
    source: Mapped[str] = mapped_column(String(16), nullable=False, index=True)
    kind: Mapped[str] = mapped_column(String(16), nullable=False, default="request")
    #: sealed Markdown-free plain text of what was said
    text_ct: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    category: Mapped[str] = mapped_column(String(16), nullable=False, index=True)
    subtopic: Mapped[str] = mapped_column(String(40), nullable=False, index=True)
    instrument: Mapped[str] = mapped_column(String(32), nullable=False, index=True)
    tier: Mapped[int | None] = mapped_column(Integer)
    region: Mapped[str | None] = mapped_column(String(16), index=True)
    size_class: Mapped[str | None] = mapped_column(String(8), index=True)
    #: classification level (clearance.labels); an item captured from a labelled minutes section inherits
    #: the section's label. Compartments are in label_compartment (owner "feedback_item").
    level: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    company_id: Mapped[str | None] = mapped_column(ForeignKey("company.id", ondelete="SET NULL"), index=True)
    #: the association the item was raised through (an association dialogue or its secretariat)
    association_id: Mapped[str | None] = mapped_column(ForeignKey("association.id", ondelete="SET NULL"), index=True)
    submitted_by_id: Mapped[str | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    #: the dialogue it was raised in (source "dialogue"); minutes capture sets minutes_id too
    dialogue_id: Mapped[str | None] = mapped_column(ForeignKey("dialogue.id", ondelete="SET NULL"), index=True)
    minutes_id: Mapped[str | None] = mapped_column(ForeignKey("minutes.id", ondelete="SET NULL"), index=True)
    #: stable key of the inline entry in the minutes document, so re-saving the minutes updates, not duplicates
    minutes_key: Mapped[str | None] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="received", index=True)
    #: the ministry's official answer, sealed; set together with status "answered"
    answer_ct: Mapped[bytes | None] = mapped_column(LargeBinary)
    answered_by_id: Mapped[str | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    received_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False, index=True)
    status_changed_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    answered_at: Mapped[datetime | None] = mapped_column(DateTime)

    text = EncryptedField("text_ct", level="level")
    answer = EncryptedField("answer_ct", level="level")

    sectors_rows = relationship("FeedbackSector", cascade="all, delete-orphan", lazy="selectin")
    measures: Mapped[list[PolicyMeasure]] = relationship(secondary=feedback_measure, back_populates="items")

    @property
    def sectors(self) -> list[str]:
        return sorted(r.sector for r in self.sectors_rows)


#: how clearance.policy finds an item's label in SQL (no release list: officers only read the text)
LABELLED = LabelledTable("feedback_item", FeedbackItem.id, FeedbackItem.level, released=False)


class FeedbackSector(db.Model):
    """Mapped view of feedback_sector, so an item's sectors load with it."""

    __table__ = feedback_sector


class FeedbackCounter(db.Model):
    """Per-year sequence for the readable references (FB-2025-00042), claimed with an UPDATE."""

    __tablename__ = "feedback_counter"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
