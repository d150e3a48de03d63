"""Fail closed: a record or file that does not decrypt is never shown.

Every DecryptionError that escapes a view (an EncryptedField read in the view
or while its template renders, a file download, a raw open_) ends here: the
transaction is rolled back, the audit log gets an entry (realm "crypto", kind
negative, summary "Decryption failed", data: table, column, row id, the
reason and the endpoint; never content), and the user gets a clear,
translated error page instead of ciphertext or partial text.

Views need nothing special for EncryptedField reads: the descriptor names the
failing place on the exception. For raw clearance.crypto calls name it:

    with failclosed.guard("briefing", "body", briefing.id):
        text = open_text(blob, ctx)

A failure after a streamed response has started cannot change its status;
clearance.files.send_download then calls `record()` and aborts the connection.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from typing import Any, NoReturn

from flask import Flask, has_request_context, render_template, request
from flask_babel import gettext as _
from flask_login import current_user

from clearance import audit
from clearance.audit import Kind
from clearance.crypto import DecryptionError
from clearance.db import db

log = logging.getLogger("taiwa.crypto")

REALM = "crypto"
SUMMARY = "Decryption failed"
#: the status of the error page: the server cannot produce what is stored
STATUS = 500


def _where(exc: DecryptionError) -> dict[str, str]:
    table, column, row_id = exc.where or ("unknown", "unknown", "unknown")
    return {"table": table, "column": column, "row_id": row_id}


def fail(exc: DecryptionError, *, table: str, column: str, row_id: str) -> NoReturn:
    """Name the failing place and re-raise: the app's handler audits and renders."""
    exc.where = (table, column, str(row_id))
    raise exc


@contextlib.contextmanager
def guard(table: str, column: str, row_id: str) -> Iterator[None]:
    """Around raw clearance.crypto calls: a DecryptionError inside names this place."""
    try:
        yield
    except DecryptionError as exc:
        if exc.where is None:
            exc.where = (table, column, str(row_id))
        raise


def record(exc: DecryptionError, *, table: str | None = None, column: str | None = None,
           row_id: str | None = None, commit: bool = True) -> None:
    """Log and audit a decryption failure (no content, no key material)."""
    if table is not None:
        exc.where = (table, column or "unknown", str(row_id))
    data: dict[str, Any] = _where(exc)
    data["reason"] = str(exc)[:200]  # messages name key versions and segments, never content
    actor_id, actor = None, "system"
    if has_request_context():
        data["endpoint"] = request.endpoint or ""
        if current_user and current_user.is_authenticated:
            actor_id, actor = current_user.id, current_user.email
    log.warning("decryption failed: %(table)s.%(column)s row %(row_id)s: %(reason)s", data)
    audit.append(db.session, realm=REALM, kind=Kind.NEGATIVE, summary=SUMMARY, data=data,
                 actor_id=actor_id, actor=actor)
    if commit:
        db.session.commit()


def message() -> str:
    return _(
        "This record could not be opened: it did not pass its integrity check, so nothing of it is shown. "
        "The event has been recorded. Please tell the system administrator; nothing you entered has been lost."
    )


def _handle(exc: DecryptionError) -> Any:
    # Whatever the view was doing is abandoned: it must not commit half an action.
    db.session.rollback()
    try:
        record(exc)
    except Exception:
        log.exception("could not audit a decryption failure")
        db.session.rollback()
    if request.accept_mimetypes.best == "application/json":
        return {"error": STATUS, "message": message()}, STATUS
    return render_template("errors/error.html", code=STATUS, message=message()), STATUS


def init_app(app: Flask) -> None:
    """Register the fail-closed handler for every DecryptionError. Called by create_app."""
    app.register_error_handler(DecryptionError, _handle)
