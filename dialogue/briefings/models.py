"""Threat and risk briefings (脅威・リスク情報の提供) and who read them."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, Date, DateTime, ForeignKey, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from clearance.crypto import EncryptedField
from clearance.db import db, new_id, utcnow
from clearance.policy import LabelledTable

STATUSES = ("draft", "released", "withdrawn")

#: the four risks of the domain note, used to tag briefings
RISK_TYPES = {
    "supply_disruption": _l("Supply disruption (conflict, natural disaster, epidemic)"),
    "economic_coercion": _l("Economic coercion and forced technology transfer"),
    "technology_acquisition": _l("Foreign acquisition of advanced technology; overcapacity"),
    "technology_leakage": _l("Technology leakage from firms in like-minded countries"),
}

#: the technology map's three domains (①②③)
TECHNOLOGY_DOMAINS = {
    1: _l("① Disruptive innovation"),
    2: _l("② Japanese lead"),
    3: _l("③ External dependence"),
}

STATUS_LABELS = {
    "draft": _l("Draft"),
    "released": _l("Released"),
    "withdrawn": _l("Withdrawn"),
    "expired": _l("Expired"),
}


class Briefing(db.Model):
    """A threat or risk briefing. Body and attachments are sealed at the briefing's level."""

    __tablename__ = "briefing"
    __table_args__ = (
        CheckConstraint("level BETWEEN 0 AND 2", name="level_range"),
        CheckConstraint("status IN ('draft', 'released', 'withdrawn')", name="status_known"),
        CheckConstraint("technology_domain IS NULL OR technology_domain BETWEEN 1 AND 3", name="domain_range"),
        # Level 2 exists only by designation; below it there is no designation to show.
        CheckConstraint(
            "(level = 2) = (designating_agency IS NOT NULL AND designation_number IS NOT NULL "
            "AND designated_on IS NOT NULL AND designation_expires_on IS NOT NULL)",
            name="designation_iff_level2",
        ),
        Index("ix_briefing_status_sort", "status", "sort_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    #: sealed at the briefing's level like the body (issue 11: titles are material too); NULL only in
    #: rows written before 0013's sealing ran
    title_ct: Mapped[bytes | None] = mapped_column(LargeBinary)
    #: the list line, sealed at the briefing's level like the body (so lists decrypt one page of them)
    summary_ct: Mapped[bytes | None] = mapped_column(LargeBinary)
    #: Markdown, sealed at the briefing's level (lowering the level in SQL makes it unreadable)
    body_ct: Mapped[bytes | None] = mapped_column(LargeBinary)
    #: 0 公開, 1 取扱注意, 2 重要経済安保情報; compartments are in label_compartment
    level: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="draft")
    technology_domain: Mapped[int | None] = mapped_column(Integer)
    #: designation block (level 2 only): who designated, under which number, when, until when
    designating_agency: Mapped[str | None] = mapped_column(String(120))
    designation_number: Mapped[str | None] = mapped_column(String(60))
    designated_on: Mapped[date | None] = mapped_column(Date)
    designation_expires_on: Mapped[date | None] = mapped_column(Date)
    #: the officer who set the label; only they may lower it
    designator_id: Mapped[str | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"), index=True)
    created_by: Mapped[str | None] = mapped_column(String(36))
    created_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
    released_at: Mapped[datetime | None] = mapped_column(DateTime)
    released_by: Mapped[str | None] = mapped_column(String(36))
    #: end of the release; afterwards the briefing is "expired" and leaves readers' lists
    expires_at: Mapped[datetime | None] = mapped_column(DateTime)
    withdrawn_at: Mapped[datetime | None] = mapped_column(DateTime)
    withdrawn_by: Mapped[str | None] = mapped_column(String(36))
    #: why it was withdrawn, sealed at the briefing's level (it speaks about the content)
    withdrawn_reason_ct: Mapped[bytes | None] = mapped_column(LargeBinary)
    #: list order: creation, then release time
    sort_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utcnow, index=True)

    title = EncryptedField("title_ct", level="level")
    summary = EncryptedField("summary_ct", level="level")
    body = EncryptedField("body_ct", level="level")
    withdrawn_reason = EncryptedField("withdrawn_reason_ct", level="level")

    def __init__(self, **kwargs: Any) -> None:
        # The sealed fields are bound to id and level: set those first, whatever the keyword order.
        first = {k: kwargs.pop(k) for k in ("id", "level") if k in kwargs}
        super().__init__(**first, **kwargs)

    def lifecycle(self, now: datetime) -> str:
        if self.status == "released" and self.expires_at is not None and self.expires_at <= now:
            return "expired"
        return self.status


#: how clearance.policy finds a briefing's label in SQL
LABELLED = LabelledTable("briefing", Briefing.id, Briefing.level)


class BriefingTag(db.Model):
    """A classification of a briefing: risk type, sector, technology field or critical material."""

    __tablename__ = "briefing_tag"
    __table_args__ = (
        CheckConstraint("kind IN ('risk', 'sector', 'tech', 'material')", name="kind_known"),
        Index("ix_briefing_tag_kind_code", "kind", "code"),
    )

    briefing_id: Mapped[str] = mapped_column(ForeignKey("briefing.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(8), primary_key=True)
    code: Mapped[str] = mapped_column(String(40), primary_key=True)


class BriefingAccess(db.Model):
    """One reading of a briefing (page, PDF or attachment): who and when. Officers see these."""

    __tablename__ = "briefing_access"
    __table_args__ = (
        CheckConstraint("route IN ('page', 'pdf', 'attachment')", name="route_known"),
        Index("ix_briefing_access_briefing", "briefing_id", "accessed_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    briefing_id: Mapped[str] = mapped_column(ForeignKey("briefing.id", ondelete="CASCADE"), nullable=False)
    #: no FK: the log outlives account changes, like the audit log
    user_id: Mapped[str] = mapped_column(String(36), nullable=False, index=True)
    user_name: Mapped[str] = mapped_column(String(120), nullable=False)
    company_id: Mapped[str | None] = mapped_column(String(36))
    route: Mapped[str] = mapped_column(String(16), nullable=False)
    file_id: Mapped[str | None] = mapped_column(String(36))
    accessed_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
