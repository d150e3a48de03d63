"""Taiwa 対話 — application factory and the `flask --app app …` commands.

Every extension and blueprint is wired here, on one screen.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any

import click
from flask import Flask, current_app, render_template, request
from flask_babel import Babel
from flask_babel import gettext as _
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_wtf.csrf import CSRFError, CSRFProtect
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from clearance import anonymity, crypto, csrf_tokens, failclosed, files, freshness, guard, outage, outbox
from clearance.auth import passwords
from clearance.auth.models import UserAccount
from clearance.auth.sessions import DatabaseStore, RedisStore, ServerSessionInterface
from clearance.config import ROOT, load_config
from clearance.db import db
from clearance.i18n import install_wtforms_catalog_cache, select_locale
from clearance.startup import DOCS, StartupError, check_mode

csrf = CSRFProtect()
babel = Babel()
login_manager = LoginManager()
migrate = Migrate()


def create_app(overrides: dict[str, Any] | None = None) -> Flask:
    app = Flask(__name__, static_folder=str(ROOT / "static"), template_folder=str(ROOT / "templates"))
    app.config.update(load_config(overrides))
    _check_startup(app)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    anonymity.install_log_privacy()  # /consult: day-precision log records, no dev-server request lines
    if app.config["TAIWA_PROXY_COUNT"]:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=app.config["TAIWA_PROXY_COUNT"], x_proto=app.config["TAIWA_PROXY_COUNT"])

    passwords.set_profile(app.config["TAIWA_ARGON2"])
    try:
        crypto.configure(crypto.load_provider(app.config))
    except crypto.KeyUnavailable as exc:
        raise StartupError(str(exc)) from None
    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    csrf_tokens.init_app(app)  # reuse a session's signed CSRF token instead of signing it per page
    install_wtforms_catalog_cache()
    babel.init_app(app, locale_selector=select_locale, default_translation_directories=str(ROOT / "translations"))
    login_manager.init_app(app)
    login_manager.session_protection = None  # sessions are server-side and rotated at sign-in
    login_manager.user_loader(_load_user)
    app.session_interface = anonymity.shield_sessions(_session_interface(app))  # never opened on /consult
    guard.init_app(app)
    files.init_app(app)  # upload request class: file parts are spooled encrypted, never as plaintext
    failclosed.init_app(app)  # any DecryptionError: audited, clear error page, nothing shown
    freshness.init_app(app)  # cached page bodies, keyed by the data generation
    outage.init_app(app)  # database away or disk full: the app's own 503/507 page, one log line

    from clearance.admin.views import bp as admin_bp
    from clearance.auth.account_views import bp as account_bp
    from clearance.auth.views import bp as auth_bp
    from clearance.health import bp as health_bp
    from clearance.i18n import bp as i18n_bp
    from dialogue.home.views import bp as home_bp
    from dialogue.meetings.calendar_views import bp as calendar_bp
    from dialogue.meetings.views import bp as meetings_bp
    from dialogue.portal.views import bp as portal_bp
    from dialogue.registry.portal_views import bp as portal_profile_bp
    from dialogue.registry.views import bp as registry_bp

    for bp in (health_bp, i18n_bp, auth_bp, account_bp, home_bp, admin_bp):
        app.register_blueprint(bp)
    for bp in (meetings_bp, portal_bp, calendar_bp):
        app.register_blueprint(bp)
    for bp in (registry_bp, portal_profile_bp):
        app.register_blueprint(bp)
    from clearance.clearance_views import bp as clearance_bp
    from dialogue.briefings.views import bp as briefings_bp

    for bp in (clearance_bp, briefings_bp):
        app.register_blueprint(bp)

    from dialogue import consult
    from dialogue.consult.inbox import bp as consult_inbox_bp
    from dialogue.consult.views import bp as consult_bp

    consult.init_app(app)
    csrf.exempt(consult_bp)  # the desk checks its own CSRF token, bound to its own session, never flask.session
    for bp in (consult_bp, consult_inbox_bp):
        app.register_blueprint(bp)

    from dialogue.feedback.views import bp as feedback_bp
    from dialogue.minutes.views import bp as minutes_bp
    from dialogue.reports.views import bp as reports_bp

    for bp in (feedback_bp, minutes_bp, reports_bp):
        app.register_blueprint(bp)

    _register_errors(app)
    _register_template_helpers(app)
    _register_commands(app)
    _check_database(app)  # last: the key check needs every model's EncryptedFields registered
    return app


def _check_startup(app: Flask) -> None:
    if not app.config.get("SECRET_KEY"):
        raise StartupError(
            f"no secret key: run `make run` (it creates instance/secret_key) or set TAIWA_SECRET_KEY; see {DOCS}"
        )
    if app.config["TAIWA_ENV"] == "production":
        app.config["SESSION_COOKIE_SECURE"] = True
        if not app.config.get("TAIWA_SMTP_HOST"):
            raise StartupError("Production needs TAIWA_SMTP_HOST: mail is never written to the log there.")
        if app.config["TAIWA_ARGON2"] != "standard":
            raise StartupError("Production must use the standard Argon2 profile.")


_expected_heads: set[str] | None = None


def _expected_schema() -> set[str]:
    """What alembic_version holds once `flask db upgrade heads` ran: every head, except heads
    that another branch depends on (alembic does not write those)."""
    global _expected_heads
    if _expected_heads is None:
        from alembic.script import ScriptDirectory

        script = ScriptDirectory(str(ROOT / "migrations"))
        needed = set()
        for rev in script.walk_revisions():
            deps = rev.dependencies
            needed.update((deps,) if isinstance(deps, str) else deps or ())
        _expected_heads = {h for h in script.get_heads() if h not in needed}
    return _expected_heads


def _check_database(app: Flask) -> None:
    """Refuse to start on a database we cannot serve: unreachable or not migrated (strict mode
    only, see clearance.startup.check_mode) or sealed with other keys (always, when it answers)."""
    from sqlalchemy import inspect, text
    from sqlalchemy.exc import SQLAlchemyError

    from clearance import keycheck

    mode = check_mode(app.config)
    with app.app_context():
        try:
            try:
                with db.engine.connect() as conn:
                    names = set(inspect(conn).get_table_names())
                    current = set()
                    if "alembic_version" in names:
                        current = set(conn.execute(text("SELECT version_num FROM alembic_version")).scalars())
            except SQLAlchemyError as exc:
                if mode == "strict":
                    url = db.engine.url.render_as_string(hide_password=True)
                    raise StartupError(
                        f"the database {url} cannot be reached ({type(getattr(exc, 'orig', None) or exc).__name__}): "
                        f"start it or fix DATABASE_URL, see {DOCS} (Restart after a crash)"
                    ) from None
                app.logger.warning("database not reachable at start: key check deferred to the next start")
                return
            if mode == "strict" and current != _expected_schema():
                state = "empty" if not current else "at " + "+".join(sorted(current))
                raise StartupError(
                    f"the database is not migrated ({state}, this code needs "
                    f"{'+'.join(sorted(_expected_schema()))}): run `flask db upgrade heads` (make run does), "
                    f"see {DOCS} (Restart after a crash)"
                )
            if keycheck.TABLE not in names:
                return  # before migration 0014 (`flask db upgrade` records the checks)
            try:
                notes = keycheck.verify(db.session, crypto.get_provider())
            except OSError as exc:  # a sealed file the scan needs is missing or unreadable
                raise StartupError(f"could not check which keys the stored files need ({exc}); see {DOCS} (Keys)") from None
            for note in notes:
                app.logger.info("%s", note)
        finally:
            db.session.remove()


def _load_user(user_id: str) -> UserAccount | None:
    user = db.session.get(UserAccount, user_id)
    return user if user is not None and user.active else None


def _session_interface(app: Flask) -> ServerSessionInterface:
    idle, absolute = app.config["TAIWA_SESSION_IDLE"], app.config["TAIWA_SESSION_ABSOLUTE"]
    if app.config.get("TAIWA_REDIS_URL"):
        import redis

        store = RedisStore(redis.Redis.from_url(app.config["TAIWA_REDIS_URL"]), idle)
    else:
        store = DatabaseStore(lambda: db.engine)
    return ServerSessionInterface(store, idle, absolute)


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_conn, _record) -> None:
    """WAL for concurrent readers, enforced foreign keys, and a wait instead of 'database is locked'."""
    if type(dbapi_conn).__module__.startswith("sqlite3"):
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=10000")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()


@event.listens_for(Session, "after_commit")
def _send_mail_after_commit(session: Session) -> None:
    if session.info.pop("outbox_pending", False):
        try:
            if session.info.pop("outbox_background", False):
                outbox.deliver_in_background(db.engine, current_app.config)
                return
            outbox.deliver_pending(db.engine, current_app.config)
        except RuntimeError:  # outside an application context (scripts): `flask send-mail` will deliver
            pass


def _register_errors(app: Flask) -> None:
    messages = {
        400: lambda: _("The request could not be understood. Please check what you entered and try again."),
        401: lambda: _("Please sign in to continue."),
        403: lambda: _("You do not have permission to open this page."),
        404: lambda: _("This page does not exist, or you do not have access to it."),
        405: lambda: _("This action is not allowed here."),
        413: lambda: _("What you sent is too large."),
        429: lambda: _("Too many requests. Please wait a moment and try again."),
        500: lambda: (_("Something went wrong on our side, and what you just sent may not have been saved. "
                        "Please check before sending it again; if it happens again, tell the system administrator.")
                      if request.method not in ("GET", "HEAD") else
                      _("Something went wrong on our side. Please try again in a moment.")),
    }

    def render(code: int, message: str | None = None):
        if request.accept_mimetypes.best == "application/json":
            return {"error": code, "message": message or messages.get(code, messages[500])()}, code
        return render_template("errors/error.html", code=code, message=message or messages.get(code, messages[500])()), code

    @app.errorhandler(CSRFError)
    def csrf_error(_e: CSRFError):
        return render(400, _("Your form expired or was sent from elsewhere. Reload the page and try again."))

    @app.errorhandler(HTTPException)
    def http_error(e: HTTPException):
        try:
            # An abort after a write keeps nothing of it (teardown would roll back too); rolled back now, its
            # open write transaction cannot hold SQLite's lock while the session is saved on another connection.
            db.session.rollback()
        except Exception:  # the database may be what failed
            app.logger.warning("rollback after an HTTP error failed")
        return render(e.code or 500, getattr(e, "user_message", None))  # clearance.forms.InputRefused says what

    @app.errorhandler(Exception)
    def internal_error(e: Exception):
        unavailable = outage.respond(e)  # database away, disk full: no traceback, the outage page
        if unavailable is not None:
            return unavailable
        app.logger.exception("unhandled error")
        try:
            db.session.rollback()
        except Exception:  # the database may be what failed
            app.logger.warning("rollback after an unhandled error failed too")
        return render(500)


def _register_template_helpers(app: Flask) -> None:
    from flask_babel import format_date, format_datetime, get_locale
    from flask_login import current_user
    from markupsafe import Markup

    from clearance.auth.forms import EmptyForm
    from clearance.permissions import Permission, role_labels

    nav_cache: dict[tuple, Markup] = {}

    def main_nav() -> Markup:
        """The navigation bar, rendered once per (role, language, endpoint): it shows links by role
        only, so every officer on the same page gets the same HTML. Saves a fifth of a page's time."""
        if not current_user.is_authenticated:
            return Markup("")
        key = (current_user.role, current_user.active, str(get_locale()), request.endpoint, request.script_root)
        html = nav_cache.get(key)
        if html is None:
            html = nav_cache[key] = Markup(render_template("_nav.html"))  # noqa: S704 - our own autoescaped template
        return html

    @app.context_processor
    def helpers() -> dict[str, Any]:
        return {
            "Permission": Permission,
            "role_labels": role_labels,
            "format_datetime": format_datetime,
            "format_date": format_date,
            "current_locale": str(get_locale()),
            "empty_form": EmptyForm,
            "main_nav": main_nav,
        }


