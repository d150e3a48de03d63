"""The disk fills up (issue 12, finding 6).

The files folder (and, on SQLite, the database) live on a small tmpfs this test
mounts; a filler file takes the rest. Then an upload, a desk submission and a minutes
save: each answers the app's own 507 page saying what was not saved, in the visitor's
language; the desk says the text was not received; /healthz is degraded; the log has
one line and no traceback. Freed again, everything saved before is there and new
writes succeed.
"""

from __future__ import annotations

import errno
import io
import logging
import re
import shutil
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from sqlalchemy import text

from clearance.db import db
from tests.conftest import BACKEND
from tests.consult.conftest import CSRF, FORM_TOKEN, Visitor, said
from tests.consult.samples import png_with_text
from tests.factories import Factory, csrf, sign_in
from tests.feedback.world import make_world
from tests.minutes.helpers import current_doc, start
from tests.registry.test_import import HEADER_JA, sample_rows

SIZE_MB = 8


@pytest.fixture
def small_disk(tmp_path) -> Path:
    mount = tmp_path / "small"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={SIZE_MB}m,mode=0700", "tmpfs", str(mount)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here (needs root): {done.stderr.strip()}")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


def _fill(disk: Path) -> Path:
    filler = disk / "filler"
    chunk = b"\0" * 65536
    with filler.open("wb", buffering=0) as f:  # unbuffered: nothing left to fail on close
        for size in (len(chunk), 4096, 512, 1):  # down to the last crumbs
            try:
                while True:
                    f.write(chunk[:size])
            except OSError as exc:
                assert exc.errno == errno.ENOSPC
    return filler


def _desk_form(visitor: Visitor) -> dict:
    page = visitor.get("/consult/new")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    return {"csrf_token": CSRF.search(html).group(1), "form_token": FORM_TOKEN.search(html).group(1),
            "category": "technology_transfer", "sector": "", "tier": "", "size_class": ""}


def _desk_post(visitor: Visitor, form: dict, text: str, files=()):
    data = {**form, "text": text}
    if files:
        data["files"] = list(files)
    return visitor.post("/consult/new", data, content_type="multipart/form-data")


