"""Language choice: the user's preference, else the session's, else Japanese."""

from __future__ import annotations

from urllib.parse import urlsplit

from babel import Locale
from flask import Blueprint, current_app, flash, g, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from clearance.db import db

bp = Blueprint("i18n", __name__)


_PARSED: dict[str, Locale] = {}


def _parsed(code: str) -> Locale:
    # Flask-Babel parses what the selector returns on every request, and Babel checks its data
    # file on disk each time; a parsed Locale is passed through as it is.
    found = _PARSED.get(code)
    if found is None:
        found = _PARSED[code] = Locale.parse(code)
    return found


def select_locale() -> Locale:
    supported = current_app.config["LANGUAGES"]
    override = g.get("locale_override")  # set by pages that keep their own choice (the anonymous desk)
    if override in supported:
        return _parsed(override)
    if current_user and current_user.is_authenticated and current_user.locale in supported:
        return _parsed(current_user.locale)
    chosen = session.get("locale")
    if chosen in supported:
        return _parsed(chosen)
    return _parsed(current_app.config["BABEL_DEFAULT_LOCALE"])


def safe_next(target: str | None, fallback: str) -> str:
    """Only same-site relative paths: never an open redirect."""
    if not target or len(target) > 500:
        return fallback
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return fallback
    return target


@bp.post("/language")
def set_language() -> Response:
    """Public: the sign-in page offers the switch too. CSRF-protected like every POST."""
    locale = request.form.get("locale", "")
    back = safe_next(request.form.get("next"), url_for("auth.login"))
    if locale not in current_app.config["LANGUAGES"]:
        flash(_("That language is not available. Choose 日本語 or English."), "error")
        return redirect(back)
    session["locale"] = locale
    if current_user.is_authenticated:
        current_user.locale = locale
        db.session.commit()
    return redirect(back)


_WTFORMS_CATALOGS: dict[str, object] = {}


def _wtforms_translations():
    """Flask-WTF re-reads WTForms' own message catalog from disk on every request that builds
    a form (about a fifth of the sign-in page's time). Catalogs are immutable, so keep one per locale."""
    from babel import support
    from flask import has_request_context
    from flask_babel import get_locale
    from wtforms.i18n import messages_path

    if not has_request_context():
        return None
    locale = str(get_locale())
    catalog = _WTFORMS_CATALOGS.get(locale)
    if catalog is None:
        catalog = _WTFORMS_CATALOGS[locale] = support.Translations.load(messages_path(), [locale], domain="wtforms")
    return catalog


def install_wtforms_catalog_cache() -> None:
    import flask_wtf.i18n

    flask_wtf.i18n._get_translations = _wtforms_translations
