"""The audit log: keyed entries, append-only, tamper detection, browsing and export."""

from __future__ import annotations

import csv
import io
import json

import pytest
from sqlalchemy import text

from clearance import audit, audit_proof
from clearance.audit import Kind
from clearance.db import db
from clearance.permissions import Role
from tests.factories import sign_in


def _write(app, n: int) -> None:
    with app.app_context():
        for i in range(n):
            audit.append(db.session, realm="test", kind=Kind.INFO, summary=f"event {i}", data={"i": i, "名": "対話"})
        db.session.commit()


def _verify(app):
    with app.app_context():
        path = audit.publish_dir(app.config) / audit.PUBLISHED_FILE
        return audit.verify(db.session, audit.published_records(path))


def _checkpoint(app):
    with app.app_context():
        cp = audit.make_checkpoint(db.session)
        db.session.commit()
        audit.publish(db.session, audit.publish_dir(app.config))
        return cp.id


def _raw(app, *statements: str) -> None:
    """Tamper as an attacker with database access would: drop the guard triggers first."""
    with app.app_context():
        engine = db.engine
        with engine.begin() as conn:
            if engine.dialect.name == "postgresql":
                conn.execute(text("ALTER TABLE audit_entry DISABLE TRIGGER audit_entry_append_only"))
                conn.execute(text("ALTER TABLE audit_checkpoint DISABLE TRIGGER audit_checkpoint_append_only"))
            else:
                for table in ("audit_entry", "audit_checkpoint"):
                    conn.execute(text(f"DROP TRIGGER IF EXISTS {table}_no_update"))
                    conn.execute(text(f"DROP TRIGGER IF EXISTS {table}_no_delete"))
            for s in statements:
                conn.execute(text(s))


def test_intact_log_verifies(app):
    _write(app, 5)
    assert _verify(app) is None


def test_entries_carry_a_mac_under_a_key_version(app):
    _write(app, 3)
    with app.app_context():
        rows = db.session.execute(db.select(audit.AuditEntry).order_by(audit.AuditEntry.seq)).scalars().all()
        assert [r.seq for r in rows] == [1, 2, 3]
        assert all(len(r.mac) == 64 and r.key_ref == "main:1" for r in rows)
        # The MAC is keyed: the plain SHA-256 of the content is not it (nobody can recompute it without the key).
        digest = audit._digest_of(rows[0])
        import hashlib

        assert rows[0].mac not in (digest.hex(), hashlib.sha256(digest).hexdigest())


@pytest.mark.parametrize("statement", ["UPDATE audit_entry SET summary = 'x' WHERE seq = 2",
                                       "DELETE FROM audit_entry WHERE seq = 2"])
def test_database_refuses_update_and_delete(app, statement):
    _write(app, 3)
    with app.app_context(), pytest.raises(Exception, match="append-only"):
        with db.engine.begin() as conn:
            conn.execute(text(statement))


def test_changed_entry_is_named(app):
    _write(app, 5)
    _raw(app, "UPDATE audit_entry SET summary = 'nothing to see' WHERE seq = 3")
    broken = _verify(app)
    assert broken is not None and broken.seq == 3 and "changed" in broken.reason


def test_removed_entry_is_named(app):
    _write(app, 5)
    _checkpoint(app)
    _raw(app, "DELETE FROM audit_entry WHERE seq = 2")
    broken = _verify(app)
    assert broken is not None and broken.seq == 2


def test_removed_tail_is_detected(app):
    _write(app, 5)
    _checkpoint(app)
    _raw(app, "DELETE FROM audit_entry WHERE seq = 5")
    broken = _verify(app)
    assert broken is not None and broken.seq == 5


def test_inserted_entry_is_named(app):
    _write(app, 4)
    with app.app_context():
        e = db.session.get(audit.AuditEntry, 2)
        forged = dict(seq=3, occurred_at=e.occurred_at, actor_id=None, actor="forger", realm="test", kind="info",
                      summary="forged", data="{}", key_ref=e.key_ref, mac=e.mac)
    _raw(app, "UPDATE audit_entry SET seq = seq + 100 WHERE seq >= 3",
         "UPDATE audit_entry SET seq = seq - 99 WHERE seq >= 103")
    with app.app_context(), db.engine.begin() as conn:
        conn.execute(audit.AuditEntry.__table__.insert().values(**forged))
    broken = _verify(app)
    assert broken is not None and broken.seq == 3  # the forgery has no valid MAC


