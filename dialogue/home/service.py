"""Figures for the landing pages, computed in SQL."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import distinct, func, select
from sqlalchemy.orm import Session

from clearance.auth.models import UserAccount
from dialogue.registry.models import Association, Company, CompanyGroup, GroupMember, association_member
from dialogue.registry.taxonomy import REGIONS


@dataclass(frozen=True)
class Overview:
    associations: int
    groups: int
    supply_chains: int
    companies: int
    regions: int
    sme_share: float  # share of registered companies that are mid-sized or small
    by_region: list[tuple[str, int]]
    by_size: dict[str, int]


def overview(session: Session) -> Overview:
    by_region = dict(session.execute(select(Company.region, func.count()).group_by(Company.region)).all())
    by_size = dict(session.execute(select(Company.size_class, func.count()).group_by(Company.size_class)).all())
    total = sum(by_size.values())
    groups = dict(session.execute(select(CompanyGroup.kind, func.count()).group_by(CompanyGroup.kind)).all())
    return Overview(
        associations=session.execute(select(func.count()).select_from(Association)).scalar_one(),
        groups=sum(groups.values()),
        supply_chains=groups.get("supply_chain", 0),
        companies=total,
        regions=sum(1 for v in by_region.values() if v),
        sme_share=(by_size.get("mid", 0) + by_size.get("small", 0)) / total if total else 0.0,
        by_region=[(code, by_region.get(code, 0)) for code in REGIONS],
        by_size=by_size,
    )


@dataclass(frozen=True)
class PortalSummary:
    company: Company
    colleagues: int
    associations: list[Association]
    groups: int


def portal_summary(session: Session, company_id: str) -> PortalSummary:
    company = session.get(Company, company_id)
    colleagues = session.execute(
        select(func.count()).select_from(UserAccount).where(UserAccount.company_id == company_id, UserAccount.active)
    ).scalar_one()
    associations = session.execute(
        select(Association).join(association_member).where(association_member.c.company_id == company_id)
        .order_by(Association.name_ja)
    ).scalars().all()
    groups = session.execute(
        select(func.count(distinct(GroupMember.group_id))).where(GroupMember.company_id == company_id)
    ).scalar_one()
    return PortalSummary(company, colleagues, list(associations), groups)
