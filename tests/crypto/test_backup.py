"""Encrypted backup and restore: a consistent archive while the app runs, verified before any change."""

from __future__ import annotations

import hashlib
import io
import os
import threading
from pathlib import Path

import pytest

from clearance import backup, files, outbox
from clearance.crypto import FileKeyProvider, configure, ensure_dev_keyfile, get_provider
from clearance.db import db
from clearance.permissions import Role
from tests.crypto import population
from tests.crypto.test_files import PDF

RANDOM_PDF = PDF + os.urandom((1 << 20) + 12345)  # more than one segment


def _file_hashes(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file() and not p.name.startswith(".")
    }


@pytest.fixture
def populated(app_factory, factory, tmp_path):
    """An app with demo data, accounts with TOTP, mail, two files on disk, one kept in the database
    (the desk's), and every encrypted field filled."""
    app = app_factory()
    with app.app_context():
        population.seed_demo(db.session, app.config, tmp_path)
    factory.person(Role.OFFICER)
    factory.person(Role.COMPANY_MEMBER, totp=True)
    with app.app_context():
        outbox.enqueue(db.session, to="someone@example.jp", subject="s", body="本文 " * 50)
        a = files.save_upload(db.session, io.BytesIO(RANDOM_PDF), filename="資料.pdf", owner_table="t", owner_id="1",
                              level=2)
        b = files.save_upload(db.session, io.BytesIO("一,二\n".encode()), filename="表.csv", owner_table="t",
                              owner_id="2")
        desk = files.save_upload(db.session, io.BytesIO(b"desk letter"), filename="letter.txt",
                                 owner_table="consult_message", owner_id="3", in_database=True)
        db.session.commit()
        sealed = population.fill_registry(db.session, population.canary())
        stored = {a.id: RANDOM_PDF, b.id: "一,二\n".encode(), desk.id: b"desk letter"}
    return app, sealed, stored


def _files_on_disk_count() -> int:
    """stored_file rows whose ciphertext is a file (not kept in stored_file_blob)."""
    in_db = db.session.query(files.StoredFileBlob.stored_file_id)
    return db.session.query(files.StoredFile).filter(files.StoredFile.id.not_in(in_db)).count()


def _counts(app) -> dict[str, int]:
    with app.app_context():
        return backup._live_counts(db.engine)


def test_round_trip_restores_every_record_and_file_intact(populated, tmp_path):
    app, sealed, stored = populated
    fdir = Path(app.config["TAIWA_FILES_DIR"])
    counts_before = _counts(app)
    hashes_before = _file_hashes(fdir)
    runner = app.test_cli_runner()
    archive = tmp_path / "out" / "taiwa.twbk"
    # given a backup written through the CLI
    result = runner.invoke(args=["backup", "--output", str(archive)])
    assert result.exit_code == 0, result.output
    assert oct(archive.stat().st_mode & 0o777) == "0o600"
    # and later changes: a deleted file, a changed field, new rows
    with app.app_context():
        victim = db.session.get(files.StoredFile, next(iter(stored)))
        files.delete_file(db.session, victim)
        s = sealed[0]
        setattr(db.session.get(s.model, s.row_id), s.field, b"changed" if isinstance(s.value, bytes) else "changed")
        outbox.enqueue(db.session, to="later@example.jp", subject="later", body="later")
        db.session.commit()
    assert _counts(app) != counts_before
    with app.app_context():
        from clearance import freshness

        generation_before_restore = freshness.current(db.session)
    # when it is restored
    result = runner.invoke(args=["restore", str(archive), "--yes"])
    assert result.exit_code == 0, result.output
    assert "warning" not in result.output
    with app.app_context():  # older data, yet a newer generation: no worker's cached page matches it
        assert freshness.current(db.session) > generation_before_restore
    # then every table has its rows back (plus the restore's own audit entry), every file its bytes,
    # every encrypted field still decrypts and every file still opens
    counts_after = _counts(app)
    # the archive was taken before its own "Backup written" entry; the restore adds "Backup restored"
    assert counts_after.pop("audit_entry") == counts_before.pop("audit_entry") + 1
    counts_after.pop("audit_head"), counts_before.pop("audit_head")
    assert counts_after == counts_before
    assert _file_hashes(fdir) == hashes_before
    with app.app_context():
        population.read_back(db.session, sealed)
        for file_id, content in stored.items():
            row = db.session.get(files.StoredFile, file_id)
            assert b"".join(files.open_download(row)) == content


def test_the_manifest_describes_the_archive(populated, tmp_path):
    app, _, stored = populated
    with app.app_context():
        result = backup.create_backup(db.engine, files.files_dir(), tmp_path / "a.twbk")
        manifest = backup.verify_archive(result.path)
        backend = db.engine.dialect.name
        n_files = _files_on_disk_count()
        n_rows = db.session.query(files.StoredFile).count()
        n_blobs = db.session.query(files.StoredFileBlob).count()
    assert n_files >= len(stored) - 1 and n_blobs >= 1  # the desk's files are kept in the database, so in its dump
    assert manifest["archive_id"] == result.archive_id
    assert manifest["backend"] == backend
    assert "0016_stored_file_blob" in manifest["schema_revisions"]  # the files branch's head
    assert manifest["tables"]["stored_file"] == n_rows == n_files + n_blobs
    assert manifest["tables"]["stored_file_blob"] == n_blobs
    assert manifest["archive_key"] == {"key_id": get_provider().current()[0], "version": get_provider().current()[1]}
    names = [m["name"] for m in manifest["members"]]
    assert names[0] in ("database.sqlite", "database.pgdump")
    assert sum(n.startswith("files/") for n in names) == n_files
    assert all(len(m["sha256"]) == 64 for m in manifest["members"])


