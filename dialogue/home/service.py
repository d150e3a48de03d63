"""Figures for the landing pages, computed in SQL.

The officers' overview restates what the ministry reported in spring 2024 (associations,
company groups, companies and regions engaged; dialogues held) live from the data, and
shows the gaps: sector × region cells and supply-chain tiers with no dialogue in the last
twelve months, and how many small and mid-sized firms were reached.

Who was reached comes from company_reach (one row per company, kept when a dialogue is
marked held), so these queries walk companies and groups — never the invitations — and
cost the same at 5,000 or 50,000 invitations.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import case, distinct, func, select
from sqlalchemy.orm import Session

from clearance.auth.models import UserAccount
from dialogue.meetings.models import CompanyReach, Dialogue
from dialogue.registry.models import (
    Association,
    Company,
    CompanyGroup,
    GroupMember,
    association_member,
    company_sector,
)
from dialogue.registry.taxonomy import REGIONS, SECTORS, SIZE_CLASSES, TIERS

HELD = ("held", "closed")
WINDOW = timedelta(days=365)


@dataclass(frozen=True)
class Cell:
    companies: int
    reached: int

    @property
    def gap(self) -> bool:
        return self.companies > 0 and self.reached == 0


@dataclass(frozen=True)
class ChainGaps:
    group_id: str
    name_ja: str
    name_en: str
    tiers: dict[int, Cell]

    @property
    def gaps(self) -> list[int]:
        return [t for t, c in self.tiers.items() if c.gap]


@dataclass
class Overview:
    # the register
    associations: int
    groups: int
    supply_chains: int
    companies: int
    # what was reported in spring 2024, live
    associations_engaged: int
    groups_engaged: int
    companies_reached: int
    regions_reached: int
    dialogues_held: int
    upcoming: int
    # the last twelve months
    since: datetime
    by_region: list[tuple[str, int, int]]  # code, registered, reached in the window
    by_size: list[tuple[str, int, int]]
    matrix: dict[tuple[str, str], Cell]
    chains: list[ChainGaps]
    chains_with_gaps: int
    months: list[tuple[str, int]] = field(default_factory=list)
    #: when these figures were computed (naive UTC)
    computed_at: datetime | None = None

    @property
    def sme_total(self) -> int:
        return sum(n for code, n, _r in self.by_size if code in ("mid", "small"))

    @property
    def sme_reached(self) -> int:
        return sum(r for code, _n, r in self.by_size if code in ("mid", "small"))

    @property
    def sme_share(self) -> float:
        """Share of the register's mid-sized and small firms reached in the last twelve months."""
        return self.sme_reached / self.sme_total if self.sme_total else 0.0

    @property
    def matrix_gaps(self) -> int:
        return sum(1 for c in self.matrix.values() if c.gap)


def _reached(since: datetime):
    return case((CompanyReach.last_at >= since, 1), else_=0)


def reach_by_region(session: Session, since: datetime) -> list[tuple[str, int, int]]:
    rows = {r: (n, k) for r, n, k in session.execute(
        select(Company.region, func.count(), func.sum(_reached(since)))
        .outerjoin(CompanyReach, CompanyReach.company_id == Company.id).group_by(Company.region)
    ).all()}
    return [(code, rows.get(code, (0, 0))[0], int(rows.get(code, (0, 0))[1] or 0)) for code in REGIONS]


def reach_by_size(session: Session, since: datetime) -> list[tuple[str, int, int]]:
    rows = {s: (n, k) for s, n, k in session.execute(
        select(Company.size_class, func.count(), func.sum(_reached(since)))
        .outerjoin(CompanyReach, CompanyReach.company_id == Company.id).group_by(Company.size_class)
    ).all()}
    return [(code, rows.get(code, (0, 0))[0], int(rows.get(code, (0, 0))[1] or 0)) for code in SIZE_CLASSES]


