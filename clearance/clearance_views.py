"""Security officers' pages: personal clearances, company certification, compartments, approvals, expiry.

Every change goes through clearance.people, which enforces the rules (security
officers only, a reason every time, never one's own record, a second security
officer for level 2) and audits it; these views only parse and render.
"""

from __future__ import annotations

from typing import Any

from dateutil.relativedelta import relativedelta
from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import and_, or_, select

from clearance import bounds, people
from clearance.auth.models import UserAccount
from clearance.clearance_forms import (
    CertificationForm,
    ClearanceForm,
    CompanyFilterForm,
    CompartmentForm,
    PeopleFilterForm,
    ReasonForm,
    clearance_level_choices,
)
from clearance.db import db, utcnow
from clearance.labels import LEVEL_LABELS, Compartment
from clearance.people import CompanyCertification, NotAllowed, PersonalClearance
from clearance.permissions import COMPANY_ROLES, Permission, requires, role_labels

bp = Blueprint("clearance", __name__, url_prefix="/clearance")
PER_PAGE = 50


def _messages() -> dict[str, str]:
    return {
        "not_security_officer": _("Only security officers record clearances and certifications."),
        "own_record": _("Nobody records or changes their own clearance. Ask another security officer."),
        "two_person": _("A level-2 grant needs a second security officer: the one who recorded it cannot approve it."),
        "reason_required": _("Give a reason (at least five characters)."),
        "level": _("Choose level 1 or 2."),
        "not_hosted": _("Specially Designated Secrets (特定秘密) are not handled in Taiwa."),
        "expiry_before_start": _("The expiry must be after the start date."),
        "expiry_too_late": _("A result is valid for at most ten years from notification."),
        "unknown_compartment": _("Choose compartments from the list."),
        "agency_required": _("Name the agency."),
        "contract_required": _("Give the contract reference."),
        "departments_required": _("Name at least one authorised department."),
        "not_pending": _("This record is no longer pending."),
        "not_in_force": _("This record is not in force."),
        "status": _("This change is not possible from the record's current status."),
        "no_subject": _("Not found."),
        "compartment_code": _("Codes are 2 to 16 capital letters or digits, starting with a letter."),
        "compartment_exists": _("A compartment with this code already exists; codes are never reused."),
        "compartment_names": _("Give the name in Japanese and in English."),
    }


def _message(exc: NotAllowed) -> str:
    return _messages().get(exc.reason, exc.reason)


def _locale() -> str:
    return str(get_locale() or "ja")


def _compartment_choices() -> list[tuple[str, str]]:
    ja = _locale() == "ja"
    return [(c.code, f"{c.code} · {c.name_ja if ja else c.name_en}")
            for c in db.session.execute(select(Compartment).order_by(Compartment.code)).scalars()]


def _names(ids: set[str]) -> dict[str, str]:
    ids = {i for i in ids if i}
    if not ids:
        return {}
    return dict(db.session.execute(select(UserAccount.id, UserAccount.display_name).where(UserAccount.id.in_(ids))).all())


def _companies(ids: set[str]) -> dict[str, str]:
    from dialogue.registry.models import Company

    ids = {i for i in ids if i}
    if not ids:
        return {}
    name = Company.name_ja if _locale() == "ja" else Company.name_en
    return dict(db.session.execute(select(Company.id, name).where(Company.id.in_(ids))).all())


@bp.get("")
@requires(Permission.CLEARANCE_MANAGE)
def index() -> str:
    now = utcnow()
    pending_c = people.pending_clearances(db.session)
    pending_k = people.pending_certifications(db.session)
    expiring = people.expiring(db.session, now)
    ids = {p.user_id for p in pending_c} | {p.requested_by for p in pending_c} | {p.requested_by for p in pending_k}
    return render_template("clearance/index.html", pending_clearances=pending_c, pending_certifications=pending_k,
                           expiring=expiring, names=_names(ids),
                           companies=_companies({p.company_id for p in pending_k}), reason_form=ReasonForm(),
                           levels=LEVEL_LABELS, today=people.legal_today(now))


@bp.get("/people")
@requires(Permission.CLEARANCE_MANAGE)
def people_list() -> str:
    form = PeopleFilterForm(request.args)
    form.standing.choices = [("", _("Everyone")), ("valid", _("Valid clearance")), ("pending", _("Awaiting approval")),
                             ("suspended", _("Suspended or revoked")), ("none", _("No clearance"))]
    pc = PersonalClearance
    q = select(UserAccount, pc).outerjoin(pc, and_(pc.user_id == UserAccount.id, pc.in_force))
    if form.validate():
        if form.q.data:
            needle = "%" + form.q.data.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            q = q.where(or_(UserAccount.email.ilike(needle, escape="\\"),
                            UserAccount.display_name.ilike(needle, escape="\\")))
        standing = form.standing.data
        if standing == "valid":
            q = q.where(pc.status == "valid")
        elif standing == "suspended":
            q = q.where(pc.status.in_(("suspended", "revoked")))
        elif standing == "none":
            q = q.where(pc.id.is_(None))
        elif standing == "pending":
            q = q.where(select(PersonalClearance.id).where(PersonalClearance.user_id == UserAccount.id,
                                                           PersonalClearance.status == "pending").exists())
    page_no = bounds.page_number()
    rows = db.session.execute(q.order_by(UserAccount.company_id.is_not(None), UserAccount.display_name,
                                         UserAccount.id).offset((page_no - 1) * PER_PAGE).limit(PER_PAGE + 1)).all()
    more = len(rows) > PER_PAGE
    rows = rows[:PER_PAGE]
    return render_template("clearance/people.html", form=form, rows=rows, page=page_no, more=more,
                           args={k: v for k, v in request.args.items() if k != "page" and v},
                           companies=_companies({u.company_id for u, _c in rows}), roles=role_labels(),
                           levels=LEVEL_LABELS, now=utcnow())


