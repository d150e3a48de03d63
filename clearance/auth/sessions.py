"""Server-side sessions.

The cookie carries only a random 256-bit id; the store keeps its SHA-256, so a
copy of the database cannot be replayed as cookies. Idle (30 min) and absolute
(12 h) limits are checked on every request. Two stores: the database (default,
shared by every worker) and Redis (when TAIWA_REDIS_URL is set).
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from flask import Flask, Request, Response
from flask.sessions import SessionInterface, SessionMixin
from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.engine import Engine
from werkzeug.datastructures import CallbackDict

from clearance import freshness, outage
from clearance.auth.models import UserAccount, WebSession
from clearance.db import utcnow

PURGE_ONE_IN = 500  # new sessions between opportunistic purges of long-dead rows
TOUCH_EVERY = timedelta(seconds=60)  # last-seen is written at most once a minute per session
_TOKEN_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass
class Record:
    id_hash: str
    user_id: str | None
    created_at: datetime
    last_seen_at: datetime
    data: dict[str, Any]
    #: the signed-in account, loaded with the row (DatabaseStore) so that Flask-Login's
    #: ``Session.get`` finds it in the identity map; holding it here keeps it alive until then
    user: Any = None


class SessionStore(Protocol):
    def load(self, id_hash: str) -> Record | None: ...
    def save(self, record: Record, *, new: bool) -> None: ...
    def touch(self, id_hash: str, when: datetime) -> None: ...
    def delete(self, id_hash: str) -> None: ...
    def delete_user(self, user_id: str, *, except_hash: str | None = None) -> int: ...
    def count_user(self, user_id: str) -> int: ...


class DatabaseStore:
    """Sessions in the application database, written outside the request's ORM transaction."""

    def __init__(self, engine_getter) -> None:
        self._engine_getter = engine_getter
        self.t = WebSession.__table__
        # Built once: SQLAlchemy then reuses the compiled statement on every request. The account
        # and the data generation (keys of cached page bodies) come in the same statement: one
        # round trip instead of three on PostgreSQL.
        self._load = (
            select(self.t, UserAccount, freshness.CURRENT.scalar_subquery().label("data_generation"))
            .outerjoin(UserAccount, UserAccount.id == self.t.c.user_id)
            .where(self.t.c.id_hash == bindparam("id_hash"))
        )

    @property
    def engine(self) -> Engine:
        return self._engine_getter()

    def load(self, id_hash: str) -> Record | None:
        # Read through the request's ORM session: one connection checkout for the whole request,
        # and the account lands in that session's identity map for Flask-Login's user loader.
        from clearance.db import db

        row = db.session.execute(self._load, {"id_hash": id_hash}).first()
        if row is None:
            return None
        freshness.note_read(db.session, row.data_generation)
        return Record(row.id_hash, row.user_id, row.created_at, row.last_seen_at, json.loads(row.data),
                      row.UserAccount)

    def save(self, record: Record, *, new: bool) -> None:
        values = {
            "user_id": record.user_id,
            "last_seen_at": record.last_seen_at,
            "data": json.dumps(record.data, separators=(",", ":")),
        }
        with self.engine.begin() as conn:
            if new:
                conn.execute(insert(self.t).values(id_hash=record.id_hash, created_at=record.created_at, **values))
                if secrets.randbelow(PURGE_ONE_IN) == 0:
                    # Amortised clean-up: anonymous visitors leave rows behind; no cron needed.
                    conn.execute(delete(self.t).where(self.t.c.last_seen_at < record.last_seen_at - timedelta(hours=13)))
            else:
                conn.execute(update(self.t).where(self.t.c.id_hash == record.id_hash).values(**values))

    def touch(self, id_hash: str, when: datetime) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(self.t).where(self.t.c.id_hash == id_hash).values(last_seen_at=when))

    def delete(self, id_hash: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(self.t).where(self.t.c.id_hash == id_hash))

    def delete_user(self, user_id: str, *, except_hash: str | None = None) -> int:
        stmt = delete(self.t).where(self.t.c.user_id == user_id)
        if except_hash:
            stmt = stmt.where(self.t.c.id_hash != except_hash)
        with self.engine.begin() as conn:
            return conn.execute(stmt).rowcount

    def count_user(self, user_id: str) -> int:
        with self.engine.connect() as conn:
            return len(conn.execute(select(self.t.c.id_hash).where(self.t.c.user_id == user_id)).all())

    def purge_expired(self, idle: timedelta, absolute: timedelta) -> int:
        now = utcnow()
        with self.engine.begin() as conn:
            return conn.execute(
                delete(self.t).where(
                    (self.t.c.last_seen_at < now - idle) | (self.t.c.created_at < now - absolute)
                )
            ).rowcount


