"""Paths where the visitor stays anonymous, and the plumbing that keeps them so.

The anonymous consultation desk (/consult) must keep no address, no user
agent and no precise time of its visitors — in the database, the logs or the
audit log. The kernel helps in four places:

* the general session (clearance.auth.sessions) is neither opened nor saved
  on these paths: no web_session row is created, an existing one is not
  touched (its last-seen time would date the visit), and even a signed-in
  user is anonymous there (`shield_sessions`);
* log records created while such a request runs carry only the day
  (`install_log_privacy` wraps the LogRecord factory);
* Werkzeug's development server does not log these requests, nor static
  assets (the desk's stylesheet would date a visit just as well);
* gunicorn's access log (`AnonymousPathsLogger`, named in gunicorn.conf.py)
  writes no line at all for them: a line without the address still carries
  the moment it was written, and log collectors stamp it on receipt.

Imported by gunicorn's master process: keep it free of the app and of Flask at
import time.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from gunicorn.glogging import Logger as GunicornLogger

#: path prefixes of anonymous pages (a prefix matches itself and anything below it)
ANONYMOUS_PREFIXES: tuple[str, ...] = ("/consult",)
#: not anonymous pages, but fetched by them: never logged with an address or a time either
QUIET_PREFIXES: tuple[str, ...] = ("/static/",)


def is_anonymous_path(path: str | None) -> bool:
    if not path:
        return False
    return any(path == p or path.startswith(p + "/") or path.startswith(p + "?") for p in ANONYMOUS_PREFIXES)


def is_quiet_path(path: str | None) -> bool:
    return is_anonymous_path(path) or bool(path and path.startswith(QUIET_PREFIXES))


# ---------------------------------------------------------------------------
# General session shield
# ---------------------------------------------------------------------------


def shield_sessions(interface: Any) -> Any:
    """Wrap the app's session interface so anonymous paths never open or save a general session."""
    from flask.sessions import SessionInterface

    class AnonymousPathsShield(SessionInterface):
        def __init__(self, inner: Any) -> None:
            self.inner = inner

        def __getattr__(self, name: str) -> Any:  # store, idle, … for commands and tests
            return getattr(self.inner, name)

        def open_session(self, app, request):
            if is_anonymous_path(request.path):
                # An empty, throw-away session: whatever a template puts in it is never stored.
                return self.inner.open_session(app, _NoCookieRequest(request))
            return self.inner.open_session(app, request)

        def save_session(self, app, session, response) -> None:
            from flask import request

            if is_anonymous_path(request.path):
                return
            return self.inner.save_session(app, session, response)

    return AnonymousPathsShield(interface)


class _NoCookieRequest:
    """The request as the inner interface sees it on anonymous paths: without cookies."""

    def __init__(self, request: Any) -> None:
        self._request = request
        self.cookies: dict[str, str] = {}

    def __getattr__(self, name: str) -> Any:
        return getattr(self._request, name)


# ---------------------------------------------------------------------------
# Log records: day precision inside anonymous requests
# ---------------------------------------------------------------------------

_installed = False


def _in_anonymous_request() -> bool:
    try:
        from flask import has_request_context, request

        return has_request_context() and is_anonymous_path(request.path)
    except Exception:  # logging must never fail because of us
        return False


def _day_floor(ts: float) -> float:
    return ts - (ts % 86400)


class QuietRequestsFilter(logging.Filter):
    """Drops Werkzeug development-server request lines for anonymous paths and static assets."""

    _LINE = re.compile(r'"[A-Z]+ (/[^ "]*)')

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            m = self._LINE.search(record.getMessage())
        except Exception:
            return True
        return not (m and is_quiet_path(m.group(1)))


def install_log_privacy() -> None:
    """Once per process: day-precision records inside anonymous requests; quiet Werkzeug lines."""
    global _installed
    if _installed:
        return
    _installed = True
    base_factory = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = base_factory(*args, **kwargs)
        if _in_anonymous_request():
            record.created = _day_floor(record.created)
            record.msecs = 0.0
            record.relativeCreated = 0.0
        return record

    logging.setLogRecordFactory(factory)
    logging.getLogger("werkzeug").addFilter(QuietRequestsFilter())


# ---------------------------------------------------------------------------
# gunicorn
# ---------------------------------------------------------------------------


class AnonymousPathsLogger(GunicornLogger):
    """gunicorn's logger, minus every trace of anonymous paths and static assets.

    No access line is written for them (not even without the address: the
    line's own timestamp would date the visit), and error lines that name
    such a path name a placeholder instead.
    """

    def access(self, resp: Any, req: Any, environ: dict, request_time: Any) -> None:
        if is_quiet_path(environ.get("PATH_INFO")):
            return
        super().access(resp, req, environ, request_time)

    _PATHS = re.compile("(" + "|".join(re.escape(p) for p in ANONYMOUS_PREFIXES) + r")(?=[/?\s\"']|$)[^\s\"']*")

    def _redact(self, msg: Any, args: tuple) -> tuple[Any, tuple]:
        def clean(value: Any) -> Any:
            return self._PATHS.sub("[anonymous path]", value) if isinstance(value, str) else value

        return clean(msg), tuple(clean(a) for a in args)

    def error(self, msg: Any, *args: Any, **kwargs: Any) -> None:
        msg, args = self._redact(msg, args)
        super().error(msg, *args, **kwargs)

    def exception(self, msg: Any, *args: Any, **kwargs: Any) -> None:
        msg, args = self._redact(msg, args)
        super().exception(msg, *args, **kwargs)

    def warning(self, msg: Any, *args: Any, **kwargs: Any) -> None:
        msg, args = self._redact(msg, args)
        super().warning(msg, *args, **kwargs)