def _clearance_form() -> ClearanceForm:
    form = ClearanceForm()
    form.level.choices = clearance_level_choices()
    form.compartments.choices = _compartment_choices()
    return form


@bp.route("/people/<user_id>", methods=["GET", "POST"])
@requires(Permission.CLEARANCE_MANAGE)
def person(user_id: str) -> Response | tuple[str, int] | str:
    target = db.session.get(UserAccount, user_id[:36])
    if target is None:
        abort(404)
    form = _clearance_form()
    own = target.id == current_user.id
    if request.method == "POST" and own:
        abort(403)  # the page shows no form for one's own record; a crafted POST gets nothing
    if request.method == "POST" and form.validate_on_submit():
        expires_on = form.expires_on.data or (form.notified_on.data + relativedelta(years=10))
        try:
            record = people.record_clearance(
                db.session, current_user, target.id, level=_int(form.level.data), agency=form.agency.data,
                notified_on=form.notified_on.data, expires_on=expires_on,
                undertaking_signed=form.undertaking_signed.data, compartments=form.compartments.data or [],
                reason=form.reason.data)
        except NotAllowed as exc:
            db.session.rollback()
            field = form.level if exc.reason in ("level", "not_hosted") else form.reason
            field.errors.append(_message(exc))
        else:
            db.session.commit()
            if record.status == "pending":
                flash(_("Recorded. A level-2 clearance takes effect once a second security officer approves it."),
                      "info")
            else:
                flash(_("Recorded. It takes effect on the person's next request."), "info")
            return redirect(url_for("clearance.person", user_id=target.id))
    elif request.method == "POST" and form.level.data == "3":
        form.level.errors.append(_messages()["not_hosted"])
    history = people.clearance_history(db.session, target.id)
    codes = {h.id: people.compartments_of_clearance(db.session, h.id) for h in history}
    ids = {h.requested_by for h in history} | {h.decided_by for h in history if h.decided_by} | \
          {h.status_changed_by for h in history if h.status_changed_by}
    company = _companies({target.company_id}).get(target.company_id) if target.company_id else None
    cert = people.certification_in_force(db.session, target.company_id) if target.company_id else None
    cert_departments = people.departments_of(db.session, cert.id) if cert else []
    status = 400 if any(f.errors for f in form) else 200
    return render_template("clearance/person.html", target=target, form=form, own=own, history=history, codes=codes,
                           names=_names(ids), company=company, cert=cert, cert_departments=cert_departments,
                           reason_form=ReasonForm(), levels=LEVEL_LABELS, roles=role_labels(),
                           is_company=target.role in COMPANY_ROLES, now=utcnow()), status


def _int(value: str | None) -> int:
    try:
        return int(value or "")
    except ValueError:
        return -1


def _record_action(record_id: str, action: str, model: type) -> Response:
    form = ReasonForm()
    record = db.session.get(model, record_id[:36])
    if record is None:
        abort(404)
    back = (url_for("clearance.person", user_id=record.user_id) if model is PersonalClearance
            else url_for("clearance.company", company_id=record.company_id))
    if request.form.get("next") == "index":
        back = url_for("clearance.index")
    if not form.validate_on_submit():
        flash(_messages()["reason_required"], "error")
        return redirect(back)
    fn: Any = {
        (PersonalClearance, "approve"): people.approve_clearance,
        (PersonalClearance, "reject"): people.reject_clearance,
        (CompanyCertification, "approve"): people.approve_certification,
        (CompanyCertification, "reject"): people.reject_certification,
    }.get((model, action))
    try:
        if fn is not None:
            fn(db.session, current_user, record.id, form.reason.data)
        elif model is PersonalClearance:
            people.change_clearance_status(db.session, current_user, record.id, action, form.reason.data)
        else:
            people.change_certification_status(db.session, current_user, record.id, action, form.reason.data)
    except NotAllowed as exc:
        db.session.rollback()
        flash(_message(exc), "error")
    else:
        db.session.commit()
        flash(_("Saved. The change applies from the next request."), "info")
    return redirect(back)


_ACTIONS = {"approve", "reject", "suspended", "revoked"}


