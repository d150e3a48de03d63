"""Tampering in the database fails closed and is audited, for every EncryptedField in REGISTRY.

Each attack is applied in SQL to a real sealed value, then the value is read in
a view (as product pages do): the user gets the error page, never ciphertext or
partial text, and the audit log names table, column and row, never content.
"""

from __future__ import annotations

import io
import json
from types import SimpleNamespace

import pytest
from markupsafe import escape
from sqlalchemy import func, inspect, select, update

from clearance import failclosed, files, outbox
from clearance.audit import AuditEntry
from clearance.crypto import REGISTRY, Context, resealing, seal
from clearance.db import db, new_id
from clearance.permissions import Role
from tests.crypto import population, routes
from tests.factories import csrf, sign_in, totp_code


@pytest.fixture
def env(app_factory, factory, tmp_path):
    app = routes.install(app_factory())
    with app.app_context():
        population.seed_demo(db.session, app.config, tmp_path)
    person = factory.person(Role.OFFICER, locale="en")
    client = app.test_client()
    sign_in(client, person)
    marker = population.canary()
    with app.app_context():
        sealed = population.fill_registry(db.session, marker)
    return SimpleNamespace(app=app, client=client, sealed=sealed, marker=marker, person=person)


def _field(s: population.Sealed):
    return REGISTRY[(s.model, s.field)]


def _column(s: population.Sealed):
    return s.model.__table__.columns[inspect(s.model).attrs[_field(s).column_attr].columns[0].name]


def _raw(app, s) -> bytes:
    with app.app_context():
        col = _column(s)
        return bytes(db.session.execute(select(col).where(s.model.__table__.c.id == s.row_id)).scalar_one())


def _write(app, s, blob: bytes) -> None:
    with app.app_context():
        col = _column(s)
        db.session.execute(update(s.model.__table__).where(s.model.__table__.c.id == s.row_id).values({col.name: blob}))
        db.session.commit()


def _audits(app) -> list[dict]:
    with app.app_context():
        rows = db.session.execute(
            select(AuditEntry).where(AuditEntry.realm == "crypto").order_by(AuditEntry.seq)
        ).scalars().all()
        return [{"summary": r.summary, "kind": r.kind, "actor": r.actor, **json.loads(r.data)} for r in rows]


def _expected_message(app, locale: str) -> str:
    with app.test_request_context(headers={"Accept-Language": locale}):
        from flask import session

        session["locale"] = locale
        return str(escape(failclosed.message()))


def _read(env, s):
    return env.client.get(f"/_test/read/{s.model.__tablename__}/{s.field}/{s.row_id}")


def _assert_closed_and_audited(env, s, resp, before: int) -> None:
    body = resp.get_data(as_text=True)
    assert resp.status_code == 500, (s.model.__tablename__, s.field, resp.status_code)
    assert _expected_message(env.app, "en") in body
    assert env.marker not in body
    entries = _audits(env.app)
    assert len(entries) == before + 1, f"{s.model.__tablename__}.{s.field} not audited"
    entry = entries[-1]
    assert entry["summary"] == "Decryption failed" and entry["kind"] == "negative"
    assert (entry["table"], entry["column"], entry["row_id"]) == (s.model.__tablename__, s.field, s.row_id)
    assert entry["actor"] == env.person.email
    assert env.marker not in json.dumps(entry)


def _flip(env, s, blob: bytes) -> bytes:
    out = bytearray(blob)
    out[-1] ^= 0x01
    return bytes(out)


def _unknown_key_version(env, s, blob: bytes) -> bytes:
    n = blob[4]
    out = bytearray(blob)
    out[5 + n : 9 + n] = (0x7FFFFFF0).to_bytes(4, "big")
    return bytes(out)


def _from_another_row(env, s, blob: bytes) -> bytes:
    """The same value sealed for another row of the same table and column: a copied ciphertext."""
    with env.app.app_context():
        obj = db.session.get(s.model, s.row_id)
        ctx = _field(s).context(obj)
        value = s.value if isinstance(s.value, bytes) else s.value.encode()
        return seal(value, Context(ctx.table, ctx.column, new_id(), ctx.level))


def _from_another_column(env, s, blob: bytes) -> bytes:
    other = next(o for o in env.sealed if (o.model, o.field) != (s.model, s.field))
    return _raw(env.app, other)


ATTACKS = {
    "flipped_bit": _flip,
    "unknown_key_version": _unknown_key_version,
    "swapped_between_rows": _from_another_row,
    "swapped_between_columns": _from_another_column,
}


@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_every_encrypted_field_fails_closed_and_is_audited(env, attack):
    assert len(env.sealed) >= 3, "REGISTRY is unexpectedly small: are the models imported by create_app?"
    for s in env.sealed:
        # given a sealed value that reads back
        assert _read(env, s).status_code == 200
        original = _raw(env.app, s)
        # when it is tampered with in the database
        _write(env.app, s, ATTACKS[attack](env, s, original))
        before = len(_audits(env.app))
        # then reading it in a view fails closed and is audited
        _assert_closed_and_audited(env, s, _read(env, s), before)
        _write(env.app, s, original)
        assert _read(env, s).status_code == 200


