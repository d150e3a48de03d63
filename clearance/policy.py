"""The one access rule for labelled material, decided in one place.

A user may read material labelled L when all of these hold:

1. the account is active;
2. unless L is public (level 0, no compartments):
   a. their personal clearance in force is valid, unexpired, backed by a signed
      confidentiality undertaking, and at least L's level;
   b. for company staff: their company's certification in force is valid,
      unexpired, at least L's level, and covers their department;
   c. their clearance's compartments include all of L's;
   d. for level 2: they are on the object's handler list (取扱者名簿);
3. for company staff, the object is released to them (everyone, their company,
   a group their company belongs to, or them by name).

METI officers need a personal clearance like anyone else; there is no bypass.

Three faces of the same rule:

* ``decide(subject, label, now, handlers=…, release=…)`` — pure, over plain
  values; returns a Decision with the clause that decided it.
* ``readable_clause(spec, subject)`` / ``readable(session, user, now, spec)`` —
  the SQL twin: a WHERE clause selecting exactly the objects of a labelled
  table the subject may read, so lists never load what they may not show.
* ``users_who_may_read(label, now)`` / ``eligibility(...)`` — the other
  direction, for invitations: which accounts could read material at a label,
  and for the others, why not.

Property tests (tests/clearance/test_policy_properties.py) hold all three to a
brute-force reference on SQLite and PostgreSQL. Subject facts are read from
the database on every call: nothing is cached in the session, so a suspension
or expiry takes effect on the very next request.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, and_, exists, false, or_, select
from sqlalchemy.orm import Session

from clearance import audit
from clearance.audit import Kind
from clearance.auth.models import UserAccount
from clearance.labels import Label, LabelCompartment, Level
from clearance.people import (
    CertificationDepartment,
    ClearanceCompartment,
    CompanyCertification,
    HandlerEntry,
    PersonalClearance,
    ReleaseEntry,
)

# ---------------------------------------------------------------------------
# Plain facts
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class PersonalFacts:
    """The personal clearance in force, as plain values."""

    status: str
    level: int
    expires_at: datetime
    undertaking_signed: bool
    compartments: frozenset[str] = frozenset()


@dataclass(frozen=True)
class CompanyFacts:
    """The company certification in force, as plain values."""

    status: str
    level: int
    expires_at: datetime
    departments: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Subject:
    """Everything the rule needs to know about a reader."""

    user_id: str
    active: bool = True
    company_id: str | None = None  # None: METI staff
    department: str | None = None
    clearance: PersonalFacts | None = None
    certification: CompanyFacts | None = None
    groups: frozenset[str] = frozenset()  # company groups the reader's company belongs to

    @property
    def is_company_staff(self) -> bool:
        return self.company_id is not None


@dataclass(frozen=True)
class Release:
    """An object's release list."""

    everyone: bool = False
    companies: frozenset[str] = frozenset()
    groups: frozenset[str] = frozenset()
    users: frozenset[str] = frozenset()

    @classmethod
    def from_entries(cls, entries: Iterable[tuple[str, str]]) -> Release:
        entries = list(entries)
        return cls(
            everyone=any(k == "all" for k, _ in entries),
            companies=frozenset(t for k, t in entries if k == "company"),
            groups=frozenset(t for k, t in entries if k == "group"),
            users=frozenset(t for k, t in entries if k == "user"),
        )

    def reaches(self, subject: Subject) -> bool:
        return (
            self.everyone
            or subject.company_id in self.companies
            or bool(subject.groups & self.groups)
            or subject.user_id in self.users
        )


@dataclass(frozen=True)
class Decision:
    allowed: bool
    clause: str

    def __bool__(self) -> bool:
        return self.allowed


#: every clause, in the order the rule checks them, with what it means for a person
CLAUSES: dict[str, Any] = {
    "public": _l("Public material."),
    "granted": _l("Cleared, certified, in the compartments and, where required, on the handler list."),
    "account_inactive": _l("The account is deactivated."),
    "no_clearance": _l("No personal clearance is recorded."),
    "clearance_suspended": _l("The personal clearance is suspended."),
    "clearance_revoked": _l("The personal clearance is revoked."),
    "clearance_expired": _l("The personal clearance has expired."),
    "undertaking_not_signed": _l("The confidentiality undertaking is not signed."),
    "clearance_level": _l("The personal clearance is below the level."),
    "no_certification": _l("The company is not certified (適合事業者)."),
    "certification_suspended": _l("The company's certification is suspended."),
    "certification_revoked": _l("The company's certification is revoked."),
    "certification_expired": _l("The company's certification has expired."),
    "certification_level": _l("The company's certification is below the level."),
    "department_not_covered": _l("The person's department is not covered by the company's certification."),
    "compartment": _l("The person is not cleared for every compartment."),
    "handler_list": _l("The person is not on the handler list (取扱者名簿)."),
    "not_released": _l("The material is not released to this person or their company."),
}


