"""Sign-in, second factor, sign-out and password reset pages."""

from __future__ import annotations

import base64
import time

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import format_datetime
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user
from werkzeug.wrappers import Response

from clearance import crypto
from clearance.audit import Kind
from clearance.auth import service, totp
from clearance.auth import sessions as server_sessions
from clearance.auth.forms import CodeForm, EmptyForm, EnrolForm, ForgotForm, LoginForm, NewPasswordForm
from clearance.auth.models import UserAccount
from clearance.auth.service import Outcome
from clearance.auth.throttle import Limits
from clearance.db import db
from clearance.i18n import safe_next
from clearance.outbox import enqueue
from clearance.permissions import Permission, requires

bp = Blueprint("auth", __name__)
PENDING_TTL = 300  # seconds between the password step and the second factor


def client() -> service.Client:
    return service.Client(address=request.remote_addr or "unknown", user_agent=request.user_agent.string[:200])


def limits() -> Limits:
    c = current_app.config
    return Limits(c["TAIWA_LOGIN_MAX_FAILURES"], c["TAIWA_CLIENT_MAX_FAILURES"], c["TAIWA_LOGIN_WINDOW"])


def landing() -> str:
    return url_for("home.index")


def _locked_message(outcome: Outcome, until) -> str:
    when = format_datetime(until, "short") if until else ""
    if outcome is Outcome.CLIENT_LOCKED:
        return _("Too many failed sign-ins from your network. Try again after %(when)s.", when=when)
    return _(
        "Too many failed sign-ins for this account. Try again after %(when)s, "
        "or reset your password by e-mail to unlock it now.",
        when=when,
    )


def _finish(user: UserAccount) -> Response:
    """Full sign-in: new session id, Flask-Login state, remembered language."""
    target = safe_next(session.pop("pending_next", None), landing())
    for key in ("pending_user_id", "pending_since", "enrol_secret"):
        session.pop(key, None)
    server_sessions.rotate(session)
    login_user(user)
    if user.locale:
        session["locale"] = user.locale
    return redirect(target)


@bp.route("/login", methods=["GET", "POST"])
def login() -> Response | str:
    if current_user.is_authenticated:
        return redirect(landing())
    form = LoginForm()
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
    if form.validate_on_submit():
        result = service.sign_in(
            db.session, form.email.data, form.password.data, client(),
            secret=current_app.config["SECRET_KEY"], limits=limits(),
        )
        if result.outcome in (Outcome.ACCOUNT_LOCKED, Outcome.CLIENT_LOCKED):
            flash(_locked_message(result.outcome, result.until), "error")
            return render_template("auth/login.html", form=form), 429
        if result.outcome is Outcome.BAD_CREDENTIALS:
            flash(_("The e-mail address or password is not correct."), "error")
            return render_template("auth/login.html", form=form), 200
        session["pending_next"] = form.next.data or ""
        if result.outcome is Outcome.OK:
            return _finish(result.user)
        session["pending_user_id"] = result.user.id
        session["pending_since"] = int(time.time())
        server_sessions.rotate(session)
        if result.outcome is Outcome.NEED_TOTP:
            return redirect(url_for("auth.login_totp"))
        return redirect(url_for("auth.login_enrol"))
    return render_template("auth/login.html", form=form)


def _pending_user() -> UserAccount | None:
    since = session.get("pending_since", 0)
    if time.time() - since > PENDING_TTL:
        return None
    user = db.session.get(UserAccount, session.get("pending_user_id", ""))
    return user if user is not None and user.active else None


def _expired() -> Response:
    for key in ("pending_user_id", "pending_since", "enrol_secret"):
        session.pop(key, None)
    flash(_("The sign-in took too long. Please start again."), "error")
    return redirect(url_for("auth.login"))


@bp.route("/login/totp", methods=["GET", "POST"])
def login_totp() -> Response | str:
    user = _pending_user()
    if user is None or not user.totp_enabled:
        return _expired()
    form = CodeForm()
    if form.validate_on_submit():
        outcome = service.second_factor(
            db.session, user, form.code.data, client(), secret=current_app.config["SECRET_KEY"], limits=limits()
        )
        if outcome is Outcome.OK:
            return _finish(user)
        if outcome is Outcome.ACCOUNT_LOCKED:
            session.pop("pending_user_id", None)
            flash(_locked_message(outcome, None), "error")
            return redirect(url_for("auth.login"))
        flash(_("That code is not valid. Codes change every 30 seconds and each can be used only once."), "error")
    return render_template("auth/login_totp.html", form=form, cancel=EmptyForm())


