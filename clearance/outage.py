"""When the database or the disk fails: the app's own page, never a traceback.

Two failures come from outside the app and end by themselves or by an operator's hand:

* **the database cannot be reached** (stopped, restarting, network, pool exhausted, the
  Redis session store gone): every page answers 503 with ``Retry-After``; the log gets
  one line when the outage begins and one when the first connection succeeds again
  (per worker process), never a traceback per request. Recovery needs nothing: the pool
  pings before each checkout and reconnects.
* **storage is full or cannot be written** (``ENOSPC``, ``EDQUOT``, ``EROFS``, ``EACCES``;
  SQLite's "database or disk is full"; PostgreSQL's disk_full): 507, and the page says what
  was not saved. The request's transaction is rolled back, so that statement is true.

``classify`` is the one place that decides whether an exception is one of these, and
``respond`` the one place that answers it: the app's error handlers call it first. The page
(templates/errors/unavailable.html) needs no session, no signed-in user and no database:
its language comes from the desk's own choice, the session if it was read, ``?lang=`` or
Accept-Language. A session that could not be opened is not saved afterwards
(clearance.auth.sessions), so the visitor's cookie survives the outage.
"""

from __future__ import annotations

import enum
import errno
import logging
import sqlite3
import threading
import time
from types import SimpleNamespace
from typing import Any

from flask import Flask, current_app, g, render_template, request, session
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import event
from sqlalchemy import exc as sa_exc
from werkzeug.wrappers import Response

from clearance.db import db

log = logging.getLogger("taiwa.outage")

#: seconds a client is asked to wait before trying again while the database is away
RETRY_AFTER = 5
#: at most one log line per this many seconds about refused writes on a full disk
DISK_LOG_EVERY = 60.0
#: errno values meaning "this cannot be written here", whatever the file
DISK_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EFBIG})
#: PostgreSQL SQLSTATEs of a server that is going or gone (class 08: connection exception)
_PG_GONE = ("08", "57P01", "57P02", "57P03", "53300")
_PG_DISK_FULL = "53100"
_SQLITE_FULL = ("database or disk is full", "disk i/o error", "attempt to write a readonly database")
_SQLITE_GONE = ("unable to open database file",)
#: answered without a session even when the session store failed: the health check reports it
NO_SESSION_ENDPOINTS = frozenset({"health.healthz", "static"})


class Failure(enum.Enum):
    DATABASE = 503
    DISK = 507


def _chain(exc: BaseException) -> list[BaseException]:
    """The exception, what SQLAlchemy wrapped and what it was raised from (bounded)."""
    seen: list[BaseException] = []
    todo: list[BaseException | None] = [exc]
    while todo and len(seen) < 8:
        e = todo.pop(0)
        if e is None or any(e is s for s in seen):
            continue
        seen.append(e)
        todo += [getattr(e, "orig", None), getattr(e, "original_exception", None), e.__cause__, e.__context__]
    return seen


def classify(exc: BaseException) -> Failure | None:
    """DATABASE, DISK, or None for anything else (a bug: the ordinary 500)."""
    found: Failure | None = None
    for e in _chain(exc):
        kind = _classify_one(e)
        if kind is Failure.DISK:
            return kind  # a full disk under a failing database: the disk is what to fix
        found = found or kind
    return found


def _classify_one(e: BaseException) -> Failure | None:
    if isinstance(e, OSError) and e.errno in DISK_ERRNOS:
        return Failure.DISK
    if isinstance(e, sqlite3.OperationalError | sqlite3.DatabaseError):
        message = str(e).lower()
        if message.startswith(_SQLITE_FULL):
            return Failure.DISK
        if message.startswith(_SQLITE_GONE):
            return Failure.DATABASE
        return None
    sqlstate = getattr(e, "sqlstate", "") or ""
    module = type(e).__module__
    if module.startswith("psycopg"):
        if sqlstate == _PG_DISK_FULL:
            return Failure.DISK
        import psycopg

        if isinstance(e, psycopg.OperationalError | psycopg.InterfaceError) and (
            not sqlstate or sqlstate.startswith(_PG_GONE)
        ):
            return Failure.DATABASE  # no SQLSTATE: libpq itself failed (refused, reset, closed)
        return None
    if module.startswith("redis"):
        import redis

        if isinstance(e, redis.ConnectionError | redis.TimeoutError):
            return Failure.DATABASE  # the session store
        return None
    if isinstance(e, sa_exc.DisconnectionError | sa_exc.TimeoutError):
        return Failure.DATABASE  # a dead pooled connection; no pool slot within the timeout
    if isinstance(e, sa_exc.DBAPIError) and e.connection_invalidated:
        return Failure.DATABASE
    return None


