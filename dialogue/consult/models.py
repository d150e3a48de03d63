"""The desk's tables. Every time column is a date (a day in Japan), never an instant.

What the submitter wrote — messages, the case's category, sector, tier and size,
file names and contents — is sealed by clearance.crypto. What stays in clear is
the ministry's own workflow: status, assignee, labels and dates.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from clearance.crypto import EncryptedField
from clearance.db import db, new_id
from dialogue.consult.taxonomy import STATUSES

_STATUS_LIST = ", ".join(f"'{s}'" for s in STATUSES)


class DeskSecret(db.Model):
    """A secret of the desk (the receipt pepper), sealed under the key provider's KEK.

    The database holds only the wrapped value: a copy of the database without
    the keys cannot test a single receipt guess.
    """

    __tablename__ = "consult_secret"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    #: what the secret is for ("pepper"); one row each
    purpose: Mapped[str] = mapped_column(String(32), nullable=False, unique=True)
    value_ct: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)

    value = EncryptedField("value_ct", binary=True)


class ConsultCase(db.Model):
    """相談案件 — one anonymous consultation and its conversation."""

    __tablename__ = "consult_case"
    __table_args__ = (
        CheckConstraint(f"status IN ({_STATUS_LIST})", name="status_known"),
        CheckConstraint("(status = 'closed') = (closed_on IS NOT NULL)", name="closed_has_date"),
        CheckConstraint("message_count >= 0", name="message_count_nonnegative"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    #: random reference officers use between themselves (not sequential: numbers would leak volume and order)
    ref: Mapped[str] = mapped_column(String(16), nullable=False, unique=True)
    #: HMAC-SHA256(pepper, receipt), truncated: finds the one candidate row without scanning
    lookup_id: Mapped[str] = mapped_column(String(32), nullable=False, unique=True)
    #: Argon2id of HMAC-SHA256(pepper, receipt): the verifier
    receipt_hash: Mapped[str] = mapped_column(String(255), nullable=False)
    #: the case key wrapped under a key derived from the receipt (salt || nonce || AES-GCM)
    submitter_key_wrapped: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    #: the submitter's own state ("what have I read"), AES-GCM under the case key
    submitter_state_ct: Mapped[bytes | None] = mapped_column(LargeBinary)
    #: sealed JSON: category, sector, tier, size class (what the submitter chose)
    facts_ct: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="new", index=True)
    assignee_id: Mapped[str | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"), index=True)
    created_on: Mapped[date] = mapped_column(Date, nullable=False, index=True)
    last_activity_on: Mapped[date] = mapped_column(Date, nullable=False)
    #: an officer must acknowledge a new case by this day
    ack_due_on: Mapped[date] = mapped_column(Date, nullable=False)
    acknowledged_on: Mapped[date | None] = mapped_column(Date)
    closed_on: Mapped[date | None] = mapped_column(Date)
    #: the submitter wrote last: the ministry owes the next word
    awaiting_ministry: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    #: something happened on the submitter's side that the next digest mail should mention
    notify_pending: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    #: last day an acknowledgement reminder went out (at most one a day)
    reminded_on: Mapped[date | None] = mapped_column(Date)
    #: number of messages; the next message gets this as its seq
    message_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)

    facts_json = EncryptedField("facts_ct")

    messages: Mapped[list[ConsultMessage]] = relationship(
        back_populates="case", order_by="ConsultMessage.seq", cascade="all, delete-orphan", passive_deletes=True
    )
    labels: Mapped[list[CaseLabel]] = relationship(cascade="all, delete-orphan", passive_deletes=True, lazy="selectin")

    @property
    def facts(self) -> dict[str, Any]:
        return json.loads(self.facts_json or "{}")

    @facts.setter
    def facts(self, value: dict[str, Any]) -> None:
        self.facts_json = json.dumps(value, sort_keys=True, separators=(",", ":"))

    @property
    def label_codes(self) -> list[str]:
        return sorted(lbl.label for lbl in self.labels)


class ConsultMessage(db.Model):
    """One message in a case, from the submitter or from the ministry; ordered by seq, dated by day."""

    __tablename__ = "consult_message"
    __table_args__ = (
        UniqueConstraint("case_id", "seq", name="uq_consult_message_case_seq"),
        CheckConstraint("author IN ('submitter', 'ministry')", name="author_known"),
        CheckConstraint("author = 'ministry' OR officer_id IS NULL", name="submitter_names_nobody"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    case_id: Mapped[str] = mapped_column(ForeignKey("consult_case.id", ondelete="CASCADE"), nullable=False, index=True)
    seq: Mapped[int] = mapped_column(Integer, nullable=False)
    author: Mapped[str] = mapped_column(String(16), nullable=False)
    #: the officer who wrote a ministry message (shown to officers only; the submitter sees "the ministry")
    officer_id: Mapped[str | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    written_on: Mapped[date] = mapped_column(Date, nullable=False)
    #: sealed text; empty text when the message only carries files
    body_ct: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)

    body = EncryptedField("body_ct")

    case: Mapped[ConsultCase] = relationship(back_populates="messages")
    attachments: Mapped[list[ConsultAttachment]] = relationship(
        back_populates="message", cascade="all, delete-orphan", passive_deletes=True, lazy="selectin"
    )


class ConsultAttachment(db.Model):
    """A file on a message. The bytes live in clearance.files (stored_file, owner consult_message/<id>)."""

    __tablename__ = "consult_attachment"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    case_id: Mapped[str] = mapped_column(ForeignKey("consult_case.id", ondelete="CASCADE"), nullable=False, index=True)
    message_id: Mapped[str] = mapped_column(
        ForeignKey("consult_message.id", ondelete="CASCADE"), nullable=False, index=True
    )
    #: stored_file.id (no foreign key: the files area has its own migration branch)
    stored_file_id: Mapped[str] = mapped_column(String(36), nullable=False, unique=True)
    #: sealed JSON list of what the cleaner removed (codes from taxonomy.REMOVED)
    removed_ct: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)

    removed_json = EncryptedField("removed_ct")

    message: Mapped[ConsultMessage] = relationship(back_populates="attachments")

    @property
    def removed(self) -> list[str]:
        return json.loads(self.removed_json or "[]")

    @removed.setter
    def removed(self, value: list[str]) -> None:
        self.removed_json = json.dumps(value)


class CaseLabel(db.Model):
    """An officer's label on a case (fixed vocabulary, taxonomy.LABELS)."""

    __tablename__ = "consult_case_label"

    case_id: Mapped[str] = mapped_column(ForeignKey("consult_case.id", ondelete="CASCADE"), primary_key=True)
    label: Mapped[str] = mapped_column(String(32), primary_key=True)