def test_full_disk_refuses_writes_with_the_designed_page_and_loses_nothing(app_factory, db_url, small_disk, caplog):
    if BACKEND == "sqlite":
        shutil.copy(urlsplit(db_url).path, small_disk / "taiwa.db")
        db_url = f"sqlite:///{small_disk / 'taiwa.db'}"
    app = app_factory(SQLALCHEMY_DATABASE_URI=db_url, TAIWA_FILES_DIR=str(small_disk / "files"), TESTING=False,
                      TAIWA_CONSULT_MIN_FORM_SECONDS=0, TAIWA_MIN_FREE_MB=1)
    world = make_world(app, Factory(app))
    minutes_id = start(app, world)
    doc, base = current_doc(app, minutes_id)

    officer = app.test_client()
    assert sign_in(officer, world.officer).status_code == 302

    def save_minutes(body: str, base_revision: int, token: str | None = None):
        token = token or csrf(officer, f"/minutes/{minutes_id}")
        s = doc.sections[0]
        return officer.post(f"/minutes/{minutes_id}/edit", data={
            "csrf_token": token, "base_revision": str(base_revision), "section-0-key": s.key,
            "section-0-title": s.title, "section-0-body": body, "section-0-level": "0"})

    # Saved before the disk fills: a minutes revision and a desk case with a file.
    assert save_minutes("満杯になる前に保存された本文", base).status_code == 302
    desk = Visitor(app.test_client())
    receipt = desk.new_case("満杯になる前の相談です。海外の顧客から図面を求められています。",
                            files=[(io.BytesIO(png_with_text()), "before.png")])
    assert app.test_client().get("/healthz").status_code == 200

    # Forms opened before the disk fills (opening one stores a session: on SQLite that is a write too).
    late, ja, bare = (Visitor(app.test_client(), headers={"Accept-Language": lang}) for lang in ("en", "ja", "en"))
    forms = {id(v): _desk_form(v) for v in (late, ja, bare)}
    minutes_token = csrf(officer, f"/minutes/{minutes_id}")
    import_token = csrf(officer, "/registry/companies/import")

    if BACKEND == "sqlite":
        with app.app_context():
            db.session.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))  # no reusable room left in the WAL
            db.session.remove()
    filler = _fill(small_disk)
    caplog.clear()
    caplog.set_level(logging.INFO)

    if BACKEND == "postgres":
        # The desk keeps its files in the database (no file on the files disk may date a visit): on
        # PostgreSQL a desk submission with a file never touches the full disk, and is received.
        resp = _desk_post(late, forms[id(late)], "満杯の後の相談です。", files=[(io.BytesIO(png_with_text()), "after.png")])
        assert resp.status_code == 200 and "Your text was NOT received" not in resp.get_data(as_text=True)
    else:
        # A desk submission with a file: not received, and the page says so in the visitor's language.
        resp = _desk_post(late, forms[id(late)], "満杯の後の相談です。", files=[(io.BytesIO(png_with_text()), "after.png")])
        page = resp.get_data(as_text=True)
        assert resp.status_code == 507, page[:1500]
        assert '<html lang="en">' in page and "Your text was NOT received" in page and "no receipt" in page
        assert "has been lost" not in page and "Traceback" not in page

        resp = _desk_post(ja, forms[id(ja)], "満杯の後の相談です（日本語）。", files=[(io.BytesIO(png_with_text()), "after.png")])
        page = resp.get_data(as_text=True)
        assert resp.status_code == 507 and '<html lang="ja">' in page
        assert said(page, "Your text was NOT received. Nothing of what you just sent has been stored and no receipt "
                          "was issued. Keep your own copy and try again later.")

    if BACKEND == "sqlite":  # on PostgreSQL these write only to the database server's own disk
        resp = save_minutes("満杯の後に保存しようとした本文", base + 1, minutes_token)
        page = resp.get_data(as_text=True)
        assert resp.status_code == 507, page[:1500]
        assert said(page, "your changes to the minutes") and "保存されていないもの" in page

        fresh = Visitor(app.test_client(), headers={"Accept-Language": "en"}).get("/consult/new")
        page = fresh.get_data(as_text=True)  # opening the form stores a desk session: a write
        assert fresh.status_code == 507 and "this page cannot be used right now" in page, page[:1500]

        resp = _desk_post(bare, forms[id(bare)], "満杯の後の、ファイルなしの相談です。")
        assert resp.status_code == 507 and "Your text was NOT received" in resp.get_data(as_text=True)

        content = ("\r\n".join([HEADER_JA, *sample_rows(40)]) + "\r\n").encode("utf-8")
        resp = officer.post("/registry/companies/import", content_type="multipart/form-data", data={
            "csrf_token": import_token, "file": (io.BytesIO(content), "companies.csv")})
        assert resp.status_code == 507, resp.get_data(as_text=True)[:1500]

    health = app.test_client().get("/healthz")
    assert health.status_code == 503 and health.json["status"] == "degraded"
    assert "disk:files" in health.json["problems"] and health.json["disk"]["files"]["ok"] is False

    records = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert all(r.exc_info is None for r in records), [r.getMessage() for r in records if r.exc_info]
    assert "Traceback" not in caplog.text
    full = [r for r in records if r.name == "taiwa.outage"]
    assert len(full) == (1 if BACKEND == "sqlite" else 0), (caplog.text, [r.getMessage() for r in caplog.records])
    assert all("not saved" in r.getMessage() for r in full)

    # Room again: what was saved before is all there, and writes work.
    filler.unlink()
    assert app.test_client().get("/healthz").status_code == 200
    again = Visitor(app.test_client())
    opened = again.open(receipt)
    assert opened.status_code in (200, 303)
    case_page = again.get("/consult/case").get_data(as_text=True)
    assert "満杯になる前の相談です" in case_page
    link = re.search(r'href="(/consult/case/files/[^"]+)"', case_page).group(1)
    download = again.get(link)
    assert download.status_code == 200 and download.get_data().startswith(b"\x89PNG"), "the file saved before is intact"
    officer_page = officer.get(f"/minutes/{minutes_id}").get_data(as_text=True)
    assert "満杯になる前に保存された本文" in officer_page and "満杯の後に保存しようとした本文" not in officer_page
    assert save_minutes("空きができた後の本文", base + 1).status_code == 302
    assert late.new_case("空きができた後の相談です。")