def _reason(exc: BaseException) -> str:
    """One line naming the cause, for the operator: the innermost message, first line only."""
    chain = _chain(exc)
    # the driver's own words ("connection refused", "No space left on device"), else the outermost
    inner = next((e for e in chain if isinstance(e, OSError)
                  or type(e).__module__.split(".")[0] in ("psycopg", "sqlite3", "redis")), exc)
    first = str(inner).strip().splitlines()[0] if str(inner).strip() else ""
    return f"{type(inner).__name__}: {first}"[:300]


class State:
    """What this process knows about the current outage; one per application."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.down_since: float | None = None
        self.refused = 0
        self.disk_logged_at: float | None = None
        self.disk_quiet = 0

    def database_down(self, exc: BaseException) -> None:
        with self.lock:
            self.refused += 1
            if self.down_since is not None:
                return
            self.down_since, self.refused = time.monotonic(), 1
        log.error("database unavailable (%s); answering 503 until it is back", _reason(exc))

    def database_up(self) -> None:
        if self.down_since is None:  # the usual case: one read, no lock
            return
        with self.lock:
            if self.down_since is None:
                return
            seconds, refused = time.monotonic() - self.down_since, self.refused
            self.down_since, self.refused = None, 0
        log.warning("database available again after %.1f s (%d request(s) answered 503)", seconds, refused)

    @property
    def database_is_down(self) -> bool:
        return self.down_since is not None

    def disk_full(self, exc: BaseException, what: str) -> None:
        now = time.monotonic()
        with self.lock:
            if self.disk_logged_at is not None and now - self.disk_logged_at < DISK_LOG_EVERY:
                self.disk_quiet += 1
                return
            quiet, self.disk_quiet, self.disk_logged_at = self.disk_quiet, 0, now
        more = f"; {quiet} more refused since the last line" if quiet else ""
        log.error("storage full or not writable (%s); not saved: %s, answered 507%s", _reason(exc), what, more)


def state(app: Flask | None = None) -> State:
    return (app or current_app).extensions["taiwa_outage"]


def answered() -> bool:
    """True once this request has been answered with the outage page: store nothing more."""
    return bool(g.get("_taiwa_outage"))


# ---------------------------------------------------------------------------
# The page
# ---------------------------------------------------------------------------

#: what a POST to each area would have saved, by blueprint (the desk has its own wording)
_WHAT: dict[str, Any] = {
    "minutes": _l("your changes to the minutes"),
    "briefings": _l("the briefing or file you sent"),
    "registry": _l("the register entry or import you sent"),
    "consult_inbox": _l("your reply or note on the consultation"),
    "meetings": _l("the dialogue or meeting details you sent"),
    "calendar": _l("the dialogue or meeting details you sent"),
    "feedback": _l("the feedback you sent"),
    "portal": _l("what you sent from the portal"),
    "portal_profile": _l("the change to your company's profile you sent"),
    "clearance": _l("the clearance record you sent"),
    "reports": _l("the report request you sent"),
    "admin": _l("the account change you sent"),
    "account": _l("the change to your account you sent"),
}


def _choose_locale() -> str:
    """The page's language without the database: the desk's own choice, ?lang=, the session if it
    was read, then Accept-Language."""
    supported = current_app.config["LANGUAGES"]
    for candidate in (request.args.get("lang"), g.get("locale_override")):
        if candidate in supported:
            return candidate
    try:
        chosen = session.get("locale") if session is not None else None
    except Exception:  # no session at all: the header decides
        chosen = None
    if chosen in supported:
        return chosen
    return request.accept_languages.best_match(supported) or current_app.config["BABEL_DEFAULT_LOCALE"]


def committed() -> bool:
    """Whether this request has committed a transaction (then "nothing was stored" would be untrue)."""
    return bool(g.get("taiwa_committed"))


def _note_commit(_session: Any) -> None:
    from flask import has_app_context

    if has_app_context():
        g.taiwa_committed = True


def _sent_something() -> bool:
    return request.method not in ("GET", "HEAD", "OPTIONS")


def _texts(kind: Failure) -> dict[str, str | None]:
    desk = request.blueprint == "consult"
    what = _WHAT.get(request.blueprint or "", _l("what you just sent from this page"))
    sent = _sent_something()
    if kind is Failure.DATABASE:
        title = _("The service is temporarily unavailable")
        message = _("The database cannot be reached at the moment. The service will come back by itself; "
                    "please try again in a few moments.")
        if not sent:
            not_saved = None
        elif desk:
            not_saved = _("If you just sent a consultation or a message, it may not have been received: no "
                          "receipt was shown. Keep your own copy and send it again once the desk is back.")
        else:
            not_saved = _("Possibly not saved: %(what)s. Once the service is back, check whether it is there "
                          "before sending it again. What was saved before is unaffected.", what=what)
    elif not sent:  # a page that stores something as it opens (a session, a view count)
        title = _("The service is temporarily unavailable")
        message = _("The server's storage is full or cannot be written, so this page cannot be used right now. "
                    "The problem has been recorded for the system administrator; please try again later.")
        not_saved = None
    elif committed():  # the failure came after this request's commit (a file removal, the session save)
        title = _("The service is temporarily unavailable")
        message = _("The server's storage is full or cannot be written, so this page cannot be used right now. "
                    "The problem has been recorded for the system administrator; please try again later.")
        if desk:
            not_saved = _("If you just sent a consultation or a message, it may not have been received: no "
                          "receipt was shown. Keep your own copy and send it again once the desk is back.")
        else:
            not_saved = _("Possibly not saved: %(what)s. Once the service is back, check whether it is there "
                          "before sending it again. What was saved before is unaffected.", what=what)
    else:
        title = _("Not saved: the server's storage is full")
        message = _("The server could not write what you sent: its storage is full or cannot be written. "
                    "The problem has been recorded for the system administrator.")
        if desk:
            not_saved = _("Your text was NOT received. Nothing of what you just sent has been stored and no "
                          "receipt was issued. Keep your own copy and try again later.")
        else:
            not_saved = _("Not saved: %(what)s. Nothing of this request was stored; what was saved before "
                          "is unaffected. Keep your own copy and try again later.", what=what)
    return {"title": title, "message": message, "not_saved": not_saved}


def respond(exc: BaseException) -> Response | None:
    """The outage page for a database or disk failure, or None when ``exc`` is neither."""
    kind = classify(exc)
    if kind is None:
        return None
    g._taiwa_outage = kind
    try:
        db.session.rollback()  # abandon the request's transaction: nothing of it is half-saved
    except Exception:  # noqa: S110 - the connection is already gone: nothing to roll back
        pass
    # Choose the language before anything asks the selector (which reads the signed-in user).
    g.locale_override = _choose_locale()
    g._flask_babel = SimpleNamespace()  # forget a locale computed earlier in this request
    texts = _texts(kind)
    if kind is Failure.DATABASE:
        state().database_down(exc)
    else:
        state().disk_full(exc, f"{request.method} {request.endpoint or request.path[:80]}")
    if request.accept_mimetypes.best == "application/json":
        resp = current_app.response_class(
            current_app.json.dumps({"error": kind.value, "message": texts["message"],
                                    "not_saved": texts["not_saved"]}),
            status=kind.value, mimetype="application/json")
    else:
        other = [code for code in current_app.config["LANGUAGES"] if code != g.locale_override]
        html = render_template("errors/unavailable.html", code=kind.value, locale=g.locale_override,
                               other_locale=other[0] if other else None,
                               retry=request.method == "GET", **texts)
        resp = current_app.response_class(html, status=kind.value, mimetype="text/html")
    if kind is Failure.DATABASE:
        resp.headers["Retry-After"] = str(RETRY_AFTER)
    return resp


def raise_session_failure() -> None:
    """First before-request hook: a session store that failed while the request context was
    pushed raises here, inside the request, where the error handlers see a real session."""
    failure = getattr(session, "failure", None)
    if failure is not None and request.endpoint not in NO_SESSION_ENDPOINTS:
        raise failure


def _answer_outside_views(app: Flask) -> None:
    """Failures outside a view (a response hook, the session save) reach Flask's handle_exception,
    which logs a traceback before it asks any handler: answer outages before that."""
    inner = app.handle_exception

    def handle_exception(e: Exception) -> Response:
        resp = respond(e)
        if resp is None:
            return inner(e)
        return app.finalize_request(resp, from_error_handler=True)

    app.handle_exception = handle_exception  # type: ignore[method-assign]


def init_app(app: Flask) -> None:
    """Called by create_app after the database is set up."""
    app.extensions["taiwa_outage"] = outage = State()
    _answer_outside_views(app)
    app.before_request_funcs.setdefault(None, []).insert(0, raise_session_failure)
    from sqlalchemy.orm import Session as OrmSession

    if not event.contains(OrmSession, "after_commit", _note_commit):
        event.listen(OrmSession, "after_commit", _note_commit)
    with app.app_context():
        # A checkout happens only on a live connection (the pool pings first): the outage is over.
        event.listen(db.engine, "checkout", lambda *_: outage.database_up())
