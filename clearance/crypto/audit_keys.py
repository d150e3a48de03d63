"""Keys of the audit log: an entry MAC key and a checkpoint signing key per key version.

Both are derived (HKDF-SHA256, one `info` label each) from the key provider's key-encryption key
of a version, so they are never stored in the database, exist wherever the KEKs exist (key file,
TAIWA_KEYS, created with the dev keys) and rotate with them: each entry and checkpoint records the
version ("main:2") it was made under, and an older version stays usable for verification.

Retiring a version deletes its KEK; FileKeyProvider.retire keeps the derived audit MAC key and the
public signing key in the tombstone (neither opens any encrypted record), so old entries stay
verifiable. A KMS-backed provider that never hands out KEKs implements
`audit_secret(key_id, version, info) -> 32 bytes` instead (e.g. an HMAC computed by the KMS).
"""

from __future__ import annotations

from typing import Any

from .errors import KeyUnavailable
from .keyed import derive_key, signing_public_key
from .keys import KeyRef, check_key_id, check_version, get_provider

MAC_INFO = b"taiwa-audit/v1/entry-mac"
SIGN_INFO = b"taiwa-audit/v1/checkpoint-signing"


def ref_text(ref: KeyRef) -> str:
    return f"{ref[0]}:{ref[1]}"


def parse_ref(text: str) -> KeyRef:
    """"main:2" -> ("main", 2); KeyUnavailable for anything else (it comes from the database)."""
    try:
        kid, ver = str(text).rsplit(":", 1)
        return check_key_id(kid), check_version(int(ver))
    except (ValueError, TypeError):
        raise KeyUnavailable(f"audit key version {str(text)[:40]!r} is malformed") from None


def _secret(provider: Any, ref: KeyRef, info: bytes) -> bytes:
    cache = provider.__dict__.setdefault("_audit_key_cache", {})
    key = cache.get((ref, info))
    if key is None:
        hook = getattr(provider, "audit_secret", None)
        if hook is not None:
            key = hook(ref[0], ref[1], info)
        elif hasattr(provider, "get"):
            key = derive_key(provider.get(ref[0], ref[1]), info)
        else:
            raise KeyUnavailable(f"{type(provider).__name__} provides no audit keys (implement audit_secret)")
        cache[(ref, info)] = key
    return key


def current_ref() -> str:
    return ref_text(get_provider().current())


def mac_key(ref: str) -> bytes:
    """The entry MAC key of version `ref` (KeyUnavailable if that version is gone)."""
    provider = get_provider()
    parsed = parse_ref(ref)
    retired = getattr(provider, "audit_retired", {}).get(parsed)
    if retired is not None and not _has_kek(provider, parsed):
        return retired[0]
    return _secret(provider, parsed, MAC_INFO)


def signing_seed(ref: str) -> bytes:
    """The Ed25519 private key of version `ref` (only a version with its KEK can sign)."""
    return _secret(get_provider(), parse_ref(ref), SIGN_INFO)


def public_key(ref: str) -> bytes:
    """The Ed25519 public key of version `ref`, also for a retired version."""
    provider = get_provider()
    parsed = parse_ref(ref)
    retired = getattr(provider, "audit_retired", {}).get(parsed)
    if retired is not None and not _has_kek(provider, parsed):
        return retired[1]
    cache = provider.__dict__.setdefault("_audit_key_cache", {})
    pub = cache.get((parsed, b"public"))
    if pub is None:
        pub = cache[(parsed, b"public")] = signing_public_key(signing_seed(ref))
    return pub


def retired_material(kek: bytes) -> tuple[bytes, bytes]:
    """What a tombstone keeps of a retired KEK for the audit log: (MAC key, public signing key)."""
    return derive_key(kek, MAC_INFO), signing_public_key(derive_key(kek, SIGN_INFO))


def _has_kek(provider: Any, ref: KeyRef) -> bool:
    try:
        provider.get(*ref)
        return True
    except (KeyUnavailable, AttributeError):
        return False
