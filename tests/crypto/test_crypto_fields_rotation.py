"""EncryptedField on Flask-SQLAlchemy and plain SQLAlchemy; rotation, status, retirement."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import select, text, update

from clearance.crypto import (
    REGISTRY,
    Context,
    DecryptionError,
    EncryptedField,
    FileKeyProvider,
    KeyInUse,
    MissingRowId,
    configure,
    decrypt_stream,
    encrypt_stream,
    key_status,
    key_version_of,
    resealing,
    retire_version,
    rotate_keys,
)
from clearance.crypto import rotation as rotation_mod
from clearance.db import new_id


def add_notes(env: SimpleNamespace, n: int, level: int = 1) -> list[str]:
    ids = []
    for i in range(n):
        note = env.Note(id=new_id(), level=level)
        note.body = f"body {i}"
        note.title = f"title {i}"
        env.session.add(note)
        ids.append(note.id)
    env.session.commit()
    return ids


def all_plaintexts(env: SimpleNamespace) -> dict[str, tuple[str, str]]:
    env.session.expire_all()
    return {n.id: (n.body, n.title) for n in env.session.scalars(select(env.Note))}


# -- the descriptor ------------------------------------------------------------


def test_field_round_trips_through_the_database(flask_db: SimpleNamespace) -> None:
    note = flask_db.Note(id=new_id(), level=2)
    note.body = "機密 body"
    flask_db.session.add(note)
    flask_db.session.commit()
    flask_db.session.expire_all()
    loaded = flask_db.session.get(flask_db.Note, note.id)
    assert loaded.body == "機密 body"
    assert loaded.title is None
    assert b"body" not in loaded.body_ct
    assert key_version_of(loaded.body_ct) == ("main", 1)


def test_binary_field_and_none(flask_db: SimpleNamespace) -> None:
    s = flask_db.Secret(id=new_id())
    s.blob = b"\x00\x01"
    assert s.blob == b"\x00\x01"
    s.blob = None
    assert s.blob_ct is None and s.blob is None


def test_field_without_row_id_is_refused_with_a_clear_message(flask_db: SimpleNamespace) -> None:
    note = flask_db.Note(level=0)
    with pytest.raises(MissingRowId, match="set obj.id"):
        note.body = "x"


def test_ciphertext_copied_to_another_row_in_sql_fails(flask_db: SimpleNamespace) -> None:
    a, b = add_notes(flask_db, 2)
    flask_db.session.execute(
        text("UPDATE crypto_test_note SET body_ct = (SELECT body_ct FROM crypto_test_note WHERE id = :a) WHERE id = :b"),
        {"a": a, "b": b},
    )
    flask_db.session.commit()
    flask_db.session.expire_all()
    assert flask_db.session.get(flask_db.Note, a).body == "body 0"
    with pytest.raises(DecryptionError):
        _ = flask_db.session.get(flask_db.Note, b).body


def test_ciphertext_copied_to_another_column_in_sql_fails(flask_db: SimpleNamespace) -> None:
    (a,) = add_notes(flask_db, 1)
    flask_db.session.execute(text("UPDATE crypto_test_note SET title_ct = body_ct WHERE id = :a"), {"a": a})
    flask_db.session.commit()
    flask_db.session.expire_all()
    with pytest.raises(DecryptionError):
        _ = flask_db.session.get(flask_db.Note, a).title


def test_level_lowered_in_sql_makes_fields_unreadable(flask_db: SimpleNamespace) -> None:
    (a,) = add_notes(flask_db, 1, level=2)
    flask_db.session.execute(text("UPDATE crypto_test_note SET level = 0 WHERE id = :a"), {"a": a})
    flask_db.session.commit()
    flask_db.session.expire_all()
    note = flask_db.session.get(flask_db.Note, a)
    for field in ("body", "title"):  # level from an attribute name and from a callable
        with pytest.raises(DecryptionError):
            getattr(note, field)


def test_resealing_follows_a_legitimate_level_change(flask_db: SimpleNamespace) -> None:
    (a,) = add_notes(flask_db, 1, level=0)
    note = flask_db.session.get(flask_db.Note, a)
    with resealing(note):
        note.level = 2
    flask_db.session.commit()
    flask_db.session.expire_all()
    assert flask_db.session.get(flask_db.Note, a).body == "body 0"


def test_descriptor_works_with_plain_sqlalchemy(plain_db: SimpleNamespace) -> None:
    rec = plain_db.Record(id=new_id())
    rec.secret = "plain"
    plain_db.session.add(rec)
    plain_db.session.commit()
    plain_db.session.expire_all()
    assert plain_db.session.get(plain_db.Record, rec.id).secret == "plain"
    assert list(REGISTRY) == [(plain_db.Record, "secret")]


def test_registry_lists_every_encrypted_column(flask_db: SimpleNamespace) -> None:
    assert {(m.__tablename__, name, f.column_attr) for (m, name), f in REGISTRY.items()} == {
        ("crypto_test_note", "body", "body_ct"),
        ("crypto_test_note", "title", "title_ct"),
        ("crypto_test_secret", "blob", "blob_ct"),
    }
    assert isinstance(flask_db.Note.body, EncryptedField)


# -- rotation --------------------------------------------------------------------


def test_rotation_then_deleting_the_old_key_still_opens_everything(
    flask_db: SimpleNamespace, key_file: Path, provider: FileKeyProvider
) -> None:
    add_notes(flask_db, 2500)
    before = all_plaintexts(flask_db)
    assert key_status(flask_db.session) == {("main", 1): 5000}

    report = rotate_keys(flask_db.session, batch_size=1000)
    assert report.finished and report.target == ("main", 2)
    assert report.rewrapped == 5000 and not report.failures
    assert key_status(flask_db.session) == {("main", 2): 5000}

    retire_version(flask_db.session, "main", 1)
    assert json.loads(key_file.read_text())["keys"][0]["key"] is None
    configure(FileKeyProvider(key_file))  # a fresh process: only v2 key material exists
    assert all_plaintexts(flask_db) == before


def test_rotation_interrupted_after_first_batch_resumes_and_loses_nothing(
    flask_db: SimpleNamespace, key_file: Path
) -> None:
    add_notes(flask_db, 1200)
    before = all_plaintexts(flask_db)

    def crash(name: str, done: int) -> None:
        raise RuntimeError("simulated crash")

    with pytest.raises(RuntimeError):
        rotate_keys(flask_db.session, batch_size=500, on_batch=crash)
    flask_db.session.rollback()
    assert key_status(flask_db.session) == {("main", 1): 2400 - 500, ("main", 2): 500}
    assert json.loads(key_file.read_text())["rotation"]["target"] == {"key_id": "main", "version": 2}

    report = rotate_keys(flask_db.session, batch_size=500)  # resumes: same target, no v3
    assert report.target == ("main", 2) and report.finished
    assert report.rewrapped == 2400 - 500
    assert key_status(flask_db.session) == {("main", 2): 2400}
    assert json.loads(key_file.read_text())["rotation"] is None
    assert all_plaintexts(flask_db) == before

    again = rotate_keys(flask_db.session)  # a new rotation after a finished one
    assert again.target == ("main", 3) and again.rewrapped == 2400


def test_rerun_after_a_crash_at_the_very_end_rewrites_nothing(
    flask_db: SimpleNamespace, provider: FileKeyProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_notes(flask_db, 10)

    def crash(target: object) -> None:
        raise RuntimeError("crash before the key file records the end")

    with monkeypatch.context() as m:
        m.setattr(provider, "finish_rotation", crash)
        with pytest.raises(RuntimeError):
            rotate_keys(flask_db.session)
    before = {n.id: n.body_ct for n in flask_db.session.scalars(select(flask_db.Note))}
    report = rotate_keys(flask_db.session)
    assert report.target == ("main", 2) and report.rewrapped == 0 and report.finished
    flask_db.session.expire_all()
    assert {n.id: n.body_ct for n in flask_db.session.scalars(select(flask_db.Note))} == before


def test_rotation_does_not_overwrite_a_row_the_app_changed_meanwhile(
    flask_db: SimpleNamespace, monkeypatch: pytest.MonkeyPatch
) -> None:
    a, b = add_notes(flask_db, 2)
    real = rotation_mod._rewrap
    engine = flask_db.session.get_bind()

    def racing_rewrap(blob: bytes, ctx: Context, provider: object) -> bytes:
        if ctx.row_id == a and ctx.column == "body":
            # The app saves a new value between rotation's read and write.
            with engine.begin() as conn:
                conn.execute(update(flask_db.Note).where(flask_db.Note.id == a).values(body_ct=b"NEW-BY-APP"))
        return real(blob, ctx, provider)

    monkeypatch.setattr(rotation_mod, "_rewrap", racing_rewrap)
    report = rotate_keys(flask_db.session)
    assert report.conflicts == 1
    flask_db.session.expire_all()
    assert flask_db.session.get(flask_db.Note, a).body_ct == b"NEW-BY-APP"
    assert flask_db.session.get(flask_db.Note, b).body == "body 1"
    assert not report.finished  # the app's value is still counted (unreadable here) so the rotation stays open


def test_retire_is_refused_while_any_record_uses_the_version(
    flask_db: SimpleNamespace, provider: FileKeyProvider
) -> None:
    add_notes(flask_db, 3)
    with pytest.raises(KeyInUse, match="current"):
        retire_version(flask_db.session, "main", 1)
    provider.add_version()  # new current, but nothing re-wrapped yet
    with pytest.raises(KeyInUse, match="6 record"):
        retire_version(flask_db.session, "main", 1)
    assert provider.get("main", 1)  # key material untouched


def test_unreadable_rows_are_reported_and_keep_the_rotation_open(flask_db: SimpleNamespace) -> None:
    ids = add_notes(flask_db, 3)
    flask_db.session.execute(text("UPDATE crypto_test_note SET level = 0 WHERE id = :a"), {"a": ids[1]})
    flask_db.session.commit()
    report = rotate_keys(flask_db.session)
    assert sorted(report.failures) == sorted([f"crypto_test_note.body:{ids[1]}", f"crypto_test_note.title:{ids[1]}"])
    assert report.remaining == {("main", 1): 2} and not report.finished
    with pytest.raises(KeyInUse):
        retire_version(flask_db.session, "main", 1)


def test_rotation_rewraps_registered_files_in_place(
    flask_db: SimpleNamespace, tmp_path: Path, key_file: Path
) -> None:
    uploads = tmp_path / "uploads"
    uploads.mkdir()
    files = {}
    for i in range(3):
        ctx = Context("briefing_file", "content", new_id(), 2)
        data = os.urandom(1000 * (i + 1))
        path = uploads / f"{i}.enc"
        with open(path, "wb") as fh:
            encrypt_stream(io.BytesIO(data), fh, ctx, segment_size=256)
        files[path] = (ctx, data)

    def source(session: object) -> list[tuple[Path, Context]]:
        return [(p, ctx) for p, (ctx, _) in files.items()]

    add_notes(flask_db, 2)
    assert key_status(flask_db.session, file_sources=[source]) == {("main", 1): 7}
    report = rotate_keys(flask_db.session, file_sources=[source])
    assert report.files_rewrapped == 3 and report.finished
    assert key_status(flask_db.session, file_sources=[source]) == {("main", 2): 7}
    retire_version(flask_db.session, "main", 1, file_sources=[source])
    configure(FileKeyProvider(key_file))
    for path, (ctx, data) in files.items():
        with open(path, "rb") as fh:
            assert b"".join(decrypt_stream(fh, ctx)) == data


def test_registered_file_sources_are_used_by_default(
    flask_db: SimpleNamespace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ctx = Context("briefing_file", "content", new_id(), 0)
    path = tmp_path / "f.enc"
    with open(path, "wb") as fh:
        encrypt_stream(io.BytesIO(b"hello"), fh, ctx)
    monkeypatch.setattr(rotation_mod, "FILE_SOURCES", {})
    rotation_mod.register_file_source("briefings", lambda session: [(path, ctx)])
    assert key_status(flask_db.session) == {("main", 1): 1}


def test_rotation_on_plain_sqlalchemy(plain_db: SimpleNamespace) -> None:
    for _ in range(5):
        rec = plain_db.Record(id=new_id())
        rec.secret = "s"
        plain_db.session.add(rec)
    plain_db.session.commit()
    report = rotate_keys(plain_db.session, batch_size=2)
    assert report.finished and report.rewrapped == 5
    assert key_status(plain_db.session) == {("main", 2): 5}
