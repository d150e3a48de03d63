"""Password hashing (Argon2id) and the password policy after NIST SP 800-63B.

Policy: at least 12 characters, up to 256 (long passphrases welcome), not on a
list of common passwords (also after stripping trailing digits and symbols),
not built from the account's own name or the service's name, no composition
rules. The common-password list is Django's (BSD licence), derived from
Royce Williams' list of 20,000 passwords.
"""

from __future__ import annotations

import gzip
import re
import unicodedata
from functools import cache
from pathlib import Path

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from flask_babel import lazy_gettext as _l

MIN_LENGTH = 12
MAX_LENGTH = 256
_LIST = Path(__file__).with_name("common-passwords.txt.gz")

# RFC 9106's second recommended option (64 MiB, 3 passes); "fast" only for the test suite.
_PROFILES = {
    "standard": PasswordHasher(time_cost=3, memory_cost=65536, parallelism=4, type=Type.ID),
    "fast": PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1, type=Type.ID),
}
_profile = "standard"


def set_profile(name: str) -> None:
    global _profile
    if name not in _PROFILES:
        raise ValueError(f"unknown Argon2 profile {name!r}")
    _profile = name


def hasher() -> PasswordHasher:
    return _PROFILES[_profile]


def hash_secret(secret: str) -> str:
    return hasher().hash(secret)


def verify_secret(stored: str, secret: str) -> bool:
    try:
        return hasher().verify(stored, secret)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def hash_password(password: str) -> str:
    return hash_secret(normalise(password))


def verify_password(stored: str, password: str) -> bool:
    return verify_secret(stored, normalise(password))


def needs_rehash(stored: str) -> bool:
    try:
        return hasher().check_needs_rehash(stored)
    except InvalidHashError:
        return True


_DUMMY: dict[str, str] = {}


def burn_time(secret: str) -> None:
    """Spend what a real verification costs, so an unknown e-mail answers as slowly as a known one.

    Exactly one verification: the dummy hash is made once per profile (not with setdefault,
    whose default argument is evaluated, i.e. hashed, on every call and so doubled the cost
    of an unknown account: a clock that told which accounts exist).
    """
    dummy = _DUMMY.get(_profile)
    if dummy is None:
        dummy = _DUMMY[_profile] = hash_secret("dummy password for timing")
    verify_secret(dummy, secret)


@cache
def common_passwords() -> frozenset[str]:
    with gzip.open(_LIST, "rt", encoding="utf-8") as fh:
        return frozenset(line.strip().lower() for line in fh if line.strip())


def normalise(password: str) -> str:
    """NFKC so that full-width and half-width forms count as the same password."""
    return unicodedata.normalize("NFKC", password)


def policy_problems(password: str, context_words: tuple[str, ...] = ()) -> list[str]:
    """Return human-readable reasons the password is refused (empty when acceptable)."""
    pw = normalise(password)
    problems: list[str] = []
    if len(pw) < MIN_LENGTH:
        problems.append(str(_l("Use at least %(n)d characters. A passphrase of several words is easy to remember.", n=MIN_LENGTH)))
    if len(pw) > MAX_LENGTH:
        problems.append(str(_l("Use at most %(n)d characters.", n=MAX_LENGTH)))
    lowered = pw.lower()
    stem = re.sub(r"[\d\W_]+$", "", lowered)
    common = common_passwords()
    if lowered in common or (len(stem) >= 6 and stem in common):
        problems.append(str(_l("This password is on a list of commonly used passwords. Choose another.")))
    elif len(set(lowered)) <= 3 or _is_sequence(lowered):
        problems.append(str(_l("Repeated or sequential characters are too easy to guess.")))
    words = {w.lower() for w in context_words if w and len(w) >= 4}
    words |= {"taiwa", "meti"}
    if any(w in lowered for w in words) and len(lowered) < 2 * MIN_LENGTH:
        problems.append(str(_l("Do not build the password from your name, e-mail address or this service's name.")))
    return problems


_RUNS = ("0123456789" * 4, "abcdefghijklmnopqrstuvwxyz" * 2, "qwertyuiopasdfghjklzxcvbnm" * 2)


def _is_sequence(s: str) -> bool:
    """A run along the digits, the alphabet or the keyboard, either way ("123456789012", "zyxw…")."""
    return len(s) >= 6 and any(s in run or s in run[::-1] for run in _RUNS)
