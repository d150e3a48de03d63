"""Test-only routes over clearance.files and EncryptedField reads, as product views use them.

Product areas (briefings, consultation desk) have their own views; these let
the crypto tests drive uploads, downloads and reads through the real request
handling (UploadRequest, guard, fail-closed handler) before those exist.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from pathlib import Path

from flask import Flask, abort, request

from clearance import files
from clearance.auth.models import UserAccount
from clearance.db import db
from clearance.permissions import Permission, requires

#: set by a test to look at the process while the upload view runs (after parsing)
PROBES: list[Callable[[], None]] = []


def multipart(field: str, filename: str, content: bytes, **fields: str) -> tuple[bytes, str]:
    """A multipart body built in memory. (Werkzeug's test client would spool a
    big body to a plaintext temporary file itself, which is the network's
    business, not ours; the no-plaintext tests must not be fooled by it.)"""
    boundary = "----taiwa" + uuid.uuid4().hex
    parts = []
    for name, value in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"; filename="{filename}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n".encode()
    )
    parts.append(content)
    parts.append(f"\r\n--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def install(app: Flask) -> Flask:
    """Add the test routes (before the first request) with CSRF off for them."""
    from app import csrf

    @requires(Permission.ACCOUNT_SELF)
    @files.accepts_uploads()
    def upload():
        for probe in PROBES:
            probe()
        storage = request.files.get("file")
        if storage is None:
            abort(400)
        try:
            stored = files.save_upload(
                db.session, storage.stream, filename=storage.filename or "", owner_table="test_owner",
                owner_id=request.form.get("owner", "owner-1"), level=int(request.form.get("level", 0)),
            )
        except files.FileRejected as exc:
            db.session.rollback()
            return {"reason": exc.reason, "message": exc.message}, 400
        db.session.commit()
        return {"id": stored.id}

    @requires(Permission.ACCOUNT_SELF)
    def small_form():
        request.files.get("file")  # parse the body; no upload limit declared on this view
        return "ok"

    @requires(Permission.ACCOUNT_SELF)
    def download(file_id: str):
        stored = db.session.get(files.StoredFile, file_id)
        if stored is None:
            abort(404)
        return files.send_download(stored)

    @requires(Permission.ACCOUNT_SELF)
    def file_name(file_id: str):
        stored = db.session.get(files.StoredFile, file_id)
        if stored is None:
            abort(404)
        return {"name": stored.original_name}

    @requires(Permission.ACCOUNT_SELF)
    def totp_status(user_id: str):
        user = db.session.get(UserAccount, user_id)
        if user is None:
            abort(404)
        return {"has_secret": bool(user.totp_secret)}

    @requires(Permission.ACCOUNT_SELF)
    def read_field(table: str, field: str, row_id: str):
        """Read any registered EncryptedField in a view, as a product page would."""
        from clearance.crypto import REGISTRY

        cls = next((c for (c, name) in REGISTRY if c.__tablename__ == table and name == field), None)
        if cls is None:
            abort(404)
        obj = db.session.get(cls, row_id)
        if obj is None:
            abort(404)
        value = getattr(obj, field)
        return {"length": len(value) if value is not None else None}

    @requires(Permission.ACCOUNT_SELF)
    def write_then_read(file_id: str):
        """Changes something, then reads a field: a failed read must roll the change back."""
        from clearance import outbox

        outbox.enqueue(db.session, to="x@example.jp", subject="half an action", body="never sent")
        db.session.flush()
        stored = db.session.get(files.StoredFile, file_id)
        name = stored.original_name if stored else None
        db.session.commit()
        return {"name": name}

    app.add_url_rule("/_test/read/<table>/<field>/<row_id>", "test_read_field", read_field)
    app.add_url_rule("/_test/files/<file_id>/write-then-read", "test_write_then_read",
                     csrf.exempt(write_then_read), methods=["POST"])
    app.add_url_rule("/_test/upload", "test_upload", csrf.exempt(upload), methods=["POST"])
    app.add_url_rule("/_test/small-form", "test_small_form", csrf.exempt(small_form), methods=["POST"])
    app.add_url_rule("/_test/files/<file_id>", "test_download", download)
    app.add_url_rule("/_test/files/<file_id>/name", "test_file_name", file_name)
    app.add_url_rule("/_test/users/<user_id>/totp", "test_totp_status", totp_status)
    return app


def open_fd_contents(limit: int = 64 << 20) -> list[tuple[str, bytes]]:
    """(target, content) of every regular file this process has open, including
    deleted anonymous temporary files (/proc/self/fd reaches them)."""
    out = []
    fd_dir = Path("/proc/self/fd")
    for entry in list(fd_dir.iterdir()):
        try:
            target = os.readlink(entry)
            if not os.path.isfile(entry):
                continue
            with open(entry, "rb") as fh:
                out.append((target, fh.read(limit)))
        except OSError:
            continue
    return out
