"""Encryption at rest: envelope AES-256-GCM bound to table, column, row and level.

Public API (see docs/CRYPTO-FORMAT.md for formats and procedures):

    configure(load_provider(app.config))          # once, in create_app
    blob = seal(b"...", Context("t", "col", row_id, level))
    data = open_(blob, ctx)                        # DecryptionError on any mismatch
    seal_text / open_text, rewrap, key_version_of
    encrypt_stream(src, dst, ctx) / decrypt_stream(src, ctx) -> Iterator[bytes]
    EncryptedField("col_ct", level=...)            # model descriptor
    keyed_hash, same, derive_key, seal_with_key, open_with_key   # under a caller's own key (keyed.py)
    sign, verify_signature, signing_public_key                   # Ed25519 (keyed.py)
    audit_keys.mac_key / signing_seed / public_key               # the audit log's keys (audit_keys.py)
    rotate_keys(session) / key_status(session) / retire_version(session, kid, ver)

clearance.crypto.cli holds the Flask commands (imported separately so this
package does not import Flask).
"""

from . import audit_keys
from .envelope import (
    FORMAT_VERSION,
    MAX_LEVEL,
    Context,
    key_version_of,
    open_,
    open_text,
    rewrap,
    seal,
    seal_text,
)
from .errors import CryptoError, DecryptionError, KeyInUse, KeyUnavailable, MissingRowId
from .fields import REGISTRY, EncryptedField, fields_of, resealing
from .keyed import (
    derive_key,
    keyed_hash,
    open_with_key,
    same,
    seal_with_key,
    sign,
    signing_public_key,
    verify_signature,
)
from .keys import (
    EnvKeyProvider,
    ExternalKmsProvider,
    FileKeyProvider,
    KeyProvider,
    KeyVersion,
    LocalKeyProvider,
    configure,
    ensure_dev_keyfile,
    get_provider,
    load_provider,
)
from .rotation import (
    FILE_SOURCES,
    RotationReport,
    key_status,
    register_file_source,
    retire_version,
    rotate_keys,
)
from .stream import (
    SEGMENT_SIZE,
    decrypt_stream,
    encrypt_stream,
    key_version_of_file,
    rewrap_file,
)

__all__ = [
    "FILE_SOURCES",
    "FORMAT_VERSION",
    "MAX_LEVEL",
    "REGISTRY",
    "SEGMENT_SIZE",
    "Context",
    "CryptoError",
    "DecryptionError",
    "EncryptedField",
    "EnvKeyProvider",
    "ExternalKmsProvider",
    "FileKeyProvider",
    "KeyInUse",
    "KeyProvider",
    "KeyUnavailable",
    "KeyVersion",
    "LocalKeyProvider",
    "MissingRowId",
    "audit_keys",
    "RotationReport",
    "configure",
    "decrypt_stream",
    "derive_key",
    "encrypt_stream",
    "ensure_dev_keyfile",
    "fields_of",
    "get_provider",
    "key_status",
    "key_version_of",
    "key_version_of_file",
    "keyed_hash",
    "load_provider",
    "open_",
    "open_text",
    "open_with_key",
    "register_file_source",
    "resealing",
    "retire_version",
    "rewrap",
    "rewrap_file",
    "rotate_keys",
    "same",
    "seal",
    "seal_text",
    "seal_with_key",
    "sign",
    "signing_public_key",
    "verify_signature",
]
