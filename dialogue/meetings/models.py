"""Dialogue models: 対話, its agenda, hosts, series, invitations, RSVP tokens, feeds, reach."""

from __future__ import annotations

import contextlib
from datetime import datetime
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from clearance.crypto import EncryptedField, resealing
from clearance.db import db, new_id, utcnow

FORMATS = ("association", "supply_chain", "technology", "company")
STATUSES = ("planned", "invited", "held", "closed", "cancelled", "postponed")
#: "revoked": the ministry took the invitation back (sent by mistake); the invitee can no longer answer
REPLIES = ("pending", "accepted", "declined", "delegated", "withdrawn", "waitlisted", "revoked")
#: replies that still hold (or wait for) a place at the dialogue
ACTIVE_REPLIES = ("pending", "accepted", "waitlisted")
#: statuses in which the dialogue still lies ahead
OPEN_STATUSES = ("planned", "invited")

_FORMAT_LIST = ", ".join(f"'{f}'" for f in FORMATS)
_STATUS_LIST = ", ".join(f"'{s}'" for s in STATUSES)
_REPLY_LIST = ", ".join(f"'{r}'" for r in REPLIES)

dialogue_host = Table(
    "dialogue_host",
    db.metadata,
    Column("dialogue_id", ForeignKey("dialogue.id", ondelete="CASCADE"), primary_key=True),
    #: the double-booking check looks up a host's dialogues
    Column("user_id", ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class DialogueSeries(db.Model):
    """A repeating dialogue: the RFC 5545 rule its dialogues were generated from."""

    __tablename__ = "dialogue_series"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    #: the RRULE value as entered, e.g. FREQ=MONTHLY;BYDAY=3WE;COUNT=6
    rule: Mapped[str] = mapped_column(String(300), nullable=False)
    time_zone: Mapped[str] = mapped_column(String(64), nullable=False)
    created_by: Mapped[str | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)


class Dialogue(db.Model):
    """対話 — one meeting of the strategic dialogue with its counterpart.

    Purpose and status reason are sealed at the dialogue's level: construct with ``id`` (and
    ``level``), and change the level with ``dialogue.reseal(level)`` (service._apply does): it re-seals
    the agenda items too, whose titles are sealed at the dialogue's level."""

    __tablename__ = "dialogue"
    __table_args__ = (
        CheckConstraint(f"format IN ({_FORMAT_LIST})", name="format_known"),
        CheckConstraint(f"status IN ({_STATUS_LIST})", name="status_known"),
        CheckConstraint("level BETWEEN 0 AND 2", name="level_range"),
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        CheckConstraint("seat_limit IS NULL OR seat_limit > 0", name="seat_limit_positive"),
        # The counterpart matches the format: exactly one of the three, of the right kind.
        CheckConstraint(
            "(format = 'association' AND association_id IS NOT NULL AND group_id IS NULL AND company_id IS NULL)"
            " OR (format IN ('supply_chain', 'technology') AND group_id IS NOT NULL AND association_id IS NULL"
            " AND company_id IS NULL)"
            " OR (format = 'company' AND company_id IS NOT NULL AND association_id IS NULL AND group_id IS NULL)",
            name="counterpart_matches_format",
        ),
        Index("ix_dialogue_status_starts", "status", "starts_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    format: Mapped[str] = mapped_column(String(16), nullable=False)
    association_id: Mapped[str | None] = mapped_column(ForeignKey("association.id", ondelete="RESTRICT"), index=True)
    group_id: Mapped[str | None] = mapped_column(ForeignKey("company_group.id", ondelete="RESTRICT"), index=True)
    company_id: Mapped[str | None] = mapped_column(ForeignKey("company.id", ondelete="RESTRICT"), index=True)
    #: the title, sealed at the dialogue's level (NULL only in rows written before 0013's sealing
    #: ran; the app always writes one). Lists decrypt the titles of the page they show.
    title_ct: Mapped[bytes | None] = mapped_column(LargeBinary)
    #: what the ministry means to discuss, sealed at the dialogue's level (NULL: none given)
    purpose_ct: Mapped[bytes | None] = mapped_column(LargeBinary)
    #: taxonomy.REGIONS code of where it takes place; NULL for online-only
    region: Mapped[str | None] = mapped_column(String(16), index=True)
    #: where it takes place and the online-meeting link, sealed at the dialogue's level (NULL: none)
    venue_ct: Mapped[bytes | None] = mapped_column(LargeBinary)
    online_url_ct: Mapped[bytes | None] = mapped_column(LargeBinary)
    #: naive UTC
    starts_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, index=True)
    ends_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    #: IANA zone the dialogue is planned in; times are shown in it (and in the viewer's, if different)
    time_zone: Mapped[str] = mapped_column(String(64), nullable=False, default="Asia/Tokyo")
    #: classification level 0 public, 1, 2 (labels follow clearance/labels once it exists)
    level: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="planned")
    #: why it was cancelled or postponed (sent to invitees), sealed at the dialogue's level; NULL otherwise
    status_reason_ct: Mapped[bytes | None] = mapped_column(LargeBinary)
    #: naive UTC; replies after it are refused
    answer_by: Mapped[datetime | None] = mapped_column(DateTime)
    #: seats for accepted invitees; NULL is unlimited, beyond it replies join the waiting list
    seat_limit: Mapped[int | None] = mapped_column(Integer)
    series_id: Mapped[str | None] = mapped_column(ForeignKey("dialogue_series.id", ondelete="SET NULL"), index=True)
    #: RFC 5545 SEQUENCE: raised on every change invitees must see in their calendars
    sequence: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    created_by: Mapped[str | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)

    agenda: Mapped[list[AgendaItem]] = relationship(
        order_by="AgendaItem.position", cascade="all, delete-orphan", back_populates="dialogue"
    )

    # Bound to the row's level: shown only where the dialogue is, and a level lowered in SQL
    # makes them unreadable instead of showing them to someone not cleared for them.
    # Title, venue and link are material too (issue 11): a level-1 dialogue's title says what it is
    # about, its venue and link where and how to join it.
    title = EncryptedField("title_ct", level="level")
    purpose = EncryptedField("purpose_ct", level="level")
    status_reason = EncryptedField("status_reason_ct", level="level")
    venue = EncryptedField("venue_ct", level="level")
    online_url = EncryptedField("online_url_ct", level="level")

    def __init__(self, **kwargs: Any) -> None:
        # The sealed fields are bound to id and level: set those first, whatever the keyword order
        # (level 0 unless given, as the column default would make it at flush, too late to seal).
        first = {k: kwargs.pop(k) for k in ("id", "level") if k in kwargs}
        first.setdefault("level", 0)
        super().__init__(**first, **kwargs)

    def reseal(self, level: int) -> None:
        """Change the level, re-sealing every sealed field of the dialogue and of its agenda items."""
        with contextlib.ExitStack() as stack:
            stack.enter_context(resealing(self))
            for item in self.agenda:
                stack.enter_context(resealing(item))
            self.level = level


class AgendaItem(db.Model):
    """One agenda item, in order."""

    __tablename__ = "agenda_item"
    __table_args__ = (UniqueConstraint("dialogue_id", "position", name="uq_agenda_item_position"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    dialogue_id: Mapped[str] = mapped_column(ForeignKey("dialogue.id", ondelete="CASCADE"), nullable=False)
    position: Mapped[int] = mapped_column(Integer, nullable=False)
    #: sealed at the dialogue's level (derived: the item has no level of its own); written with
    #: AgendaItem.title.seal_column(text, id, dialogue.level) by Core inserts
    title_ct: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)

    dialogue: Mapped[Dialogue] = relationship(back_populates="agenda")

    title = EncryptedField("title_ct", level=lambda item: item.level_of_dialogue())

    def __init__(self, **kwargs: Any) -> None:
        # The title is sealed at the dialogue's level: set it once the dialogue is known.
        title = kwargs.pop("title", None)
        super().__init__(**kwargs)
        if title is not None:
            self.title = title

    def level_of_dialogue(self) -> int:
        if self.dialogue is None:
            raise TypeError("AgendaItem: construct with dialogue=<Dialogue> (its title is sealed at the dialogue's "
                            "level), or insert rows with AgendaItem.title.seal_column(text, id, level)")
        return self.dialogue.level


class Invitation(db.Model):
    """One company account invited to one dialogue, and its reply."""

    __tablename__ = "invitation"
    __table_args__ = (
        UniqueConstraint("dialogue_id", "user_id", name="uq_invitation_pair"),
        CheckConstraint(f"status IN ({_REPLY_LIST})", name="status_known"),
        Index("ix_invitation_dialogue_status", "dialogue_id", "status"),
        Index("ix_invitation_company_dialogue", "company_id", "dialogue_id"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    dialogue_id: Mapped[str] = mapped_column(ForeignKey("dialogue.id", ondelete="CASCADE"), nullable=False)
    company_id: Mapped[str] = mapped_column(ForeignKey("company.id", ondelete="CASCADE"), nullable=False)
    user_id: Mapped[str] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), nullable=False, index=True)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="pending")
    invited_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    replied_at: Mapped[datetime | None] = mapped_column(DateTime)
    #: when it joined the waiting list; the earliest is promoted first
    waitlisted_at: Mapped[datetime | None] = mapped_column(DateTime)
    #: the colleague's invitation this one was handed to
    delegated_to_id: Mapped[str | None] = mapped_column(ForeignKey("invitation.id", ondelete="SET NULL"))
    invited_by: Mapped[str | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    #: when an officer took the invitation back (status "revoked"); who did is in the audit log
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)
    #: the officer's reason, sent to the invitee; sealed (NULL: none given)
    revoke_reason_ct: Mapped[bytes | None] = mapped_column(LargeBinary)

    dialogue: Mapped[Dialogue] = relationship()

    # Level 0: an invitation has no level of its own, and the reason is about the addressee (it was
    # sent by mistake), mailed to them; binding it to the dialogue's level would mean re-sealing every
    # revoked invitation whenever an officer changes the dialogue's classification.
    revoke_reason = EncryptedField("revoke_reason_ct")


class RsvpToken(db.Model):
    """Single-use, expiring RSVP link sent by e-mail; only the SHA-256 of the 256-bit token is stored."""

    __tablename__ = "rsvp_token"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    invitation_id: Mapped[str] = mapped_column(ForeignKey("invitation.id", ondelete="CASCADE"), nullable=False,
                                               index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    expires_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    used_at: Mapped[datetime | None] = mapped_column(DateTime)


class AdvanceTopic(db.Model):
    """A topic or question a company sends before the dialogue (事前の議題・質問)."""

    __tablename__ = "advance_topic"
    __table_args__ = (
        CheckConstraint("kind IN ('topic', 'question')", name="kind_known"),
        Index("ix_advance_topic_dialogue_company", "dialogue_id", "company_id"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    dialogue_id: Mapped[str] = mapped_column(ForeignKey("dialogue.id", ondelete="CASCADE"), nullable=False)
    company_id: Mapped[str] = mapped_column(ForeignKey("company.id", ondelete="CASCADE"), nullable=False)
    author_id: Mapped[str | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    #: what the company asked, sealed: a stolen database must not reveal what companies told the ministry
    body_ct: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)

    body = EncryptedField("body_ct")


class CalendarFeed(db.Model):
    """A personal iCalendar feed URL; only the SHA-256 of its 256-bit token is stored."""

    __tablename__ = "calendar_feed"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), nullable=False, index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime)


class MeetingPreference(db.Model):
    """A user's own time zone for showing dialogue times (the dialogue's zone is always shown too)."""

    __tablename__ = "meeting_preference"

    user_id: Mapped[str] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True)
    time_zone: Mapped[str] = mapped_column(String(64), nullable=False, default="Asia/Tokyo")


class CompanyReach(db.Model):
    """When the ministry last held a dialogue with a company: kept up to date when a dialogue is
    marked held, so the overview's gaps cost a pass over companies, not over every invitation."""

    __tablename__ = "company_reach"

    company_id: Mapped[str] = mapped_column(ForeignKey("company.id", ondelete="CASCADE"), primary_key=True)
    first_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    #: start (UTC) of the latest held dialogue the company was invited to and did not decline
    last_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, index=True)
    dialogues: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
