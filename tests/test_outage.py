"""Outage classification and the outage page without a fault cluster (issue 12, findings 4 and 6).

The full faults (a stopped PostgreSQL cluster, a full tmpfs) are in tests/fault/.
"""

from __future__ import annotations

import errno
import logging
import sqlite3

import psycopg
import pytest
from sqlalchemy import exc as sa_exc

from clearance import outage
from clearance.outage import Failure, classify


def _wrapped(orig: Exception, cls=sa_exc.OperationalError) -> Exception:
    return cls("SELECT 1", {}, orig)


@pytest.mark.parametrize(("error", "expected"), [
    (_wrapped(psycopg.OperationalError("connection failed: Connection refused")), Failure.DATABASE),
    (_wrapped(sqlite3.OperationalError("unable to open database file")), Failure.DATABASE),
    (_wrapped(sqlite3.OperationalError("database or disk is full")), Failure.DISK),
    (sa_exc.DisconnectionError("gone"), Failure.DATABASE),
    (OSError(errno.ENOSPC, "No space left on device"), Failure.DISK),
    (OSError(errno.EROFS, "Read-only file system"), Failure.DISK),
    (OSError(errno.ENOENT, "No such file"), None),
    (_wrapped(sqlite3.OperationalError("no such table: x")), None),
    (_wrapped(sqlite3.IntegrityError("UNIQUE constraint failed"), sa_exc.IntegrityError), None),
    (ValueError("a bug"), None),
])
def test_classify(error, expected):
    assert classify(error) is expected


def test_a_full_disk_found_while_handling_another_error_is_still_the_disk():
    try:
        try:
            raise OSError(errno.ENOSPC, "No space left on device")
        except OSError:
            raise RuntimeError("cleanup failed too")  # noqa: B904 - the context is what is tested
    except RuntimeError as exc:
        assert classify(exc) is Failure.DISK


def test_an_unreadable_session_store_is_the_outage_page_and_the_cookie_survives(app_factory, tmp_path, caplog):
    app = app_factory(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path}/gone/nowhere.db", TESTING=False)
    caplog.clear()  # the start's own line (key check deferred) is not a request's
    caplog.set_level(logging.INFO)
    client = app.test_client()
    client.set_cookie("taiwa_session", "A" * 43)
    for lang, words in (("en", "temporarily unavailable"), ("ja", "一時的に")):
        resp = client.get("/portal", headers={"Accept-Language": lang})
        page = resp.get_data(as_text=True)
        assert resp.status_code == 503 and resp.headers["Retry-After"] == str(outage.RETRY_AFTER)
        assert f'<html lang="{lang}">' in page and words in page
        assert "Set-Cookie" not in resp.headers, "the visitor's session cookie is kept for when the database is back"
    assert '<html lang="en">' in client.get("/portal?lang=en", headers={"Accept-Language": "ja"}).get_data(as_text=True)
    sent = client.post("/language", data={"locale": "en"}, headers={"Accept-Language": "en"})
    assert sent.status_code == 503 and "Possibly not saved" in sent.get_data(as_text=True)
    health = client.get("/healthz")
    assert health.status_code == 503 and health.json["database"] is False and "database" in health.json["problems"]
    as_json = client.get("/portal", headers={"Accept": "application/json"})
    assert as_json.status_code == 503 and as_json.json["error"] == 503
    lines = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert [r.name for r in lines] == ["taiwa.outage"], [r.getMessage() for r in lines]
    assert all(r.exc_info is None for r in lines)


def test_healthz_is_degraded_below_the_free_space_threshold(app_factory):
    app = app_factory(TAIWA_MIN_FREE_MB=10**12)  # an exabyte: no disk here has that much free
    resp = app.test_client().get("/healthz")
    assert resp.status_code == 503 and resp.json["database"] is True
    assert "disk:files" in resp.json["problems"] and "disk:instance" in resp.json["problems"]


def test_the_ordinary_500_no_longer_claims_nothing_was_lost(app_factory, caplog):
    app = app_factory(TESTING=False)

    @app.before_request
    def boom():
        from flask import request

        if request.path == "/boom-for-test":
            raise RuntimeError("a bug, not an outage")

    client = app.test_client()
    posted = client.post("/boom-for-test", headers={"Accept-Language": "en"})
    fetched = client.get("/boom-for-test", headers={"Accept-Language": "en"})
    assert posted.status_code == fetched.status_code == 500
    assert "保存されていない可能性があります" in posted.get_data(as_text=True)  # the ordinary page: Japanese first
    both = posted.get_data(as_text=True) + fetched.get_data(as_text=True)
    assert "失われていません" not in both and "has been lost" not in both
    assert any(r.exc_info for r in caplog.records), "a bug keeps its traceback in the log"


def test_a_disk_failure_after_the_commit_does_not_claim_nothing_was_stored(app_factory, monkeypatch):
    """A file removal or the session save can fail after the request's commit: then the page must say
    "possibly not saved", never "nothing of this request was stored" (review finding)."""
    import errno

    from sqlalchemy import text

    from clearance.db import db

    app = app_factory(TESTING=False, WTF_CSRF_ENABLED=False)

    def after_commit_then_full(committed: str):
        db.session.execute(text("SELECT 1"))
        if committed == "yes":
            db.session.commit()
        raise OSError(errno.ENOSPC, "No space left on device")

    app.add_url_rule("/_t/<committed>", "t_after_commit", after_commit_then_full, methods=["POST"])
    from clearance import guard

    monkeypatch.setattr(guard, "PUBLIC_ENDPOINTS", guard.PUBLIC_ENDPOINTS | {"t_after_commit"})
    client = app.test_client()
    late = client.post("/_t/yes", headers={"Accept-Language": "en"})
    early = client.post("/_t/no", headers={"Accept-Language": "en"})
    assert late.status_code == early.status_code == 507
    assert "Possibly not saved" in late.get_data(as_text=True)
    assert "Nothing of this request was stored" not in late.get_data(as_text=True)
    assert "Nothing of this request was stored" in early.get_data(as_text=True)