def explain(clause: str) -> str:
    return str(CLAUSES.get(clause, clause))


# ---------------------------------------------------------------------------
# The pure decision
# ---------------------------------------------------------------------------


def _personal_clause(c: PersonalFacts | None, label: Label, now: datetime) -> str | None:
    if c is None:
        return "no_clearance"
    if c.status == "suspended":
        return "clearance_suspended"
    if c.status == "revoked":
        return "clearance_revoked"
    if c.status != "valid":
        return "no_clearance"
    if c.expires_at <= now:
        return "clearance_expired"
    if not c.undertaking_signed:
        return "undertaking_not_signed"
    if c.level < label.level:
        return "clearance_level"
    return None


def _company_clause(subject: Subject, label: Label, now: datetime) -> str | None:
    cert = subject.certification
    if cert is None:
        return "no_certification"
    if cert.status == "suspended":
        return "certification_suspended"
    if cert.status == "revoked":
        return "certification_revoked"
    if cert.status != "valid":
        return "no_certification"
    if cert.expires_at <= now:
        return "certification_expired"
    if cert.level < label.level:
        return "certification_level"
    if subject.department is None or subject.department not in cert.departments:
        return "department_not_covered"
    return None


def decide(
    subject: Subject, label: Label, now: datetime, *, handlers: Collection[str] | None,
    release: Release | None,
) -> Decision:
    """May `subject` read material labelled `label` at `now`?

    `handlers` is the object's handler list (None only when asking before an
    object exists, e.g. "who could be invited at this label"); `release` its
    release list (None where dissemination is decided elsewhere, e.g. by an
    invitation). Both are keyword-only and required so no caller skips them by
    accident.
    """
    if not subject.active:
        return Decision(False, "account_inactive")
    if not label.is_public:
        clause = _personal_clause(subject.clearance, label, now)
        if clause is None and subject.is_company_staff:
            clause = _company_clause(subject, label, now)
        if clause is None and not label.compartments <= subject.clearance.compartments:  # type: ignore[union-attr]
            clause = "compartment"
        if clause is None and label.level >= Level.CRITICAL and handlers is not None and subject.user_id not in handlers:
            clause = "handler_list"
        if clause is not None:
            return Decision(False, clause)
    if release is not None and subject.is_company_staff and not release.reaches(subject):
        return Decision(False, "not_released")
    return Decision(True, "public" if label.is_public else "granted")


@dataclass(frozen=True)
class Standing:
    """What a subject's clearance amounts to right now: the highest level and the compartments."""

    level: int
    compartments: frozenset[str] = field(default_factory=frozenset)


def standing(subject: Subject, now: datetime) -> Standing | None:
    """The subject's effective standing (None: may read public material only).

    Personal and company clauses do not depend on the object beyond its level,
    so they fold into one number: the lower of the clearance's and the
    certification's level."""
    if not subject.active:
        return None
    c = subject.clearance
    if c is None or c.status != "valid" or c.expires_at <= now or not c.undertaking_signed:
        return None
    level = c.level
    if subject.is_company_staff:
        cert = subject.certification
        if (cert is None or cert.status != "valid" or cert.expires_at <= now
                or subject.department is None or subject.department not in cert.departments):
            return None
        level = min(level, cert.level)
    return Standing(level, c.compartments)


# ---------------------------------------------------------------------------
# Loading facts (fresh on every call)
# ---------------------------------------------------------------------------


def changes_at(subject: Subject, now: datetime) -> datetime | None:
    """When the subject's standing changes by the passing of time alone: the first expiry ahead."""
    ahead = [f.expires_at for f in (subject.clearance, subject.certification)
             if f is not None and f.expires_at > now]
    return min(ahead, default=None)


