"""Exception types of clearance.crypto.

Messages never contain plaintext or key material: they name the key id and
version, the context and what the operator should do, nothing else.
"""

from __future__ import annotations


class CryptoError(Exception):
    """Base class for every error raised by clearance.crypto."""


class DecryptionError(CryptoError):
    """A ciphertext could not be opened: tampered, truncated, copied to another
    place (row, column, level), or its key version is not available.

    The single exception type callers of open_/open_text/decrypt_stream catch.

    `where` is (table, column, row id) when the failing place is known (set by
    EncryptedField reads and by clearance.files); clearance.failclosed puts it
    in the audit entry. It never holds content.
    """

    where: tuple[str, str, str] | None = None


class KeyUnavailable(CryptoError):
    """Keys are missing or unusable; the message tells the operator what to do.
    The app factory lets it propagate so the app refuses to start."""


class KeyInUse(CryptoError):
    """A key version cannot be retired while records are still wrapped by it."""


class MissingRowId(CryptoError, ValueError):
    """An EncryptedField was used on an object whose primary key is not set yet."""
