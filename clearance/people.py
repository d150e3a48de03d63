"""Who holds what: personal clearances (適性評価の結果), company certification
(適合事業者), and the per-object handler (取扱者名簿) and release lists.

Only the *outcome* of a suitability assessment is recorded here: level,
assessing agency, dates, status and whether the confidentiality undertaking is
signed. The assessment's questionnaire and investigation data never enter
this system; the tables have no place for them.

Every change is a new record with a reason; the record in force is marked
``in_force`` (at most one per person or company, enforced by a partial unique
index). Only security officers record, and nobody records, approves or
changes their own clearance. A grant at level 2 is *pending* until a second
security officer approves it (two-person rule); suspension and revocation
take effect at once. Nothing here is cached anywhere: clearance.policy reads
these rows afresh on every request.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import click
from dateutil.relativedelta import relativedelta
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    delete,
    insert,
    select,
    text,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from clearance import audit, outbox
from clearance.audit import Kind
from clearance.auth.models import UserAccount
from clearance.crypto import EncryptedField
from clearance.db import db, new_id, utcnow
from clearance.labels import Compartment, Level, NotHostedHere, level_of
from clearance.permissions import Permission, Role

#: Expiry dates are legal dates in Japan: a record expiring on D is invalid from 00:00 JST on D.
LEGAL_ZONE = ZoneInfo("Asia/Tokyo")
#: 重要経済安保情報保護活用法: an assessment result is valid for ten years from notification.
MAX_VALIDITY = relativedelta(years=10)
EXPIRY_WARNING = timedelta(days=90)

STATUSES = ("pending", "rejected", "valid", "suspended", "revoked", "superseded")
_STATUS_LIST = ", ".join(f"'{s}'" for s in STATUSES)
RELEASE_KINDS = ("all", "company", "group", "user")


class NotAllowed(Exception):
    """The actor may not make this change; `reason` is a stable code the views translate."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def expiry_instant(day: date) -> datetime:
    """Naive UTC instant at which a record expiring on `day` stops being valid."""
    return datetime.combine(day, time.min, LEGAL_ZONE).astimezone(UTC).replace(tzinfo=None)


def legal_today(now: datetime) -> date:
    return now.replace(tzinfo=UTC).astimezone(LEGAL_ZONE).date()


# ---------------------------------------------------------------------------
# Models
# ---------------------------------------------------------------------------


class _Recorded:
    """What every clearance record carries: its status, whether the access rule uses it, and who
    asked for, decided and last changed it, with reasons (shared by personal and company records).

    The three reasons are free text about a person or company, sealed (the EncryptedFields are
    declared on each model: a descriptor belongs to the one table it is declared on). Level 0 in
    their context, not the row's: `level` is what the subject is cleared for, not a classification
    of the text, and the access rule reads it in SQL without ever opening a reason. Construct with
    ``id=new_id()``: the ciphertext is bound to the row."""

    status: Mapped[str] = mapped_column(String(16), nullable=False)
    #: the record the access rule uses for this person or company (at most one)
    in_force: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    #: why the record was made; the services require one (nullable: 0011 could not add it NOT NULL on SQLite)
    reason_ct: Mapped[bytes | None] = mapped_column(LargeBinary)
    requested_by: Mapped[str] = mapped_column(String(36), nullable=False)
    requested_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
    #: the approving security officer (level 2: never the requester); the requester otherwise
    decided_by: Mapped[str | None] = mapped_column(String(36))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime)
    decision_reason_ct: Mapped[bytes | None] = mapped_column(LargeBinary)
    #: last suspension, revocation or supersession
    status_changed_by: Mapped[str | None] = mapped_column(String(36))
    status_changed_at: Mapped[datetime | None] = mapped_column(DateTime)
    status_reason_ct: Mapped[bytes | None] = mapped_column(LargeBinary)

    def __init__(self, **kwargs: Any) -> None:
        # The sealed reasons are bound to the row id: set it first, whatever the keyword order.
        first = {"id": kwargs.pop("id")} if "id" in kwargs else {}
        super().__init__(**first, **kwargs)


