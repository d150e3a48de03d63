"""Calendar pages: time-zone preference, the personal feed (create, revoke, serve) and e-mailed RSVP links.

Two endpoints here are public by token (PUBLIC_ENDPOINTS): the feed, whose secret token a
calendar program sends on every poll, and the RSVP link. Both keep tokens out of paths
(the access log records paths only) and store only their SHA-256.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import force_locale, get_locale
from flask_babel import gettext as _
from flask_login import current_user

from clearance.auth.forms import EmptyForm
from clearance.db import db
from clearance.permissions import Permission, requires
from dialogue.meetings import ics, labels, service
from dialogue.meetings.forms import TimeZoneForm
from dialogue.meetings.models import Dialogue, Invitation
from dialogue.meetings.notify import MailSettings, Notifier, event_text

bp = Blueprint("calendar", __name__, url_prefix="/calendar")


@bp.get("")
@requires(Permission.ACCOUNT_SELF)
def settings() -> str:
    form = TimeZoneForm(time_zone=service.viewer_zone(db.session, current_user.id))
    feed = service.active_feed(db.session, current_user.id)
    new_url = session.pop("new_feed_url", None)  # shown once, right after it was made
    return render_template("meetings/calendar.html", form=form, feed=feed, new_url=new_url, empty=EmptyForm())


@bp.post("/time-zone")
@requires(Permission.ACCOUNT_SELF)
def time_zone() -> Response:
    form = TimeZoneForm()
    try:
        if not form.validate_on_submit():
            raise service.Refused("time_zone")
        service.set_viewer_zone(db.session, current_user, form.time_zone.data)
        db.session.commit()
        flash(_("Time zone saved. Dialogue times are also shown in %(zone)s.", zone=form.time_zone.data), "info")
    except service.Refused as exc:
        db.session.rollback()
        flash(labels.message(exc.code), "error")
    return redirect(url_for("calendar.settings"))


@bp.post("/feed")
@requires(Permission.ACCOUNT_SELF)
def feed_create() -> Response:
    if not EmptyForm().validate_on_submit():
        abort(400)
    token = service.create_feed(db.session, current_user)
    db.session.commit()
    base = current_app.config["TAIWA_BASE_URL"].rstrip("/")
    session["new_feed_url"] = base + url_for("calendar.feed", token=token)
    flash(_("Your calendar feed address is ready. Copy it now: it is shown only once."), "info")
    return redirect(url_for("calendar.settings"))


@bp.post("/feed/revoke")
@requires(Permission.ACCOUNT_SELF)
def feed_revoke() -> Response:
    if not EmptyForm().validate_on_submit():
        abort(400)
    n = service.revoke_feed(db.session, current_user)
    db.session.commit()
    flash(_("The feed address no longer works.") if n else _("You had no feed address."), "info")
    return redirect(url_for("calendar.settings"))


@bp.get("/feed.ics")
def feed() -> Response:
    """Public by token: a revoked, unknown or deactivated account's token is a plain 404."""
    user = service.feed_owner(db.session, request.args.get("token", ""))
    if user is None:
        abort(404)
    settings_ = MailSettings.from_config(current_app.config)
    locale = user.locale or "ja"
    events = []
    for dialogue, reply in service.feed_entries(db.session, user):
        if reply is not None:  # company staff: link to their invitation in the portal
            inv_id = db.session.execute(
                db.select(Invitation.id).where(Invitation.dialogue_id == dialogue.id, Invitation.user_id == user.id)
            ).scalar_one()
            path = url_for("portal.invitation", invitation_id=inv_id)
        else:
            path = url_for("meetings.detail", dialogue_id=dialogue.id)
        text = event_text(dialogue, settings_.base_url + path, locale)
        attendee = ics.Attendee(user.email, user.display_name, reply) if reply else None
        events.append((dialogue, ics.event(dialogue, text, domain=settings_.domain, organizer=settings_.mail_from,
                                           attendee=attendee,
                                           cancelled=dialogue.status in ("cancelled", "postponed"))))
    with force_locale(locale):
        name = _("Taiwa dialogues")
    body = ics.calendar(events, method="PUBLISH", name=name)
    db.session.commit()  # last_used_at
    return Response(body, mimetype="text/calendar")


@bp.route("/rsvp", methods=["GET", "POST"])
def rsvp() -> Response | str:
    """Public by token. The mailed link carries ?token=…; like the password reset, the token moves
    into the server-side session at once. GET only shows the question (mail scanners follow
    links); the answer is a POST with CSRF, and spends the token."""
    if request.method == "GET" and "token" in request.args:
        session["rsvp_token"] = request.args.get("token", "")[:100]
        return redirect(url_for("calendar.rsvp"))
    token = session.get("rsvp_token", "")
    found = service.rsvp_lookup(db.session, token)
    if found.problem:
        session.pop("rsvp_token", None)
        code = 410 if found.problem in ("used", "expired", "revoked") else 404
        return render_template("meetings/rsvp.html", problem=labels.message(f"rsvp_{found.problem}"), d=None,
                               done=None), code
    invitation = db.session.get(Invitation, found.token.invitation_id)
    dialogue = db.session.get(Dialogue, invitation.dialogue_id)
    form = EmptyForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        try:
            status = service.rsvp_answer(db.session, token, request.form.get("answer", ""),
                                         Notifier(db.session, MailSettings.from_config(current_app.config)))
            db.session.commit()
            session.pop("rsvp_token", None)
            return render_template("meetings/rsvp.html", d=dialogue, done=status, problem=None)
        except service.Refused as exc:
            db.session.rollback()
            if exc.code.startswith("rsvp_"):
                session.pop("rsvp_token", None)
            return render_template("meetings/rsvp.html", d=dialogue, problem=labels.message(exc.code, exc.values),
                                   done=None), 409
    return render_template("meetings/rsvp.html", d=dialogue, invitation=invitation, form=form, problem=None,
                           done=None, locale=str(get_locale()))
