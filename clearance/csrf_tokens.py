"""Signed CSRF tokens, remembered per session token.

Flask-WTF signs the session's raw token (itsdangerous) on every request that renders a
form, and every page renders two in its header (language switch, sign out): about
0.5 ms per page. With ``WTF_CSRF_TIME_LIMIT = None`` the signature's timestamp is never
checked, so an earlier signed form of the same raw token is exactly as valid: remember
it per raw token (per process, bounded) and let Flask-WTF find it on ``g``. Validation
is untouched: a token still has to carry a valid signature over this session's raw token.
"""

from __future__ import annotations

import threading

from flask import Flask, current_app, g, session

_MAX = 20_000  # sessions remembered per process (~200 bytes each)


def init_app(app: Flask) -> None:
    signed: dict[str, str] = {}
    lock = threading.Lock()

    def field() -> str:
        return current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")

    @app.before_request
    def _reuse_signed_token() -> None:
        if current_app.config.get("WTF_CSRF_TIME_LIMIT") is not None:
            return  # a time limit checks the timestamp: sign afresh as Flask-WTF does
        raw = session.get(field())
        if isinstance(raw, str):
            found = signed.get(raw)
            if found is not None:
                setattr(g, field(), found)

    @app.after_request
    def _remember_signed_token(response):
        name = field()
        token, raw = g.get(name), session.get(name)
        if isinstance(token, str) and isinstance(raw, str) and raw not in signed:
            with lock:
                if len(signed) >= _MAX:
                    signed.clear()
                signed[raw] = token
        return response