class PersonalClearance(_Recorded, db.Model):
    """適性評価の結果 — the outcome of one person's suitability assessment, as recorded."""

    __tablename__ = "personal_clearance"
    __table_args__ = (
        CheckConstraint("level BETWEEN 1 AND 2", name="level_range"),
        CheckConstraint(f"status IN ({_STATUS_LIST})", name="status_known"),
        CheckConstraint("expires_on > notified_on", name="expiry_after_notice"),
        CheckConstraint("NOT in_force OR status IN ('valid', 'suspended', 'revoked')", name="in_force_decided"),
        Index("uq_personal_clearance_in_force", "user_id", unique=True,
              sqlite_where=text("in_force"), postgresql_where=text("in_force")),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), nullable=False, index=True)
    #: 1 取扱注意 or 2 重要経済安保情報
    level: Mapped[int] = mapped_column(Integer, nullable=False)
    #: the administrative organ that assessed the person (実施行政機関)
    agency: Mapped[str] = mapped_column(String(120), nullable=False)
    #: the day the result was notified to the person
    notified_on: Mapped[date] = mapped_column(Date, nullable=False)
    #: first day on which the result is no longer valid (Japan time)
    expires_on: Mapped[date] = mapped_column(Date, nullable=False)
    #: expires_on as the UTC instant it ends; the access rule compares against this
    expires_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, index=True)
    #: the person signed the confidentiality undertaking (秘密保持の誓約)
    undertaking_signed: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)

    reason = EncryptedField("reason_ct")
    decision_reason = EncryptedField("decision_reason_ct")
    status_reason = EncryptedField("status_reason_ct")


class ClearanceCompartment(db.Model):
    """A compartment (need-to-know set) a personal clearance covers."""

    __tablename__ = "clearance_compartment"

    clearance_id: Mapped[str] = mapped_column(ForeignKey("personal_clearance.id", ondelete="CASCADE"), primary_key=True)
    code: Mapped[str] = mapped_column(ForeignKey("compartment.code"), primary_key=True)


class CompanyCertification(_Recorded, db.Model):
    """適合事業者 — a company's standing as a qualified business, for some of its departments."""

    __tablename__ = "company_certification"
    __table_args__ = (
        CheckConstraint("level BETWEEN 1 AND 2", name="level_range"),
        CheckConstraint(f"status IN ({_STATUS_LIST})", name="status_known"),
        CheckConstraint("expires_on > certified_on", name="expiry_after_certification"),
        CheckConstraint("NOT in_force OR status IN ('valid', 'suspended', 'revoked')", name="in_force_decided"),
        Index("uq_company_certification_in_force", "company_id", unique=True,
              sqlite_where=text("in_force"), postgresql_where=text("in_force")),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    company_id: Mapped[str] = mapped_column(ForeignKey("company.id", ondelete="CASCADE"), nullable=False, index=True)
    #: highest level the company may hold
    level: Mapped[int] = mapped_column(Integer, nullable=False)
    agency: Mapped[str] = mapped_column(String(120), nullable=False)
    certified_on: Mapped[date] = mapped_column(Date, nullable=False)
    #: the contract under which information is provided (契約番号)
    contract_ref: Mapped[str] = mapped_column(String(120), nullable=False)
    expires_on: Mapped[date] = mapped_column(Date, nullable=False)
    expires_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, index=True)

    reason = EncryptedField("reason_ct")
    decision_reason = EncryptedField("decision_reason_ct")
    status_reason = EncryptedField("status_reason_ct")


class CertificationDepartment(db.Model):
    """A department of the company the certification covers; matched exactly against UserAccount.department."""

    __tablename__ = "certification_department"

    certification_id: Mapped[str] = mapped_column(
        ForeignKey("company_certification.id", ondelete="CASCADE", name="fk_certification_department_certification"),
        primary_key=True,
    )
    department: Mapped[str] = mapped_column(String(120), primary_key=True)