def subjects(session: Session, user_ids: Collection[str]) -> dict[str, Subject]:
    """Facts for many accounts in four queries (used by eligibility and by subject())."""
    from dialogue.registry.models import GroupMember  # company groups live in the register

    ids = list(dict.fromkeys(user_ids))
    if not ids:
        return {}
    users = session.execute(
        select(UserAccount.id, UserAccount.active, UserAccount.company_id, UserAccount.department)
        .where(UserAccount.id.in_(ids))
    ).all()
    # Clearance and certification rows come joined with their compartments / departments (outer joins),
    # so one reader costs four queries, not six: this runs on every briefing request.
    clearances: dict[str, Any] = {}
    codes: dict[str, set[str]] = {}
    for r in session.execute(
        select(PersonalClearance.id, PersonalClearance.user_id, PersonalClearance.status, PersonalClearance.level,
               PersonalClearance.expires_at, PersonalClearance.undertaking_signed, ClearanceCompartment.code)
        .outerjoin(ClearanceCompartment, ClearanceCompartment.clearance_id == PersonalClearance.id)
        .where(PersonalClearance.user_id.in_(ids), PersonalClearance.in_force)
    ).all():
        clearances[r.user_id] = r
        if r.code is not None:
            codes.setdefault(r.id, set()).add(r.code)
    company_ids = {u.company_id for u in users if u.company_id}
    certs: dict[str, Any] = {}
    depts: dict[str, set[str]] = {}
    groups: dict[str, set[str]] = {}
    if company_ids:
        for r in session.execute(
            select(CompanyCertification.id, CompanyCertification.company_id, CompanyCertification.status,
                   CompanyCertification.level, CompanyCertification.expires_at, CertificationDepartment.department)
            .outerjoin(CertificationDepartment, CertificationDepartment.certification_id == CompanyCertification.id)
            .where(CompanyCertification.company_id.in_(company_ids), CompanyCertification.in_force)
        ).all():
            certs[r.company_id] = r
            if r.department is not None:
                depts.setdefault(r.id, set()).add(r.department)
        for company_id, group_id in session.execute(
            select(GroupMember.company_id, GroupMember.group_id).where(GroupMember.company_id.in_(company_ids))
        ).all():
            groups.setdefault(company_id, set()).add(group_id)
    out = {}
    for u in users:
        c = clearances.get(u.id)
        cert = certs.get(u.company_id) if u.company_id else None
        out[u.id] = Subject(
            user_id=u.id,
            active=bool(u.active),
            company_id=u.company_id,
            department=u.department,
            clearance=PersonalFacts(c.status, c.level, c.expires_at, bool(c.undertaking_signed),
                                    frozenset(codes.get(c.id, ()))) if c else None,
            certification=CompanyFacts(cert.status, cert.level, cert.expires_at,
                                       frozenset(depts.get(cert.id, ()))) if cert else None,
            groups=frozenset(groups.get(u.company_id, ())) if u.company_id else frozenset(),
        )
    return out


def subject(session: Session, user: UserAccount | str) -> Subject:
    """Facts about one reader, read now. An unknown id is an inactive nobody."""
    user_id = user if isinstance(user, str) else user.id
    return subjects(session, [user_id]).get(user_id) or Subject(user_id=user_id, active=False)


def label_of(session: Session, owner_table: str, owner_id: str, level: int) -> Label:
    codes = session.execute(
        select(LabelCompartment.code).where(LabelCompartment.owner_table == owner_table,
                                            LabelCompartment.owner_id == owner_id)
    ).scalars()
    return Label.of(level, codes)


def release_of(session: Session, owner_table: str, owner_id: str) -> Release:
    from clearance.people import release_of as entries

    return Release.from_entries(entries(session, owner_table, owner_id))


# ---------------------------------------------------------------------------
# The SQL twin: which objects may this subject list?
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class LabelledTable:
    """How to find a labelled table's label in SQL: its owner_table name, id and level columns,
    and whether it has a release list (company staff see only what is released to them)."""

    name: str
    id: Any
    level: Any
    released: bool = True


def _no_compartments_outside(spec: LabelledTable, allowed: frozenset[str]) -> ColumnElement[bool]:
    lc = LabelCompartment
    q = select(lc.code).where(lc.owner_table == spec.name, lc.owner_id == spec.id)
    if allowed:
        q = q.where(lc.code.not_in(sorted(allowed)))
    return ~exists(q)


def readable_clause(spec: LabelledTable, subject: Subject, now: datetime) -> ColumnElement[bool]:
    """WHERE clause: rows of `spec` the subject may read at `now` (the twin of decide())."""
    if not subject.active:
        return false()
    st = standing(subject, now)
    if st is None:
        clause = and_(spec.level == int(Level.PUBLIC), _no_compartments_outside(spec, frozenset()))
    else:
        on_list = exists(select(HandlerEntry.user_id).where(
            HandlerEntry.owner_table == spec.name, HandlerEntry.owner_id == spec.id,
            HandlerEntry.user_id == subject.user_id))
        clause = and_(
            spec.level <= st.level,
            _no_compartments_outside(spec, st.compartments),
            or_(spec.level < int(Level.CRITICAL), on_list),
        )
    if spec.released and subject.is_company_staff:
        targets = [and_(ReleaseEntry.kind == "all")]
        targets.append(and_(ReleaseEntry.kind == "company", ReleaseEntry.target_id == subject.company_id))
        targets.append(and_(ReleaseEntry.kind == "user", ReleaseEntry.target_id == subject.user_id))
        if subject.groups:
            targets.append(and_(ReleaseEntry.kind == "group", ReleaseEntry.target_id.in_(sorted(subject.groups))))
        clause = and_(clause, exists(select(ReleaseEntry.kind).where(
            ReleaseEntry.owner_table == spec.name, ReleaseEntry.owner_id == spec.id, or_(*targets))))
    return clause