class DeskSessionRow(db.Model):
    """A desk visitor's server-side session (database store).

    The only time in clear is the day after which the row may be deleted; the
    precise last-seen time, used for the 30-minute idle limit, sits inside
    `data_ct`, sealed under a key derived from the cookie, which the server
    never stores. The cookie's SHA-256 is the key.
    """

    __tablename__ = "consult_desk_session"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    purge_on: Mapped[date] = mapped_column(Date, nullable=False, index=True)
    data_ct: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)


class DayTally(db.Model):
    """Counts of the desk's public activity for one day, written to the audit log once the day is over.

    Auditing each public action would put it between precisely timed entries of
    the hash chain; a daily count says what happened and not when.
    """

    __tablename__ = "consult_day_tally"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    cases_submitted: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    messages_from_submitters: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    files_from_submitters: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    receipts_accepted: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    receipts_refused: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    throttled: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    bot_refused: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    decryption_failures: Mapped[int] = mapped_column(Integer, nullable=False, default=0)


class FeedbackCandidate(db.Model):
    """An anonymised passage of a case, handed to the policy analysis (the feedback issue).

    No case id, no reference, no day: only the month and the coarse facts the
    officer chose to pass on, so nothing leads back to the case.
    """

    __tablename__ = "consult_feedback_candidate"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    theme: Mapped[str] = mapped_column(String(32), nullable=False)
    sector: Mapped[str | None] = mapped_column(String(32))
    tier: Mapped[str | None] = mapped_column(String(4))
    size_class: Mapped[str | None] = mapped_column(String(8))
    #: first day of the month it was exported
    month: Mapped[date] = mapped_column(Date, nullable=False)
    text_ct: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    created_by_id: Mapped[str | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    #: taken over by the feedback area (issue 7) — it deletes or marks what it imported
    taken_over: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)

    text = EncryptedField("text_ct")