class HandlerEntry(db.Model):
    """取扱者名簿 — one person on the handler list of one labelled object (any table)."""

    __tablename__ = "handler_entry"
    __table_args__ = (Index("ix_handler_entry_user", "user_id", "owner_table"),)

    owner_table: Mapped[str] = mapped_column(String(64), primary_key=True)
    owner_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True)
    added_by: Mapped[str | None] = mapped_column(String(36))
    added_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utcnow)


class ReleaseEntry(db.Model):
    """Release list: to whom a labelled object is disseminated (all companies, a company, a group, a person)."""

    __tablename__ = "release_entry"
    __table_args__ = (CheckConstraint("kind IN ('all', 'company', 'group', 'user')", name="kind_known"),)

    owner_table: Mapped[str] = mapped_column(String(64), primary_key=True)
    owner_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    kind: Mapped[str] = mapped_column(String(8), primary_key=True)
    #: company, group or account id; '' for kind 'all'
    target_id: Mapped[str] = mapped_column(String(36), primary_key=True, default="")


# ---------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------


def clearance_in_force(session: Session, user_id: str) -> PersonalClearance | None:
    return session.execute(
        select(PersonalClearance).where(PersonalClearance.user_id == user_id, PersonalClearance.in_force)
    ).scalar_one_or_none()


def certification_in_force(session: Session, company_id: str) -> CompanyCertification | None:
    return session.execute(
        select(CompanyCertification).where(CompanyCertification.company_id == company_id, CompanyCertification.in_force)
    ).scalar_one_or_none()


def compartments_of_clearance(session: Session, clearance_id: str) -> list[str]:
    return list(session.execute(
        select(ClearanceCompartment.code).where(ClearanceCompartment.clearance_id == clearance_id)
        .order_by(ClearanceCompartment.code)
    ).scalars())


def departments_of(session: Session, certification_id: str) -> list[str]:
    return list(session.execute(
        select(CertificationDepartment.department).where(CertificationDepartment.certification_id == certification_id)
        .order_by(CertificationDepartment.department)
    ).scalars())


def clearance_history(session: Session, user_id: str) -> list[PersonalClearance]:
    return list(session.execute(
        select(PersonalClearance).where(PersonalClearance.user_id == user_id)
        .order_by(PersonalClearance.requested_at.desc(), PersonalClearance.id)
    ).scalars())


def certification_history(session: Session, company_id: str) -> list[CompanyCertification]:
    return list(session.execute(
        select(CompanyCertification).where(CompanyCertification.company_id == company_id)
        .order_by(CompanyCertification.requested_at.desc(), CompanyCertification.id)
    ).scalars())


def pending_clearances(session: Session) -> list[PersonalClearance]:
    return list(session.execute(
        select(PersonalClearance).where(PersonalClearance.status == "pending").order_by(PersonalClearance.requested_at)
    ).scalars())


def pending_certifications(session: Session) -> list[CompanyCertification]:
    return list(session.execute(
        select(CompanyCertification).where(CompanyCertification.status == "pending")
        .order_by(CompanyCertification.requested_at)
    ).scalars())


@dataclass(frozen=True)
class Expiring:
    kind: str  # "clearance" | "certification"
    record_id: str
    subject_id: str  # user or company id
    subject_name: str
    level: int
    expires_on: date


