"""Primitives under a key the caller holds, for protocols outside the envelope format.

The envelope (envelope.py) seals database fields under the key provider. A few
places need primitives under keys of their own instead: the consultation
desk's receipt (a peppered PRF, a view key derived from the receipt), its
server-side session (a key derived from the cookie token), throttling and
rate-limit keys (HMACs of addresses and e-mails), CSRF tokens. They call these
functions, so no module outside clearance.crypto touches `cryptography` or
`hmac` (tests/crypto/test_primitives_boundary.py holds that).

    keyed_hash(key, message) -> 32 bytes          HMAC-SHA256
    same(a, b) -> bool                            constant-time equality
    derive_key(secret, info, salt=None) -> bytes  HKDF-SHA256 (RFC 5869)
    seal_with_key(key, data, ad) -> bytes         nonce(12) ‖ AES-256-GCM ciphertext ‖ tag(16)
    open_with_key(key, blob, ad) -> bytes         DecryptionError on any mismatch
    signing_public_key(seed) -> 32 bytes          Ed25519 public key of a 32-byte private seed
    sign(seed, message) -> 64 bytes               Ed25519 signature (RFC 8032)
    verify_signature(public, message, sig) -> bool

These formats are frozen by the data they protect (receipts' wrapped case
keys, sealed case state, desk sessions); never change what they compute.
"""

from __future__ import annotations

import hmac
import os

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from .errors import DecryptionError

#: bytes of the random nonce in front of a seal_with_key blob
KEYED_NONCE_LEN = 12
#: bytes of the GCM tag at its end
KEYED_TAG_LEN = 16
_KEY_LEN = 32


def keyed_hash(key: bytes, message: bytes) -> bytes:
    """HMAC-SHA256(key, message): a pseudorandom function; without the key nobody can test a guess."""
    # hmac.digest is the one-shot C path (same output as hmac.new(...).digest(), ~3x faster): the
    # audit log MACs every entry and `audit-verify` recomputes a million of them.
    return hmac.digest(key, message, "sha256")


def same(a: bytes | str, b: bytes | str) -> bool:
    """Constant-time equality for secrets (tokens, MACs). Text of any script is compared as UTF-8,
    so a visitor's odd input is simply unequal, never an error."""
    a_bytes = a.encode("utf-8") if isinstance(a, str) else bytes(a)
    b_bytes = b.encode("utf-8") if isinstance(b, str) else bytes(b)
    return hmac.compare_digest(a_bytes, b_bytes)


def derive_key(secret: bytes, info: bytes, *, salt: bytes | None = None, length: int = _KEY_LEN) -> bytes:
    """HKDF-SHA256: a key for one purpose (`info`) from a secret with enough entropy of its own."""
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=salt, info=info).derive(secret)


def seal_with_key(key: bytes, data: bytes, ad: bytes) -> bytes:
    """AES-256-GCM under `key` with a fresh random nonce, bound to the associated data `ad`.

    Each key must seal few enough values for random 96-bit nonces (the callers use per-case
    or per-token keys)."""
    if len(key) != _KEY_LEN:
        raise ValueError("seal_with_key needs a 256-bit key")
    nonce = os.urandom(KEYED_NONCE_LEN)
    return nonce + AESGCM(key).encrypt(nonce, data, ad)


def open_with_key(key: bytes, blob: bytes, ad: bytes) -> bytes:
    """The data sealed by seal_with_key(key, data, ad); DecryptionError for a wrong key or AD,
    a truncated or edited blob. The error chains no cryptography internals."""
    if len(key) != _KEY_LEN or len(blob) < KEYED_NONCE_LEN + KEYED_TAG_LEN:
        raise DecryptionError("keyed ciphertext or key has the wrong length")
    try:
        return AESGCM(key).decrypt(blob[:KEYED_NONCE_LEN], blob[KEYED_NONCE_LEN:], ad)
    except (InvalidTag, ValueError):
        raise DecryptionError("keyed ciphertext does not authenticate") from None


def signing_public_key(seed: bytes) -> bytes:
    """The raw 32-byte Ed25519 public key of the private key `seed` (32 bytes)."""
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    return Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def sign(seed: bytes, message: bytes) -> bytes:
    """Ed25519 signature (64 bytes) of `message` under the private key `seed` (deterministic, RFC 8032)."""
    return Ed25519PrivateKey.from_private_bytes(seed).sign(message)


def verify_signature(public: bytes, message: bytes, signature: bytes) -> bool:
    """True if `signature` is a valid Ed25519 signature of `message` by the raw public key `public`;
    False for anything malformed, never an exception."""
    try:
        Ed25519PublicKey.from_public_bytes(bytes(public)).verify(bytes(signature), message)
        return True
    except (InvalidSignature, ValueError, TypeError):
        return False
