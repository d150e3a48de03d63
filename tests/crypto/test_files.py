"""clearance.files: encrypted uploads and downloads, type checks, limits, failure closed."""

from __future__ import annotations

import io
import os
import re
import shutil
import tempfile
import tracemalloc
import zipfile
from pathlib import Path

import pytest
from markupsafe import escape
from sqlalchemy import select, update

from clearance import failclosed, files
from clearance.audit import AuditEntry
from clearance.crypto import DecryptionError, key_status, retire_version, rotate_keys
from clearance.db import db
from clearance.permissions import Role
from tests.crypto import routes
from tests.factories import sign_in

PDF = b"%PDF-1.7\n" + b"1 0 obj << /Type /Catalog >> endobj\n" * 10 + b"%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(64)


def ooxml(members: list[str], content_types_last: bool = False) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        names = ["[Content_Types].xml", *members]
        if content_types_last:
            names = [*members, "[Content_Types].xml"]
        for name in names:
            z.writestr(name, "<xml/>")
    return buf.getvalue()


@pytest.fixture
def fapp(app_factory, tmp_path):
    return routes.install(app_factory(TAIWA_FILES_DIR=str(tmp_path / "files")))


@pytest.fixture
def signed_in(fapp, factory):
    client = fapp.test_client()
    person = factory.person(Role.OFFICER)
    sign_in(client, person)
    return client


def upload(client, filename: str, content: bytes, **fields):
    body, ctype = routes.multipart("file", filename, content, **fields)
    return client.post("/_test/upload", data=body, content_type=ctype)


def stored(app, file_id: str) -> files.StoredFile:
    with app.app_context():
        row = db.session.get(files.StoredFile, file_id)
        db.session.expunge(row)
        return row