def test_cli_exit_status(app):
    _write(app, 3)
    runner = app.test_cli_runner()
    ok = runner.invoke(args=["audit-verify"])
    assert ok.exit_code == 0 and "intact: 3 entries" in ok.output
    _raw(app, "UPDATE audit_entry SET actor = 'someone else' WHERE seq = 1")
    bad = runner.invoke(args=["audit-verify"])
    assert bad.exit_code == 1 and "entry 1" in bad.output


def test_sign_in_and_out_are_recorded(client, factory, app):
    member = factory.person(Role.COMPANY_MEMBER)
    sign_in(client, member)
    from tests.factories import csrf

    client.post("/logout", data={"csrf_token": csrf(client, "/portal")})
    from tests.factories import audit_summaries

    summaries = audit_summaries(app)
    assert "Signed in" in summaries and "Signed out" in summaries
    assert _verify(app) is None


def test_admin_filters_and_exports_csv(client, factory, app):
    admin = factory.person(Role.ADMIN)
    sign_in(client, admin)
    _write(app, 3)
    with app.app_context():
        audit.append(db.session, realm="test", kind=Kind.NEGATIVE, summary="=HYPERLINK(\"http://evil\")")
        db.session.commit()
    page = client.get("/admin/audit?realm=test&kind=info").get_data(as_text=True)
    assert "event 2" in page and "HYPERLINK" not in page
    resp = client.get("/admin/audit.csv?realm=test")
    assert resp.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(resp.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][0] == "seq" and len(rows) == 5
    assert any(r[5].startswith("'=HYPERLINK") for r in rows[1:])  # formula neutralised
    assert json.loads(rows[-1][6]) == {"i": 0, "名": "対話"}


@pytest.mark.parametrize("query", ["?start=not-a-date", "?end=2026-13-45", "?kind=%27%22", "?q=" + "x" * 500,
                                   "?page=-1", "?page=abc", "?realm=%E2%80%AE"])
def test_bad_filters_never_fail(client, factory, query):
    sign_in(client, factory.person(Role.ADMIN))
    assert client.get("/admin/audit" + query).status_code == 200
    assert client.get("/admin/audit.csv" + query).status_code == 200


def test_non_admins_cannot_read_the_log(app, factory):
    for role in (Role.OFFICER, Role.SECURITY_OFFICER, Role.COMPANY_ADMIN):
        client = app.test_client()
        sign_in(client, factory.person(role))
        assert client.get("/admin/audit").status_code == 403
        assert client.get("/admin/audit.csv").status_code == 403


def test_japanese_page_shows_translated_labels_and_proofs(client, factory, app):
    sign_in(client, factory.person(Role.ADMIN))
    with app.app_context():
        audit.append(db.session, realm="auth", kind=Kind.POSITIVE, summary="Signed in", data={"doc": "brief-42"})
        audit.append(db.session, realm="clearance", kind=Kind.NEGATIVE, summary="Read denied")
        db.session.commit()
    _checkpoint(app)
    page = client.get("/admin/audit", headers={"Accept-Language": "ja"}).get_data(as_text=True)
    assert "サインインとセッション" in page and "閲覧拒否" in page and "クリアランス" in page
    assert ">Signed in<" not in page and ">auth<" not in page and ">clearance<" not in page
    assert "/proof.json" in page
    one = client.get("/admin/audit?obj=brief-42").get_data(as_text=True)
    assert "brief-42" in one and "Read denied" not in one
    proof = client.get("/admin/audit/1/proof.json")
    assert proof.status_code == 200 and audit_proof.check_proof(proof.get_json()) == []
    lines = [json.loads(x) for x in client.get("/admin/audit.jsonl").get_data(as_text=True).splitlines()]
    assert lines and all(audit_proof.check_proof(x["proof"]) == [] for x in lines if x["proof"])
    assert client.get("/admin/audit/9999/proof.json").status_code == 404


@pytest.mark.parametrize("query", ["?start=0001-01-01", "?end=9999-12-31", "?person=%E2%80%AE", "?obj=" + "y" * 500])
def test_bad_new_filters_never_fail(client, factory, query):
    sign_in(client, factory.person(Role.ADMIN))
    for path in ("/admin/audit", "/admin/audit.csv", "/admin/audit.jsonl"):
        assert client.get(path + query).status_code == 200