def test_a_lowered_level_fails_closed_for_every_field_bound_to_a_level_column(env):
    covered = 0
    for s in env.sealed:
        spec = _field(s).level
        if not isinstance(spec, str):
            continue  # fixed or derived levels have no column of their own to lower
        level_col = s.model.__table__.columns[inspect(s.model).attrs[spec].columns[0].name]
        with env.app.app_context():
            obj = db.session.get(s.model, s.row_id)
            try:
                with resealing(obj):
                    setattr(obj, spec, 2)
                db.session.commit()
            except Exception:  # a model whose rules refuse level 2 for this row
                db.session.rollback()
                continue
            db.session.execute(
                update(s.model.__table__).where(s.model.__table__.c.id == s.row_id).values({level_col.name: 0})
            )
            db.session.commit()
        before = len(_audits(env.app))
        _assert_closed_and_audited(env, s, _read(env, s), before)
        covered += 1
    assert covered >= 1  # stored_file at least


def test_the_error_answers_json_clients_in_json(env):
    s = env.sealed[0]
    _write(env.app, s, _flip(env, s, _raw(env.app, s)))
    resp = env.client.get(f"/_test/read/{s.model.__tablename__}/{s.field}/{s.row_id}",
                          headers={"Accept": "application/json"})
    assert resp.status_code == 500
    assert resp.get_json()["error"] == 500 and resp.get_json()["message"]


def test_the_view_transaction_is_rolled_back(env):
    """A view that changed something before the failed read must not commit half an action."""
    s = next(x for x in env.sealed if x.model.__tablename__ == "stored_file")
    _write(env.app, s, _flip(env, s, _raw(env.app, s)))
    with env.app.app_context():
        count = db.session.execute(select(func.count()).select_from(outbox.MailMessage)).scalar_one()
    resp = env.client.post(f"/_test/files/{s.row_id}/write-then-read")
    assert resp.status_code == 500
    with env.app.app_context():
        assert db.session.execute(select(func.count()).select_from(outbox.MailMessage)).scalar_one() == count


# -- the real sign-in flow decrypts the TOTP secret ---------------------------------------------------------


def _tamper_totp(app, person, how: str, other=None) -> None:
    from clearance.auth.models import UserAccount

    with app.app_context():
        if how == "flip":
            blob = bytearray(db.session.get(UserAccount, person.id).totp_secret_ct)
            blob[-3] ^= 0x10
        else:
            blob = bytearray(db.session.get(UserAccount, other.id).totp_secret_ct)
        db.session.execute(update(UserAccount).where(UserAccount.id == person.id).values(totp_secret_ct=bytes(blob)))
        db.session.commit()


@pytest.mark.parametrize("how", ["flip", "swap"])
def test_a_tampered_totp_secret_fails_the_sign_in_closed_and_is_audited(app, factory, how):
    # given an officer whose TOTP secret was tampered with (or copied from a colleague) in SQL
    person = factory.person(Role.OFFICER)
    colleague = factory.person(Role.OFFICER)
    _tamper_totp(app, person, how, colleague)
    client = app.test_client()
    # when they sign in with their password and a code
    resp = client.post("/login", data={"csrf_token": csrf(client), "email": person.email, "password": person.password})
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/login/totp")
    token = csrf(client, "/login/totp")
    resp = client.post("/login/totp", data={"csrf_token": token, "code": totp_code(person.totp_secret)})
    # then the error page is shown, the sign-in does not complete, and the audit log names the row
    assert resp.status_code == 500
    assert person.totp_secret not in resp.get_data(as_text=True)
    assert client.get("/officer").status_code == 302
    entry = _audits(app)[-1]
    assert (entry["table"], entry["column"], entry["row_id"]) == ("user_account", "totp_secret", person.id)


# -- files through the app: unknown key version -----------------------------------------------------------


def test_a_file_with_an_unknown_key_version_fails_closed_and_is_audited(env):
    with env.app.app_context():
        row = files.save_upload(db.session, io.BytesIO(b"%PDF-1.7\n"), filename="k.pdf", owner_table="t", owner_id="k")
        db.session.commit()
        path, file_id = row.path, row.id
    blob = bytearray(path.read_bytes())
    n = blob[4]
    blob[5 + n : 9 + n] = (0x7FFFFFF0).to_bytes(4, "big")
    path.write_bytes(bytes(blob))
    resp = env.client.get(f"/_test/files/{file_id}")
    assert resp.status_code == 500
    entry = _audits(env.app)[-1]
    assert (entry["table"], entry["column"], entry["row_id"]) == ("stored_file", "content", file_id)


# -- mail: a body that does not decrypt is never sent --------------------------------------------------------


def test_a_mail_body_that_does_not_decrypt_is_not_sent_and_is_audited(mail_app):
    app = mail_app
    with app.app_context():
        msg = outbox.enqueue(db.session, to="a@example.jp", subject="s", body="reset link")
        good = outbox.enqueue(db.session, to="b@example.jp", subject="s", body="other")
        blob = bytearray(msg.body_ct)
        blob[-1] ^= 1
        msg.body_ct = bytes(blob)
        db.session.info.pop("outbox_pending", None)
        db.session.commit()
        sent = outbox.deliver_pending(db.engine, app.config)
        msg_id, good_id = msg.id, good.id
    assert sent == 1
    assert [m["To"] for m in app.mailbox.messages] == ["b@example.jp"]
    with app.app_context():
        row = db.session.get(outbox.MailMessage, msg_id)
        assert row.sent_at is None and row.attempts == outbox.MAX_ATTEMPTS and row.last_error == "DecryptionError"
        assert db.session.get(outbox.MailMessage, good_id).sent_at is not None
    entry = _audits(app)[-1]
    assert (entry["table"], entry["column"], entry["row_id"]) == ("mail_message", "body", msg_id)
