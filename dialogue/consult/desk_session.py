"""The desk's own server-side session: a cookie, a store, and a CSRF token bound to them.

Why not flask.session: the general session store records created/last-seen
instants and a user id, and Flask-WTF keeps its CSRF secret there. The desk
needs a session that holds (sealed) only which case the visitor has opened,
their language and a few one-shot flags — never the receipt — and that keeps
no precise time in clear:

* the cookie `taiwa_desk` (path /consult, HttpOnly, SameSite=Strict) holds a
  random 256-bit token; the store is keyed by its SHA-256;
* the stored data is sealed with AES-256-GCM under a key derived (HKDF) from
  the token, so neither a copy of the database nor the server's own keys
  reveal which case a live session is reading, or when it was last used;
* the 30-minute idle limit is checked against a last-seen minute inside the
  sealed data; in clear the database store keeps only `purge_on`, a day;
* in Redis (TAIWA_REDIS_URL) the entry simply expires after the idle limit.

The desk's forms carry HMAC(SECRET_KEY, token) as their CSRF token
(`csrf_token()` / `check_csrf()`), so CSRF stays on every desk form without
touching flask.session.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from datetime import date, timedelta
from typing import Any, Protocol

from flask import Flask, Request, Response, current_app
from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql, sqlite

from clearance import crypto
from clearance.db import db
from dialogue.consult import clock
from dialogue.consult.models import DeskSessionRow

COOKIE = "taiwa_desk"
COOKIE_PATH = "/consult"
_TOKEN_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
MAX_USED_FORMS = 32


def _id_hash(token: str) -> str:
    # Not secret-keyed on purpose: the token itself has 256 bits; the store only needs a lookup name.
    return hashlib.sha256(token.encode()).hexdigest()


def _data_key(token: str) -> bytes:
    return crypto.derive_key(token.encode(), b"taiwa-desk-session/v1")


def seal(token: str, data: dict[str, Any]) -> bytes:
    """nonce(12) ‖ AES-256-GCM(key from the token, JSON) ‖ tag(16), bound to the token's hash."""
    plain = json.dumps(data, separators=(",", ":")).encode()
    return crypto.seal_with_key(_data_key(token), plain, _id_hash(token).encode())


def unseal(token: str, blob: bytes) -> dict[str, Any] | None:
    try:
        data = json.loads(crypto.open_with_key(_data_key(token), blob, _id_hash(token).encode()))
    except (crypto.DecryptionError, ValueError):
        return None
    return data if isinstance(data, dict) else None


class DeskStore(Protocol):
    def load(self, id_hash: str) -> bytes | None: ...
    def save(self, id_hash: str, blob: bytes, purge_on: date) -> None: ...
    def delete(self, id_hash: str) -> None: ...
    def purge(self, today: date) -> int: ...


class DatabaseDeskStore:
    """consult_desk_session, written outside the request's ORM transaction (like the general sessions)."""

    t = DeskSessionRow.__table__

    def load(self, id_hash: str) -> bytes | None:
        with db.engine.connect() as conn:
            return conn.execute(select(self.t.c.data_ct).where(self.t.c.id_hash == id_hash)).scalar_one_or_none()

    def save(self, id_hash: str, blob: bytes, purge_on: date) -> None:
        values = {"id_hash": id_hash, "purge_on": purge_on, "data_ct": blob}
        with db.engine.begin() as conn:
            dialect = conn.dialect.name
            if dialect in ("sqlite", "postgresql"):
                ins = (sqlite.insert if dialect == "sqlite" else postgresql.insert)(self.t).values(**values)
                conn.execute(ins.on_conflict_do_update(
                    index_elements=[self.t.c.id_hash], set_={"purge_on": purge_on, "data_ct": blob}))
            elif conn.execute(update(self.t).where(self.t.c.id_hash == id_hash)
                              .values(purge_on=purge_on, data_ct=blob)).rowcount == 0:
                conn.execute(self.t.insert().values(**values))

    def delete(self, id_hash: str) -> None:
        with db.engine.begin() as conn:
            conn.execute(delete(self.t).where(self.t.c.id_hash == id_hash))

    def purge(self, today: date) -> int:
        with db.engine.begin() as conn:
            return conn.execute(delete(self.t).where(self.t.c.purge_on < today)).rowcount


class RedisDeskStore:
    """Entries expire after the idle limit by themselves."""

    def __init__(self, client, idle: int, prefix: str = "taiwa:consult:desk:") -> None:
        self.r, self.idle, self.prefix = client, idle, prefix

    def load(self, id_hash: str) -> bytes | None:
        return self.r.get(self.prefix + id_hash)

    def save(self, id_hash: str, blob: bytes, purge_on: date) -> None:
        self.r.set(self.prefix + id_hash, blob, ex=self.idle)

    def delete(self, id_hash: str) -> None:
        self.r.delete(self.prefix + id_hash)

    def purge(self, today: date) -> int:
        return 0


