"""EncryptedField: a model attribute sealed into a LargeBinary column.

    class UserAccount(db.Model):
        __tablename__ = "user_account"
        totp_secret_ct = mapped_column(LargeBinary, nullable=True)
        totp_secret = EncryptedField("totp_secret_ct")

The context is (obj.__tablename__, field name, obj.id, level). Works with any
SQLAlchemy declarative model (Flask-SQLAlchemy or plain), since it only reads
and writes the underlying mapped attribute.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

from .envelope import Context, open_, open_text, seal, seal_text
from .errors import DecryptionError, MissingRowId

LevelSpec = Callable[[Any], int] | str | int

#: every (model class, field name) using EncryptedField; rotation and
#: key-status walk it, so all models must be imported before they run.
REGISTRY: dict[tuple[type, str], EncryptedField] = {}


class EncryptedField:
    """Descriptor: reading returns the decrypted value (str, or bytes with
    binary=True) or None; writing seals (None stores NULL).

    `level` is an int, the name of an attribute holding the level, or a
    callable obj -> level. The level is part of the AD: after changing it,
    re-seal the fields (use `resealing(obj)`), or they no longer open.
    """

    def __init__(self, column_attr: str, *, level: LevelSpec = 0, binary: bool = False) -> None:
        self.column_attr = column_attr
        self.level = level
        self.binary = binary
        self.name = ""
        self.owner: type | None = None

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name
        self.owner = owner
        REGISTRY[(owner, name)] = self

    def _level_of(self, obj: Any) -> int:
        spec = self.level
        if isinstance(spec, str):
            return getattr(obj, spec)
        if callable(spec):
            return spec(obj)
        return spec

    def context(self, obj: Any) -> Context:
        row_id = getattr(obj, "id", None)
        if not row_id:
            raise MissingRowId(
                f"{type(obj).__name__}.{self.name}: set obj.id (e.g. id=new_id() in the constructor, before "
                "this field) before reading or writing it; the column default runs only at flush, too late "
                "for the ciphertext to be bound to the row"
            )
        return Context(type(obj).__tablename__, self.name, str(row_id), self._level_of(obj))

    def __get__(self, obj: Any, objtype: type | None = None) -> Any:
        if obj is None:
            return self
        raw = getattr(obj, self.column_attr)
        if raw is None:
            return None
        ctx = self.context(obj)
        try:
            return open_(raw, ctx) if self.binary else open_text(raw, ctx)
        except DecryptionError as exc:
            exc.where = (ctx.table, self.name, ctx.row_id)  # for the fail-closed audit entry
            raise

    def __set__(self, obj: Any, value: str | bytes | None) -> None:
        if value is None:
            setattr(obj, self.column_attr, None)
            return
        ctx = self.context(obj)
        setattr(obj, self.column_attr, seal(value, ctx) if self.binary else seal_text(value, ctx))

    # -- without an object: list queries that select columns, Core INSERT/UPDATE statements ----------

    def _column_context(self, row_id: str, level: int) -> Context:
        if self.owner is None:
            raise TypeError("EncryptedField is not attached to a model")
        if not row_id:
            raise MissingRowId(f"{self.owner.__name__}.{self.name}: a row id is needed to seal or open a value")
        return Context(self.owner.__tablename__, self.name, str(row_id), level)

    def seal_column(self, value: str | bytes | None, row_id: str, level: int = 0) -> bytes | None:
        """The column value for `value` in row `row_id` at `level` (None stays NULL), for a Core
        statement that sets the column directly. Pass the level the row will have."""
        if value is None:
            return None
        ctx = self._column_context(row_id, level)
        return seal(value, ctx) if self.binary else seal_text(value, ctx)

    def open_column(self, raw: bytes | None, row_id: str, level: int = 0) -> str | bytes | None:
        """Decrypt a value selected as a plain column (a list that loads no objects). A failure
        names this place for the fail-closed handler, exactly like an attribute read."""
        if raw is None:
            return None
        ctx = self._column_context(row_id, level)
        try:
            return open_(raw, ctx) if self.binary else open_text(raw, ctx)
        except DecryptionError as exc:
            exc.where = (ctx.table, self.name, ctx.row_id)
            raise


def fields_of(cls: type) -> list[EncryptedField]:
    """EncryptedFields declared on a class or its bases."""
    seen: dict[str, EncryptedField] = {}
    for klass in reversed(cls.__mro__):
        for name, value in vars(klass).items():
            if isinstance(value, EncryptedField):
                seen[name] = value
    return list(seen.values())


@contextlib.contextmanager
def resealing(obj: Any) -> Iterator[None]:
    """Re-seal every EncryptedField of `obj` around a change of its level (or of
    anything else in the context):

        with resealing(doc):
            doc.level = 2

    Values are decrypted under the old context on entry and sealed under the
    new one on exit; nothing is written if the block raises.
    """
    fields = fields_of(type(obj))
    values = {f.name: f.__get__(obj, type(obj)) for f in fields}
    yield
    for f in fields:
        f.__set__(obj, values[f.name])
