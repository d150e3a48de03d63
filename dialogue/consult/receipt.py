"""受付番号 — the receipt: how it is made, shown, typed back, and what is kept of it.

A receipt is 25 decimal digits from `secrets` (log2(10**25) ≈ 83 bits), shown
in five groups of five. The server keeps three things derived from it, each
with the pepper (a random 256-bit secret sealed under the key provider, so
a stolen database alone cannot test a guess):

* lookup id  = HMAC-SHA256(pepper, "lookup" | receipt)[:16] — finds the one
  candidate case with an index, instead of running Argon2 over every case;
* verifier   = Argon2id(HMAC-SHA256(pepper, "verify" | receipt)) — what is
  checked, always exactly once per attempt (a dummy hash when no case matched);
* view key   = HKDF-SHA256(HMAC-SHA256(pepper, "view" | receipt), salt, case id)
  — wraps the case key, which seals what only the submitter's own view needs.

The receipt itself is never stored, logged or put in a session.
"""

from __future__ import annotations

import math
import os
import secrets
import threading
import unicodedata
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from clearance import crypto
from clearance.auth import passwords
from clearance.db import new_id

ALPHABET = "0123456789"
LENGTH = 25
GROUP = 5
#: computed from the generator's own parameters; tests hold it to ≥ 80
ENTROPY_BITS = LENGTH * math.log2(len(ALPHABET))
LOOKUP_BYTES = 16
CASE_KEY_BYTES = 32
_SALT = 16
_SEPARATORS = " -‐‑‒–—―ー－_.・"


def generate() -> str:
    """A fresh receipt: LENGTH characters, each drawn uniformly by `secrets`."""
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def grouped(receipt: str) -> list[str]:
    return [receipt[i : i + GROUP] for i in range(0, len(receipt), GROUP)]


def display(receipt: str) -> str:
    return " ".join(grouped(receipt))


def normalise(typed: str | None) -> str | None:
    """What the visitor typed → the canonical receipt, or None if it cannot be one.

    Full-width digits (IME) become ASCII; spaces and dashes between groups are ignored.
    """
    if not typed or len(typed) > 120:
        return None
    text = unicodedata.normalize("NFKC", typed)
    text = "".join(c for c in text if c not in _SEPARATORS and not c.isspace())
    if len(text) != LENGTH or any(c not in ALPHABET for c in text):
        return None
    return text


# ---------------------------------------------------------------------------
# The pepper
# ---------------------------------------------------------------------------

PEPPER_PURPOSE = "pepper"


def pepper(session: Session) -> bytes:
    """The desk's pepper, from this process's cache or unsealed from consult_secret.

    Created on first use (two workers racing both try; the unique purpose lets
    exactly one insert win and the other reads the winner's).
    """
    cache = current_app.extensions.setdefault("consult_pepper", {})
    key = current_app.config["SQLALCHEMY_DATABASE_URI"]
    if key in cache:
        return cache[key]
    if session.info.get("consult_pepper_in_transaction"):
        return pepper_in(session)
    from dialogue.consult.models import DeskSecret

    row = session.execute(select(DeskSecret).where(DeskSecret.purpose == PEPPER_PURPOSE)).scalar_one_or_none()
    value = row.value if row is not None else _create_pepper(session)
    if len(value) != 32:
        raise RuntimeError("consult pepper has the wrong length")
    cache[key] = value
    return value


def _create_pepper(session: Session) -> bytes:
    """Insert a fresh pepper in a transaction of its own and return whichever pepper won."""
    from dialogue.consult.models import DeskSecret

    with Session(session.get_bind()) as own:
        row = DeskSecret(id=new_id(), purpose=PEPPER_PURPOSE)
        row.value = os.urandom(32)
        own.add(row)
        try:
            own.commit()
            return row.value
        except IntegrityError:
            own.rollback()
        return own.execute(select(DeskSecret).where(DeskSecret.purpose == PEPPER_PURPOSE)).scalar_one().value


# ---------------------------------------------------------------------------
# Derivations
# ---------------------------------------------------------------------------


