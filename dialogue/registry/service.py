"""The register's work: list, create, change and delete associations, companies, groups and contacts.

Every function takes a SQLAlchemy session and plain values; the views only parse
forms and render. Changes are audited (realm "register") in the caller's
transaction; the caller commits. Personal data (contact people) never enters
the audit log, only row ids.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, delete, exists, func, insert, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from clearance import audit
from clearance.audit import Kind
from clearance.auth.models import UserAccount
from clearance.db import new_id, utcnow
from dialogue.registry import corporate_number
from dialogue.registry.models import (
    Association,
    Company,
    CompanyGroup,
    ContactPerson,
    GroupLink,
    GroupMember,
    association_member,
    association_sector,
    company_material,
    company_sector,
)
from dialogue.registry.search import ESCAPE, contains_pattern
from dialogue.registry.taxonomy import (
    CRITICAL_MATERIALS,
    GROUP_KINDS,
    PREFECTURES,
    REGIONS,
    SECTORS,
    SIZE_CLASSES,
    TECH_FIELDS,
    TIERS,
)

REALM = "register"


class RegisterError(Exception):
    """A change the register refuses; `field` names the form field to blame (or None)."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class InUse(RegisterError):
    """The row is still referenced (accounts, dialogues…) and cannot be deleted."""


def _undo(session: Session) -> None:
    """A refused flush poisons the transaction, so the whole action is undone. Deletes are therefore
    the only change their transaction makes (SQLite's driver makes savepoints unreliable here)."""
    session.rollback()


def record(session: Session, actor: UserAccount | None, summary: str, data: dict[str, Any],
           kind: Kind = Kind.CHANGE) -> None:
    audit.append(session, realm=REALM, kind=kind, summary=summary, data=data,
                 actor_id=actor.id if actor else None, actor=actor.email if actor else "system")


# --------------------------------------------------------------------------- corporate numbers


def corporate_number_problem(raw: str) -> str | None:
    """None when valid; otherwise a message that says what is wrong (translated when rendered)."""
    num = corporate_number.normalise(raw)
    if not num:
        return _l("Enter the 13-digit corporate number.")
    if not (num.isascii() and num.isdigit()):
        return _l("A corporate number has digits only.")
    if len(num) != 13:
        return _l("A corporate number has 13 digits; this one has %(n)d.", n=len(num))
    if not corporate_number.is_valid(num):
        return _l("The check digit (the first digit) does not match the other twelve: please check for a typing "
                 "error.")
    return None


# --------------------------------------------------------------------------- companies


@dataclass(frozen=True)
class CompanyData:
    corporate_number: str
    name_ja: str
    name_en: str
    size_class: str
    prefecture: str
    sectors: tuple[str, ...]
    tech_field: str | None = None
    materials: tuple[str, ...] = ()
    key_products: str = ""
    key_technologies: str = ""
    #: None leaves memberships untouched (the correction workflow does not change them)
    association_ids: tuple[str, ...] | None = None


@dataclass(frozen=True)
class CompanyFilters:
    q: str = ""
    sector: str = ""
    region: str = ""
    size: str = ""
    tech_field: str = ""
    material: str = ""
    association: str = ""
    group: str = ""

    def active(self) -> bool:
        return any(getattr(self, f) for f in self.__dataclass_fields__)


def company_query(filters: CompanyFilters, *, locale: str = "ja") -> Select:
    """The filtered company list as one SELECT; unknown codes simply match nothing."""
    q = select(Company)
    if filters.q.strip():
        q = q.where(Company.search_text.like(contains_pattern(filters.q), escape=ESCAPE))
    if filters.sector:
        q = q.where(exists().where(company_sector.c.company_id == Company.id,
                                   company_sector.c.sector == filters.sector))
    if filters.material:
        q = q.where(exists().where(company_material.c.company_id == Company.id,
                                   company_material.c.material == filters.material))
    if filters.association:
        q = q.where(exists().where(association_member.c.company_id == Company.id,
                                   association_member.c.association_id == filters.association))
    if filters.group:
        q = q.where(exists().where(GroupMember.company_id == Company.id, GroupMember.group_id == filters.group))
    if filters.region:
        q = q.where(Company.region == filters.region)
    if filters.size:
        q = q.where(Company.size_class == filters.size)
    if filters.tech_field:
        q = q.where(Company.tech_field == filters.tech_field)
    order = Company.name_ja if locale == "ja" else Company.name_en
    return q.order_by(order, Company.id)