def make_store(app: Flask) -> DeskStore:
    if app.config.get("TAIWA_REDIS_URL"):
        import redis

        return RedisDeskStore(redis.Redis.from_url(app.config["TAIWA_REDIS_URL"]),
                              int(app.config["TAIWA_CONSULT_IDLE_SECONDS"]))
    return DatabaseDeskStore()


def store() -> DeskStore:
    return current_app.extensions["consult"]["store"]


class DeskSession:
    """This request's desk session. `data` is plain JSON; nothing in it is a receipt."""

    def __init__(self, token: str | None = None, data: dict[str, Any] | None = None) -> None:
        self.token = token
        self.stored = token is not None
        self.data: dict[str, Any] = data or {}
        self.keep = False  # something (a rendered CSRF token, a flag) needs this session to exist
        self.rotate = False
        self.destroy = False

    # -- content -------------------------------------------------------------
    def get(self, key: str, default: Any = None) -> Any:
        return self.data.get(key, default)

    def set(self, key: str, value: Any) -> None:
        self.data[key] = value
        self.keep = True

    def pop(self, key: str, default: Any = None) -> Any:
        return self.data.pop(key, default)

    def notice(self, code: str) -> None:
        """A one-shot message for the next page (the desk's flash; flask.flash would use flask.session)."""
        self.set("notices", [*self.data.get("notices", []), code][-4:])

    def take_notices(self) -> list[str]:
        return self.data.pop("notices", [])

    def form_used(self, nonce: str) -> bool:
        return nonce in self.data.get("forms", [])

    def use_form(self, nonce: str) -> None:
        self.set("forms", [*self.data.get("forms", []), nonce][-MAX_USED_FORMS:])

    # -- CSRF ------------------------------------------------------------------
    def csrf_token(self) -> str:
        if self.token is None:
            self.token = secrets.token_urlsafe(32)
        self.keep = True
        return _csrf_for(self.token)

    def check_csrf(self, value: str | None) -> bool:
        if not self.stored or not value or self.token is None:
            return False
        return crypto.same(_csrf_for(self.token), value)

    # -- lifecycle ---------------------------------------------------------------
    def renew(self) -> None:
        """A new id at the end of this request (after opening or leaving a case): no fixation."""
        self.rotate = True
        self.keep = True

    def end(self) -> None:
        self.data.clear()
        self.destroy = True


def _csrf_for(token: str) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    mac = crypto.keyed_hash(key, b"taiwa-desk-csrf\x00" + token.encode())
    return base64.urlsafe_b64encode(mac).decode().rstrip("=")


def _now_minute() -> int:
    return int(clock.now().timestamp() // 60)


def open_desk(request: Request) -> DeskSession:
    token = request.cookies.get(COOKIE, "")
    if not token or len(token) > 64 or not set(token) <= _TOKEN_CHARS:
        return DeskSession()
    id_hash = _id_hash(token)
    blob = store().load(id_hash)
    data = unseal(token, blob) if blob else None
    idle = int(current_app.config["TAIWA_CONSULT_IDLE_SECONDS"])
    if data is None or _now_minute() - int(data.get("seen", 0)) > idle // 60:
        if blob:
            store().delete(id_hash)
        return DeskSession()
    return DeskSession(token, data)


def save_desk(desk: DeskSession, request: Request, response: Response) -> None:
    secure = request.is_secure or bool(current_app.config.get("SESSION_COOKIE_SECURE"))
    if desk.destroy:
        if desk.stored and desk.token:
            store().delete(_id_hash(desk.token))
        response.delete_cookie(COOKIE, path=COOKIE_PATH, secure=secure, httponly=True, samesite="Strict")
        return
    if not (desk.stored or desk.keep):
        return  # nothing worth keeping: no row, no cookie
    if desk.rotate and desk.stored and desk.token:
        store().delete(_id_hash(desk.token))
        desk.token, desk.stored = None, False
    fresh = not desk.stored or desk.token is None
    if desk.token is None:
        desk.token = secrets.token_urlsafe(32)
    desk.data["seen"] = _now_minute()
    # The row may go once the day after its last use is over; the idle limit is enforced on the sealed minute.
    store().save(_id_hash(desk.token), seal(desk.token, desk.data), clock.today() + timedelta(days=1))
    if fresh:
        response.set_cookie(COOKIE, desk.token, path=COOKIE_PATH, secure=secure, httponly=True, samesite="Strict")
    response.vary.add("Cookie")