class RedisStore:
    """Sessions in Redis with a TTL equal to the idle limit; a per-user set allows "sign out everywhere"."""

    def __init__(self, client, idle: timedelta, prefix: str = "taiwa:sess:") -> None:
        self.r = client
        self.idle = idle
        self.prefix = prefix

    def _key(self, id_hash: str) -> str:
        return self.prefix + id_hash

    def _ukey(self, user_id: str) -> str:
        return self.prefix + "user:" + user_id

    def load(self, id_hash: str) -> Record | None:
        raw = self.r.get(self._key(id_hash))
        if raw is None:
            return None
        d = json.loads(raw)
        return Record(
            id_hash, d["user_id"], datetime.fromisoformat(d["created_at"]),
            datetime.fromisoformat(d["last_seen_at"]), d["data"],
        )

    def save(self, record: Record, *, new: bool) -> None:
        payload = json.dumps(
            {
                "user_id": record.user_id,
                "created_at": record.created_at.isoformat(),
                "last_seen_at": record.last_seen_at.isoformat(),
                "data": record.data,
            }
        )
        pipe = self.r.pipeline()
        pipe.set(self._key(record.id_hash), payload, ex=int(self.idle.total_seconds()))
        if record.user_id:
            pipe.sadd(self._ukey(record.user_id), record.id_hash)
        pipe.execute()

    def touch(self, id_hash: str, when: datetime) -> None:
        rec = self.load(id_hash)
        if rec is not None:
            rec.last_seen_at = when
            self.save(rec, new=False)

    def delete(self, id_hash: str) -> None:
        self.r.delete(self._key(id_hash))

    def delete_user(self, user_id: str, *, except_hash: str | None = None) -> int:
        hashes = [h.decode() if isinstance(h, bytes) else h for h in self.r.smembers(self._ukey(user_id))]
        doomed = [h for h in hashes if h != except_hash]
        if doomed:
            self.r.delete(*[self._key(h) for h in doomed])
            self.r.srem(self._ukey(user_id), *doomed)
        return len(doomed)

    def count_user(self, user_id: str) -> int:
        hashes = self.r.smembers(self._ukey(user_id))
        return sum(1 for h in hashes if self.r.exists(self._key(h.decode() if isinstance(h, bytes) else h)))


class ServerSession(CallbackDict, SessionMixin):
    def __init__(self, initial: dict | None = None, record: Record | None = None, *,
                 failure: Exception | None = None) -> None:
        def on_update(_self: ServerSession) -> None:
            _self.modified = True

        super().__init__(initial or {}, on_update)
        self.record = record
        #: why the store could not be read (raised again inside the request: clearance.outage)
        self.failure = failure
        self.modified = False
        self.rotate = False
        self.destroy = False

    @property
    def new(self) -> bool:  # type: ignore[override]
        return self.record is None


class ServerSessionInterface(SessionInterface):
    def __init__(self, store: SessionStore, idle: timedelta, absolute: timedelta) -> None:
        self.store = store
        self.idle = idle
        self.absolute = absolute

    def open_session(self, app: Flask, request: Request) -> ServerSession:
        token = request.cookies.get(self.get_cookie_name(app), "")
        if not token or len(token) > 64 or not set(token) <= _TOKEN_CHARS:
            return ServerSession()  # missing or garbage cookie: a fresh, empty session
        try:
            record = self.store.load(token_hash(token))
            if record is None:
                return ServerSession()
            now = utcnow()
            if now - record.last_seen_at > self.idle or now - record.created_at > self.absolute:
                self.store.delete(record.id_hash)
                return ServerSession()
        except Exception as exc:  # kept and raised again inside the request
            # Raised here, Flask would leave the request without any session and its error page
            # would fail again on it. Instead the first before-request hook raises it
            # (outage.raise_session_failure), where the error handlers see this empty session.
            return ServerSession(failure=exc)
        return ServerSession(record.data, record)

    def save_session(self, app: Flask, session: ServerSession, response: Response) -> None:  # type: ignore[override]
        if session is None or session.failure is not None or outage.answered():
            # The store could not be read, or is what failed: writing would fail again, and a
            # new empty session would replace the visitor's cookie. Keep the cookie as it is.
            return
        name = self.get_cookie_name(app)
        domain, path = self.get_cookie_domain(app), self.get_cookie_path(app)
        secure = self.get_cookie_secure(app) or _request_is_tls()
        now = utcnow()
        if session.destroy or (not session and session.record is not None and session.modified):
            if session.record is not None:
                self.store.delete(session.record.id_hash)
            response.delete_cookie(name, domain=domain, path=path, secure=secure, httponly=True,
                                   samesite=self.get_cookie_samesite(app))
            return
        if session.record is not None and session.rotate:
            self.store.delete(session.record.id_hash)
            session.record = None
        if session.record is None:
            if not session:
                return  # nothing worth storing: no row, no cookie
            token = secrets.token_urlsafe(32)
            session.record = Record(token_hash(token), session.get("_user_id"), now, now, dict(session))
            self.store.save(session.record, new=True)
            response.set_cookie(
                name, token, httponly=True, secure=secure, samesite=self.get_cookie_samesite(app),
                domain=domain, path=path,
            )
            response.vary.add("Cookie")
            return
        rec = session.record
        if session.modified:
            rec.data, rec.user_id, rec.last_seen_at = dict(session), session.get("_user_id"), now
            self.store.save(rec, new=False)
        elif now - rec.last_seen_at > TOUCH_EVERY:
            self.store.touch(rec.id_hash, now)
        response.vary.add("Cookie")


def _request_is_tls() -> bool:
    from flask import request

    return request.is_secure


def rotate(session: SessionMixin) -> None:
    """Issue a new id at the end of this request (sign-in), keeping the content."""
    session.rotate = True  # type: ignore[attr-defined]


def destroy(session: SessionMixin) -> None:
    """Delete the stored session and the cookie (sign-out)."""
    session.clear()
    session.destroy = True  # type: ignore[attr-defined]