def _register_commands(app: Flask) -> None:
    @app.cli.command("send-mail")
    def send_mail() -> None:
        """Deliver queued mail (retries what failed after commit)."""
        click.echo(f"sent {outbox.deliver_pending(db.engine, app.config, limit=1000)} message(s)")

    @app.cli.command("purge-sessions")
    def purge_sessions() -> None:
        """Delete expired server-side sessions (database store)."""
        store = app.session_interface.store
        if isinstance(store, DatabaseStore):
            n = store.purge_expired(app.config["TAIWA_SESSION_IDLE"], app.config["TAIWA_SESSION_ABSOLUTE"])
            click.echo(f"purged {n} session(s)")

    @app.cli.command("seed-demo")
    @click.option("--accounts-file", type=click.Path(path_type=Path), default=ROOT / "instance" / "demo-accounts.json")
    @click.option("--if-empty", is_flag=True, help="Do nothing when the register already has companies.")
    def seed_demo(accounts_file: Path, if_empty: bool) -> None:
        """Load the fictional demo data set and write instance/demo-accounts.json."""
        from dialogue.demo.seed import SeedRefused, seed

        try:
            result = seed(db.session, app.config, accounts_file, if_empty=if_empty)
        except SeedRefused as exc:
            click.echo(str(exc), err=True)
            sys.exit(2)
        click.echo(result)

    from clearance.crypto import cli as crypto_cli

    for command in crypto_cli.COMMANDS:
        app.cli.add_command(command)
    from clearance import audit_cli

    for command in audit_cli.COMMANDS:  # audit-verify, audit-checkpoint (periodic, every minute), audit-prove
        app.cli.add_command(command)

    from clearance import backup

    for command in backup.COMMANDS:
        app.cli.add_command(command)

    from dialogue.consult import cli as consult_cli

    for command in consult_cli.COMMANDS:  # cron, daily: consult-reminders, consult-purge
        app.cli.add_command(command)

    from dialogue.reports import cli as reports_cli

    for command in reports_cli.COMMANDS:  # reports-worker (optional, beside the web workers), feedback-intake
        app.cli.add_command(command)

    from clearance.people import reminders_command

    app.cli.add_command(reminders_command)  # cron: mail security officers what expires within 90 days

    from clearance.periodic import periodic_command

    app.cli.add_command(periodic_command)  # the commands above on their schedule (gunicorn starts it)