def _prf(pep: bytes, purpose: bytes, receipt: str) -> bytes:
    return crypto.keyed_hash(pep, b"taiwa-consult-receipt/" + purpose + b"\x00" + receipt.encode("ascii"))


def lookup_id(pep: bytes, receipt: str) -> str:
    return _prf(pep, b"lookup", receipt)[:LOOKUP_BYTES].hex()


def _verifier_input(pep: bytes, receipt: str) -> str:
    return _prf(pep, b"verify", receipt).hex()


#: One Argon2id at a time per process. Each already runs on four lanes (p=4) over 64 MiB: more
#: at once only thrash the cores and the memory bus, and starve the desk's other pages.
_ARGON2_SLOT = threading.BoundedSemaphore(1)


def hash_receipt(pep: bytes, receipt: str) -> str:
    """Argon2id (the app's profile) over the peppered receipt."""
    with _ARGON2_SLOT:
        return passwords.hash_secret(_verifier_input(pep, receipt))


def verify_receipt(pep: bytes, receipt: str, stored: str | None) -> bool:
    """Exactly one Argon2id verification, whether or not a case was found."""
    with _ARGON2_SLOT:
        if stored is None:
            passwords.burn_time(_verifier_input(pep, receipt))
            return False
        return passwords.verify_secret(stored, _verifier_input(pep, receipt))


def _view_key(pep: bytes, receipt: str, salt: bytes, case_id: str) -> bytes:
    return crypto.derive_key(_prf(pep, b"view", receipt), b"taiwa-consult-view/v1/" + case_id.encode(), salt=salt)


def wrap_case_key(pep: bytes, receipt: str, case_id: str, case_key: bytes) -> bytes:
    """salt(16) ‖ nonce(12) ‖ AES-256-GCM(view key, case key) ‖ tag(16)."""
    salt = os.urandom(_SALT)
    return salt + crypto.seal_with_key(_view_key(pep, receipt, salt, case_id), case_key, _ad(case_id))


def unwrap_case_key(pep: bytes, receipt: str, case_id: str, wrapped: bytes) -> bytes | None:
    """The case key, or None when the receipt (or the wrapped bytes) do not fit this case."""
    salt = wrapped[:_SALT]
    try:
        return crypto.open_with_key(_view_key(pep, receipt, salt, case_id), wrapped[_SALT:], _ad(case_id))
    except crypto.DecryptionError:
        return None


def _ad(case_id: str) -> bytes:
    return b"taiwa-consult-case-key/v1/" + case_id.encode()


def _state_ad(case_id: str) -> bytes:
    return b"taiwa-consult-state/v1/" + case_id.encode()


def seal_state(case_key: bytes, case_id: str, data: bytes) -> bytes:
    return crypto.seal_with_key(case_key, data, _state_ad(case_id))


def open_state(case_key: bytes, case_id: str, blob: bytes) -> bytes | None:
    try:
        return crypto.open_with_key(case_key, blob, _state_ad(case_id))
    except crypto.DecryptionError:
        return None


@dataclass(frozen=True)
class Issued:
    """Everything stored about a new receipt, plus the receipt for the one page that shows it."""

    receipt: str
    lookup_id: str
    receipt_hash: str
    case_key: bytes
    submitter_key_wrapped: bytes


def issue(pep: bytes, case_id: str) -> Issued:
    receipt = generate()
    case_key = os.urandom(CASE_KEY_BYTES)
    return Issued(
        receipt=receipt,
        lookup_id=lookup_id(pep, receipt),
        receipt_hash=hash_receipt(pep, receipt),
        case_key=case_key,
        submitter_key_wrapped=wrap_case_key(pep, receipt, case_id, case_key),
    )


def pepper_in(session: Session) -> bytes:
    """The pepper inside the caller's transaction (the demo seed, which holds the write lock
    already and commits everything at once). Not cached: the transaction may still roll back."""
    from dialogue.consult.models import DeskSecret

    row = session.execute(select(DeskSecret).where(DeskSecret.purpose == PEPPER_PURPOSE)).scalar_one_or_none()
    if row is None:
        row = DeskSecret(id=new_id(), purpose=PEPPER_PURPOSE)
        row.value = os.urandom(32)
        session.add(row)
        session.flush()
    return row.value
