"""Shared fixtures: a migrated database per test on SQLite or PostgreSQL, a real SMTP server.

TAIWA_TEST_DB=sqlite (default) or postgres; TAIWA_TEST_PG_URL names the server
(default postgresql://postgres@127.0.0.1:5432/test). Each PostgreSQL run makes
its own database and drops it afterwards.
"""

from __future__ import annotations

import os
import shutil
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import create_engine, text

from tests.factories import Factory

BACKEND = os.environ.get("TAIWA_TEST_DB", "sqlite")
PG_URL = os.environ.get("TAIWA_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
ROOT = Path(__file__).resolve().parent.parent


def base_overrides(tmp: Path) -> dict:
    return {
        "TAIWA_ENV": "test",
        "TESTING": True,
        "SECRET_KEY": "test-secret-key-" + "x" * 32,
        "TAIWA_ARGON2": "fast",
        "TAIWA_KEY_FILE": str(tmp / "keys.json"),
        "TAIWA_CREATE_DEV_KEYS": True,
        "TAIWA_BASE_URL": "http://localhost",
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
    }


def _migrate(url: str, tmp: Path) -> None:
    from flask_migrate import upgrade

    from app import create_app

    app = create_app({**base_overrides(tmp), "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"), revision="heads")
        from clearance.db import db

        db.engine.dispose()


@pytest.fixture(scope="session")
def keydir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("keys")


@pytest.fixture(scope="session")
def database_template(tmp_path_factory, keydir) -> Iterator[str]:
    """Migrate once per session: a template file on SQLite, a fresh database on PostgreSQL."""
    if BACKEND == "postgres":
        name = f"taiwa_test_{uuid.uuid4().hex[:10]}"
        admin = create_engine(PG_URL.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = PG_URL.rsplit("/", 1)[0] + "/" + name
        _migrate(url, keydir)
        yield url
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    else:
        path = tmp_path_factory.mktemp("template") / "template.db"
        _migrate(f"sqlite:///{path}", keydir)
        yield str(path)


def _reset_postgres(url: str) -> None:
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as conn:
        # A connection a previous test left idle inside a transaction (a session kept by an object that
        # outlived its app context) would hold its locks and make the TRUNCATE wait for ever: end it.
        conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database()"
                          " AND pid <> pg_backend_pid() AND state LIKE 'idle in transaction%'"))
        tables = conn.execute(
            text("SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'alembic_version'")
        ).scalars().all()
        conn.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"))
        conn.execute(text("INSERT INTO audit_head (id, seq, last_hash) VALUES (1, 0, :h)"), {"h": "0" * 64})
    engine.dispose()


@pytest.fixture
def db_url(database_template, tmp_path) -> str:
    if BACKEND == "postgres":
        _reset_postgres(database_template)
        return database_template
    target = tmp_path / "taiwa.db"
    shutil.copy(database_template, target)
    return f"sqlite:///{target}"


@pytest.fixture
def app_factory(db_url, keydir, tmp_path):
    """Build an app on this test's database, with optional config overrides."""
    made = []

    def make(**overrides):
        from app import create_app

        app = create_app({**base_overrides(keydir), "SQLALCHEMY_DATABASE_URI": db_url,
                          "TAIWA_FILES_DIR": str(tmp_path / "files"),
                          "TAIWA_AUDIT_PUBLISH_DIR": str(tmp_path / "audit-published"), **overrides})
        made.append(app)
        return app

    yield make
    from clearance.db import db

    for app in made:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def app(app_factory):
    """The app, with no context pushed: each request gets its own, as in production.
    Use `with app.app_context():` for direct database checks."""
    return app_factory()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def factory(app) -> Factory:
    return Factory(app)


class Mailbox:
    def __init__(self) -> None:
        self.messages: list = []

    async def handle_DATA(self, server, session, envelope):
        from email import message_from_bytes
        from email.policy import default

        self.messages.append(message_from_bytes(envelope.content, policy=default))
        return "250 OK"

    def last_to(self, address: str, wait: float = 5.0):
        """The newest message to this address, waiting a little for mail sent in the background."""
        import time

        deadline = time.monotonic() + wait
        while True:
            for msg in reversed(self.messages):
                if msg["To"] == address:
                    return msg
            if time.monotonic() > deadline:
                raise AssertionError(f"no mail to {address}; have {[m['To'] for m in self.messages]}")
            time.sleep(0.05)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp() -> Iterator[tuple[Mailbox, int]]:
    """A real SMTP server on localhost (aiosmtpd) collecting what the app sends."""
    box = Mailbox()
    port = free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    yield box, port
    controller.stop()


@pytest.fixture
def mail_app(app_factory, smtp):
    box, port = smtp
    app = app_factory(TAIWA_SMTP_HOST="127.0.0.1", TAIWA_SMTP_PORT=port)
    app.mailbox = box
    return app


@pytest.fixture
def empty_db(tmp_path) -> Iterator[str]:
    """A database with no tables at all (not the session's migrated template), for migration tests."""
    if BACKEND != "postgres":
        yield f"sqlite:///{tmp_path / 'fresh.db'}"
        return
    name = f"taiwa_mig_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_URL.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield PG_URL.rsplit("/", 1)[0] + "/" + name
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()



def heads_before(revision: str, *, keep_below: tuple[str, ...] = ()) -> list[str]:
    """The heads to upgrade to before seeding rows in clear for a test of `revision`: every head that
    neither is it nor needs it, nor is or needs one of `keep_below` (later migrations that drop
    columns the test's seed names; its final `upgrade heads` runs them)."""
    from alembic.script import ScriptDirectory

    script = ScriptDirectory(str(ROOT / "migrations"))
    out = []
    for head in script.get_heads():
        below = {r.revision for r in script.iterate_revisions(head, "base")}
        if revision not in below and not below & set(keep_below):
            out.append(head)
    return out