def expiring(session: Session, now: datetime, within: timedelta = EXPIRY_WARNING) -> list[Expiring]:
    """Valid records in force that expire within `within` (soonest first)."""
    from dialogue.registry.models import Company  # the register is read for names only

    horizon = now + within
    people = session.execute(
        select(PersonalClearance, UserAccount.display_name)
        .join(UserAccount, UserAccount.id == PersonalClearance.user_id)
        .where(PersonalClearance.in_force, PersonalClearance.status == "valid",
               PersonalClearance.expires_at > now, PersonalClearance.expires_at <= horizon)
    ).all()
    companies = session.execute(
        select(CompanyCertification, Company.name_ja)
        .join(Company, Company.id == CompanyCertification.company_id)
        .where(CompanyCertification.in_force, CompanyCertification.status == "valid",
               CompanyCertification.expires_at > now, CompanyCertification.expires_at <= horizon)
    ).all()
    out = [Expiring("clearance", c.id, c.user_id, name, c.level, c.expires_on) for c, name in people]
    out += [Expiring("certification", c.id, c.company_id, name, c.level, c.expires_on) for c, name in companies]
    return sorted(out, key=lambda e: (e.expires_on, e.kind, e.subject_name))


# ---------------------------------------------------------------------------
# Changing (security officers only)
# ---------------------------------------------------------------------------


def _require_officer(actor: UserAccount) -> None:
    if not (actor.active and actor.can(Permission.CLEARANCE_MANAGE) and actor.role == Role.SECURITY_OFFICER):
        raise NotAllowed("not_security_officer")


def _require_reason(reason: str | None) -> str:
    reason = (reason or "").strip()
    if len(reason) < 5:
        raise NotAllowed("reason_required")
    return reason[:2000]


def _check_level(level: int) -> int:
    try:
        lvl = level_of(level)
    except NotHostedHere:
        raise NotAllowed("not_hosted") from None
    except ValueError:
        raise NotAllowed("level") from None
    if lvl < Level.OFFICIAL_SENSITIVE:
        raise NotAllowed("level")  # a clearance below 1 means "no clearance": record none instead
    return int(lvl)


def _check_dates(start: date, expires_on: date) -> None:
    if expires_on <= start:
        raise NotAllowed("expiry_before_start")
    if expires_on > start + MAX_VALIDITY:
        raise NotAllowed("expiry_too_late")


def _check_compartments(session: Session, codes: Iterable[str]) -> list[str]:
    codes = sorted(set(codes))
    if codes:
        known = set(session.execute(select(Compartment.code).where(Compartment.code.in_(codes))).scalars())
        if known != set(codes):
            raise NotAllowed("unknown_compartment")
    return codes


def _audit(session: Session, actor: UserAccount | None, summary: str, data: dict, kind: Kind = Kind.CHANGE) -> None:
    # Never the reasons: they are sealed on the record, and the audit log is plaintext (and read by
    # administrators, who hold no clearance). The entry says what changed, by whom; the record says why.
    audit.append(session, realm="clearance", kind=kind, summary=summary, data=data,
                 actor_id=actor.id if actor else None, actor=actor.email if actor else "system")


def _notify_approvers(session: Session, requester: UserAccount, what: str) -> None:
    """Tell the other security officers that a level-2 grant waits for a second signature.

    Bilingual fixed text (like the reminders): this also runs outside a request, where no locale exists."""
    others = session.execute(
        select(UserAccount.email).where(UserAccount.role == Role.SECURITY_OFFICER.value, UserAccount.active,
                                        UserAccount.id != requester.id)
    ).scalars().all()
    body = (
        f"{requester.display_name} が「{what}」について重要経済安保情報(レベル2)の記録を登録しました。"
        "別の保全担当官が承認するまで効力を生じません。保全担当のページで確認してください。\n\n"
        f"{requester.display_name} has recorded a level-2 (Critical Economic Security Information) grant for "
        f"{what}. It takes effect only once a second security officer approves it on the clearance page.\n"
    )
    for email in others:
        outbox.enqueue(session, to=email, subject="Taiwa: 承認待ちのレベル2記録 / a level-2 grant needs your approval",
                       body=body)


