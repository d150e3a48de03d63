"""Canaries: secrets put in through the app and into every EncryptedField never appear at rest.

A unique marker goes into every EncryptedField of every model in crypto.REGISTRY
(generic, so fields added later are covered) and into a file uploaded through
the real request pipeline; a TOTP enrolment through the real pages adds its
secret and recovery codes as further canaries. Then the raw database (SQLite
file, -wal, -shm; on PostgreSQL a plain pg_dump), the files dir, every log
line, every file created in the temporary folder (and every file the process
still holds open, deleted temporaries included) and a backup archive are
searched for each canary as UTF-8, base64 and hex: zero hits.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
from sqlalchemy import inspect

from clearance import backup, files
from clearance.crypto import REGISTRY
from clearance.db import db
from clearance.permissions import Role
from tests.crypto import population, routes
from tests.factories import csrf, sign_in, totp_code

MAX_SCAN = 256 << 20


def _scan(data: bytes, needles: dict[str, list[bytes]], where: str, hits: list[str]) -> None:
    for label, variants in needles.items():
        for needle in variants:
            if needle in data:
                hits.append(f"{label} in {where}")


def _scan_file(path: Path, needles, hits: list[str]) -> None:
    try:
        if path.is_file() and path.stat().st_size <= MAX_SCAN:
            _scan(path.read_bytes(), needles, str(path), hits)
    except OSError:
        pass  # vanished meanwhile (another test's temporary file)


def _new_temp_files(since: float) -> list[Path]:
    out = []
    for root, _dirs, names in os.walk(tempfile.gettempdir()):
        for name in names:
            p = Path(root) / name
            try:
                if p.is_file() and p.stat().st_mtime >= since:
                    out.append(p)
            except OSError:
                continue
    return out


def _pg_plain_dump(app) -> bytes:
    args, env = backup._pg_args(db.engine)
    return subprocess.run(
        [shutil.which("pg_dump") or "pg_dump", "--format=plain", "--no-password", *args],
        env=env, capture_output=True, check=True,
    ).stdout


def _enrol_totp_through_the_pages(client) -> list[str]:
    """Company staff enrol in two-step sign-in on the account page; returns the secret and the recovery codes."""
    page = client.get("/account/totp").get_data(as_text=True)
    m = re.search(r'id="totp-secret"><code[^>]*>([A-Z2-7 ]+)</code>', page)
    assert m, "no TOTP secret on the enrolment page"
    secret = m.group(1).replace(" ", "")
    resp = client.post("/account/totp", data={"csrf_token": csrf(client, "/account/totp"), "code": totp_code(secret)})
    assert resp.status_code == 200
    codes = re.findall(r"<li><code>([^<]+)</code></li>", resp.get_data(as_text=True))
    assert codes, "no recovery codes shown"
    return [secret, *codes]


@pytest.fixture
def canary_app(app_factory, smtp):
    """The app with a real SMTP server: mail leaves by SMTP, as in production, not through the log."""
    _box, port = smtp
    return routes.install(app_factory(TAIWA_SMTP_HOST="127.0.0.1", TAIWA_SMTP_PORT=port))


def test_canaries_appear_nowhere_at_rest(canary_app, factory, tmp_path, caplog, capfd):
    app = canary_app
    started = time.time() - 1
    caplog.set_level(logging.DEBUG)
    log_file = tmp_path / "taiwa-test.log"
    handler = logging.FileHandler(log_file)
    handler.setLevel(logging.DEBUG)
    logging.getLogger().addHandler(handler)
    marker = population.canary()
    try:
        with app.app_context():
            population.seed_demo(db.session, app.config, tmp_path)

        # 1. through the real pages: an upload (content and file name) and a TOTP enrolment
        member = factory.person(Role.COMPANY_MEMBER, totp=False)
        client = app.test_client()
        sign_in(client, member)
        content = b"%PDF-1.7\n" + marker.encode() + b"\n" + os.urandom(600_000) + marker.encode()
        body, ctype = routes.multipart("file", f"{marker}.pdf", content)
        during: list[str] = []

        def probe() -> None:
            # While the view runs, the parsed upload exists somewhere: never as a plaintext file.
            for target, data in routes.open_fd_contents():
                if marker.encode() in data:
                    during.append(f"open file {target} during the upload")
            for p in _new_temp_files(started):
                _scan_file(p, {"marker": [marker.encode()]}, during)

        routes.PROBES.append(probe)
        try:
            resp = client.post("/_test/upload", data=body, content_type=ctype)
        finally:
            routes.PROBES.clear()
        assert during == [], during
        assert resp.status_code == 200, resp.get_data(as_text=True)
        file_id = resp.get_json()["id"]
        assert client.get(f"/_test/files/{file_id}").data == content
        page_secrets = _enrol_totp_through_the_pages(client)

        # 2. through the models: every EncryptedField of every registered model
        with app.app_context():
            sealed = population.fill_registry(db.session, marker)
            population.read_back(db.session, sealed)
            covered = {(s.model, s.field) for s in sealed}
            live_tables = set(inspect(db.engine).get_table_names())
            expected = {k for k in REGISTRY if getattr(k[0], "__tablename__", None) in live_tables}
            assert expected <= covered, f"fields without a canary: {expected - covered}"

        # 3. a backup archive of all of it
        with app.app_context():
            archive = backup.create_backup(db.engine, files.files_dir(), tmp_path / "backups" / "canary.twbk").path
            db_url = str(db.engine.url)
            plain_dump = _pg_plain_dump(app) if db.engine.dialect.name == "postgresql" else b""
            db.session.remove()
            db.engine.dispose()
    finally:
        logging.getLogger().removeHandler(handler)
        handler.close()

    needles = {"marker": population.needles(marker)}
    for i, secret in enumerate(page_secrets):
        needles[f"page secret {i}"] = [secret.encode()]
    hits: list[str] = []
    searched: list[str] = []

    # the database: SQLite file, its WAL and shared memory; PostgreSQL through a plain dump
    if db_url.startswith("sqlite"):
        db_file = Path(db_url.split("///", 1)[1])
        for suffix in ("", "-wal", "-shm", "-journal"):
            p = Path(str(db_file) + suffix)
            if p.exists():
                searched.append(p.name)
                _scan_file(p, needles, hits)
        assert db_file.stat().st_size > 0
    else:
        assert b"COPY public.stored_file" in plain_dump
        searched.append("pg_dump")
        _scan(plain_dump, needles, "pg_dump --format=plain", hits)
    # the files dir
    fdir = Path(app.config["TAIWA_FILES_DIR"])
    stored = [p for p in fdir.rglob("*") if p.is_file()]
    assert stored
    for p in stored:
        _scan_file(p, needles, hits)
    # the logs: pytest's capture, our log file, and anything written to stdout/stderr
    out, err = capfd.readouterr()
    _scan(caplog.text.encode(), needles, "caplog", hits)
    _scan((out + err).encode(), needles, "stdout/stderr", hits)
    _scan_file(log_file, needles, hits)
    assert caplog.records, "nothing was logged: the log search would prove nothing"
    # the temporary folder: every file created or changed during the test, and open (deleted) temporaries
    for p in _new_temp_files(started):
        _scan_file(p, needles, hits)
    for target, data in routes.open_fd_contents():
        _scan(data, needles, f"open file {target}", hits)
    # the backup archive
    searched.append(archive.name)
    _scan_file(archive, needles, hits)

    assert hits == [], hits
    assert searched


def test_the_canary_search_finds_a_leak(canary_app, tmp_path):
    """The search can fail: a value written in plain text next to the encrypted ones is found."""
    marker = population.canary()
    with canary_app.app_context():
        db.session.execute(db.text("UPDATE audit_head SET last_hash = :m WHERE id = 1"), {"m": marker[:64]})
        db.session.commit()
        url = str(db.engine.url)
        dump = _pg_plain_dump(canary_app) if db.engine.dialect.name == "postgresql" else b""
        db.session.remove()
        db.engine.dispose()
    hits: list[str] = []
    needles = {"marker": [marker[:64].encode()]}
    if url.startswith("sqlite"):
        base = Path(url.split("///", 1)[1])
        for suffix in ("", "-wal"):
            _scan_file(Path(str(base) + suffix), needles, hits)
    else:
        _scan(dump, needles, "pg_dump", hits)
    assert hits


# -- docs/SECURITY.md lists exactly the encrypted columns --------------------------------------------------

SECURITY_MD = Path(__file__).resolve().parents[2] / "docs" / "SECURITY.md"


def _level_text(spec) -> str:
    if isinstance(spec, int):
        return str(spec)
    if spec == "level":
        return "row level"
    if isinstance(spec, str):
        return f"row `{spec}`"
    return "derived"


def _documented() -> dict[str, str]:
    text = SECURITY_MD.read_text(encoding="utf-8")
    section = text.split("## 2. What is encrypted", 1)[1].split("\n## ", 1)[0]
    return {m.group(1): m.group(2).strip() for m in re.finditer(r"^\| `([a-z0-9_]+\.[a-z0-9_]+)` \| ([^|]+)\|", section, re.M)}


def test_security_doc_lists_every_encrypted_field_and_its_level(app):
    """Generated from crypto.REGISTRY: a field added, removed or relabelled makes this fail until the doc says so."""
    with app.app_context():
        live = set(inspect(db.engine).get_table_names())
    registered = {
        f"{cls.__tablename__}.{name}": _level_text(field.level)
        for (cls, name), field in REGISTRY.items()
        if getattr(cls, "__tablename__", None) in live
    }
    documented = _documented()
    missing = {k: v for k, v in registered.items() if k not in documented}
    rows = "\n".join(f"| `{k}` | {v} | <why> |" for k, v in sorted(missing.items()))
    assert not missing, f"docs/SECURITY.md §2 lacks these encrypted columns; add rows:\n{rows}"
    stale = sorted(set(documented) - set(registered))
    assert not stale, f"docs/SECURITY.md §2 lists columns that are not EncryptedFields (any more): {stale}"
    wrong = {k: (documented[k], v) for k, v in registered.items() if documented[k] != v}
    assert not wrong, f"docs/SECURITY.md §2 states the wrong level (doc, code): {wrong}"
