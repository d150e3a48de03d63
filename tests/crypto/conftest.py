"""Fixtures for clearance.crypto: a throwaway key file, Flask and plain SQLAlchemy models.

The test models are taken out of the global REGISTRY at import and put back
only while a crypto test runs, so rotation tests elsewhere never see them.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
from flask import Flask
from sqlalchemy import Integer, LargeBinary, String, create_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from clearance.crypto import (
    FILE_SOURCES,
    REGISTRY,
    EncryptedField,
    FileKeyProvider,
    ensure_dev_keyfile,
    keys,
)
from clearance.db import db


class CryptoTestNote(db.Model):
    """A Flask-SQLAlchemy model with a fixed-level and a per-row-level field."""

    __tablename__ = "crypto_test_note"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    level: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    body_ct: Mapped[bytes | None] = mapped_column(LargeBinary)
    title_ct: Mapped[bytes | None] = mapped_column(LargeBinary)

    body = EncryptedField("body_ct", level="level")
    title = EncryptedField("title_ct", level=lambda obj: obj.level)


class CryptoTestSecret(db.Model):
    __tablename__ = "crypto_test_secret"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    blob_ct: Mapped[bytes | None] = mapped_column(LargeBinary)

    blob = EncryptedField("blob_ct", level=2, binary=True)


class PlainBase(DeclarativeBase):
    pass


class PlainRecord(PlainBase):
    """A plain SQLAlchemy model (no Flask) using the same descriptor."""

    __tablename__ = "plain_record"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    secret_ct: Mapped[bytes | None] = mapped_column(LargeBinary)

    secret = EncryptedField("secret_ct", level=1)


FLASK_FIELDS = {k: REGISTRY.pop(k) for k in list(REGISTRY) if k[0] in (CryptoTestNote, CryptoTestSecret)}
PLAIN_FIELDS = {k: REGISTRY.pop(k) for k in list(REGISTRY) if k[0] is PlainRecord}
FLASK_TABLES = [CryptoTestNote.__table__, CryptoTestSecret.__table__]


@pytest.fixture(autouse=True)
def key_file(tmp_path: Path) -> Iterator[Path]:
    """Every test gets its own key file provider, configured process-wide."""
    path = tmp_path / "instance" / "keys.json"
    assert ensure_dev_keyfile(path)
    saved = keys._provider
    keys.configure(FileKeyProvider(path, refresh_interval=0))
    yield path
    keys.configure(saved)


@pytest.fixture
def provider() -> FileKeyProvider:
    p = keys.get_provider()
    assert isinstance(p, FileKeyProvider)
    return p


@pytest.fixture
def flask_db(tmp_path: Path) -> Iterator[SimpleNamespace]:
    """A Flask app with db.init_app on a throwaway SQLite file; registry = the Flask test models."""
    app = Flask(__name__)
    app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{tmp_path / 'test.db'}"
    db.init_app(app)
    saved = dict(REGISTRY)
    saved_sources = dict(FILE_SOURCES)  # the app's file sources (stored_file) have no table here
    REGISTRY.clear()
    REGISTRY.update(FLASK_FIELDS)
    FILE_SOURCES.clear()
    with app.app_context():
        db.metadata.create_all(db.engine, tables=FLASK_TABLES)
        yield SimpleNamespace(app=app, session=db.session, Note=CryptoTestNote, Secret=CryptoTestSecret)
        db.session.remove()
    REGISTRY.clear()
    REGISTRY.update(saved)
    FILE_SOURCES.update(saved_sources)


@pytest.fixture
def plain_db(tmp_path: Path) -> Iterator[SimpleNamespace]:
    """A plain SQLAlchemy engine and Session (no Flask); registry = the plain test model."""
    engine = create_engine(f"sqlite:///{tmp_path / 'plain.db'}")
    PlainBase.metadata.create_all(engine)
    saved = dict(REGISTRY)
    saved_sources = dict(FILE_SOURCES)
    REGISTRY.clear()
    REGISTRY.update(PLAIN_FIELDS)
    FILE_SOURCES.clear()
    with Session(engine) as session:
        yield SimpleNamespace(session=session, Record=PlainRecord)
    REGISTRY.clear()
    REGISTRY.update(saved)
    FILE_SOURCES.update(saved_sources)
    engine.dispose()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()