def record_clearance(
    session: Session, actor: UserAccount, subject_id: str, *, level: int, agency: str, notified_on: date,
    expires_on: date, undertaking_signed: bool, compartments: Sequence[str], reason: str,
    now: datetime | None = None,
) -> PersonalClearance:
    """Record an assessment outcome. Level 1 takes effect now; level 2 waits for a second security officer."""
    now = now or utcnow()
    _require_officer(actor)
    if subject_id == actor.id:
        raise NotAllowed("own_record")
    subject = session.get(UserAccount, subject_id)
    if subject is None:
        raise NotAllowed("no_subject")
    lvl = _check_level(level)
    reason = _require_reason(reason)
    agency = (agency or "").strip()
    if not agency:
        raise NotAllowed("agency_required")
    _check_dates(notified_on, expires_on)
    codes = _check_compartments(session, compartments)
    record = PersonalClearance(
        id=new_id(), user_id=subject_id, level=lvl, agency=agency[:120], notified_on=notified_on,
        expires_on=expires_on, expires_at=expiry_instant(expires_on), undertaking_signed=bool(undertaking_signed),
        status="pending", in_force=False, reason=reason, requested_by=actor.id, requested_at=now,
    )
    session.add(record)
    session.flush()
    if codes:
        session.execute(insert(ClearanceCompartment), [{"clearance_id": record.id, "code": c} for c in codes])
    data = {"subject": subject_id, "record": record.id, "level": lvl, "compartments": codes,
            "expires_on": expires_on.isoformat(), "undertaking_signed": bool(undertaking_signed)}
    if lvl >= Level.CRITICAL:
        _audit(session, actor, "Level-2 clearance recorded, awaiting a second security officer", data)
        _notify_approvers(session, actor, subject.display_name)
    else:
        _put_in_force_clearance(session, record, actor, now)
        _audit(session, actor, "Clearance recorded", data)
    return record


def _put_in_force_clearance(session: Session, record: PersonalClearance, decider: UserAccount, now: datetime) -> None:
    old = clearance_in_force(session, record.user_id)
    if old is not None and old.id != record.id:
        old.in_force = False
        if old.status == "valid":
            old.status = "superseded"
        old.status_changed_by, old.status_changed_at = decider.id, now
        old.status_reason = f"superseded by {record.id}"
        session.flush()  # the partial unique index allows one record in force
    record.status = "valid"
    record.in_force = True
    record.decided_by, record.decided_at = decider.id, now


def approve_clearance(session: Session, actor: UserAccount, record_id: str, reason: str,
                      now: datetime | None = None) -> PersonalClearance:
    """Second signature on a pending level-2 clearance; never by its requester or its subject."""
    now = now or utcnow()
    _require_officer(actor)
    record = session.get(PersonalClearance, record_id)
    if record is None or record.status != "pending":
        raise NotAllowed("not_pending")
    if actor.id in (record.requested_by, record.user_id):
        raise NotAllowed("two_person")
    reason = _require_reason(reason)
    _put_in_force_clearance(session, record, actor, now)
    record.decision_reason = reason
    _audit(session, actor, "Level-2 clearance approved", {"subject": record.user_id, "record": record.id,
                                                         "requested_by": record.requested_by}, Kind.POSITIVE)
    return record


def reject_clearance(session: Session, actor: UserAccount, record_id: str, reason: str,
                     now: datetime | None = None) -> PersonalClearance:
    now = now or utcnow()
    _require_officer(actor)
    record = session.get(PersonalClearance, record_id)
    if record is None or record.status != "pending":
        raise NotAllowed("not_pending")
    if actor.id == record.user_id:
        raise NotAllowed("own_record")
    reason = _require_reason(reason)
    record.status = "rejected"
    record.decided_by, record.decided_at, record.decision_reason = actor.id, now, reason
    _audit(session, actor, "Pending clearance rejected", {"subject": record.user_id, "record": record.id})
    return record


