"""Failed sign-in throttling per account name and per client address.

Keys are HMACs, so neither addresses nor e-mail addresses are stored, and an
unknown e-mail is throttled exactly like a real one (no account discovery).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from clearance import crypto
from clearance.auth.models import ThrottleBucket
from clearance.db import utcnow


@dataclass(frozen=True)
class Limits:
    account_max: int
    client_max: int
    window: timedelta


def bucket_key(secret: str, kind: str, value: str) -> str:
    digest = crypto.keyed_hash(secret.encode(), f"{kind}:{value}".encode()).hex()
    return f"{kind}:{digest[:64]}"


def locked_until(session: Session, key: str, now: datetime | None = None) -> datetime | None:
    now = now or utcnow()
    b = session.get(ThrottleBucket, key)
    if b is not None and b.locked_until is not None and b.locked_until > now:
        return b.locked_until
    return None


def record_failure(session: Session, key: str, limit: int, window: timedelta) -> bool:
    """Count one failure; return True when this failure locks the key."""
    now = utcnow()
    b = session.execute(select(ThrottleBucket).where(ThrottleBucket.key == key).with_for_update()).scalar_one_or_none()
    if b is None:
        b = ThrottleBucket(key=key, failures=0, window_started_at=now)
        session.add(b)
    if now - b.window_started_at > window:
        b.failures, b.window_started_at, b.locked_until = 0, now, None
    b.failures += 1
    if b.failures >= limit and b.locked_until is None:
        b.locked_until = now + window
        return True
    return False


def clear(session: Session, key: str) -> None:
    session.execute(delete(ThrottleBucket).where(ThrottleBucket.key == key))
