"""The one SQLAlchemy handle, shared by clearance/ and dialogue/."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

# Stable constraint names keep Alembic migrations identical on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


db = SQLAlchemy(model_class=Base)


def new_id() -> str:
    """Client-generated UUID primary key, so a row id is known before insert
    (the encryption layer binds ciphertexts to it)."""
    return str(uuid.uuid4())


def utcnow() -> datetime:
    """Naive UTC 'now': every timestamp column stores UTC without tzinfo."""
    return datetime.now(UTC).replace(tzinfo=None)