def _codes_by_company(session: Session, table, column: str, ids: Sequence[str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = defaultdict(list)
    for chunk in _chunks(ids, 500):
        rows = session.execute(select(table.c.company_id, table.c[column]).where(table.c.company_id.in_(chunk)))
        for cid, code in rows:
            out[cid].append(code)
    return out


def sectors_of(session: Session, ids: Sequence[str]) -> dict[str, list[str]]:
    """Sector codes per company, in taxonomy order."""
    order = list(SECTORS)
    got = _codes_by_company(session, company_sector, "sector", ids)
    return {cid: sorted(v, key=lambda c: order.index(c) if c in order else 99) for cid, v in got.items()}


def materials_of(session: Session, ids: Sequence[str]) -> dict[str, list[str]]:
    order = list(CRITICAL_MATERIALS)
    got = _codes_by_company(session, company_material, "material", ids)
    return {cid: sorted(v, key=lambda c: order.index(c) if c in order else 99) for cid, v in got.items()}


def associations_of(session: Session, ids: Sequence[str]) -> dict[str, list[Association]]:
    out: dict[str, list[Association]] = defaultdict(list)
    for chunk in _chunks(ids, 500):
        rows = session.execute(
            select(association_member.c.company_id, Association)
            .join(Association, Association.id == association_member.c.association_id)
            .where(association_member.c.company_id.in_(chunk)).order_by(Association.name_ja)
        )
        for cid, assoc in rows:
            out[cid].append(assoc)
    return out


def _chunks(items: Sequence[str], size: int) -> Iterable[Sequence[str]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


def check_company(session: Session, data: CompanyData, *, company_id: str | None) -> str:
    """Validate what forms cannot; return the normalised corporate number."""
    problem = corporate_number_problem(data.corporate_number)
    if problem:
        raise RegisterError(problem, "corporate_number")
    number = corporate_number.normalise(data.corporate_number)
    clash = session.execute(select(Company.id).where(Company.corporate_number == number)).scalar_one_or_none()
    if clash is not None and clash != company_id:
        raise RegisterError(_l("A company with this corporate number is already in the register."), "corporate_number")
    if data.size_class not in SIZE_CLASSES:
        raise RegisterError(_l("Choose a size class."), "size_class")
    if data.prefecture not in PREFECTURES:
        raise RegisterError(_l("Choose a prefecture."), "prefecture")
    if not data.sectors or not set(data.sectors) <= set(SECTORS):
        raise RegisterError(_l("Choose at least one sector."), "sectors")
    if data.tech_field and data.tech_field not in TECH_FIELDS:
        raise RegisterError(_l("Choose a technology field from the list."), "tech_field")
    if not set(data.materials) <= set(CRITICAL_MATERIALS):
        raise RegisterError(_l("Choose critical materials from the list."), "materials")
    if not data.name_ja.strip() or not data.name_en.strip():
        raise RegisterError(_l("Both names are required."), "name_ja" if not data.name_ja.strip() else "name_en")
    if data.association_ids:
        known = set(session.execute(select(Association.id).where(Association.id.in_(data.association_ids))).scalars())
        if known != set(data.association_ids):
            raise RegisterError(_l("Choose associations from the list."), "associations")
    return number


def _set_codes(session: Session, table, column: str, company_id: str, codes: Iterable[str]) -> None:
    session.execute(delete(table).where(table.c.company_id == company_id))
    rows = [{"company_id": company_id, column: c} for c in dict.fromkeys(codes)]
    if rows:
        session.execute(insert(table), rows)


def _set_memberships(session: Session, company_id: str, association_ids: Iterable[str]) -> None:
    session.execute(delete(association_member).where(association_member.c.company_id == company_id))
    rows = [{"association_id": a, "company_id": company_id} for a in dict.fromkeys(association_ids)]
    if rows:
        session.execute(insert(association_member), rows)


def company_values(session: Session, company: Company) -> dict[str, Any]:
    """The editable values of a company, as plain data (for forms, diffs and correction requests)."""
    cid = company.id
    return {
        "corporate_number": company.corporate_number,
        "name_ja": company.name_ja,
        "name_en": company.name_en,
        "size_class": company.size_class,
        "prefecture": company.prefecture,
        "tech_field": company.tech_field or "",
        "key_products": company.key_products or "",
        "key_technologies": company.key_technologies or "",
        "sectors": sectors_of(session, [cid]).get(cid, []),
        "materials": materials_of(session, [cid]).get(cid, []),
        "association_ids": sorted(a.id for a in associations_of(session, [cid]).get(cid, [])),
    }


def create_company(session: Session, actor: UserAccount | None, data: CompanyData) -> Company:
    number = check_company(session, data, company_id=None)
    company = Company(
        id=new_id(), corporate_number=number, name_ja=data.name_ja.strip(), name_en=data.name_en.strip(),
        size_class=data.size_class, prefecture=data.prefecture, region=PREFECTURES[data.prefecture][2],
        tech_field=data.tech_field or None, key_products=data.key_products.strip(),
        key_technologies=data.key_technologies.strip(),
    )
    session.add(company)
    try:
        session.flush()
    except IntegrityError:  # another officer saved the same number a moment ago
        session.rollback()
        raise RegisterError(_l("A company with this corporate number is already in the register."),
                            "corporate_number") from None
    _set_codes(session, company_sector, "sector", company.id, data.sectors)
    _set_codes(session, company_material, "material", company.id, data.materials)
    if data.association_ids is not None:
        _set_memberships(session, company.id, data.association_ids)
    record(session, actor, "Company created", {"company": company.id, "corporate_number": number})
    return company


def update_company(session: Session, actor: UserAccount | None, company: Company, data: CompanyData,
                   *, via: str | None = None) -> list[str]:
    """Apply `data`; return the names of the fields that changed (audited with old and new values)."""
    number = check_company(session, data, company_id=company.id)
    before = company_values(session, company)
    company.corporate_number = number
    company.name_ja = data.name_ja.strip()
    company.name_en = data.name_en.strip()
    company.size_class = data.size_class
    company.prefecture = data.prefecture
    company.region = PREFECTURES[data.prefecture][2]
    company.tech_field = data.tech_field or None
    company.key_products = data.key_products.strip()
    company.key_technologies = data.key_technologies.strip()
    _set_codes(session, company_sector, "sector", company.id, data.sectors)
    _set_codes(session, company_material, "material", company.id, data.materials)
    if data.association_ids is not None:
        _set_memberships(session, company.id, data.association_ids)
    after = company_values(session, company) | {"corporate_number": number}
    changed = [k for k in before if before[k] != after[k]]
    if changed:
        company.updated_at = utcnow()
        details: dict[str, Any] = {"company": company.id, "changes": {k: [before[k], after[k]] for k in changed}}
        if via:
            details["via"] = via
        record(session, actor, "Company updated", details)
    return changed


def delete_company(session: Session, actor: UserAccount | None, company: Company) -> None:
    accounts = session.execute(
        select(func.count()).select_from(UserAccount).where(UserAccount.company_id == company.id)
    ).scalar_one()
    if accounts:
        raise InUse(_l("This company still has %(n)d account(s). Remove or move them before deleting the company.",
                      n=accounts))
    snapshot = {"company": company.id, "corporate_number": company.corporate_number, "name_ja": company.name_ja}
    try:
        session.delete(company)
        session.flush()
    except IntegrityError:
        _undo(session)
        raise InUse(_l("Other records (for example dialogues or invitations) still refer to this company.")) from None
    record(session, actor, "Company deleted", snapshot)


@dataclass(frozen=True)
class CompanyPlace:
    group: CompanyGroup
    tier: int | None


def company_groups(session: Session, company_id: str) -> list[CompanyPlace]:
    rows = session.execute(
        select(CompanyGroup, GroupMember.tier).join(GroupMember, GroupMember.group_id == CompanyGroup.id)
        .where(GroupMember.company_id == company_id).order_by(CompanyGroup.name_ja)
    ).all()
    return [CompanyPlace(g, t) for g, t in rows]


# --------------------------------------------------------------------------- associations


@dataclass(frozen=True)
class AssociationData:
    name_ja: str
    name_en: str
    sectors: tuple[str, ...]


def association_query(q: str = "", sector: str = "", *, locale: str = "ja") -> Select:
    stmt = select(Association)
    if q.strip():
        stmt = stmt.where(Association.search_text.like(contains_pattern(q), escape=ESCAPE))
    if sector:
        stmt = stmt.where(or_(Association.sector == sector, exists().where(
            association_sector.c.association_id == Association.id, association_sector.c.sector == sector)))
    return stmt.order_by(Association.name_ja if locale == "ja" else Association.name_en, Association.id)


def association_sectors(session: Session, ids: Sequence[str]) -> dict[str, list[str]]:
    """Every sector per association: the main one first, then the others in taxonomy order."""
    order = list(SECTORS)
    out: dict[str, list[str]] = {}
    for chunk in _chunks(ids, 500):
        main = dict(session.execute(select(Association.id, Association.sector).where(Association.id.in_(chunk))).all())
        extra: dict[str, set[str]] = defaultdict(set)
        for aid, code in session.execute(select(association_sector.c.association_id, association_sector.c.sector)
                                         .where(association_sector.c.association_id.in_(chunk))):
            extra[aid].add(code)
        for aid, first in main.items():
            rest = sorted(extra[aid] - {first}, key=lambda c: order.index(c) if c in order else 99)
            out[aid] = [first, *rest]
    return out


def member_counts(session: Session, ids: Sequence[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for chunk in _chunks(ids, 500):
        out |= dict(session.execute(
            select(association_member.c.association_id, func.count())
            .where(association_member.c.association_id.in_(chunk)).group_by(association_member.c.association_id)
        ).all())
    return out


def _check_association(session: Session, data: AssociationData, *, association_id: str | None) -> None:
    if not data.name_ja.strip() or not data.name_en.strip():
        raise RegisterError(_l("Both names are required."), "name_ja" if not data.name_ja.strip() else "name_en")
    if not data.sectors or not set(data.sectors) <= set(SECTORS):
        raise RegisterError(_l("Choose at least one sector."), "sectors")
    clash = session.execute(select(Association.id).where(Association.name_ja == data.name_ja.strip())).scalar()
    if clash is not None and clash != association_id:
        raise RegisterError(_l("An association with this Japanese name is already in the register."), "name_ja")


def _set_association_sectors(session: Session, association: Association, sectors: Sequence[str]) -> None:
    session.execute(delete(association_sector).where(association_sector.c.association_id == association.id))
    session.execute(insert(association_sector),
                    [{"association_id": association.id, "sector": s} for s in dict.fromkeys(sectors)])


def create_association(session: Session, actor: UserAccount | None, data: AssociationData) -> Association:
    _check_association(session, data, association_id=None)
    # A new association's main sector is the first of its sectors in taxonomy order.
    main = min(data.sectors, key=list(SECTORS).index)
    assoc = Association(id=new_id(), name_ja=data.name_ja.strip(), name_en=data.name_en.strip(), sector=main)
    session.add(assoc)
    session.flush()
    _set_association_sectors(session, assoc, data.sectors)
    record(session, actor, "Association created", {"association": assoc.id, "name_ja": assoc.name_ja})
    return assoc


def update_association(session: Session, actor: UserAccount | None, assoc: Association, data: AssociationData) -> None:
    _check_association(session, data, association_id=assoc.id)
    before = {"name_ja": assoc.name_ja, "name_en": assoc.name_en,
              "sectors": association_sectors(session, [assoc.id]).get(assoc.id, [])}
    # The main sector (used for grouping elsewhere) stays put while it is still one of the sectors.
    main = assoc.sector if assoc.sector in data.sectors else min(data.sectors, key=list(SECTORS).index)
    assoc.name_ja, assoc.name_en, assoc.sector = data.name_ja.strip(), data.name_en.strip(), main
    session.flush()
    _set_association_sectors(session, assoc, data.sectors)
    after = {"name_ja": assoc.name_ja, "name_en": assoc.name_en, "sectors": list(dict.fromkeys(data.sectors))}
    changes = {k: [before[k], after[k]] for k in before if before[k] != after[k]}
    if changes:
        record(session, actor, "Association updated", {"association": assoc.id, "changes": changes})


def delete_association(session: Session, actor: UserAccount | None, assoc: Association) -> None:
    snapshot = {"association": assoc.id, "name_ja": assoc.name_ja}
    try:
        session.delete(assoc)
        session.flush()
    except IntegrityError:
        _undo(session)
        raise InUse(_l("Other records (for example dialogues) still refer to this association.")) from None
    record(session, actor, "Association deleted", snapshot)


def company_by_number(session: Session, raw: str) -> Company | None:
    number = corporate_number.normalise(raw)
    if len(number) != 13:
        return None
    return session.execute(select(Company).where(Company.corporate_number == number)).scalar_one_or_none()


def add_association_member(session: Session, actor: UserAccount | None, assoc: Association, company: Company) -> bool:
    """Add a member; False if it already was one."""
    present = session.execute(select(association_member.c.company_id).where(
        association_member.c.association_id == assoc.id, association_member.c.company_id == company.id)).first()
    if present:
        return False
    session.execute(insert(association_member), [{"association_id": assoc.id, "company_id": company.id}])
    record(session, actor, "Association member added", {"association": assoc.id, "company": company.id})
    return True


def remove_association_member(session: Session, actor: UserAccount | None, assoc: Association,
                              company_id: str) -> bool:
    gone = session.execute(delete(association_member).where(
        association_member.c.association_id == assoc.id, association_member.c.company_id == company_id)).rowcount
    if gone:
        record(session, actor, "Association member removed", {"association": assoc.id, "company": company_id})
    return bool(gone)


def association_members(session: Session, association_id: str, *, locale: str = "ja") -> list[Company]:
    order = Company.name_ja if locale == "ja" else Company.name_en
    return list(session.execute(
        select(Company).join(association_member, association_member.c.company_id == Company.id)
        .where(association_member.c.association_id == association_id).order_by(order)
    ).scalars())


# --------------------------------------------------------------------------- groups


@dataclass(frozen=True)
class GroupData:
    kind: str
    name_ja: str
    name_en: str
    sector: str
    subject_ja: str = ""
    subject_en: str = ""


def group_query(q: str = "", kind: str = "", sector: str = "", *, locale: str = "ja") -> Select:
    stmt = select(CompanyGroup)
    if q.strip():
        stmt = stmt.where(CompanyGroup.search_text.like(contains_pattern(q), escape=ESCAPE))
    if kind:
        stmt = stmt.where(CompanyGroup.kind == kind)
    if sector:
        stmt = stmt.where(CompanyGroup.sector == sector)
    return stmt.order_by(CompanyGroup.name_ja if locale == "ja" else CompanyGroup.name_en, CompanyGroup.id)


def group_member_counts(session: Session, ids: Sequence[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for chunk in _chunks(ids, 500):
        out |= dict(session.execute(select(GroupMember.group_id, func.count())
                                    .where(GroupMember.group_id.in_(chunk)).group_by(GroupMember.group_id)).all())
    return out


def _check_group(session: Session, data: GroupData, *, group_id: str | None) -> None:
    if data.kind not in GROUP_KINDS:
        raise RegisterError(_l("Choose the kind of group."), "kind")
    if data.sector not in SECTORS:
        raise RegisterError(_l("Choose a sector."), "sector")
    if not data.name_ja.strip() or not data.name_en.strip():
        raise RegisterError(_l("Both names are required."), "name_ja" if not data.name_ja.strip() else "name_en")
    clash = session.execute(select(CompanyGroup.id).where(CompanyGroup.name_ja == data.name_ja.strip())).scalar()
    if clash is not None and clash != group_id:
        raise RegisterError(_l("A group with this Japanese name is already in the register."), "name_ja")


def create_group(session: Session, actor: UserAccount | None, data: GroupData) -> CompanyGroup:
    _check_group(session, data, group_id=None)
    group = CompanyGroup(id=new_id(), kind=data.kind, name_ja=data.name_ja.strip(), name_en=data.name_en.strip(),
                         sector=data.sector, subject_ja=data.subject_ja.strip(), subject_en=data.subject_en.strip())
    session.add(group)
    session.flush()
    record(session, actor, "Company group created", {"group": group.id, "kind": group.kind, "name_ja": group.name_ja})
    return group


def update_group(session: Session, actor: UserAccount | None, group: CompanyGroup, data: GroupData) -> None:
    """The kind is fixed at creation: tiers and links only make sense for supply chains."""
    _check_group(session, GroupData(group.kind, data.name_ja, data.name_en, data.sector, data.subject_ja,
                                    data.subject_en), group_id=group.id)
    fields_ = ("name_ja", "name_en", "sector", "subject_ja", "subject_en")
    before = {f: getattr(group, f) for f in fields_}
    for f in fields_:
        value = getattr(data, f)
        setattr(group, f, value.strip() if isinstance(value, str) else value)
    changes = {f: [before[f], getattr(group, f)] for f in fields_ if before[f] != getattr(group, f)}
    if changes:
        record(session, actor, "Company group updated", {"group": group.id, "changes": changes})


def delete_group(session: Session, actor: UserAccount | None, group: CompanyGroup) -> None:
    snapshot = {"group": group.id, "name_ja": group.name_ja}
    try:
        session.delete(group)
        session.flush()
    except IntegrityError:
        _undo(session)
        raise InUse(_l("Other records (for example dialogues) still refer to this group.")) from None
    record(session, actor, "Company group deleted", snapshot)


@dataclass
class Member:
    id: str
    company: Company
    tier: int | None


@dataclass
class GroupView:
    group: CompanyGroup
    members: list[Member]
    links: list[GroupLink]
    by_tier: dict[int | None, list[Member]] = field(default_factory=dict)


def group_view(session: Session, group: CompanyGroup, *, locale: str = "ja") -> GroupView:
    order = Company.name_ja if locale == "ja" else Company.name_en
    rows = session.execute(
        select(GroupMember.id, Company, GroupMember.tier).join(Company, Company.id == GroupMember.company_id)
        .where(GroupMember.group_id == group.id).order_by(GroupMember.tier, order)
    ).all()
    members = [Member(mid, c, t) for mid, c, t in rows]
    links = list(session.execute(select(GroupLink).where(GroupLink.group_id == group.id)).scalars())
    view = GroupView(group, members, links)
    for m in members:
        view.by_tier.setdefault(m.tier, []).append(m)
    return view


def set_group_member(session: Session, actor: UserAccount | None, group: CompanyGroup, company: Company,
                     tier: int | None) -> int:
    """Add a company to a group or move it to another tier; returns how many links the move broke
    (a supplier must stay upstream of its customer, so those links are removed)."""
    if group.kind == "supply_chain":
        if tier not in TIERS:
            raise RegisterError(_l("Choose the member's tier in the supply chain."), "tier")
    else:
        tier = None
    member = session.execute(select(GroupMember).where(GroupMember.group_id == group.id,
                                                       GroupMember.company_id == company.id)).scalar_one_or_none()
    broken = 0
    if member is None:
        session.add(GroupMember(id=new_id(), group_id=group.id, company_id=company.id, tier=tier))
        session.flush()
        record(session, actor, "Group member added", {"group": group.id, "company": company.id, "tier": tier})
        return 0
    if member.tier == tier:
        return 0
    old = member.tier
    member.tier = tier
    session.flush()
    broken = _drop_backward_links(session, group)
    record(session, actor, "Group member moved", {"group": group.id, "company": company.id, "from": old, "to": tier,
                                                  "links_removed": broken})
    return broken


def _drop_backward_links(session: Session, group: CompanyGroup) -> int:
    tiers = dict(session.execute(select(GroupMember.company_id, GroupMember.tier)
                                 .where(GroupMember.group_id == group.id)).all())
    bad = [link.id for link in session.execute(select(GroupLink).where(GroupLink.group_id == group.id)).scalars()
           if not _upstream(tiers.get(link.supplier_id), tiers.get(link.customer_id))]
    if bad:
        session.execute(delete(GroupLink).where(GroupLink.id.in_(bad)))
    return len(bad)


def _upstream(supplier_tier: int | None, customer_tier: int | None) -> bool:
    return supplier_tier is not None and customer_tier is not None and supplier_tier < customer_tier


def remove_group_member(session: Session, actor: UserAccount | None, group: CompanyGroup, member_id: str) -> bool:
    member = session.execute(select(GroupMember).where(GroupMember.group_id == group.id,
                                                       GroupMember.id == member_id)).scalar_one_or_none()
    if member is None:
        return False
    company_id = member.company_id
    session.execute(delete(GroupLink).where(GroupLink.group_id == group.id,
                                            or_(GroupLink.supplier_id == company_id,
                                                GroupLink.customer_id == company_id)))
    session.delete(member)
    session.flush()
    record(session, actor, "Group member removed", {"group": group.id, "company": company_id})
    return True


def add_group_link(session: Session, actor: UserAccount | None, group: CompanyGroup, supplier_id: str,
                   customer_id: str) -> GroupLink:
    if group.kind != "supply_chain":
        raise RegisterError(_l("Only supply chains have supplier links."))
    tiers = dict(session.execute(select(GroupMember.company_id, GroupMember.tier).where(
        GroupMember.group_id == group.id, GroupMember.company_id.in_([supplier_id, customer_id]))).all())
    if supplier_id not in tiers or customer_id not in tiers:
        raise RegisterError(_l("Both companies must be members of this supply chain."), "supplier")
    if supplier_id == customer_id:
        raise RegisterError(_l("A company cannot supply itself."), "customer")
    if not _upstream(tiers[supplier_id], tiers[customer_id]):
        raise RegisterError(_l("The supplier must sit on an earlier tier than its customer."), "customer")
    exists_ = session.execute(select(GroupLink).where(GroupLink.group_id == group.id,
                                                      GroupLink.supplier_id == supplier_id,
                                                      GroupLink.customer_id == customer_id)).scalar_one_or_none()
    if exists_ is not None:
        raise RegisterError(_l("This link is already recorded."), "customer")
    link = GroupLink(id=new_id(), group_id=group.id, supplier_id=supplier_id, customer_id=customer_id)
    session.add(link)
    session.flush()
    record(session, actor, "Supplier link added", {"group": group.id, "supplier": supplier_id, "customer": customer_id})
    return link


def remove_group_link(session: Session, actor: UserAccount | None, group: CompanyGroup, link_id: str) -> bool:
    link = session.execute(select(GroupLink).where(GroupLink.group_id == group.id, GroupLink.id == link_id)
                           ).scalar_one_or_none()
    if link is None:
        return False
    data = {"group": group.id, "supplier": link.supplier_id, "customer": link.customer_id}
    session.delete(link)
    session.flush()
    record(session, actor, "Supplier link removed", data)
    return True


# --------------------------------------------------------------------------- contact people


@dataclass(frozen=True)
class ContactData:
    name: str
    department: str = ""
    title: str = ""
    email: str = ""
    phone: str = ""


def contacts_of(session: Session, *, company_id: str | None = None, association_id: str | None = None
                ) -> list[ContactPerson]:
    stmt = select(ContactPerson)
    if company_id is not None:
        stmt = stmt.where(ContactPerson.company_id == company_id)
    elif association_id is not None:
        stmt = stmt.where(ContactPerson.association_id == association_id)
    else:
        return []
    # Names are sealed, so the database cannot sort by them: order of entry it is.
    return list(session.execute(stmt.order_by(ContactPerson.created_at, ContactPerson.id)).scalars())


def _fill_contact(contact: ContactPerson, data: ContactData) -> None:
    contact.name = data.name.strip()
    contact.department = data.department.strip() or None
    contact.title = data.title.strip() or None
    contact.email = data.email.strip().lower() or None
    contact.phone = data.phone.strip() or None


def add_contact(session: Session, actor: UserAccount | None, data: ContactData, *, company: Company | None = None,
                association: Association | None = None) -> ContactPerson:
    if (company is None) == (association is None):
        raise ValueError("a contact belongs to exactly one company or association")
    contact = ContactPerson(id=new_id(), company_id=company.id if company else None,
                            association_id=association.id if association else None)
    _fill_contact(contact, data)  # after the id: the ciphertexts are bound to it
    session.add(contact)
    session.flush()
    record(session, actor, "Contact person added", _contact_ref(contact))
    return contact


def update_contact(session: Session, actor: UserAccount | None, contact: ContactPerson, data: ContactData) -> None:
    _fill_contact(contact, data)
    contact.updated_at = utcnow()
    record(session, actor, "Contact person updated", _contact_ref(contact))


def delete_contact(session: Session, actor: UserAccount | None, contact: ContactPerson) -> None:
    ref = _contact_ref(contact)
    session.delete(contact)
    session.flush()
    record(session, actor, "Contact person deleted", ref)


def _contact_ref(contact: ContactPerson) -> dict[str, str]:
    """What the audit log may hold about a contact: ids, never the personal data itself."""
    ref = {"contact": contact.id}
    if contact.company_id:
        ref["company"] = contact.company_id
    if contact.association_id:
        ref["association"] = contact.association_id
    return ref


# --------------------------------------------------------------------------- labels


def label_maps() -> dict[str, dict]:
    """Taxonomy labels for templates (lazy strings, translated when rendered)."""
    return {
        "sectors": SECTORS, "regions": REGIONS, "sizes": SIZE_CLASSES, "tech_fields": TECH_FIELDS,
        "materials": CRITICAL_MATERIALS, "tiers": TIERS, "kinds": GROUP_KINDS,
    }
