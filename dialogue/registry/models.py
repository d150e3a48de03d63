"""Register models: 業界団体, 企業, 企業群 and their links."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from clearance.crypto import EncryptedField
from clearance.db import db, new_id, utcnow
from dialogue.registry.search import search_key

association_member = Table(
    "association_member",
    db.metadata,
    Column("association_id", ForeignKey("association.id", ondelete="CASCADE"), primary_key=True),
    Column("company_id", ForeignKey("company.id", ondelete="CASCADE"), primary_key=True, index=True),
)

company_sector = Table(
    "company_sector",
    db.metadata,
    Column("company_id", ForeignKey("company.id", ondelete="CASCADE"), primary_key=True),
    Column("sector", String(32), primary_key=True, index=True),
)

#: every sector of an association (its main `Association.sector` included)
association_sector = Table(
    "association_sector",
    db.metadata,
    Column("association_id", ForeignKey("association.id", ondelete="CASCADE"), primary_key=True),
    Column("sector", String(32), primary_key=True, index=True),
)

company_material = Table(
    "company_material",
    db.metadata,
    Column("company_id", ForeignKey("company.id", ondelete="CASCADE"), primary_key=True),
    Column("material", String(40), primary_key=True, index=True),
)


class Association(db.Model):
    """業界団体 — an industry association."""

    __tablename__ = "association"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    name_ja: Mapped[str] = mapped_column(String(200), nullable=False, unique=True)
    name_en: Mapped[str] = mapped_column(String(200), nullable=False)
    #: comma-free code of the main sector (see taxonomy.SECTORS)
    sector: Mapped[str] = mapped_column(String(32), nullable=False, index=True)
    #: folded names for search (see dialogue.registry.search)
    search_text: Mapped[str] = mapped_column(Text, nullable=False, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)

    members: Mapped[list[Company]] = relationship(secondary=association_member, back_populates="associations")


class Company(db.Model):
    """企業 — a company in the register."""

    __tablename__ = "company"
    __table_args__ = (
        CheckConstraint("size_class IN ('large', 'mid', 'small')", name="size_known"),
        CheckConstraint("length(corporate_number) = 13", name="corporate_number_length"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    #: 法人番号, 13 digits with a valid check digit
    corporate_number: Mapped[str] = mapped_column(String(13), nullable=False, unique=True)
    name_ja: Mapped[str] = mapped_column(String(200), nullable=False, index=True)
    name_en: Mapped[str] = mapped_column(String(200), nullable=False)
    size_class: Mapped[str] = mapped_column(String(8), nullable=False, index=True)
    #: JIS X 0401 prefecture code, "01".."47"
    prefecture: Mapped[str] = mapped_column(String(2), nullable=False)
    region: Mapped[str] = mapped_column(String(16), nullable=False, index=True)
    tech_field: Mapped[str | None] = mapped_column(String(20))
    key_products: Mapped[str] = mapped_column(Text, nullable=False, default="")
    #: key technologies (主要技術), free text beside the products
    key_technologies: Mapped[str] = mapped_column(Text, nullable=False, default="")
    #: NFKC + case-folded names, number, products and technologies; kept by the event below so every
    #: writer (forms, import, seed, factories) stays searchable the same way on SQLite and PostgreSQL
    search_text: Mapped[str] = mapped_column(Text, nullable=False, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    updated_at: Mapped[datetime | None] = mapped_column(DateTime)

    associations: Mapped[list[Association]] = relationship(secondary=association_member, back_populates="members")


class CompanyGroup(db.Model):
    """企業群 — a supply chain for a product, or a group holding one technology."""

    __tablename__ = "company_group"
    __table_args__ = (CheckConstraint("kind IN ('supply_chain', 'technology')", name="kind_known"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    name_ja: Mapped[str] = mapped_column(String(200), nullable=False, unique=True)
    name_en: Mapped[str] = mapped_column(String(200), nullable=False)
    sector: Mapped[str] = mapped_column(String(32), nullable=False, index=True)
    #: the product (supply chain) or technology (technology group) the group is about
    subject_ja: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    subject_en: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    #: folded names and subject for search (see dialogue.registry.search)
    search_text: Mapped[str] = mapped_column(Text, nullable=False, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)

    members: Mapped[list[GroupMember]] = relationship(back_populates="group", cascade="all, delete-orphan")


class GroupMember(db.Model):
    """A company's place in a group; supply-chain members sit on a tier 1..4 (一次材料 → 完成品)."""

    __tablename__ = "group_member"
    __table_args__ = (
        UniqueConstraint("group_id", "company_id", name="uq_group_member_pair"),
        CheckConstraint("tier IS NULL OR tier BETWEEN 1 AND 4", name="tier_range"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    group_id: Mapped[str] = mapped_column(ForeignKey("company_group.id", ondelete="CASCADE"), nullable=False)
    company_id: Mapped[str] = mapped_column(ForeignKey("company.id", ondelete="CASCADE"), nullable=False, index=True)
    tier: Mapped[int | None] = mapped_column(Integer)

    group: Mapped[CompanyGroup] = relationship(back_populates="members")
    company: Mapped[Company] = relationship()


class GroupLink(db.Model):
    """Supplier → customer edge inside a supply chain."""

    __tablename__ = "group_link"
    __table_args__ = (
        UniqueConstraint("group_id", "supplier_id", "customer_id", name="uq_group_link_edge"),
        CheckConstraint("supplier_id <> customer_id", name="not_self"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    group_id: Mapped[str] = mapped_column(ForeignKey("company_group.id", ondelete="CASCADE"), nullable=False, index=True)
    supplier_id: Mapped[str] = mapped_column(ForeignKey("company.id", ondelete="CASCADE"), nullable=False)
    customer_id: Mapped[str] = mapped_column(ForeignKey("company.id", ondelete="CASCADE"), nullable=False)


@event.listens_for(Company, "before_insert")
@event.listens_for(Company, "before_update")
def _company_search_text(_mapper, _connection, company: Company) -> None:
    company.search_text = company_search_text(company)


def company_search_text(company: Company) -> str:
    return search_key(company.corporate_number, company.name_ja, company.name_en, company.key_products,
                      company.key_technologies)


@event.listens_for(Association, "before_insert")
@event.listens_for(Association, "before_update")
def _association_search_text(_mapper, _connection, association: Association) -> None:
    association.search_text = search_key(association.name_ja, association.name_en)


@event.listens_for(CompanyGroup, "before_insert")
@event.listens_for(CompanyGroup, "before_update")
def _group_search_text(_mapper, _connection, group: CompanyGroup) -> None:
    group.search_text = search_key(group.name_ja, group.name_en, group.subject_ja, group.subject_en)


class ContactPerson(db.Model):
    """A contact person (担当者) of a company or an association.

    Personal data: only what the ministry needs to reach the person, every field sealed
    (the row id must be set with new_id() before assigning any of them).
    """

    __tablename__ = "contact_person"
    __table_args__ = (
        CheckConstraint("(company_id IS NULL) <> (association_id IS NULL)", name="one_owner"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    company_id: Mapped[str | None] = mapped_column(ForeignKey("company.id", ondelete="CASCADE"), index=True)
    association_id: Mapped[str | None] = mapped_column(ForeignKey("association.id", ondelete="CASCADE"), index=True)
    name_ct: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    department_ct: Mapped[bytes | None] = mapped_column(LargeBinary)
    title_ct: Mapped[bytes | None] = mapped_column(LargeBinary)
    email_ct: Mapped[bytes | None] = mapped_column(LargeBinary)
    phone_ct: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    updated_at: Mapped[datetime | None] = mapped_column(DateTime)

    name = EncryptedField("name_ct")
    department = EncryptedField("department_ct")
    title = EncryptedField("title_ct")
    email = EncryptedField("email_ct")
    phone = EncryptedField("phone_ct")


class CorrectionRequest(db.Model):
    """A company's request to correct its own profile; an officer approves (applies) or rejects it."""

    __tablename__ = "correction_request"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'approved', 'rejected', 'withdrawn')", name="status_known"),
        # A decision always names who made it and when; a rejection always says why.
        CheckConstraint("(status = 'pending') = (decided_at IS NULL)", name="decided_when_closed"),
        # The reason is sealed; the constraint can still insist that there is one.
        CheckConstraint("status <> 'rejected' OR decision_reason_ct IS NOT NULL", name="rejection_has_reason"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    company_id: Mapped[str] = mapped_column(ForeignKey("company.id", ondelete="CASCADE"), nullable=False, index=True)
    requested_by_id: Mapped[str | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    # Sealed: what a company asks to change (and its note, which may name a new contact person) is what
    # companies tell the ministry; the rejection reason is what the ministry tells them.
    proposed_ct: Mapped[bytes | None] = mapped_column(LargeBinary)
    original_ct: Mapped[bytes | None] = mapped_column(LargeBinary)
    note_ct: Mapped[bytes | None] = mapped_column(LargeBinary)
    status: Mapped[str] = mapped_column(String(12), nullable=False, default="pending", index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime)
    decided_by_id: Mapped[str | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    decision_reason_ct: Mapped[bytes | None] = mapped_column(LargeBinary)

    #: canonical JSON {field: proposed value}; only fields that differ from the profile when asked
    proposed = EncryptedField("proposed_ct")
    #: JSON {field: value} of the same fields when the request was made, to show what it was based on
    original = EncryptedField("original_ct")
    note = EncryptedField("note_ct")
    decision_reason = EncryptedField("decision_reason_ct")

    company: Mapped[Company] = relationship()


class ImportBatch(db.Model):
    """A parsed, fully valid CSV import waiting for the officer's confirmation.

    The rows are sealed in one blob bound to this row and to the officer who uploaded it, so
    nothing of the preview travels in the cookie and nobody else can confirm it.
    """

    __tablename__ = "register_import"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), nullable=False, index=True)
    filename: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    encoding: Mapped[str] = mapped_column(String(16), nullable=False)
    rows: Mapped[int] = mapped_column(Integer, nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    #: zlib-compressed JSON list of normalised rows, sealed
    payload_ct: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)

    payload = EncryptedField("payload_ct", binary=True)
