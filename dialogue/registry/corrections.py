"""Correction requests: a company proposes changes to its own profile; an officer decides.

Company staff only ever reach requests through `clearance.scoping.own_company`, so
another company's request answers 404 like a missing one. Approval applies the
proposed values through `service.update_company` (audited as a company update,
marked `via` the request) and records the decision; rejection needs a reason.
The requester hears of the decision by e-mail (outbox) and in the portal.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, func, select, update
from sqlalchemy.orm import Session

from clearance.audit import Kind
from clearance.auth.models import UserAccount
from clearance.db import new_id, utcnow
from clearance.outbox import enqueue
from clearance.scoping import own_company
from dialogue.registry import service
from dialogue.registry.models import Company, CorrectionRequest
from dialogue.registry.service import CompanyData, RegisterError

#: profile fields a company may ask to correct (not the corporate number, which identifies it,
#: and not memberships, which the associations report)
CORRECTABLE = ("name_ja", "name_en", "size_class", "prefecture", "tech_field", "sectors", "materials",
               "key_products", "key_technologies")
MULTI = frozenset({"sectors", "materials"})
STATUSES = ("pending", "approved", "rejected", "withdrawn")


class NothingToCorrect(RegisterError):
    """The request changes no field and says nothing."""


def _canonical(values: dict[str, Any]) -> dict[str, Any]:
    return {k: (sorted(values[k]) if k in MULTI else (values[k] or "")) for k in CORRECTABLE if k in values}


def profile(session: Session, company: Company) -> dict[str, Any]:
    return _canonical(service.company_values(session, company))


def request_correction(session: Session, user: UserAccount, company: Company, proposed: dict[str, Any],
                       note: str) -> CorrectionRequest:
    """File a request for the user's own company. Only fields that differ are kept."""
    if company.id != user.company_id:
        raise PermissionError("company staff correct their own company only")
    current = profile(session, company)
    wanted = _canonical(proposed)
    diff = {k: v for k, v in wanted.items() if v != current.get(k)}
    note = note.strip()
    if not diff and not note:
        raise NothingToCorrect(_l("Change at least one value, or explain the correction in the note."))
    # The proposal must be valid as a whole, or an officer could not apply it.
    service.check_company(session, _data(company, current | diff), company_id=company.id)
    req = CorrectionRequest(id=new_id(), company_id=company.id, requested_by_id=user.id,
                            proposed=json.dumps(diff, ensure_ascii=False, sort_keys=True),
                            original=json.dumps({k: current[k] for k in diff}, ensure_ascii=False, sort_keys=True),
                            note=note, status="pending")
    session.add(req)
    session.flush()
    service.record(session, user, "Correction requested", {"request": req.id, "company": company.id,
                                                           "fields": sorted(diff)}, kind=Kind.INFO)
    return req


def _data(company: Company, values: dict[str, Any]) -> CompanyData:
    return CompanyData(
        corporate_number=company.corporate_number, name_ja=values["name_ja"], name_en=values["name_en"],
        size_class=values["size_class"], prefecture=values["prefecture"], sectors=tuple(values["sectors"]),
        tech_field=values["tech_field"] or None, materials=tuple(values["materials"]),
        key_products=values["key_products"], key_technologies=values["key_technologies"], association_ids=None,
    )


def proposed_of(req: CorrectionRequest) -> dict[str, Any]:
    return json.loads(req.proposed or "{}")


def original_of(req: CorrectionRequest) -> dict[str, Any]:
    return json.loads(req.original or "{}")


def approve(session: Session, officer: UserAccount, req: CorrectionRequest) -> list[str]:
    """Apply the proposal to the company; returns the fields that actually changed."""
    if req.status != "pending":
        raise RegisterError(_l("This request has already been decided."))
    company = req.company
    values = profile(session, company) | proposed_of(req)
    changed = service.update_company(session, officer, company, _data(company, values), via=f"correction:{req.id}")
    _decide(session, officer, req, "approved", "")
    service.record(session, officer, "Correction approved", {"request": req.id, "company": company.id,
                                                             "fields": changed})
    _notify(session, req, approved=True)
    return changed


def reject(session: Session, officer: UserAccount, req: CorrectionRequest, reason: str) -> None:
    if req.status != "pending":
        raise RegisterError(_l("This request has already been decided."))
    if not reason.strip():
        raise RegisterError(_l("Say why the request is rejected; the company will read it."), "reason")
    _decide(session, officer, req, "rejected", reason.strip())
    service.record(session, officer, "Correction rejected", {"request": req.id, "company": req.company_id})
    _notify(session, req, approved=False)


def withdraw(session: Session, user: UserAccount, req: CorrectionRequest) -> None:
    if req.status != "pending":
        raise RegisterError(_l("This request has already been decided."))
    _decide(session, user, req, "withdrawn", "")
    service.record(session, user, "Correction withdrawn", {"request": req.id, "company": req.company_id})


def _decide(session: Session, actor: UserAccount, req: CorrectionRequest, status: str, reason: str) -> None:
    """Close the request only if it is still pending: of two officers deciding at once, the second
    finds nothing to update and the caller rolls back everything it did."""
    sealed_reason = CorrectionRequest.decision_reason.seal_column(reason or None, req.id)
    closed = session.execute(
        update(CorrectionRequest)
        .where(CorrectionRequest.id == req.id, CorrectionRequest.status == "pending")
        .values(status=status, decided_at=utcnow(), decided_by_id=actor.id, decision_reason_ct=sealed_reason)
        .execution_options(synchronize_session=False)
    ).rowcount
    if closed != 1:
        raise RegisterError(_l("This request has already been decided."))
    session.refresh(req)


def _notify(session: Session, req: CorrectionRequest, *, approved: bool) -> None:
    from flask import render_template
    from flask_babel import force_locale
    from flask_babel import gettext as _

    requester = session.get(UserAccount, req.requested_by_id) if req.requested_by_id else None
    if requester is None or not requester.active:
        return
    with force_locale(requester.locale or "ja"):
        subject = _("Your correction request was approved") if approved else _("Your correction request was rejected")
        body = render_template("registry/mail_correction.txt", req=req, approved=approved, user=requester)
    enqueue(session, to=requester.email, subject=subject, body=body)


# --------------------------------------------------------------------------- queries


def for_company_staff(user: UserAccount) -> Select:
    """The requests this company user may see: their own company's, nothing else."""
    return select(CorrectionRequest).where(own_company(user, CorrectionRequest.company_id))


def load_own(session: Session, user: UserAccount, request_id: str) -> CorrectionRequest | None:
    return session.execute(for_company_staff(user).where(CorrectionRequest.id == request_id[:36])).scalar_one_or_none()


def officer_query(status: str = "pending") -> Select:
    q = select(CorrectionRequest)
    if status in STATUSES:
        q = q.where(CorrectionRequest.status == status)
    return q.order_by(CorrectionRequest.created_at.desc(), CorrectionRequest.id)


def pending_count(session: Session) -> int:
    return session.execute(select(func.count()).select_from(CorrectionRequest)
                           .where(CorrectionRequest.status == "pending")).scalar_one()


@dataclass(frozen=True)
class Change:
    field: str
    before: Any
    after: Any
    now: Any  # the company's value today (may differ from `before` if changed since)


def changes(session: Session, req: CorrectionRequest) -> list[Change]:
    current = profile(session, req.company)
    original, proposed = original_of(req), proposed_of(req)
    return [Change(k, original.get(k), proposed[k], current.get(k)) for k in CORRECTABLE if k in proposed]