@bp.post("/clearances/<record_id>/<action>")
@requires(Permission.CLEARANCE_MANAGE)
def clearance_action(record_id: str, action: str) -> Response:
    if action not in _ACTIONS:
        abort(404)
    return _record_action(record_id, action, PersonalClearance)


@bp.post("/certifications/<record_id>/<action>")
@requires(Permission.CLEARANCE_MANAGE)
def certification_action(record_id: str, action: str) -> Response:
    if action not in _ACTIONS:
        abort(404)
    return _record_action(record_id, action, CompanyCertification)


@bp.get("/companies")
@requires(Permission.CLEARANCE_MANAGE)
def companies() -> str:
    from dialogue.registry.models import Company

    form = CompanyFilterForm(request.args)
    cc = CompanyCertification
    q = select(Company, cc).outerjoin(cc, and_(cc.company_id == Company.id, cc.in_force))
    if form.validate() and form.q.data:
        needle = "%" + form.q.data.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        q = q.where(or_(Company.name_ja.ilike(needle, escape="\\"), Company.name_en.ilike(needle, escape="\\")))
    page_no = bounds.page_number()
    rows = db.session.execute(q.order_by(cc.id.is_(None), Company.name_ja).offset((page_no - 1) * PER_PAGE)
                              .limit(PER_PAGE + 1)).all()
    more = len(rows) > PER_PAGE
    return render_template("clearance/companies.html", form=form, rows=rows[:PER_PAGE], page=page_no, more=more,
                           args={k: v for k, v in request.args.items() if k != "page" and v}, levels=LEVEL_LABELS,
                           now=utcnow())


@bp.route("/companies/<company_id>", methods=["GET", "POST"])
@requires(Permission.CLEARANCE_MANAGE)
def company(company_id: str) -> Response | tuple[str, int] | str:
    from dialogue.registry.models import Company

    target = db.session.get(Company, company_id[:36])
    if target is None:
        abort(404)
    known = sorted({d for d in db.session.execute(
        select(UserAccount.department).where(UserAccount.company_id == target.id, UserAccount.department.is_not(None))
    ).scalars() if d})
    form = CertificationForm()
    form.level.choices = clearance_level_choices()
    form.departments.choices = [(d, d) for d in known]
    if request.method == "POST" and form.validate_on_submit():
        departments = list(form.departments.data or []) + [
            line.strip() for line in (form.other_departments.data or "").splitlines() if line.strip()]
        try:
            record = people.record_certification(
                db.session, current_user, target.id, level=_int(form.level.data), agency=form.agency.data,
                certified_on=form.certified_on.data, contract_ref=form.contract_ref.data,
                expires_on=form.expires_on.data, departments=departments, reason=form.reason.data)
        except NotAllowed as exc:
            db.session.rollback()
            field = {"level": form.level, "not_hosted": form.level, "departments_required": form.departments,
                     "expiry_before_start": form.expires_on, "expiry_too_late": form.expires_on}.get(exc.reason,
                                                                                              form.reason)
            field.errors.append(_message(exc))
        else:
            db.session.commit()
            flash(_("Recorded. A level-2 certification takes effect once a second security officer approves it.")
                  if record.status == "pending" else _("Recorded. It applies from the next request."), "info")
            return redirect(url_for("clearance.company", company_id=target.id))
    elif request.method == "POST" and form.level.data == "3":
        form.level.errors.append(_messages()["not_hosted"])
    history = people.certification_history(db.session, target.id)
    departments = {h.id: people.departments_of(db.session, h.id) for h in history}
    ids = {h.requested_by for h in history} | {h.decided_by for h in history if h.decided_by} | \
          {h.status_changed_by for h in history if h.status_changed_by}
    staff = db.session.execute(select(UserAccount).where(UserAccount.company_id == target.id)
                               .order_by(UserAccount.display_name)).scalars().all()
    status = 400 if any(f.errors for f in form) else 200
    return render_template("clearance/company.html", company=target, form=form, history=history,
                           departments=departments, names=_names(ids), staff=staff, reason_form=ReasonForm(),
                           levels=LEVEL_LABELS, now=utcnow()), status


@bp.route("/compartments", methods=["GET", "POST"])
@requires(Permission.CLEARANCE_MANAGE)
def compartments() -> Response | tuple[str, int] | str:
    form = CompartmentForm()
    if form.validate_on_submit():
        try:
            people.create_compartment(db.session, current_user, form.code.data, form.name_ja.data, form.name_en.data)
        except NotAllowed as exc:
            db.session.rollback()
            (form.code if exc.reason.startswith("compartment_code") or exc.reason == "compartment_exists"
             else form.name_ja).errors.append(_message(exc))
        else:
            db.session.commit()
            flash(_("Compartment created."), "info")
            return redirect(url_for("clearance.compartments"))
    rows = db.session.execute(select(Compartment).order_by(Compartment.code)).scalars().all()
    status = 400 if any(f.errors for f in form) else 200
    return render_template("clearance/compartments.html", form=form, rows=rows), status
