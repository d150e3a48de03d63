"""Data generation and cached page bodies.

Every committed transaction that changed a record moves one counter, ``data_generation``,
in the same transaction. A page body rendered from the records can then be cached under
the generation it was rendered at: any later change anywhere gives a new key, so a cached
body is never older than the data the next request would read (see docs/DECISIONS.md).

The bump is the last statement of the transaction (``before_commit``), so its row lock is
held only for the commit itself and is never held while waiting for another lock: no
deadlock with the audit head or anything else. Writes made outside an ORM session (bulk
loads by hand, SQL consoles) do not move it; bodies also expire after a TTL.

A body (inside the layout) may be shared by the viewers its key names (the register's by role);
a whole page (``cached_page``) belongs to one account and is stored with the session's CSRF
token cut out. Keys name everything the HTML depends on (who, language, path, script root),
and the cache belongs to one application object, so two apps in one process share nothing.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from datetime import datetime
from itertools import chain

from flask import Flask, current_app, request
from markupsafe import Markup
from sqlalchemy import BigInteger, String, event, insert, inspect, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from clearance.db import db

#: tables written as bookkeeping, often while merely reading a page: they change no page body
QUIET_TABLES = frozenset({
    "data_generation", "web_session", "audit_entry", "audit_head", "mail_message", "throttle_bucket",
    "briefing_access", "consult_desk_session", "consult_day_tally",
})
_NAME = "data"


class DataGeneration(db.Model):
    """One row per counter; ``data`` moves with every committed change to the records."""

    __tablename__ = "data_generation"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)


def _table_of(obj: object) -> str:
    return inspect(obj).mapper.local_table.name


@event.listens_for(Session, "after_flush")
def _note_flushed_changes(session: Session, _context) -> None:
    if session.info.get("data_changed"):
        return
    if any(_table_of(o) not in QUIET_TABLES for o in chain(session.new, session.dirty, session.deleted)):
        session.info["data_changed"] = True


@event.listens_for(Session, "do_orm_execute")
def _note_statement_changes(state) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        table = getattr(state.statement, "table", None)
        if getattr(table, "name", None) not in QUIET_TABLES:
            state.session.info["data_changed"] = True


@event.listens_for(Session, "before_commit")
def _bump_on_commit(session: Session) -> None:
    session.flush()  # commit() flushes after this hook; flush first so those changes count too
    if session.info.pop("data_changed", False):
        bump(session)


@event.listens_for(Session, "after_transaction_end")
def _forget_on_rollback(session: Session, transaction) -> None:
    # Only the outermost transaction: a savepoint rolled back leaves the changes flushed before it.
    if transaction.parent is None and not transaction.nested:
        session.info.pop("data_changed", None)
        session.info.pop("generation_read", None)


@event.listens_for(Session, "after_commit")
def _forget_read_generation(session: Session) -> None:
    session.info.pop("generation_read", None)  # our own commit may have moved it


_HAS_TABLE: set[str] = set()  # engines known to hold the table (a positive answer never changes)


def _has_table(session: Session) -> bool:
    conn = session.connection()
    url = str(conn.engine.url)
    if url not in _HAS_TABLE:
        if not inspect(conn).has_table(DataGeneration.__tablename__):
            return False  # a database migrated only part way (a migration test): nothing to key
        _HAS_TABLE.add(url)
    return True


def bump(session: Session) -> None:
    """Move the generation in the session's transaction (the row is recreated if missing)."""
    if not _has_table(session):
        return
    table = DataGeneration.__table__
    moved = session.execute(
        update(table).where(table.c.name == _NAME).values(value=table.c.value + 1)
    ).rowcount
    if not moved:
        session.execute(insert(table).values(name=_NAME, value=1))


def current(session: Session) -> int:
    """The committed generation this transaction reads at (0 before the first change); read once
    per transaction."""
    found = session.info.get("generation_read")
    if found is None:
        found = session.info["generation_read"] = int(session.connection().execute(CURRENT).scalar() or 0)
    return found


def note_read(session: Session, value: int | None) -> None:
    """Record a generation read along with something else (the session row), saving a query."""
    session.info["generation_read"] = int(value or 0)


#: the statement reading the generation (also a scalar subquery of the session lookup)
CURRENT = select(DataGeneration.value).where(DataGeneration.name == _NAME)


