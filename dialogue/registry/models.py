"""Register models: 業界団体, 企業, 企業群 and their links."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Column, DateTime, ForeignKey, Integer, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from clearance.db import db, new_id, utcnow

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
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)

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
