"""The company portal's profile pages: company staff see their own company and ask for corrections.

Everything is reached through the signed-in user's company: no company id ever
comes from the URL, and a correction request is loaded through
`clearance.scoping.own_company`, so another company's request is a 404 like a
request that does not exist.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from clearance.auth.forms import EmptyForm
from clearance.db import db
from clearance.permissions import Permission, requires
from dialogue.registry import corrections, service
from dialogue.registry.forms import CorrectionForm, prefecture_choices
from dialogue.registry.models import Company, CorrectionRequest
from dialogue.registry.service import RegisterError
from dialogue.registry.taxonomy import prefecture_label

bp = Blueprint("portal_profile", __name__, url_prefix="/portal/profile")


@bp.context_processor
def _portal_context() -> dict:
    return {"pref_label": lambda code: prefecture_label(code, str(get_locale() or "ja"))}


def _own_company() -> Company:
    company = db.session.get(Company, current_user.company_id) if current_user.company_id else None
    if company is None:
        abort(404)
    return company


def _statuses() -> dict[str, str]:
    return {"pending": _("Waiting for the ministry"), "approved": _("Approved"), "rejected": _("Rejected"),
            "withdrawn": _("Withdrawn")}


@bp.get("")
@requires(Permission.PORTAL_HOME)
def profile() -> str:
    company = _own_company()
    requests = db.session.execute(corrections.for_company_staff(current_user)
                                  .order_by(CorrectionRequest.created_at.desc()).limit(50)).scalars().all()
    return render_template(
        "registry/portal_profile.html", company=company, values=service.company_values(db.session, company),
        associations=service.associations_of(db.session, [company.id]).get(company.id, []),
        places=service.company_groups(db.session, company.id),
        contacts=service.contacts_of(db.session, company_id=company.id),
        requests=requests, statuses=_statuses(), labels=service.label_maps(),
    )


@bp.route("/corrections/new", methods=["GET", "POST"])
@requires(Permission.PORTAL_HOME)
def correction_new():
    company = _own_company()
    current = corrections.profile(db.session, company)
    form = CorrectionForm(data=current) if request.method == "GET" else CorrectionForm()
    form.prefecture.choices = prefecture_choices(str(get_locale() or "ja"))
    if form.validate_on_submit():
        proposed = {k: getattr(form, k).data for k in corrections.CORRECTABLE}
        try:
            req = corrections.request_correction(db.session, current_user, company, proposed, form.note.data or "")
            db.session.commit()
        except RegisterError as exc:
            db.session.rollback()
            target = getattr(form, exc.field, None) if exc.field else None
            if target is not None:
                target.errors = [str(exc.message)]
            else:
                form.note.errors = [str(exc.message)]
        else:
            flash(_("Your request has been sent to the ministry."), "info")
            return redirect(url_for("portal_profile.correction", request_id=req.id))
    status = 400 if request.method == "POST" else 200
    return render_template("registry/portal_correction_form.html", form=form, company=company,
                           labels=service.label_maps()), status


def _own_request(request_id: str) -> CorrectionRequest:
    req = corrections.load_own(db.session, current_user, request_id)
    if req is None:
        abort(404)
    return req


@bp.get("/corrections/<request_id>")
@requires(Permission.PORTAL_HOME)
def correction(request_id: str) -> str:
    req = _own_request(request_id)
    return render_template("registry/portal_correction.html", req=req, changes=corrections.changes(db.session, req),
                           statuses=_statuses(), labels=service.label_maps(), empty=EmptyForm())


@bp.post("/corrections/<request_id>/withdraw")
@requires(Permission.PORTAL_HOME)
def correction_withdraw(request_id: str) -> Response:
    req = _own_request(request_id)
    try:
        corrections.withdraw(db.session, current_user, req)
        db.session.commit()
        flash(_("Your request was withdrawn."), "info")
    except RegisterError as exc:
        db.session.rollback()
        flash(str(exc.message), "error")
    return redirect(url_for("portal_profile.correction", request_id=req.id))
