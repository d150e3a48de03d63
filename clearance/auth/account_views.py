"""A person's own account: preferences, password, two-step sign-in, sessions."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, session, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from clearance.audit import Kind
from clearance.auth import service, totp
from clearance.auth import sessions as server_sessions
from clearance.auth.forms import ChangePasswordForm, ConfirmPasswordForm, EmptyForm, EnrolForm, PreferencesForm
from clearance.auth.views import client, enrolment_secret, limits
from clearance.db import db
from clearance.permissions import Permission, requires

bp = Blueprint("account", __name__, url_prefix="/account")


def _page(**forms) -> str:
    store = current_app.session_interface.store
    return render_template(
        "account/index.html",
        prefs=forms.get("prefs") or PreferencesForm(obj=current_user, locale=current_user.locale or "ja"),
        pw=forms.get("pw") or ChangePasswordForm(),
        confirm=forms.get("confirm") or ConfirmPasswordForm(),
        empty=EmptyForm(),
        sessions=store.count_user(current_user.id),
        recovery_left=service.remaining_recovery_codes(db.session, current_user) if current_user.totp_enabled else 0,
    )


@bp.get("/")
@requires(Permission.ACCOUNT_SELF)
def index() -> str:
    return _page()


@bp.post("/preferences")
@requires(Permission.ACCOUNT_SELF)
def preferences() -> Response | str:
    form = PreferencesForm()
    if not form.validate_on_submit():
        return _page(prefs=form), 400
    current_user.display_name = form.display_name.data.strip()
    current_user.locale = form.locale.data
    session["locale"] = form.locale.data
    db.session.commit()
    flash(_("Your preferences have been saved."), "info")
    return redirect(url_for("account.index"))


@bp.post("/password")
@requires(Permission.ACCOUNT_SELF)
def change_password() -> Response | str:
    form = ChangePasswordForm()
    if not form.validate_on_submit():
        return _page(pw=form), 400
    if not _current_password_ok(form.current.data):
        form.current.errors.append(_("The current password is not correct."))
        service.audit_event(db.session, current_user, "account", Kind.NEGATIVE, "Password change refused: wrong current password")
        db.session.commit()
        return _page(pw=form), 400
    problems = service.set_password(db.session, current_user, form.password.data)
    if problems:
        form.password.errors.extend(problems)
        return _page(pw=form), 400
    service.revoke_reset_tokens(db.session, current_user)
    service.audit_event(db.session, current_user, "account", Kind.CHANGE, "Password changed")
    db.session.commit()
    ended = current_app.session_interface.store.delete_user(current_user.id, except_hash=session.record.id_hash)
    flash(_("Your password has been changed. Other sessions signed out: %(n)d.", n=ended), "info")
    return redirect(url_for("account.index"))


@bp.route("/totp", methods=["GET", "POST"])
@requires(Permission.ACCOUNT_SELF)
def totp_enrol() -> Response | str:
    """Optional enrolment for company staff (METI staff enrol during their first sign-in)."""
    if current_user.totp_enabled:
        return redirect(url_for("account.index"))
    secret = enrolment_secret(current_user)
    form = EnrolForm()
    if form.validate_on_submit():
        codes = service.confirm_enrolment(db.session, current_user, secret, form.code.data)
        if codes is not None:
            db.session.commit()
            session.pop("enrol_secret", None)
            return render_template("auth/recovery_codes.html", codes=codes)
        flash(_("That code is not valid. Check the time on your phone and try the current code."), "error")
    uri = totp.provisioning_uri(secret, current_user.email)
    return render_template("auth/enrol.html", form=form, qr=totp.qr_svg(uri), secret=secret, cancel=None,
                           action=url_for("account.totp_enrol"))


def _current_password_ok(password: str) -> bool:
    return service.check_current_password(
        db.session, current_user, password, client(), secret=current_app.config["SECRET_KEY"], limits=limits()
    )


def _confirmed(form: ConfirmPasswordForm) -> bool:
    if form.validate_on_submit() and _current_password_ok(form.current.data):
        return True
    flash(_("The current password is not correct."), "error")
    return False


@bp.post("/totp/disable")
@requires(Permission.ACCOUNT_SELF)
def totp_disable() -> Response:
    form = ConfirmPasswordForm()
    if _confirmed(form):
        if service.disable_totp(db.session, current_user):
            db.session.commit()
            flash(_("Two-step sign-in is now off."), "info")
        else:
            flash(_("Two-step sign-in is mandatory for ministry staff."), "error")
    return redirect(url_for("account.index"))


@bp.post("/recovery-codes")
@requires(Permission.ACCOUNT_SELF)
def recovery_codes() -> Response | str:
    form = ConfirmPasswordForm()
    if not current_user.totp_enabled or not _confirmed(form):
        return redirect(url_for("account.index"))
    codes = service.replace_recovery_codes(db.session, current_user)
    service.audit_event(db.session, current_user, "account", Kind.CHANGE, "Recovery codes replaced")
    db.session.commit()
    return render_template("auth/recovery_codes.html", codes=codes)


@bp.post("/sign-out-everywhere")
@requires(Permission.ACCOUNT_SELF)
def sign_out_everywhere() -> Response:
    if EmptyForm().validate_on_submit():
        user_id = current_user.id
        service.audit_event(db.session, current_user, "auth", Kind.CHANGE, "Signed out everywhere")
        db.session.commit()
        current_app.session_interface.store.delete_user(user_id)
        server_sessions.destroy(session)
        flash(_("You have been signed out on every device."), "info")
    return redirect(url_for("auth.login"))
