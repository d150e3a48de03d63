"""Key check values (migration 0014, clearance/keycheck.py) and the audit of key operations (issue 12, 1 and 9)."""

from __future__ import annotations

import base64
import json
import shutil

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, select, text

from clearance import keycheck
from clearance.audit import AuditEntry
from clearance.db import db
from clearance.permissions import Role
from clearance.startup import StartupError
from tests.conftest import ROOT, base_overrides
from tests.factories import Factory

MIGRATIONS = str(ROOT / "migrations")
REVISION = "0014_key_check"


def _header(key_id: str, version: int) -> bytes:
    """A field ciphertext header naming a key version (enough for the scans; it opens under nothing)."""
    kid = key_id.encode()
    return b"TWF\x01" + bytes([len(kid)]) + kid + version.to_bytes(4, "big") + (60).to_bytes(2, "big") + bytes(60 + 40)


def test_migration_records_the_keys_and_the_versions_the_data_names(empty_db, tmp_path):
    from flask_migrate import downgrade, upgrade

    from app import create_app

    overrides = {**base_overrides(tmp_path), "SQLALCHEMY_DATABASE_URI": empty_db}
    app = create_app(overrides)
    with app.app_context():
        # given a database from before this revision, with a record sealed under main v1 and one
        # naming a version the key file does not have (it was lost before the upgrade)
        for head in ScriptDirectory(MIGRATIONS).get_heads():
            if head != REVISION:
                upgrade(directory=MIGRATIONS, revision=head)
        assert not inspect(db.engine).has_table("key_check")
        factory = Factory(app)
        factory.person(Role.OFFICER)  # its TOTP secret is sealed under main v1
        orphan = factory.person(Role.OFFICER)
        db.session.execute(text("UPDATE user_account SET totp_secret_ct = :b WHERE id = :i"),
                           {"b": _header("old", 7), "i": orphan.id})
        db.session.commit()

        # when it is upgraded
        upgrade(directory=MIGRATIONS, revision="heads")
        rows = {(r.key_id, r.version): r for r in db.session.execute(select(keycheck.KeyCheck)).scalars()}
        # then main v1 has a check value that opens, and old v7 is known without one
        assert set(rows) == {("main", 1), ("old", 7)}
        from clearance.crypto import get_provider

        assert keycheck.opens(get_provider(), ("main", 1), rows[("main", 1)].check_ct)
        assert rows[("old", 7)].check_ct is None
        db.session.remove()

    # and the app refuses to start while old v7 still seals a record
    with pytest.raises(StartupError) as refused:
        create_app(overrides)
    assert "old v7 is missing" in refused.value.message and "1 records or files" in refused.value.message

    # once nothing uses it, it starts, and old v7 is retired (kept: its number stays taken)
    with app.app_context():
        db.session.execute(text("UPDATE user_account SET totp_secret_ct = NULL WHERE id = :i"), {"i": orphan.id})
        db.session.commit()
        db.session.remove()
    create_app(overrides)
    with app.app_context():
        row = db.session.get(keycheck.KeyCheck, ("old", 7))
        assert row.retired_at is not None
        db.session.remove()

        # downgrade drops the table; upgrade records the checks again
        downgrade(directory=MIGRATIONS, revision="keycheck@-1")
        assert not inspect(db.engine).has_table("key_check")
        upgrade(directory=MIGRATIONS, revision="heads")
        assert keycheck.recorded_versions(db.session) == {("main", 1)}
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def own_keys(app_factory, keydir, tmp_path):
    """An app on this test's database with a private copy of the session's key file (rotation changes it)."""
    keys = tmp_path / "own" / "keys.json"
    keys.parent.mkdir()
    shutil.copy(keydir / "keys.json", keys)
    keys.chmod(0o600)
    return app_factory(TAIWA_KEY_FILE=str(keys)), keys


def _crypto_audit(app) -> list[AuditEntry]:
    with app.app_context():
        try:
            return list(db.session.execute(
                select(AuditEntry).where(AuditEntry.realm == "crypto").order_by(AuditEntry.seq)).scalars())
        finally:
            db.session.remove()


