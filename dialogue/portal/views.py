"""Company portal: this company's dialogue invitations (answer, pass on, send topics, .ics) and notifications.

Everything is loaded through a company-scoped query: another company's invitation id is a 404,
exactly like an id that does not exist.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from clearance import freshness
from clearance.auth.forms import EmptyForm
from clearance.db import db, utcnow
from clearance.permissions import Permission, requires
from dialogue.meetings import ics, labels
from dialogue.meetings import service as meetings
from dialogue.meetings.forms import DelegateForm, TopicForm
from dialogue.meetings.models import Dialogue, Invitation
from dialogue.meetings.notify import MailSettings, Notifier, event_text
from dialogue.meetings.views import clearance_limit
from dialogue.portal import service

bp = Blueprint("portal", __name__, url_prefix="/portal")


def _invitation(invitation_id: str) -> Invitation:
    found = meetings.load_invitation(db.session, current_user, invitation_id)
    if found is None:
        abort(404)
    level = db.session.get(Dialogue, found.dialogue_id).level
    if level > 0 and meetings.cleared_level(db.session, current_user.id) < level:
        abort(404)  # the clearance lapsed since the invitation: the dialogue is out of reach
    return found


def _notifier() -> Notifier:
    return Notifier(db.session, MailSettings.from_config(current_app.config))


@bp.get("/dialogues")
@requires(Permission.PORTAL_DIALOGUES)
def index() -> str:
    # Per account: the body shows this person's invitations, colleagues' and notifications.
    key = ("portal.index", current_user.id, str(get_locale()), request.full_path)

    def page() -> str:
        body = freshness.cached_body(key, _index_body, ttl=60.0, valid_until=clearance_limit)
        return render_template("portal/index.html", body=body)

    return freshness.cached_page(key, page, ttl=60.0, valid_until=clearance_limit)


def _index_body() -> str:
    rows = service.company_invitations(db.session, current_user, utcnow())
    return render_template(
        "portal/_index_body.html",
        mine=[r for r in rows if r.mine], others=[r for r in rows if not r.mine],
        recent=service.notifications(db.session, current_user.id, limit=5),
        unread=service.unread_count(db.session, current_user.id),
    )


@bp.get("/dialogues/past")
@requires(Permission.PORTAL_DIALOGUES)
def past() -> str:
    rows = service.company_invitations(db.session, current_user, utcnow(), upcoming=False)
    return render_template("portal/past.html", rows=rows)


@bp.get("/dialogues/<invitation_id>")
@requires(Permission.PORTAL_DIALOGUES)
def invitation(invitation_id: str) -> str:
    inv = _invitation(invitation_id)
    dialogue = db.session.get(Dialogue, inv.dialogue_id)
    now = utcnow()
    open_ = dialogue.status in ("planned", "invited") and dialogue.starts_at > now
    delegate_form = DelegateForm()
    delegate_form.colleague.choices = [(u.id, u.display_name) for u in meetings.colleagues(db.session, inv)]
    invitee = db.session.get(type(current_user._get_current_object()), inv.user_id)
    return render_template(
        "portal/invitation.html", inv=inv, d=dialogue, invitee=invitee,
        counterpart=meetings.counterpart_of(db.session, dialogue), open_=open_,
        deadline_passed=dialogue.answer_by is not None and now > dialogue.answer_by,
        may_answer=meetings.may_answer(current_user, inv), form=EmptyForm(), delegate_form=delegate_form,
        topic_form=TopicForm(), topics=meetings.topics_of(db.session, dialogue.id, inv.company_id),
        seats_taken=meetings.accepted_count(db.session, dialogue.id) if dialogue.seat_limit else None,
    )


def _done(inv: Invitation, action) -> Response:
    try:
        action()
        db.session.commit()
        flash(_("Saved."), "info")
    except meetings.Refused as exc:
        db.session.rollback()
        flash(labels.message(exc.code, exc.values), "error")
    return redirect(url_for("portal.invitation", invitation_id=inv.id))


@bp.post("/dialogues/<invitation_id>/reply")
@requires(Permission.PORTAL_DIALOGUES)
def reply(invitation_id: str) -> Response:
    inv = _invitation(invitation_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    answer = request.form.get("answer", "")

    def act() -> None:
        status = meetings.reply(db.session, current_user, inv, answer, _notifier())
        if status == "waitlisted":
            flash(_("All seats are taken: you are on the waiting list and will be told if a seat becomes free."),
                  "info")

    return _done(inv, act)


@bp.post("/dialogues/<invitation_id>/delegate")
@requires(Permission.PORTAL_DIALOGUES)
def delegate(invitation_id: str) -> Response:
    inv = _invitation(invitation_id)
    form = DelegateForm()
    if not form.validate_on_submit():
        abort(400)

    def act() -> None:
        issued = meetings.delegate(db.session, current_user, inv, form.colleague.data or "")
        _notifier().invited(issued, delegated=True)

    return _done(inv, act)


@bp.post("/dialogues/<invitation_id>/topics")
@requires(Permission.PORTAL_DIALOGUES)
def topic(invitation_id: str) -> Response:
    inv = _invitation(invitation_id)
    form = TopicForm()
    if not form.validate_on_submit():
        flash(labels.message("topic_empty"), "error")
        return redirect(url_for("portal.invitation", invitation_id=inv.id))
    return _done(inv, lambda: meetings.add_topic(db.session, current_user, inv, form.kind.data, form.body.data))


@bp.get("/dialogues/<invitation_id>/dialogue.ics")
@requires(Permission.PORTAL_DIALOGUES)
def download_ics(invitation_id: str) -> Response:
    inv = _invitation(invitation_id)
    if inv.status == "revoked":
        abort(404)  # withdrawn, perhaps sent to the wrong company: its venue and agenda are no longer theirs
    dialogue = db.session.get(Dialogue, inv.dialogue_id)
    settings = MailSettings.from_config(current_app.config)
    link = settings.base_url + url_for("portal.invitation", invitation_id=inv.id)
    invitee = db.session.get(type(current_user._get_current_object()), inv.user_id)
    ev = ics.event(dialogue, event_text(dialogue, link, str(get_locale())), domain=settings.domain,
                   organizer=settings.mail_from, attendee=ics.Attendee(invitee.email, invitee.display_name, inv.status),
                   cancelled=dialogue.status in ("cancelled", "postponed"))
    return Response(ics.calendar([(dialogue, ev)], method="PUBLISH"), mimetype="text/calendar",
                    headers={"Content-Disposition": f'attachment; filename="dialogue-{dialogue.starts_at:%Y%m%d}.ics"'})


@bp.get("/notifications")
@requires(Permission.PORTAL_DIALOGUES)
def notifications() -> str:
    return render_template("portal/notifications.html", items=service.notifications(db.session, current_user.id),
                           form=EmptyForm())


@bp.post("/notifications/read")
@requires(Permission.PORTAL_DIALOGUES)
def notifications_read() -> Response:
    if not EmptyForm().validate_on_submit():
        abort(400)
    service.mark_read(db.session, current_user.id, utcnow())
    db.session.commit()
    return redirect(url_for("portal.notifications"))
