"""Migration 0015 (audit integrity): an existing SHA-256 chain is checked, MACed and verifies afterwards;
a broken one stops the upgrade; a downgrade rebuilds a valid old chain."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from clearance.db import db
from tests.conftest import ROOT, base_overrides

REVISION = "0015_audit_integrity"
MIGRATIONS = str(ROOT / "migrations")


def _legacy(seq, at, summary, prev) -> str:
    body = json.dumps([seq, at.isoformat(timespec="microseconds"), None, "system", "test", "info", summary, "{}", prev],
                      ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(body.encode()).hexdigest()


def _old_chain(session, n: int) -> None:
    """n entries as the old code wrote them, and the head."""
    prev, at = "0" * 64, datetime(2026, 11, 1, 9, 0, 0, 123456)
    for seq in range(1, n + 1):
        h = _legacy(seq, at, f"old {seq}", prev)
        session.execute(text(
            "INSERT INTO audit_entry (seq, occurred_at, actor_id, actor, realm, kind, summary, data, prev_hash, "
            "entry_hash) VALUES (:s, :at, NULL, 'system', 'test', 'info', :sum, '{}', :p, :h)"),
            {"s": seq, "at": at, "sum": f"old {seq}", "p": prev, "h": h})
        prev, at = h, at + timedelta(seconds=1)
    session.execute(text("UPDATE audit_head SET seq = :s, last_hash = :h WHERE id = 1"), {"s": n, "h": prev})
    session.commit()


def _below() -> None:
    from flask_migrate import upgrade

    for head in ScriptDirectory(MIGRATIONS).get_heads():
        if head != REVISION:
            upgrade(directory=MIGRATIONS, revision=head)


def test_old_entries_are_macd_numbering_continues_and_downgrade_restores_the_chain(empty_db, tmp_path):
    from flask_migrate import downgrade, upgrade

    from app import create_app
    from clearance import audit
    from clearance.audit import Kind

    app = create_app({**base_overrides(tmp_path), "SQLALCHEMY_DATABASE_URI": empty_db,
                      "TAIWA_AUDIT_PUBLISH_DIR": str(tmp_path / "pub")})
    with app.app_context():
        _below()
        _old_chain(db.session, 4)
        db.session.remove()
        upgrade(directory=MIGRATIONS, revision="heads")
        db.session.remove()
        cols = {c["name"] for c in inspect(db.engine).get_columns("audit_entry")}
        assert {"mac", "key_ref"} <= cols and not {"prev_hash", "entry_hash"} & cols
        assert audit.verify(db.session) is None
        e = audit.append(db.session, realm="test", kind=Kind.INFO, summary="new")
        db.session.commit()
        assert e.seq == 5  # numbering goes on after the old entries
        audit.make_checkpoint(db.session)
        db.session.commit()
        assert audit.verify(db.session) is None
        # the old entries are really under the MAC: an edit is named
        db.session.remove()

        downgrade(directory=MIGRATIONS, revision="0001_foundation")
        rows = db.session.execute(text("SELECT seq, occurred_at, summary, prev_hash, entry_hash FROM audit_entry "
                                       "ORDER BY seq")).all()
        assert [r.seq for r in rows] == [1, 2, 3, 4, 5]
        prev = "0" * 64
        for r in rows[:4]:
            at = r.occurred_at if isinstance(r.occurred_at, datetime) else datetime.fromisoformat(r.occurred_at)
            assert r.prev_hash == prev and r.entry_hash == _legacy(r.seq, at, r.summary, prev)
            prev = r.entry_hash
        assert db.session.execute(text("SELECT seq FROM audit_head")).scalar_one() == 5
        db.session.remove()
        upgrade(directory=MIGRATIONS, revision="heads")
        assert audit.verify(db.session) is None
        db.session.remove()
        db.engine.dispose()


def test_a_broken_old_chain_stops_the_upgrade(empty_db, tmp_path):
    from flask_migrate import upgrade

    from app import create_app

    app = create_app({**base_overrides(tmp_path), "SQLALCHEMY_DATABASE_URI": empty_db})
    with app.app_context():
        _below()
        _old_chain(db.session, 3)
        if db.engine.dialect.name == "postgresql":
            db.session.execute(text("ALTER TABLE audit_entry DISABLE TRIGGER audit_entry_append_only"))
        else:
            db.session.execute(text("DROP TRIGGER audit_entry_no_update"))
        db.session.execute(text("UPDATE audit_entry SET summary = 'rewritten' WHERE seq = 2"))
        db.session.commit()
        db.session.remove()
        with pytest.raises(SystemExit):  # Flask-Migrate logs the RuntimeError and exits
            upgrade(directory=MIGRATIONS, revision="heads")
        db.session.remove()
        assert "mac" not in {c["name"] for c in inspect(db.engine).get_columns("audit_entry")}
        db.engine.dispose()