def dialogues_by_month(session: Session, now: datetime) -> list[tuple[str, int]]:
    """Dialogues held in each of the last twelve months (oldest first), as ("YYYY-MM", n)."""
    first = (now.replace(day=1) - timedelta(days=334)).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    if session.get_bind().dialect.name == "postgresql":
        month = func.to_char(Dialogue.starts_at, "YYYY-MM")
    else:
        month = func.strftime("%Y-%m", Dialogue.starts_at)
    counts = dict(session.execute(
        select(month, func.count()).where(Dialogue.status.in_(HELD), Dialogue.starts_at >= first,
                                          Dialogue.starts_at <= now).group_by(month)
    ).all())
    out, y, m = [], first.year, first.month
    for _ in range(12):
        key = f"{y:04d}-{m:02d}"
        out.append((key, int(counts.get(key, 0))))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def overview(session: Session, now: datetime, chain_limit: int = 25) -> Overview:
    since = now - WINDOW
    by_region = reach_by_region(session, since)
    by_size = reach_by_size(session, since)
    groups = dict(session.execute(select(CompanyGroup.kind, func.count()).group_by(CompanyGroup.kind)).all())

    engaged = session.execute(
        select(func.count(distinct(Dialogue.association_id)), func.count(distinct(Dialogue.group_id)), func.count())
        .where(Dialogue.status.in_(HELD))
    ).one()
    reached_total, regions_reached = session.execute(
        select(func.count(), func.count(distinct(Company.region))).select_from(CompanyReach)
        .join(Company, Company.id == CompanyReach.company_id)
    ).one()
    upcoming = session.execute(
        select(func.count()).select_from(Dialogue)
        .where(Dialogue.status.in_(("planned", "invited")), Dialogue.starts_at >= now)
    ).scalar_one()

    matrix = {(s, r): Cell(0, 0) for s in SECTORS for r in REGIONS}
    for sector, region, n, k in session.execute(
        select(company_sector.c.sector, Company.region, func.count(), func.sum(_reached(since)))
        .join(Company, Company.id == company_sector.c.company_id)
        .outerjoin(CompanyReach, CompanyReach.company_id == Company.id)
        .group_by(company_sector.c.sector, Company.region)
    ).all():
        if (sector, region) in matrix:
            matrix[(sector, region)] = Cell(n, int(k or 0))

    tiers: dict[str, dict[int, Cell]] = {}
    names: dict[str, tuple[str, str]] = {}
    for gid, ja, en, tier, n, k in session.execute(
        select(CompanyGroup.id, CompanyGroup.name_ja, CompanyGroup.name_en, GroupMember.tier, func.count(),
               func.sum(_reached(since)))
        .join(GroupMember, GroupMember.group_id == CompanyGroup.id)
        .outerjoin(CompanyReach, CompanyReach.company_id == GroupMember.company_id)
        .where(CompanyGroup.kind == "supply_chain", GroupMember.tier.is_not(None))
        .group_by(CompanyGroup.id, CompanyGroup.name_ja, CompanyGroup.name_en, GroupMember.tier)
    ).all():
        tiers.setdefault(gid, {t: Cell(0, 0) for t in TIERS})[tier] = Cell(n, int(k or 0))
        names[gid] = (ja, en)
    chains = sorted((ChainGaps(gid, *names[gid], cells) for gid, cells in tiers.items()),
                    key=lambda c: (-len(c.gaps), c.name_ja))
    with_gaps = sum(1 for c in chains if c.gaps)

    return Overview(
        associations=session.execute(select(func.count()).select_from(Association)).scalar_one(),
        groups=sum(groups.values()), supply_chains=groups.get("supply_chain", 0),
        companies=sum(n for _c, n, _r in by_size),
        associations_engaged=engaged[0], groups_engaged=engaged[1], dialogues_held=engaged[2],
        companies_reached=reached_total, regions_reached=regions_reached, upcoming=upcoming,
        since=since, by_region=by_region, by_size=by_size, matrix=matrix,
        chains=[c for c in chains if c.gaps][:chain_limit], chains_with_gaps=with_gaps,
        months=dialogues_by_month(session, now), computed_at=now,
    )


_cache: dict[str, tuple[float, Overview]] = {}
_cache_lock = threading.Lock()


def cached_overview(session: Session, now: datetime, ttl: float) -> Overview:
    """overview(), computed at most once per ``ttl`` seconds per process.

    The figures are the same for every officer and move slowly (a dialogue marked held),
    so a minute-old overview is as good as a fresh one and spares ten aggregate queries
    on every visit to the home page. ttl <= 0 computes every time (tests).
    """
    if ttl <= 0:
        return overview(session, now)
    hit = _cache.get("overview")
    if hit is not None and hit[0] > time.monotonic():
        return hit[1]
    fresh = overview(session, now)
    with _cache_lock:
        _cache["overview"] = (time.monotonic() + ttl, fresh)
    return fresh


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