def files_on_disk(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def decryption_audits(app) -> list[dict]:
    import json

    with app.app_context():
        rows = db.session.execute(
            select(AuditEntry).where(AuditEntry.realm == "crypto").order_by(AuditEntry.seq)
        ).scalars().all()
        return [{"summary": r.summary, "kind": r.kind, **json.loads(r.data)} for r in rows]


# -- round trip --------------------------------------------------------------------------------------------


def test_upload_and_download_round_trip_with_japanese_name_and_safe_headers(fapp, signed_in):
    # given a PDF with a Japanese name, uploaded through a view
    content = PDF + os.urandom(3 * 1024 * 1024)  # > 1 segment and > Werkzeug's 500 KB spool threshold
    resp = upload(signed_in, "令和8年度 会議資料.pdf", content)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    file_id = resp.get_json()["id"]
    # when it is downloaded
    got = signed_in.get(f"/_test/files/{file_id}")
    # then the bytes are identical and the headers are safe
    assert got.status_code == 200
    assert got.data == content
    assert got.headers["Content-Type"] == "application/pdf"
    assert got.headers["Content-Length"] == str(len(content))
    assert got.headers["X-Content-Type-Options"] == "nosniff"
    assert got.headers["Cache-Control"] == "no-store"
    assert "sandbox" in got.headers["Content-Security-Policy"]
    disposition = got.headers["Content-Disposition"]
    assert disposition.startswith("attachment; ")
    assert "filename*=UTF-8''%E4%BB%A4%E5%92%8C8%E5%B9%B4%E5%BA%A6%20%E4%BC%9A%E8%AD%B0%E8%B3%87%E6%96%99.pdf" in disposition
    row = stored(fapp, file_id)
    assert row.size == len(content) and row.content_type == "application/pdf"


def test_stored_names_are_random_and_the_disk_holds_only_ciphertext(fapp, tmp_path):
    # given the same content uploaded twice
    with fapp.test_request_context():
        a = files.save_upload(db.session, io.BytesIO(PDF), filename="a.pdf", owner_table="t", owner_id="1")
        b = files.save_upload(db.session, io.BytesIO(PDF), filename="a.pdf", owner_table="t", owner_id="1")
        db.session.commit()
        paths = [a.path, b.path]
        names = [a.storage_name, b.storage_name]
    # then each has a fresh 64-hex-digit name under a 2-hex-digit directory, and different ciphertext
    for name, path in zip(names, paths, strict=True):
        assert re.fullmatch(r"[0-9a-f]{64}", name)
        assert path == tmp_path / "files" / name[:2] / name
    assert names[0] != names[1]
    blobs = [p.read_bytes() for p in paths]
    assert blobs[0] != blobs[1]
    for blob in blobs:
        assert blob.startswith(b"TWS\x01")
        assert b"%PDF" not in blob and b"Catalog" not in blob and b"a.pdf" not in blob
    # and no temporary file is left next to them
    assert sorted(files_on_disk(tmp_path / "files")) == sorted(paths)


def test_content_disposition_escapes_quotes_and_keeps_an_ascii_fallback():
    assert files.content_disposition('re"port;x.pdf') == (
        "attachment; filename=\"re_port_x.pdf\"; filename*=UTF-8''re%22port%3Bx.pdf"
    )
    assert files.content_disposition("議事録.docx", as_attachment=False).startswith('inline; filename="file.docx"')


# -- limits and types --------------------------------------------------------------------------------------


def test_a_file_over_the_limit_is_refused_while_streaming_and_leaves_nothing(fapp, tmp_path):
    # given a limit of 1 MiB and a 3 MiB PDF
    with fapp.test_request_context():
        with pytest.raises(files.FileRejected) as err:
            files.save_upload(db.session, io.BytesIO(PDF + bytes(3 << 20)), filename="big.pdf",
                              owner_table="t", owner_id="1", max_bytes=1 << 20)
        # then it is refused with a user-facing reason and nothing remains, not even the partial file
        assert err.value.reason == "too_large"
        assert "1 MiB" in err.value.message
        assert db.session.execute(select(files.StoredFile)).first() is None
    assert files_on_disk(tmp_path / "files") == []


def test_the_configured_upload_limit_applies_through_the_view(app_factory, factory, tmp_path):
    app = routes.install(app_factory(TAIWA_MAX_UPLOAD=100_000))
    client = app.test_client()
    sign_in(client, factory.person(Role.OFFICER))
    resp = upload(client, "x.pdf", PDF + bytes(200_000))
    assert resp.status_code == 400 and resp.get_json()["reason"] == "too_large"


def test_only_views_that_accept_uploads_take_big_bodies(fapp, signed_in):
    # given a 3 MiB file (MAX_CONTENT_LENGTH is 2 MiB; TAIWA_MAX_UPLOAD is 20 MiB)
    body, ctype = routes.multipart("file", "x.pdf", PDF + bytes(3 << 20))
    # then a view without @accepts_uploads refuses it and the upload view takes it
    assert signed_in.post("/_test/small-form", data=body, content_type=ctype).status_code == 413
    assert signed_in.post("/_test/upload", data=body, content_type=ctype).status_code == 200


@pytest.mark.parametrize(
    ("filename", "content", "reason"),
    [
        ("image.pdf", PNG, "type_mismatch"),
        ("report.pdf", b"MZ\x90\x00" + bytes(100), "type_mismatch"),
        ("photo.png", PDF, "type_mismatch"),
        ("photo.jpg", PNG, "type_mismatch"),
        ("notes.txt", b"\x00\x01binary\xff\xfe" * 50, "type_mismatch"),
        ("notes.txt", b"ok" + b"\xff\xff\xff", "type_mismatch"),
        ("data.csv", PDF + b"\x00", "type_mismatch"),
        ("plain.docx", ooxml(["other.xml"]), "type_mismatch"),
        ("sheet.xlsx", ooxml(["word/document.xml"]), "type_mismatch"),
        ("fake.docx", b"PK\x03\x04" + bytes(200), "type_mismatch"),
        ("page.html", b"<html><script>alert(1)</script></html>", "type_not_allowed"),
        ("logo.svg", b"<svg xmlns='http://www.w3.org/2000/svg'/>", "type_not_allowed"),
        ("tool.exe", b"MZ\x90\x00", "type_not_allowed"),
        ("noextension", PDF, "type_not_allowed"),
        (".pdf", PDF, "type_not_allowed"),
        ("...", PDF, "bad_name"),
        ("", PDF, "bad_name"),
        ("empty.pdf", b"", "empty"),
    ],
)
def test_content_must_agree_with_the_name(fapp, tmp_path, filename, content, reason):
    with fapp.test_request_context():
        with pytest.raises(files.FileRejected) as err:
            files.save_upload(db.session, io.BytesIO(content), filename=filename, owner_table="t", owner_id="1")
        assert err.value.reason == reason
        assert str(err.value.message)
    assert files_on_disk(tmp_path / "files") == []


@pytest.mark.parametrize(
    ("filename", "content", "content_type"),
    [
        ("a.pdf", PDF, "application/pdf"),
        ("a.png", PNG, "image/png"),
        ("a.JPEG", b"\xff\xd8\xff\xe0" + bytes(40), "image/jpeg"),
        ("a.gif", b"GIF89a" + bytes(20), "image/gif"),
        ("a.docx", ooxml(["word/document.xml"]), files.KINDS["docx"].content_type),
        ("a.xlsx", ooxml(["xl/workbook.xml"], content_types_last=True), files.KINDS["xlsx"].content_type),
        ("a.pptx", ooxml(["ppt/presentation.xml"]), files.KINDS["pptx"].content_type),
        ("メモ.txt", "会議メモ\n次回は十二月".encode(), "text/plain; charset=utf-8"),
        ("一覧.csv", "社名,担当\n株式会社テスト,山田\n".encode("cp932"), "text/csv; charset=shift_jis"),
    ],
)
def test_accepted_types_are_decided_by_content(fapp, filename, content, content_type):
    with fapp.test_request_context():
        row = files.save_upload(db.session, io.BytesIO(content), filename=filename, owner_table="t", owner_id="1")
        assert row.content_type == content_type
        assert b"".join(files.open_download(row)) == content


def test_an_allow_list_narrows_the_kinds(fapp):
    with fapp.test_request_context():
        with pytest.raises(files.FileRejected) as err:
            files.save_upload(db.session, io.BytesIO(PNG), filename="a.png", owner_table="t", owner_id="1",
                              kinds=files.AllowList.of("pdf", "docx"))
        assert err.value.reason == "type_not_allowed"
        assert ".pdf" in err.value.message and ".docx" in err.value.message
    with pytest.raises(ValueError):
        files.AllowList.of("exe")


def test_the_browser_path_is_stripped_from_the_name(fapp):
    with fapp.test_request_context():
        row = files.save_upload(db.session, io.BytesIO(PDF), filename="C:\\fakepath\\報告\x00書.pdf",
                                owner_table="t", owner_id="1")
        assert row.original_name == "報告書.pdf"


# -- transactions ----------------------------------------------------------------------------------------


def test_a_rolled_back_upload_leaves_no_file(fapp, tmp_path):
    with fapp.test_request_context():
        files.save_upload(db.session, io.BytesIO(PDF), filename="a.pdf", owner_table="t", owner_id="1")
        assert len(files_on_disk(tmp_path / "files")) == 1
        db.session.rollback()
    assert files_on_disk(tmp_path / "files") == []


def test_delete_file_removes_row_and_file_on_commit_only(fapp, tmp_path):
    with fapp.test_request_context():
        row = files.save_upload(db.session, io.BytesIO(PDF), filename="a.pdf", owner_table="t", owner_id="1")
        db.session.commit()
        path = row.path
        # a deletion that rolls back keeps both
        files.delete_file(db.session, row)
        db.session.flush()
        db.session.rollback()
        assert path.exists() and db.session.get(files.StoredFile, row.id) is not None
        # a committed one removes both
        row = db.session.get(files.StoredFile, row.id)
        files.delete_file(db.session, row)
        db.session.commit()
        assert not path.exists() and db.session.get(files.StoredFile, row.id) is None
        assert files.files_of(db.session, "t", "1") == []


# -- keys ------------------------------------------------------------------------------------------------


def test_rotation_and_key_status_cover_every_stored_file(app_factory, keydir, tmp_path):
    # A private copy of the session's key file: rotating and retiring the shared one would leave every
    # later test's database (whose key checks name main v1) to a retired v1 and a new v2.
    keys = tmp_path / "own-keys.json"
    shutil.copy(keydir / "keys.json", keys)
    keys.chmod(0o600)
    fapp = routes.install(app_factory(TAIWA_FILES_DIR=str(tmp_path / "files"), TAIWA_KEY_FILE=str(keys)))
    with fapp.test_request_context():
        row = files.save_upload(db.session, io.BytesIO(PDF), filename="a.pdf", owner_table="t", owner_id="1")
        db.session.commit()
        before = key_status(db.session)
        old = next(k for k, n in before.items() if n)
        report = rotate_keys(db.session)
        assert report.finished and report.files_rewrapped == 1
        status = key_status(db.session)
        assert status.get(old, 0) == 0 and status[report.target] >= 2  # the name field and the file
        retire_version(db.session, *old)
        row = db.session.get(files.StoredFile, row.id)
        assert b"".join(files.open_download(row)) == PDF and row.original_name == "a.pdf"


def test_files_kept_in_the_database_round_trip_rotate_check_and_delete(app_factory, keydir, tmp_path):
    """The desk's files (in_database=True): nothing under the files dir, and every file duty still covers them."""
    keys = tmp_path / "own-keys.json"  # rotated below: never the session's shared key file
    shutil.copy(keydir / "keys.json", keys)
    keys.chmod(0o600)
    fapp = routes.install(app_factory(TAIWA_FILES_DIR=str(tmp_path / "files"), TAIWA_KEY_FILE=str(keys)))
    with fapp.test_request_context():
        row = files.save_upload(db.session, io.BytesIO(PDF), filename="a.pdf", owner_table="consult_message",
                                owner_id="1", in_database=True)
        db.session.rollback()  # a rolled-back upload leaves nothing, row nor blob
        assert db.session.get(files.StoredFileBlob, row.id) is None
        row = files.save_upload(db.session, io.BytesIO(PDF), filename="a.pdf", owner_table="consult_message",
                                owner_id="1", in_database=True)
        db.session.commit()
        assert files_on_disk(tmp_path / "files") == [] and not row.path.exists()
        blob = db.session.get(files.StoredFileBlob, row.id).content
        assert blob.startswith(b"TWS") and PDF[:32] not in blob
        assert b"".join(files.open_download(row)) == PDF
        files.verify(row)
        old = next(k for k, n in key_status(db.session).items() if n)
        report = rotate_keys(db.session)
        assert report.finished and report.files_rewrapped == 1 and not report.failures
        assert key_status(db.session).get(old, 0) == 0
        retire_version(db.session, *old)
        db.session.expire_all()
        row = db.session.get(files.StoredFile, row.id)
        assert db.session.get(files.StoredFileBlob, row.id).content != blob  # re-wrapped header
        assert b"".join(files.open_download(row)) == PDF and row.original_name == "a.pdf"
        file_id = row.id
    result = fapp.test_cli_runner().invoke(args=["files-check"])
    assert result.exit_code == 0 and "0 row(s) without a file" in result.output, result.output
    with fapp.test_request_context():
        files.delete_file(db.session, db.session.get(files.StoredFile, file_id))
        db.session.commit()
        assert db.session.get(files.StoredFile, file_id) is None
        assert db.session.get(files.StoredFileBlob, file_id) is None


# -- failure closed --------------------------------------------------------------------------------------


def _uploaded(fapp, signed_in, content: bytes = PDF, **fields) -> tuple[str, Path]:
    resp = upload(signed_in, "secret.pdf", content, **fields)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    file_id = resp.get_json()["id"]
    with fapp.test_request_context():
        return file_id, db.session.get(files.StoredFile, file_id).path


def _assert_failed_closed(fapp, resp, file_id: str, column: str = "content"):
    assert resp.status_code == 500
    text = resp.get_data(as_text=True)
    assert "%PDF" not in text and "Catalog" not in text
    with fapp.test_request_context():  # the default language, as the signed-in test user has none set
        assert str(escape(failclosed.message())) in text
    entry = decryption_audits(fapp)[-1]
    assert entry["summary"] == "Decryption failed" and entry["kind"] == "negative"
    assert (entry["table"], entry["column"], entry["row_id"]) == ("stored_file", column, file_id)


def test_a_flipped_bit_on_disk_fails_closed_and_is_audited(fapp, signed_in):
    file_id, path = _uploaded(fapp, signed_in)
    blob = bytearray(path.read_bytes())
    blob[-20] ^= 0x01
    path.write_bytes(bytes(blob))
    _assert_failed_closed(fapp, signed_in.get(f"/_test/files/{file_id}"), file_id)


def test_a_truncated_file_fails_closed_before_anything_is_sent(fapp, signed_in):
    # given a file of several segments cut after the first one
    content = PDF + os.urandom(3 << 20)
    file_id, path = _uploaded(fapp, signed_in, content)
    blob = path.read_bytes()
    path.write_bytes(blob[: len(blob) // 2])
    # then the whole file is checked before the 200: an error page, not a short file
    _assert_failed_closed(fapp, signed_in.get(f"/_test/files/{file_id}"), file_id)


def test_reordered_segments_fail_closed(fapp, signed_in):
    content = PDF + os.urandom((2 << 20) + 100)
    file_id, path = _uploaded(fapp, signed_in, content)
    blob = path.read_bytes()
    seg = (1 << 20) + 16
    header_len = len(blob) - 2 * seg - (len(content) - (2 << 20)) - 16
    head, s0, s1, rest = blob[:header_len], blob[header_len:header_len + seg], blob[header_len + seg:header_len + 2 * seg], blob[header_len + 2 * seg:]
    path.write_bytes(head + s1 + s0 + rest)
    _assert_failed_closed(fapp, signed_in.get(f"/_test/files/{file_id}"), file_id)


def test_a_missing_file_fails_closed(fapp, signed_in):
    file_id, path = _uploaded(fapp, signed_in)
    path.unlink()
    _assert_failed_closed(fapp, signed_in.get(f"/_test/files/{file_id}"), file_id)


def test_a_tampered_storage_name_cannot_reach_outside_the_files_dir(fapp, signed_in):
    file_id, _ = _uploaded(fapp, signed_in)
    with fapp.test_request_context():
        db.session.execute(update(files.StoredFile).values(storage_name="../../../../etc/passwd"))
        db.session.commit()
    _assert_failed_closed(fapp, signed_in.get(f"/_test/files/{file_id}"), file_id)


def test_a_lowered_level_makes_name_and_content_fail_closed(fapp, signed_in):
    file_id, _ = _uploaded(fapp, signed_in, level="2")
    with fapp.test_request_context():
        db.session.execute(update(files.StoredFile).where(files.StoredFile.id == file_id).values(level=0))
        db.session.commit()
    _assert_failed_closed(fapp, signed_in.get(f"/_test/files/{file_id}"), file_id)
    _assert_failed_closed(fapp, signed_in.get(f"/_test/files/{file_id}/name"), file_id, column="original_name")


def test_files_swapped_between_rows_fail_closed(fapp, signed_in):
    a, path_a = _uploaded(fapp, signed_in)
    b, path_b = _uploaded(fapp, signed_in)
    blob_a, blob_b = path_a.read_bytes(), path_b.read_bytes()
    path_a.write_bytes(blob_b)
    path_b.write_bytes(blob_a)
    _assert_failed_closed(fapp, signed_in.get(f"/_test/files/{a}"), a)
    _assert_failed_closed(fapp, signed_in.get(f"/_test/files/{b}"), b)


def test_a_failure_in_a_large_file_mid_stream_aborts_instead_of_completing(fapp, signed_in, monkeypatch):
    # given a file larger than the verify-first threshold, damaged in its last segment
    monkeypatch.setattr(files, "VERIFY_BEFORE_SEND", 1024)
    content = PDF + os.urandom(3 << 20)
    file_id, path = _uploaded(fapp, signed_in, content)
    blob = bytearray(path.read_bytes())
    blob[-5] ^= 0x80
    path.write_bytes(bytes(blob))
    # when it is downloaded, the 200 and the first segment go out, then the stream raises:
    # the server drops the connection, so the client never sees a complete body
    resp = signed_in.get(f"/_test/files/{file_id}", buffered=False)
    assert resp.status_code == 200 and resp.headers["Content-Length"] == str(len(content))
    received = bytearray()
    with pytest.raises(DecryptionError):
        for chunk in resp.response:
            received += chunk
    assert len(received) < len(content)
    # and the failure is audited
    entry = decryption_audits(fapp)[-1]
    assert (entry["table"], entry["column"], entry["row_id"]) == ("stored_file", "content", file_id)


def test_open_download_raises_for_a_wrong_context(fapp):
    with fapp.test_request_context():
        row = files.save_upload(db.session, io.BytesIO(PDF), filename="a.pdf", owner_table="t", owner_id="1")
        row.id = "00000000-0000-4000-8000-000000000000"  # not where it was sealed
        with pytest.raises(DecryptionError):
            files.open_download(row)
        db.session.rollback()


# -- memory and disk ---------------------------------------------------------------------------------------


class Generated(io.RawIOBase):
    """`size` bytes of a PDF-looking stream, produced on demand (never whole in memory)."""

    def __init__(self, size: int) -> None:
        self.left = size
        self.first = True

    def readable(self) -> bool:
        return True

    def readinto(self, buf) -> int:
        n = min(len(buf), self.left)
        if self.first and n:
            buf[:5] = b"%PDF-"
            buf[5:n] = b"x" * (n - 5)
            self.first = False
        else:
            buf[:n] = b"y" * n
        self.left -= n
        return n


def test_upload_and_download_of_a_large_file_run_in_constant_memory(fapp):
    size = 48 << 20
    with fapp.test_request_context():
        tracemalloc.start()
        try:
            row = files.save_upload(db.session, Generated(size), filename="big.pdf", owner_table="t", owner_id="1",
                                    max_bytes=size)
            _, peak_up = tracemalloc.get_traced_memory()
            tracemalloc.reset_peak()
            total = sum(len(c) for c in files.open_download(row))
            _, peak_down = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert total == size
    # one 1 MiB segment in and out plus the ZIP/head buffers, whatever the size
    assert peak_up < 8 << 20, peak_up
    assert peak_down < 8 << 20, peak_down


def _temp_files() -> set[str]:
    """Every file under the temporary folder; os.walk shrugs off directories other
    sessions remove meanwhile (Path.rglob would raise)."""
    return {os.path.join(root, n) for root, _dirs, names in os.walk(tempfile.gettempdir()) for n in names}


def _probe_for(canary: bytes, found: list[str], tmpdir_before: set[str]):
    def probe() -> None:
        for target, content in routes.open_fd_contents():
            if canary in content:
                found.append(f"open file {target}")
        for entry in _temp_files() - tmpdir_before:
            try:
                if os.path.isfile(entry) and canary in Path(entry).read_bytes():
                    found.append(f"temp file {entry}")
            except OSError:
                continue

    return probe


@pytest.mark.parametrize("size", [10_000, 3 << 20])
def test_no_plaintext_reaches_any_file_during_an_upload(fapp, signed_in, tmp_path, size):
    # given a file with a canary, larger than Werkzeug's 500 KB in-memory threshold (and a small one)
    canary = b"CANARY-UPLOAD-" + os.urandom(8).hex().encode()
    content = PDF + canary + b"x" * size + canary
    tmpdir_before = _temp_files()
    found: list[str] = []
    # when the upload view runs (after the multipart parser has read the whole body),
    # every file the process holds open (deleted temporaries too) and the temp dir are searched
    routes.PROBES.append(_probe_for(canary, found, tmpdir_before))
    try:
        resp = upload(signed_in, "canary.pdf", content)
    finally:
        routes.PROBES.clear()
    assert resp.status_code == 200
    # then the canary is nowhere on disk, then or after
    assert found == []
    for path in files_on_disk(tmp_path):
        assert canary not in path.read_bytes(), path


def test_the_probe_finds_plaintext_spooled_by_the_default_request_class(fapp, signed_in):
    """The no-plaintext test can fail: with Werkzeug's own spooling the probe sees the canary."""
    from flask import Request

    fapp.request_class = Request
    canary = b"CANARY-SPOOL-" + os.urandom(8).hex().encode()
    found: list[str] = []
    routes.PROBES.append(_probe_for(canary, found, set()))
    try:
        body, ctype = routes.multipart("file", "x.pdf", PDF + canary + b"x" * (1 << 20))
        signed_in.post("/_test/upload", data=body, content_type=ctype)
    finally:
        routes.PROBES.clear()
    assert found, "Werkzeug's default spool should have put the plaintext in a temporary file"


# -- the request spool -------------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [0, 1, 256 * 1024, 256 * 1024 + 1, (1 << 20) + 3])
def test_the_encrypted_spool_returns_what_was_written_and_keeps_only_ciphertext(tmp_path, size):
    from clearance.crypto.spool import EncryptedSpool

    marker = b"SPOOL-CANARY-" + os.urandom(6).hex().encode()
    data = (marker + os.urandom(977)) * (size // 1000 + 1)
    data = data[:size]
    spool = EncryptedSpool(tmp_path / "spool")
    for i in range(0, len(data), 65536 - 7):  # uneven pieces, as the multipart parser writes
        spool.write(data[i : i + 65536 - 7])
    assert spool.seek(0, 2) == size and spool.tell() == size  # FileStorage asks for the size like this
    spool.seek(0)
    assert spool.read(10) + spool.read() == data
    spool.seek(0)
    assert b"".join(iter(lambda: spool.read(4096), b"")) == data
    if spool._file is not None:  # beyond one segment: on disk, sealed
        spool._file.seek(0)
        assert marker not in spool._file.read()
    assert list((tmp_path / "spool").glob("*")) == []  # anonymous: nothing to find by name, nothing left on a crash
    spool.close()


def test_a_modified_spool_fails_instead_of_returning_other_bytes(tmp_path):
    from clearance.crypto.spool import EncryptedSpool

    spool = EncryptedSpool(tmp_path)
    spool.write(os.urandom(600 * 1024))
    spool.seek(0)
    spool._file.seek(100)
    byte = spool._file.read(1)
    spool._file.seek(100)
    spool._file.write(bytes([byte[0] ^ 1]))
    spool.seek(0)
    with pytest.raises(DecryptionError):
        spool.read()


# -- files-check -------------------------------------------------------------------------------------------


def test_files_check_finds_orphans_and_missing_files_and_removes_only_orphans(fapp, tmp_path):
    with fapp.test_request_context():
        kept = files.save_upload(db.session, io.BytesIO(PDF), filename="a.pdf", owner_table="t", owner_id="1")
        gone = files.save_upload(db.session, io.BytesIO(PDF), filename="b.pdf", owner_table="t", owner_id="1")
        db.session.commit()
        kept_path, gone_id = kept.path, gone.id
        gone.path.unlink()
    # an orphan: a file left by a crash between its rename and the commit, an hour ago
    orphan = kept_path.parent / ("ab" * 32)
    orphan.write_bytes(b"TWS\x01junk")
    os.utime(orphan, (0, 0))
    fresh = kept_path.parent / ("cd" * 32)  # an upload in flight: too young to judge
    fresh.write_bytes(b"TWS\x01junk")
    result = fapp.test_cli_runner().invoke(args=["files-check", "--remove-orphans"])
    assert result.exit_code == 1  # a row without its file is an incident for the operator
    assert f"missing: stored_file {gone_id}" in result.output
    assert "removed 1 orphaned file(s)" in result.output
    assert not orphan.exists() and fresh.exists() and kept_path.exists()