def readable(session: Session, user: UserAccount | str, now: datetime, spec: LabelledTable) -> ColumnElement[bool]:
    """Load the reader's facts now and return the WHERE clause for `spec`."""
    return readable_clause(spec, subject(session, user), now)


# ---------------------------------------------------------------------------
# The other direction: who could read at a label (invitations, handler lists)
# ---------------------------------------------------------------------------


def users_who_may_read(label: Label, now: datetime, *, handlers_of: tuple[str, str] | None = None
                       ) -> ColumnElement[bool]:
    """WHERE clause over UserAccount: accounts that may read material labelled `label`.

    Release lists are not considered (an invitation *is* the release). The
    handler list is checked only when `handlers_of=(owner_table, owner_id)`
    names the object whose list counts."""
    if label.is_public:
        return UserAccount.active.is_(True)
    pc = PersonalClearance
    personal = select(pc.id).where(
        pc.user_id == UserAccount.id, pc.in_force.is_(True), pc.status == "valid", pc.expires_at > now,
        pc.undertaking_signed.is_(True), pc.level >= int(label.level),
        *[exists(select(ClearanceCompartment.code).where(ClearanceCompartment.clearance_id == pc.id,
                                                         ClearanceCompartment.code == code).correlate(pc))
          for code in sorted(label.compartments)],
    ).correlate(UserAccount)
    cc = CompanyCertification
    # One level of subquery with a join: a doubly nested EXISTS would not correlate user_account to the
    # outer query and would match any account's department (the property test caught exactly that).
    company = (
        select(cc.id)
        .join(CertificationDepartment, CertificationDepartment.certification_id == cc.id)
        .where(cc.company_id == UserAccount.company_id, cc.in_force.is_(True), cc.status == "valid",
               cc.expires_at > now, cc.level >= int(label.level),
               CertificationDepartment.department == UserAccount.department)
        .correlate(UserAccount)
    )
    clause = and_(UserAccount.active.is_(True), exists(personal),
                  or_(UserAccount.company_id.is_(None), exists(company)))
    if handlers_of is not None and label.level >= Level.CRITICAL:
        table, oid = handlers_of
        clause = and_(clause, exists(select(HandlerEntry.user_id).where(
            HandlerEntry.owner_table == table, HandlerEntry.owner_id == oid, HandlerEntry.user_id == UserAccount.id
        ).correlate(UserAccount)))
    return clause


def eligibility(session: Session, label: Label, user_ids: Collection[str], now: datetime, *,
                handlers: Collection[str] | None = None) -> dict[str, Decision]:
    """For invitations: each account's Decision at `label` (the clause says why someone is excluded).

    Unknown ids come back as 'account_inactive'. Pass `handlers` to check a
    level-2 handler list as well."""
    facts = subjects(session, user_ids)
    out = {}
    for uid in user_ids:
        s = facts.get(uid) or Subject(user_id=uid, active=False)
        out[uid] = decide(s, label, now, handlers=handlers, release=None)
    return out


# ---------------------------------------------------------------------------
# Audit
# ---------------------------------------------------------------------------


def record_decision(
    session: Session, actor: UserAccount, decision: Decision, *, object_table: str, object_id: str,
    label: Label | None, route: str,
) -> None:
    """Audit one decision on labelled material (allowed or denied), with its clause. Never the title or text."""
    audit.append(
        session,
        realm="clearance",
        kind=Kind.POSITIVE if decision.allowed else Kind.NEGATIVE,
        summary="Read allowed" if decision.allowed else "Read denied",
        actor_id=actor.id,
        actor=actor.email,
        data={"object": f"{object_table}:{object_id}"[:120], "label": label.code() if label else None,
              "clause": decision.clause, "route": route},
    )


__all__ = [
    "CLAUSES",
    "CompanyFacts",
    "Decision",
    "LabelledTable",
    "PersonalFacts",
    "Release",
    "Standing",
    "Subject",
    "decide",
    "eligibility",
    "explain",
    "label_of",
    "readable",
    "readable_clause",
    "record_decision",
    "release_of",
    "standing",
    "subject",
    "subjects",
    "users_who_may_read",
]
