"""Minutes (議事録) of a dialogue: the record, its revisions, participants' corrections and addenda.

The content lives only in revisions: each save seals the whole document (a
JSON structure, see document.py) as a new row; the minutes row holds the
lifecycle and the number of the current revision. `current_revision` is also
the optimistic lock: a save claims number n+1 with a conditional UPDATE, so
of two officers who both started from revision n only the first one wins.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from clearance.crypto import EncryptedField
from clearance.db import db, new_id, utcnow
from clearance.policy import LabelledTable

STATUSES = ("draft", "internal_review", "participant_review", "approved", "locked")
STATUS_LABELS = {
    "draft": _l("Draft"),  # 作成中
    "internal_review": _l("Internal review"),  # 内部確認中
    "participant_review": _l("Participant review"),  # 参加者確認中
    "approved": _l("Approved"),  # 確定
    "locked": _l("Locked"),  # 確定・凍結
}
#: states in which officers may save new revisions
EDITABLE = frozenset({"draft", "participant_review"})
#: states in which invited participants see the minutes in the portal
VISIBLE_TO_PARTICIPANTS = frozenset({"participant_review", "approved", "locked"})

_STATUS_LIST = ", ".join(f"'{s}'" for s in STATUSES)


class Minutes(db.Model):
    """議事録 — the minutes of one dialogue."""

    __tablename__ = "minutes"
    __table_args__ = (
        CheckConstraint(f"status IN ({_STATUS_LIST})", name="status_known"),
        CheckConstraint("level BETWEEN 0 AND 2", name="level_range"),
        CheckConstraint("current_revision >= 1", name="has_revision"),
        # The second officer of internal review is never the one who asked for it.
        CheckConstraint("reviewed_by_id IS NULL OR submitted_by_id IS NULL OR reviewed_by_id <> submitted_by_id",
                        name="second_officer_reviews"),
        CheckConstraint("status <> 'locked' OR locked_at IS NOT NULL", name="locked_has_time"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    dialogue_id: Mapped[str] = mapped_column(ForeignKey("dialogue.id", ondelete="RESTRICT"), nullable=False, unique=True)
    status: Mapped[str] = mapped_column(String(24), nullable=False, default="draft", index=True)
    #: the join of every section's label and every cited briefing's label (compartments in label_compartment)
    level: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    #: number of the newest revision; the optimistic lock for saves
    current_revision: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    created_by_id: Mapped[str | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    submitted_by_id: Mapped[str | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime)
    reviewed_by_id: Mapped[str | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    reviewed_at: Mapped[datetime | None] = mapped_column(DateTime)
    #: naive UTC; participants may ask for corrections until then
    correction_deadline: Mapped[datetime | None] = mapped_column(DateTime)
    approved_by_id: Mapped[str | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    approved_at: Mapped[datetime | None] = mapped_column(DateTime)
    locked_by_id: Mapped[str | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    locked_at: Mapped[datetime | None] = mapped_column(DateTime)
    #: why it was last sent back to draft (shown to the authors), sealed. Level 0 in its context, not the row's:
    #: the level moves with every save in a conditional UPDATE, and the note must stay readable across them.
    return_note_ct: Mapped[bytes | None] = mapped_column(LargeBinary)

    return_note = EncryptedField("return_note_ct")


#: how clearance.policy finds the minutes' overall label in SQL
LABELLED = LabelledTable("minutes", Minutes.id, Minutes.level, released=False)


class MinutesRevision(db.Model):
    """One saved state of the whole document, sealed at the level the minutes had when it was saved."""

    __tablename__ = "minutes_revision"
    __table_args__ = (
        UniqueConstraint("minutes_id", "number", name="uq_minutes_revision_number"),
        CheckConstraint("level BETWEEN 0 AND 2", name="level_range"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    minutes_id: Mapped[str] = mapped_column(ForeignKey("minutes.id", ondelete="CASCADE"), nullable=False)
    number: Mapped[int] = mapped_column(Integer, nullable=False)
    author_id: Mapped[str | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    #: kept even if the account is later removed, like the audit log
    author_name: Mapped[str] = mapped_column(String(120), nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    #: the level the content is sealed at (part of the ciphertext's associated data)
    level: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    #: the revision this one restored, if it is a restore
    restored_from: Mapped[int | None] = mapped_column(Integer)
    #: short note of what changed ("Corrections from participants applied"), sealed at the revision's level like
    #: its content (it may speak about it); NULL when none was given
    note_ct: Mapped[bytes | None] = mapped_column(LargeBinary)
    content_ct: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)

    content = EncryptedField("content_ct", level="level")
    note = EncryptedField("note_ct", level="level")

    def __init__(self, **kwargs: Any) -> None:
        # The sealed fields are bound to id and level: set those first, whatever the keyword order.
        first = {k: kwargs.pop(k) for k in ("id", "level") if k in kwargs}
        super().__init__(**first, **kwargs)


class MinutesCorrection(db.Model):
    """A participant's request to correct the draft (参加者からの修正依頼), and the officers' answer."""

    __tablename__ = "minutes_correction"
    __table_args__ = (
        CheckConstraint("status IN ('open', 'accepted', 'declined')", name="status_known"),
        CheckConstraint("(status = 'open') = (resolved_at IS NULL)", name="resolved_has_time"),
        Index("ix_minutes_correction_minutes_status", "minutes_id", "status"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    minutes_id: Mapped[str] = mapped_column(ForeignKey("minutes.id", ondelete="CASCADE"), nullable=False)
    #: the revision the participant read
    revision: Mapped[int] = mapped_column(Integer, nullable=False)
    #: the section it is about (a key in the document), or NULL for the whole
    section_key: Mapped[str | None] = mapped_column(String(40))
    author_id: Mapped[str | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"), index=True)
    author_name: Mapped[str] = mapped_column(String(120), nullable=False)
    company_id: Mapped[str | None] = mapped_column(ForeignKey("company.id", ondelete="SET NULL"), index=True)
    #: sealed at the level of the section it is about (it may quote it)
    level: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    body_ct: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="open")
    response_ct: Mapped[bytes | None] = mapped_column(LargeBinary)
    resolved_by_id: Mapped[str | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)

    body = EncryptedField("body_ct", level="level")
    response = EncryptedField("response_ct", level="level")


class MinutesAddendum(db.Model):
    """A dated addendum (追記) to locked minutes: the only change locked minutes accept."""

    __tablename__ = "minutes_addendum"
    __table_args__ = (
        CheckConstraint("level BETWEEN 0 AND 2", name="level_range"),
        CheckConstraint("NOT public OR level = 0", name="public_is_level_0"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    minutes_id: Mapped[str] = mapped_column(ForeignKey("minutes.id", ondelete="CASCADE"), nullable=False, index=True)
    author_id: Mapped[str | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    author_name: Mapped[str] = mapped_column(String(120), nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    #: compartments in label_compartment (owner "minutes_addendum")
    level: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    #: included in the public summary (only possible for a public label)
    public: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    body_ct: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)

    body = EncryptedField("body_ct", level="level")
