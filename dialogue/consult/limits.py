"""Rate limits and lock-outs that never store an address.

A client is known only as HMAC-SHA256(day key, address). The day key is
random, lives in memory (or in Redis, with a time-to-live, when
TAIWA_REDIS_URL is set so every worker shares it) and is replaced every day;
yesterday's counters can then no longer be tied to any address, not even by
us. Counters are fixed windows that expire on their own.

In memory, each worker process counts for itself: with N workers a client
may get up to N times the configured limit. Configure Redis for exact limits
across workers and hosts.
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass
from typing import Protocol

from flask import Flask

from clearance import crypto
from dialogue.consult import clock

GLOBAL = "*"


@dataclass(frozen=True)
class Rule:
    bucket: str
    limit: int
    window: int  # seconds


class Limiter(Protocol):
    def client_key(self, address: str) -> str: ...
    def count(self, rule: Rule, who: str) -> int: ...
    def hit(self, rule: Rule, who: str) -> int: ...


class MemoryLimiter:
    """Counters in this process's memory. Expired windows are swept as we go."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: dict[str, tuple[int, float]] = {}
        self._day: object = None
        self._day_key = b""
        self._last_sweep = 0.0

    def _key_for_today(self) -> bytes:
        day = clock.today()
        if day != self._day:
            self._day, self._day_key = day, secrets.token_bytes(32)
            self._counts.clear()  # yesterday's hashes are meaningless now
        return self._day_key

    def client_key(self, address: str) -> str:
        with self._lock:
            key = self._key_for_today()
        return crypto.keyed_hash(key, address.encode()).hex()[:32]

    def _slot(self, rule: Rule, who: str) -> tuple[str, float]:
        now = time.monotonic()
        window_no = int(time.time() // rule.window)
        return f"{rule.bucket}:{who}:{window_no}", now + rule.window

    def count(self, rule: Rule, who: str) -> int:
        slot, _ = self._slot(rule, who)
        with self._lock:
            self._key_for_today()
            entry = self._counts.get(slot)
            return entry[0] if entry and entry[1] > time.monotonic() else 0

    def hit(self, rule: Rule, who: str) -> int:
        slot, expires = self._slot(rule, who)
        now = time.monotonic()
        with self._lock:
            self._key_for_today()
            if now - self._last_sweep > 60:
                self._counts = {k: v for k, v in self._counts.items() if v[1] > now}
                self._last_sweep = now
            n, exp = self._counts.get(slot, (0, expires))
            self._counts[slot] = (n + 1, exp)
            return n + 1


class RedisLimiter:
    """Counters in Redis (INCR + EXPIRE), shared by every worker; the day key too, with a TTL."""

    def __init__(self, client, prefix: str = "taiwa:consult:") -> None:
        self.r = client
        self.prefix = prefix
        self._cached: tuple[object, bytes] | None = None

    def _key_for_today(self) -> bytes:
        day = clock.today()
        if self._cached and self._cached[0] == day:
            return self._cached[1]
        name = f"{self.prefix}daykey:{day.isoformat()}"
        self.r.set(name, secrets.token_bytes(32), nx=True, ex=2 * 86400)
        key = self.r.get(name)
        self._cached = (day, key)
        return key

    def client_key(self, address: str) -> str:
        return crypto.keyed_hash(self._key_for_today(), address.encode()).hex()[:32]

    def _slot(self, rule: Rule, who: str) -> str:
        return f"{self.prefix}rl:{rule.bucket}:{who}:{int(time.time() // rule.window)}"

    def count(self, rule: Rule, who: str) -> int:
        raw = self.r.get(self._slot(rule, who))
        return int(raw) if raw else 0

    def hit(self, rule: Rule, who: str) -> int:
        slot = self._slot(rule, who)
        pipe = self.r.pipeline()
        pipe.set(slot, 0, ex=rule.window, nx=True)  # the window's TTL starts with its first hit
        pipe.incr(slot)
        _, n = pipe.execute()
        return int(n)


def make_limiter(app: Flask) -> Limiter:
    if app.config.get("TAIWA_REDIS_URL"):
        import redis

        return RedisLimiter(redis.Redis.from_url(app.config["TAIWA_REDIS_URL"]))
    return MemoryLimiter()


def rules(config) -> dict[str, tuple[Rule, Rule]]:
    """(per client, global) rule pairs, from the TAIWA_CONSULT_* settings."""
    w = int(config["TAIWA_CONSULT_RATE_WINDOW"])

    def pair(name: str, key: str) -> tuple[Rule, Rule]:
        return (Rule(name, int(config[f"TAIWA_CONSULT_{key}_PER_CLIENT"]), w),
                Rule(name + "-all", int(config[f"TAIWA_CONSULT_{key}_GLOBAL"]), w))

    return {
        "submit": pair("submit", "SUBMITS"),
        "reply": pair("reply", "REPLIES"),
        "receipt": pair("receipt", "RECEIPT_FAILURES"),
        "session": pair("session", "SESSIONS"),
    }


def over(limiter: Limiter, pair: tuple[Rule, Rule], client: str) -> bool:
    """Has this client, or everyone together, used up the window?"""
    per_client, everyone = pair
    return limiter.count(per_client, client) >= per_client.limit or limiter.count(everyone, GLOBAL) >= everyone.limit


def spend(limiter: Limiter, pair: tuple[Rule, Rule], client: str) -> None:
    per_client, everyone = pair
    limiter.hit(per_client, client)
    limiter.hit(everyone, GLOBAL)