def change_clearance_status(session: Session, actor: UserAccount, record_id: str, status: str, reason: str,
                            now: datetime | None = None) -> PersonalClearance:
    """Suspend or revoke the clearance in force; takes effect on the person's very next request."""
    now = now or utcnow()
    _require_officer(actor)
    if status not in ("suspended", "revoked"):
        raise NotAllowed("status")
    record = session.get(PersonalClearance, record_id)
    if record is None or not record.in_force or record.status == "revoked":
        raise NotAllowed("not_in_force")
    if record.user_id == actor.id:
        raise NotAllowed("own_record")
    if status == "suspended" and record.status != "valid":
        raise NotAllowed("status")
    reason = _require_reason(reason)
    old = record.status
    record.status = status
    record.status_changed_by, record.status_changed_at, record.status_reason = actor.id, now, reason
    _audit(session, actor, f"Clearance {status}", {"subject": record.user_id, "record": record.id, "from": old},
           Kind.NEGATIVE)
    return record


def record_certification(
    session: Session, actor: UserAccount, company_id: str, *, level: int, agency: str, certified_on: date,
    contract_ref: str, expires_on: date, departments: Sequence[str], reason: str, now: datetime | None = None,
) -> CompanyCertification:
    """Record a company's certification. Level 2 waits for a second security officer."""
    from dialogue.registry.models import Company

    now = now or utcnow()
    _require_officer(actor)
    if actor.company_id == company_id:
        raise NotAllowed("own_record")
    company = session.get(Company, company_id)
    if company is None:
        raise NotAllowed("no_subject")
    lvl = _check_level(level)
    reason = _require_reason(reason)
    agency, contract_ref = (agency or "").strip(), (contract_ref or "").strip()
    if not agency:
        raise NotAllowed("agency_required")
    if not contract_ref:
        raise NotAllowed("contract_required")
    _check_dates(certified_on, expires_on)
    depts = sorted({d.strip()[:120] for d in departments if d and d.strip()})
    if not depts:
        raise NotAllowed("departments_required")
    record = CompanyCertification(
        id=new_id(), company_id=company_id, level=lvl, agency=agency[:120], certified_on=certified_on,
        contract_ref=contract_ref[:120], expires_on=expires_on, expires_at=expiry_instant(expires_on),
        status="pending", in_force=False, reason=reason, requested_by=actor.id, requested_at=now,
    )
    session.add(record)
    session.flush()
    session.execute(insert(CertificationDepartment), [{"certification_id": record.id, "department": d} for d in depts])
    data = {"company": company_id, "record": record.id, "level": lvl, "departments": depts,
            "expires_on": expires_on.isoformat()}
    if lvl >= Level.CRITICAL:
        _audit(session, actor, "Level-2 certification recorded, awaiting a second security officer", data)
        _notify_approvers(session, actor, company.name_ja)
    else:
        _put_in_force_certification(session, record, actor, now)
        _audit(session, actor, "Certification recorded", data)
    return record


def _put_in_force_certification(session: Session, record: CompanyCertification, decider: UserAccount,
                                now: datetime) -> None:
    old = certification_in_force(session, record.company_id)
    if old is not None and old.id != record.id:
        old.in_force = False
        if old.status == "valid":
            old.status = "superseded"
        old.status_changed_by, old.status_changed_at = decider.id, now
        old.status_reason = f"superseded by {record.id}"
        session.flush()
    record.status = "valid"
    record.in_force = True
    record.decided_by, record.decided_at = decider.id, now


def approve_certification(session: Session, actor: UserAccount, record_id: str, reason: str,
                          now: datetime | None = None) -> CompanyCertification:
    now = now or utcnow()
    _require_officer(actor)
    record = session.get(CompanyCertification, record_id)
    if record is None or record.status != "pending":
        raise NotAllowed("not_pending")
    if actor.id == record.requested_by:
        raise NotAllowed("two_person")
    reason = _require_reason(reason)
    _put_in_force_certification(session, record, actor, now)
    record.decision_reason = reason
    _audit(session, actor, "Level-2 certification approved", {"company": record.company_id, "record": record.id,
                                                             "requested_by": record.requested_by}, Kind.POSITIVE)
    return record