def test_rotate_and_retire_are_audited_without_key_material(own_keys):
    app, keys = own_keys
    Factory(app).person(Role.OFFICER)
    runner = app.test_cli_runner()

    refused = runner.invoke(args=["retire-key", "main", "1"])
    assert refused.exit_code != 0
    rotated = runner.invoke(args=["rotate-keys"])
    assert rotated.exit_code == 0, rotated.output
    retired = runner.invoke(args=["retire-key", "main", "1"])
    assert retired.exit_code == 0, retired.output

    entries = _crypto_audit(app)
    summaries = [e.summary for e in entries]
    assert summaries == [
        "key main v1 not retired",
        "key check recorded for main v2",
        "key rotation to main v2 started",
        "key rotation to main v2 finished",
        "key main v1 retired",
    ]
    finished = json.loads(entries[3].data)
    assert finished["rewrapped"] >= 1 and finished["remaining"] == {} and finished["failures"] == 0
    # no key material: neither the base64 nor the raw bytes of any version ever written to the file
    secrets = [k["key"] for k in json.loads(keys.read_text())["keys"] if k.get("key")]
    with app.app_context():
        dump = "".join(f"{e.summary}{e.data}" for e in entries)
    for secret in secrets:
        assert secret not in dump and base64.b64decode(secret).hex() not in dump
    with app.app_context():
        assert keycheck.recorded_versions(db.session) == {("main", 1), ("main", 2)}
        assert db.session.get(keycheck.KeyCheck, ("main", 1)).retired_at is not None
        db.session.remove()


def test_a_new_version_never_takes_a_number_the_database_knows(own_keys):
    """A key file restored from an old backup lacks the newest versions; the database does not."""
    app, keys = own_keys
    with app.app_context():
        keycheck.mark_retired(db.session, ("main", 5), reason="test: known to the database only")
        db.session.commit()
        db.session.remove()
    rotated = app.test_cli_runner().invoke(args=["rotate-keys"])
    assert rotated.exit_code == 0, rotated.output
    assert "target main v6" in rotated.output
    assert json.loads(keys.read_text())["current"] == {"key_id": "main", "version": 6}


def test_a_key_reusing_a_recorded_name_with_other_bytes_is_refused(own_keys, app_factory):
    app, keys = own_keys
    doc = json.loads(keys.read_text())
    doc["keys"][0]["key"] = base64.b64encode(bytes(range(32))).decode()
    keys.write_text(json.dumps(doc))
    with pytest.raises(StartupError) as refused:
        app_factory(TAIWA_KEY_FILE=str(keys))
    assert "main v1" in refused.value.message and "not the key this database was sealed with" in refused.value.message


def test_a_version_known_without_a_check_value_must_open_a_sealed_record(own_keys):
    """A key_check row recorded without a value (the version was missing at upgrade) is not taken on
    trust when the version comes back: other bytes under the same number refuse to start; the right
    bytes open a record sealed with it, and only then is its check value recorded."""
    from app import create_app

    app, keys = own_keys
    Factory(app).person(Role.OFFICER)  # its TOTP secret is sealed under main v1

    def forget_check():
        with app.app_context():
            db.session.execute(text("UPDATE key_check SET check_ct = NULL WHERE key_id = 'main' AND version = 1"))
            db.session.commit()
            db.session.remove()

    forget_check()
    good = keys.read_text()
    doc = json.loads(good)
    doc["keys"][0]["key"] = base64.b64encode(bytes(32)).decode()
    keys.write_text(json.dumps(doc))
    with pytest.raises(StartupError) as refused:
        create_app(dict(app.config))
    assert "main v1" in refused.value.message and "does not open the records" in refused.value.message

    keys.write_text(good)
    create_app(dict(app.config))
    with app.app_context():
        row = db.session.get(keycheck.KeyCheck, ("main", 1))
        assert row.check_ct is not None
        from clearance.crypto import get_provider

        assert keycheck.opens(get_provider(), ("main", 1), row.check_ct)
        db.session.remove()


def test_a_version_that_only_audit_entries_need_is_still_in_use(own_keys):
    """After a rotation every record is under v2, but the audit entries written before it are keyed by
    v1: removing v1 from the key file must refuse to start, or `audit-verify` could never check them."""
    from app import create_app
    from clearance import audit
    from clearance.audit import Kind

    app, keys = own_keys
    Factory(app).person(Role.OFFICER)
    with app.app_context():
        audit.append(db.session, realm="auth", kind=Kind.POSITIVE, summary="Signed in", data={})
        db.session.commit()
        assert db.session.scalar(select(AuditEntry.key_ref).order_by(AuditEntry.seq.desc())) == "main:1"
        db.session.remove()
    rotated = app.test_cli_runner().invoke(args=["rotate-keys"])
    assert rotated.exit_code == 0, rotated.output
    doc = json.loads(keys.read_text())
    assert any(k.get("version") == 1 for k in doc["keys"]), doc["keys"][0].keys()
    doc["keys"] = [k for k in doc["keys"] if k.get("version") != 1]
    keys.write_text(json.dumps(doc))
    with pytest.raises(StartupError) as refused:
        create_app(dict(app.config))
    assert "main v1 is missing" in refused.value.message and "audit entries" in refused.value.message