def test_the_archive_holds_no_plaintext_and_no_key(populated, tmp_path):
    app, sealed, stored = populated
    with app.app_context():
        path = backup.create_backup(db.engine, files.files_dir(), tmp_path / "a.twbk").path
    blob = path.read_bytes()
    assert blob.startswith(backup.MAGIC)
    for needle in (b"SQLite format 3", b"PGDMP", b"manifest.json", b"stored_file", b"%PDF", "資料".encode(),
                   b"alembic_version"):
        assert needle not in blob, needle
    keyfile = Path(app.config["TAIWA_KEY_FILE"]).read_text()
    import json

    for entry in json.loads(keyfile)["keys"]:
        if entry.get("key"):
            assert entry["key"].encode() not in blob
            import base64

            assert base64.b64decode(entry["key"]) not in blob


@pytest.mark.parametrize("damage", ["flip", "truncate", "append", "swap_id", "magic"])
def test_a_damaged_archive_is_refused_before_anything_changes(populated, tmp_path, damage):
    app, _, _ = populated
    fdir = Path(app.config["TAIWA_FILES_DIR"])
    with app.app_context():
        path = backup.create_backup(db.engine, files.files_dir(), tmp_path / "a.twbk").path
        outbox.enqueue(db.session, to="after@example.jp", subject="after", body="after")
        db.session.commit()
    blob = bytearray(path.read_bytes())
    if damage == "flip":
        blob[len(blob) // 2] ^= 0x04
    elif damage == "truncate":
        del blob[-(1 << 16):]
    elif damage == "append":
        blob += os.urandom(100)
    elif damage == "swap_id":
        start = len(backup.MAGIC)
        blob[start : start + 36] = b"00000000-0000-4000-8000-000000000000"
    else:
        blob[:5] = b"XXXXX"
    path.write_bytes(bytes(blob))
    counts, hashes = _counts(app), _file_hashes(fdir)
    result = app.test_cli_runner().invoke(args=["restore", str(path), "--yes"])
    assert result.exit_code != 0
    assert "refusing to restore" in result.output
    assert _counts(app) == counts and _file_hashes(fdir) == hashes
    assert not any(p.name.startswith(f".{fdir.name}.restore") for p in fdir.parent.iterdir())
    verify = app.test_cli_runner().invoke(args=["verify-backup", str(path)])
    assert verify.exit_code != 0 and "NOT usable" in verify.output


def test_an_archive_cannot_be_read_without_its_key(populated, tmp_path):
    """Key escrow matters: the archive holds no key; with other keys it is refused."""
    app, _, _ = populated
    with app.app_context():
        path = backup.create_backup(db.engine, files.files_dir(), tmp_path / "a.twbk").path
    saved = get_provider()
    other = tmp_path / "other-keys.json"
    ensure_dev_keyfile(other)
    configure(FileKeyProvider(other))
    try:
        with pytest.raises(backup.BackupError, match="does not decrypt"):
            backup.verify_archive(path)
    finally:
        configure(saved)
    assert backup.verify_archive(path)["archive_id"]


def test_a_backup_taken_while_the_app_writes_is_consistent(populated, tmp_path):
    """The snapshot's row counts match what the archive restores, although writes went on meanwhile."""
    app, _, _ = populated
    stop = threading.Event()
    written = []

    def writer() -> None:
        with app.app_context():
            while not stop.is_set():
                outbox.enqueue(db.session, to="busy@example.jp", subject="busy", body="busy")
                db.session.commit()
                written.append(1)
            db.session.remove()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        while len(written) < 5:
            threading.Event().wait(0.01)
        with app.app_context():
            result = backup.create_backup(db.engine, files.files_dir(), tmp_path / "busy.twbk")
    finally:
        stop.set()
        thread.join(timeout=30)
    with app.app_context():
        restored = backup.restore_backup(result.path, db.engine, files.files_dir())
        db.session.remove()
    assert restored.warnings == []
    assert _counts(app)["mail_message"] == result.manifest["tables"]["mail_message"]


def test_restore_keeps_the_previous_files_dir_aside(populated, tmp_path):
    app, _, stored = populated
    with app.app_context():
        path = backup.create_backup(db.engine, files.files_dir(), tmp_path / "a.twbk").path
        extra = files.save_upload(db.session, io.BytesIO(PDF), filename="new.pdf", owner_table="t", owner_id="3")
        extra_path = extra.path
        db.session.commit()
        db.session.close()  # as `flask restore` does: no open transaction may hold a lock
        result = backup.restore_backup(path, db.engine, files.files_dir())
    assert not extra_path.exists()
    assert result.old_files_dir is not None
    assert (result.old_files_dir / extra_path.parent.name / extra_path.name).exists()
    with app.app_context():
        assert result.files == _files_on_disk_count() >= len(stored) - 1