def reject_certification(session: Session, actor: UserAccount, record_id: str, reason: str,
                         now: datetime | None = None) -> CompanyCertification:
    now = now or utcnow()
    _require_officer(actor)
    record = session.get(CompanyCertification, record_id)
    if record is None or record.status != "pending":
        raise NotAllowed("not_pending")
    reason = _require_reason(reason)
    record.status = "rejected"
    record.decided_by, record.decided_at, record.decision_reason = actor.id, now, reason
    _audit(session, actor, "Pending certification rejected", {"company": record.company_id, "record": record.id})
    return record


def change_certification_status(session: Session, actor: UserAccount, record_id: str, status: str, reason: str,
                                now: datetime | None = None) -> CompanyCertification:
    now = now or utcnow()
    _require_officer(actor)
    if status not in ("suspended", "revoked"):
        raise NotAllowed("status")
    record = session.get(CompanyCertification, record_id)
    if record is None or not record.in_force or record.status == "revoked":
        raise NotAllowed("not_in_force")
    if status == "suspended" and record.status != "valid":
        raise NotAllowed("status")
    reason = _require_reason(reason)
    old = record.status
    record.status = status
    record.status_changed_by, record.status_changed_at, record.status_reason = actor.id, now, reason
    _audit(session, actor, f"Certification {status}", {"company": record.company_id, "record": record.id,
                                                       "from": old}, Kind.NEGATIVE)
    return record


def create_compartment(session: Session, actor: UserAccount, code: str, name_ja: str, name_en: str) -> Compartment:
    from clearance.labels import InvalidLabel, check_compartment_code

    _require_officer(actor)
    try:
        code = check_compartment_code((code or "").strip().upper())
    except InvalidLabel:
        raise NotAllowed("compartment_code") from None
    if session.get(Compartment, code) is not None:
        raise NotAllowed("compartment_exists")
    name_ja, name_en = (name_ja or "").strip(), (name_en or "").strip()
    if not name_ja or not name_en:
        raise NotAllowed("compartment_names")
    comp = Compartment(code=code, name_ja=name_ja[:120], name_en=name_en[:120], created_by=actor.id)
    session.add(comp)
    _audit(session, actor, "Compartment created", {"code": code, "name_ja": comp.name_ja, "name_en": comp.name_en})
    return comp


# ---------------------------------------------------------------------------
# Handler and release lists of labelled objects
# ---------------------------------------------------------------------------


def handlers_of(session: Session, owner_table: str, owner_id: str) -> set[str]:
    return set(session.execute(
        select(HandlerEntry.user_id).where(HandlerEntry.owner_table == owner_table, HandlerEntry.owner_id == owner_id)
    ).scalars())


def set_handlers(session: Session, owner_table: str, owner_id: str, user_ids: Iterable[str],
                 added_by: str | None) -> tuple[set[str], set[str]]:
    """Replace an object's handler list; returns (added, removed). The caller audits."""
    wanted = {u for u in user_ids if u}
    have = handlers_of(session, owner_table, owner_id)
    added, removed = wanted - have, have - wanted
    if removed:
        session.execute(delete(HandlerEntry).where(
            HandlerEntry.owner_table == owner_table, HandlerEntry.owner_id == owner_id,
            HandlerEntry.user_id.in_(removed)))
    if added:
        session.execute(insert(HandlerEntry), [
            {"owner_table": owner_table, "owner_id": owner_id, "user_id": u, "added_by": added_by,
             "added_at": utcnow()} for u in sorted(added)])
    return added, removed


def release_of(session: Session, owner_table: str, owner_id: str) -> list[tuple[str, str]]:
    return [tuple(r) for r in session.execute(
        select(ReleaseEntry.kind, ReleaseEntry.target_id)
        .where(ReleaseEntry.owner_table == owner_table, ReleaseEntry.owner_id == owner_id)
        .order_by(ReleaseEntry.kind, ReleaseEntry.target_id)
    ).all()]