def _enrol_context(user: UserAccount) -> crypto.Context:
    return crypto.Context(table="web_session", column="enrol_secret", row_id=user.id)


def enrolment_secret(user: UserAccount) -> str:
    """The candidate secret lives sealed in the server-side session until confirmed."""
    sealed = session.get("enrol_secret")
    if sealed:
        try:
            return crypto.open_text(base64.b64decode(sealed), _enrol_context(user))
        except (crypto.DecryptionError, ValueError):
            pass
    secret = totp.new_secret()
    session["enrol_secret"] = base64.b64encode(crypto.seal_text(secret, _enrol_context(user))).decode()
    return secret


@bp.route("/login/enrol", methods=["GET", "POST"])
def login_enrol() -> Response | str:
    user = _pending_user()
    if user is None or user.totp_enabled:
        return _expired()
    secret = enrolment_secret(user)
    form = EnrolForm()
    if form.validate_on_submit():
        codes = service.confirm_enrolment(db.session, user, secret, form.code.data)
        if codes is not None:
            service.complete_sign_in(db.session, user, client(), method="totp_enrolment")
            session.pop("enrol_secret", None)
            server_sessions.rotate(session)
            session.pop("pending_user_id", None)
            login_user(user)
            return render_template("auth/recovery_codes.html", codes=codes)
        flash(_("That code is not valid. Check the time on your phone and try the current code."), "error")
    uri = totp.provisioning_uri(secret, user.email)
    return render_template(
        "auth/enrol.html", form=form, qr=totp.qr_svg(uri), secret=secret, cancel=EmptyForm(), action=url_for("auth.login_enrol")
    )


@bp.post("/login/cancel")
def login_cancel() -> Response:
    EmptyForm().validate_on_submit()
    server_sessions.destroy(session)
    return redirect(url_for("auth.login"))


@bp.post("/logout")
@requires(Permission.ACCOUNT_SELF)
def logout() -> Response:
    form = EmptyForm()
    if form.validate_on_submit():
        service.audit_event(db.session, current_user, "auth", Kind.INFO, "Signed out")
        db.session.commit()
        logout_user()
        server_sessions.destroy(session)
        flash(_("You have signed out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/password/forgot", methods=["GET", "POST"])
def password_forgot() -> Response | str:
    form = ForgotForm()
    if form.validate_on_submit():
        started = service.start_password_reset(db.session, form.email.data, current_app.config["TAIWA_RESET_TOKEN_TTL"])
        if started:
            user, token = started
            link = current_app.config["TAIWA_BASE_URL"].rstrip("/") + url_for("auth.password_reset", token=token)
            minutes = int(current_app.config["TAIWA_RESET_TOKEN_TTL"].total_seconds() // 60)
            enqueue(
                db.session, to=user.email,
                subject=_("Taiwa: reset your password"),
                body=render_template("mail/password_reset.txt", user=user, link=link, minutes=minutes),
            )
            db.session.info["outbox_background"] = True  # same response time for known and unknown addresses
        db.session.commit()
        # Same answer whether or not the address has an account.
        flash(_("If that address has an account, we have sent it a link to set a new password. "
                "The link works once, within one hour."), "info")
        return redirect(url_for("auth.login"))
    return render_template("auth/forgot.html", form=form)


@bp.route("/password/reset", methods=["GET", "POST"])
def password_reset() -> Response | str:
    """The mailed link carries ?token=…; we move it into the server-side session and drop it
    from the address at once, so it reaches no access log, history entry or Referer."""
    if request.method == "GET" and "token" in request.args:
        session["reset_token"] = request.args.get("token", "")[:100]
        return redirect(url_for("auth.password_reset"))
    token = session.get("reset_token", "")
    if service.valid_reset(db.session, token) is None:
        session.pop("reset_token", None)
        flash(_("This reset link has expired or has already been used. Ask for a new one."), "error")
        return redirect(url_for("auth.password_forgot"))
    form = NewPasswordForm()
    if form.validate_on_submit():
        user, problems = service.finish_password_reset(
            db.session, token, form.password.data, secret=current_app.config["SECRET_KEY"]
        )
        if user is not None and not problems:
            db.session.commit()
            current_app.session_interface.store.delete_user(user.id)
            session.pop("reset_token", None)
            flash(_("Your password has been changed and every other session signed out. Please sign in."), "info")
            return redirect(url_for("auth.login"))
        form.password.errors.extend(problems)
    return render_template("auth/reset.html", form=form), 400 if form.errors else 200