class BodyCache:
    """A least-recently-used map of rendered bodies, bounded in bytes, each with an expiry."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._items: OrderedDict[Hashable, tuple[float, Markup | int]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def get(self, key: Hashable, now: float) -> Markup | int | None:
        with self._lock:
            found = self._items.get(key)
            if found is None or found[0] <= now:
                self.misses += 1
                return None
            self._items.move_to_end(key)
            self.hits += 1
            return found[1]

    def put(self, key: Hashable, body: Markup | int, expires: float) -> None:
        size = len(body) if isinstance(body, str) else 64
        if size > self.max_bytes // 4:
            return  # one huge body would evict everything else
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._bytes -= len(old[1]) if isinstance(old[1], str) else 64
            self._items[key] = (expires, body)
            self._bytes += size
            while self._bytes > self.max_bytes:
                _, (_, dropped) = self._items.popitem(last=False)
                self._bytes -= len(dropped) if isinstance(dropped, str) else 64

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._bytes = 0


def init_app(app: Flask) -> None:
    app.extensions["taiwa_bodies"] = BodyCache(int(app.config["TAIWA_BODY_CACHE_BYTES"]))


def monotonic_at(at: datetime, now: datetime) -> float:
    """The cache's clock (monotonic seconds) at the UTC time ``at``, seen from ``now``."""
    return time.monotonic() + (at - now).total_seconds()


def cached_body(key: tuple, render: Callable[[], str], *, ttl: float = 60.0,
                valid_until: Callable[[], float | None] | None = None) -> Markup:
    """The body for ``key`` at the current generation, rendering it on a miss.

    ``key`` must name everything the body depends on besides the records (viewer, language,
    zone, query). ``ttl`` bounds what the generation cannot see: the passing of time (an
    "upcoming" list) and writes made outside the application. ``valid_until``, asked after a
    render, may shorten the life of that body (a monotonic time, e.g. when a clearance lapses).
    """
    cache: BodyCache | None = current_app.extensions.get("taiwa_bodies")
    if cache is None or ttl <= 0 or not current_app.config["TAIWA_BODY_CACHE"]:
        return Markup(render())  # noqa: S704 - output of our own autoescaped templates
    # The script root is in every key: links in a body depend on it, and a proxy may set it.
    full_key = (current(db.session), request.script_root, *key)
    now = time.monotonic()
    body = cache.get(full_key, now)
    if body is None:
        # The limit is asked before rendering: a clearance lapsing during the render still ends it.
        limit = valid_until() if valid_until is not None else None
        body = Markup(render())  # noqa: S704 - output of our own autoescaped templates
        cache.put(full_key, body, now + ttl if limit is None else min(now + ttl, limit))
    return body


def cached_count(key: tuple, count: Callable[[], int], *, ttl: float = 60.0) -> int:
    """A number computed from the records (a badge in a layout), cached like a body."""
    cache: BodyCache | None = current_app.extensions.get("taiwa_bodies")
    if cache is None or ttl <= 0 or not current_app.config["TAIWA_BODY_CACHE"]:
        return count()
    full_key = (current(db.session), *key)
    now = time.monotonic()
    found = cache.get(full_key, now)
    if found is None:
        found = count()
        cache.put(full_key, found, now + ttl)
    return int(found)


_CSRF_SLOT = "\x00csrf-token\x00"  # cannot occur in rendered HTML (the guard refuses NUL input)


def cached_page(key: tuple, render: Callable[[], str], *, ttl: float = 60.0,
                valid_until: Callable[[], float | None] | None = None) -> str:
    """A whole page for one account, its layout included, cached like a body.

    ``key`` must start with the account id (the header names the person) and include the
    language and the full path. The session's CSRF token is cut out before the page is
    stored and put back on every request, so a cached page never carries another session's
    token; a page with flash messages waiting is rendered afresh (they are shown once).
    """
    from flask import session
    from flask_wtf.csrf import generate_csrf

    if session.get("_flashes"):
        return render()
    token = generate_csrf()

    def stored() -> str:
        return render().replace(token, _CSRF_SLOT)

    return str(cached_body(("page", *key), stored, ttl=ttl, valid_until=valid_until)).replace(_CSRF_SLOT, token)