def set_release(session: Session, owner_table: str, owner_id: str, entries: Iterable[tuple[str, str]]) -> None:
    wanted = {(k, "" if k == "all" else t) for k, t in entries if k in RELEASE_KINDS and (k == "all" or t)}
    session.execute(delete(ReleaseEntry).where(ReleaseEntry.owner_table == owner_table,
                                               ReleaseEntry.owner_id == owner_id))
    if wanted:
        session.execute(insert(ReleaseEntry), [
            {"owner_table": owner_table, "owner_id": owner_id, "kind": k, "target_id": t} for k, t in sorted(wanted)])


def copy_compartments(session: Session, owner_table: str, owner_id: str, codes: Iterable[str]) -> None:
    """Replace an object's compartments (the caller checks codes and audits)."""
    from clearance.labels import LabelCompartment

    session.execute(delete(LabelCompartment).where(LabelCompartment.owner_table == owner_table,
                                                   LabelCompartment.owner_id == owner_id))
    codes = sorted(set(codes))
    if codes:
        session.execute(insert(LabelCompartment), [
            {"owner_table": owner_table, "owner_id": owner_id, "code": c} for c in codes])


# ---------------------------------------------------------------------------
# Reminders: `flask --app app clearance-reminders` (run daily or weekly from cron)
# ---------------------------------------------------------------------------


def enqueue_reminders(session: Session, now: datetime, within: timedelta = EXPIRY_WARNING) -> int:
    """Queue one digest to every active security officer listing what expires soon; returns mails queued."""
    items = expiring(session, now, within)
    if not items:
        return 0
    officers = session.execute(
        select(UserAccount.email).where(UserAccount.role == Role.SECURITY_OFFICER.value, UserAccount.active)
    ).scalars().all()
    lines = [
        f"- {e.expires_on.isoformat()}  {'clearance / 適性評価' if e.kind == 'clearance' else 'certification / 適合事業者'}"
        f"  L{e.level}  {e.subject_name}"
        for e in items
    ]
    base = current_app.config.get("TAIWA_BASE_URL", "").rstrip("/") if current_app else ""
    body = (
        "有効期限が90日以内に到来する適性評価の結果・適合事業者の認定があります。\n"
        "Clearances and certifications expiring within 90 days:\n\n" + "\n".join(lines)
        + f"\n\n{base}/clearance\n"
        # The latest signed audit head: a copy held outside the database makes a later rollback show.
        + "\n" + audit.digest_line(session) + "\n"
    )
    for email in officers:
        outbox.enqueue(session, to=email, subject="Taiwa: 有効期限の近い適性評価・認定 / clearances expiring soon",
                       body=body)
    _audit(session, None, "Expiry reminders queued", {"items": len(items), "recipients": len(officers)}, Kind.INFO)
    return len(officers)


@click.command("clearance-reminders")
@click.option("--days", type=click.IntRange(1, 365), default=90, show_default=True)
@with_appcontext
def reminders_command(days: int) -> None:
    """Mail security officers the clearances and certifications that expire within --days (run from cron)."""
    n = enqueue_reminders(db.session, utcnow(), timedelta(days=days))
    db.session.commit()
    click.echo(f"queued {n} reminder mail(s)")


__all__ = [
    "EXPIRY_WARNING",
    "CertificationDepartment",
    "ClearanceCompartment",
    "CompanyCertification",
    "Expiring",
    "HandlerEntry",
    "NotAllowed",
    "PersonalClearance",
    "ReleaseEntry",
    "approve_certification",
    "approve_clearance",
    "change_certification_status",
    "change_clearance_status",
    "enqueue_reminders",
    "expiring",
    "expiry_instant",
    "record_certification",
    "record_clearance",
    "reject_certification",
    "reject_clearance",
    "set_handlers",
    "set_release",
]
