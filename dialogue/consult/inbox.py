"""The ministry's side of the desk at /officer/consult: inbox, case, reply, assignment,
status, labels, anonymised feedback, and the roster (administrators).

Every query goes through clearance.consult_access: an officer who is not on the
roster sees an empty inbox and a 404 for any case.
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from clearance import files
from clearance.auth.forms import EmptyForm
from clearance.db import db
from clearance.permissions import Permission, requires
from dialogue.consult import clock, service
from dialogue.consult.forms import (
    AssignForm,
    FeedbackForm,
    LabelsForm,
    OfficerReplyForm,
    RosterForm,
    StatusForm,
)
from dialogue.consult.taxonomy import (
    CATEGORIES,
    CATEGORY_SHORT,
    LABELS,
    REMOVED,
    SECTORS,
    SIZE_CLASSES,
    STATUSES,
    TIERS,
    TRANSITIONS,
)

bp = Blueprint("consult_inbox", __name__, url_prefix="/officer/consult")


@bp.context_processor
def vocabularies() -> dict:
    return {"CATEGORIES": CATEGORIES, "CATEGORY_SHORT": CATEGORY_SHORT, "LABELS": LABELS, "SECTORS": SECTORS,
            "TIERS": TIERS, "SIZE_CLASSES": SIZE_CLASSES, "STATUSES": STATUSES, "REMOVED": REMOVED}


def _case_or_404(case_id: str):
    case = service.officer_case(db.session, current_user, case_id) if service.is_row_id(case_id) else None
    if case is None:
        abort(404)
    return case


@bp.get("")
@requires(Permission.CONSULT_DESK)
def inbox() -> str:
    on_roster = service.is_desk_officer(db.session, current_user)
    flt = service.InboxFilter(
        status=request.args.get("status") or "open", who=request.args.get("who") or None,
        label=request.args.get("label") or None, category=request.args.get("category") or None,
    )
    rows = service.inbox(db.session, current_user, flt) if on_roster else []
    return render_template("consult/inbox.html", rows=rows, flt=flt, on_roster=on_roster, today=clock.today())


@bp.get("/<case_id>")
@requires(Permission.CONSULT_DESK)
def case_view(case_id: str) -> str:
    case = _case_or_404(case_id)
    view = service.officer_view(db.session, current_user, case)
    db.session.commit()
    return _render_case(case, view)


def _render_case(case, view, reply_form: OfficerReplyForm | None = None, status: int = 200):
    assign = AssignForm(assignee=case.assignee_id or "")
    assign.assignee.choices = [("", _("Nobody yet"))] + [(o.id, o.display_name) for o in service.desk_officers(db.session)]
    move = StatusForm()
    move.status.choices = [(s, STATUSES[s]) for s in TRANSITIONS.get(case.status, ())]
    labels = LabelsForm(labels=case.label_codes)
    return render_template(
        "consult/officer_case.html", case=case, view=view, reply=reply_form or OfficerReplyForm(), assign=assign,
        move=move, labels=labels, feedback_pick=EmptyForm(), today=clock.today(),
    ), status


@bp.post("/<case_id>/reply")
@requires(Permission.CONSULT_DESK)
@files.accepts_uploads()
def reply(case_id: str) -> Response | tuple[str, int]:
    case = _case_or_404(case_id)
    form = OfficerReplyForm()
    if form.validate_on_submit():
        cfg = current_app.config
        try:
            prepared = service.prepare_uploads(
                [service.Upload(f.filename, f.stream) for f in (form.files.data or []) if getattr(f, "filename", None)],
                max_files=int(cfg["TAIWA_CONSULT_MAX_FILES"]), max_bytes=int(cfg["TAIWA_CONSULT_MAX_FILE_BYTES"]),
                keep_names=True,
            )
            outcomes = service.ministry_reply(db.session, current_user, case, form.text.data or "", prepared)
            db.session.commit()
        except service.DeskError as exc:
            db.session.rollback()
            flash(str(exc.message), "error")
        else:
            flash(_("Your reply was sent. The submitter sees it the next time they open the case."), "ok")
            for o in outcomes:
                if o.removed:
                    flash(_("From %(name)s we removed: %(what)s.", name=o.name,
                            what=", ".join(str(REMOVED[c]) for c in o.removed)), "ok")
            return redirect(url_for("consult_inbox.case_view", case_id=case.id) + "#latest")
    case = _case_or_404(case_id)
    view = service.officer_view(db.session, current_user, case)
    db.session.commit()
    return _render_case(case, view, form, 400)


@bp.post("/<case_id>/assign")
@requires(Permission.CONSULT_DESK)
def assign(case_id: str) -> Response:
    case = _case_or_404(case_id)
    form = AssignForm()
    if form.validate_on_submit():
        try:
            service.assign(db.session, current_user, case, form.assignee.data or None,
                           base_url=current_app.config["TAIWA_BASE_URL"])
            db.session.commit()
            flash(_("Assignment saved."), "ok")
        except service.DeskError as exc:
            db.session.rollback()
            flash(str(exc.message), "error")
    return redirect(url_for("consult_inbox.case_view", case_id=case_id))


@bp.post("/<case_id>/status")
@requires(Permission.CONSULT_DESK)
def status(case_id: str) -> Response:
    case = _case_or_404(case_id)
    form = StatusForm()
    if form.validate_on_submit():
        try:
            service.set_status(db.session, current_user, case, form.status.data)
            db.session.commit()
            flash(_("Status changed to “%(status)s”.", status=STATUSES[form.status.data]), "ok")
        except service.DeskError as exc:
            db.session.rollback()
            flash(str(exc.message), "error")
    return redirect(url_for("consult_inbox.case_view", case_id=case_id))


@bp.post("/<case_id>/labels")
@requires(Permission.CONSULT_DESK)
def labels(case_id: str) -> Response:
    case = _case_or_404(case_id)
    form = LabelsForm()
    if form.validate_on_submit():
        service.set_labels(db.session, current_user, case, form.labels.data or [])
        db.session.commit()
        flash(_("Labels saved."), "ok")
    return redirect(url_for("consult_inbox.case_view", case_id=case_id))


@bp.route("/<case_id>/feedback", methods=["GET", "POST"])
@requires(Permission.CONSULT_DESK)
def feedback(case_id: str) -> Response | str | tuple[str, int]:
    """Turn a case, or the messages chosen on the case page, into an anonymised feedback candidate."""
    case = _case_or_404(case_id)
    form = FeedbackForm()
    if request.method == "GET":
        chosen = [int(s) for s in request.args.getlist("m") if s.isdigit()][:50]
        form.text.data = service.quote_messages(case, chosen or [m.seq for m in case.messages])
        return render_template("consult/feedback.html", case=case, form=form, facts=case.facts)
    if form.validate_on_submit():
        try:
            service.export_feedback(db.session, current_user, case, form.text.data, share_sector=form.share_sector.data,
                                    share_tier=form.share_tier.data, share_size=form.share_size.data)
            db.session.commit()
        except service.DeskError as exc:
            db.session.rollback()
            flash(str(exc.message), "error")
        else:
            flash(_("The anonymised text was passed on to the policy analysis. It carries no link to this case."), "ok")
            return redirect(url_for("consult_inbox.case_view", case_id=case.id))
    return render_template("consult/feedback.html", case=case, form=form, facts=case.facts), 400


@bp.get("/<case_id>/files/<attachment_id>")
@requires(Permission.CONSULT_DESK)
def download(case_id: str, attachment_id: str) -> Response:
    ok = service.is_row_id(case_id) and service.is_row_id(attachment_id)
    stored = service.officer_file(db.session, current_user, case_id, attachment_id) if ok else None
    if stored is None:
        abort(404)
    return files.send_download(stored)


@bp.route("/roster", methods=["GET", "POST"])
@requires(Permission.USERS_MANAGE)
def roster() -> Response | str:
    """Administrators name the officers who staff the desk (the ministry decides who reads anonymous cases)."""
    add = RosterForm()
    add.user_id.choices = [(u.id, f"{u.display_name} <{u.email}>") for u in service.roster_candidates(db.session)]
    if request.method == "POST":
        if add.validate_on_submit():
            action, user_id = request.form.get("action"), add.user_id.data
            try:
                if action == "remove":
                    service.roster_remove(db.session, current_user, user_id)
                else:
                    service.roster_add(db.session, current_user, user_id)
                db.session.commit()
                flash(_("The desk roster was updated."), "ok")
            except service.DeskError as exc:
                db.session.rollback()
                flash(str(exc.message), "error")
        return redirect(url_for("consult_inbox.roster"))
    return render_template("consult/roster.html", members=service.desk_officers(db.session), add=add,
                           remove=EmptyForm(), counts=service.counts_by_status(db.session))
