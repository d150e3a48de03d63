"""Migration 0012 (sealed meetings text): dialogue purposes and status reasons and invitation withdrawal
reasons written in clear before it are sealed (at the dialogue's level, or 0), readable through the
models, gone from the raw database, and a downgrade gives the same text back, or refuses."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import inspect, text

from clearance.db import db, new_id
from tests.conftest import ROOT, base_overrides, heads_before
from tests.crypto import population

REVISION = "0012_sealed_meetings_text"
BELOW = "0009_invitation_revoked"
MIGRATIONS = str(ROOT / "migrations")
SEALED = {"dialogue": ("purpose", "status_reason"), "invitation": ("revoke_reason",)}


def _below_this_revision() -> None:
    """Every head but this one, and the meetings branch at 0009 (the revision this one follows)."""
    from flask_migrate import upgrade

    for head in heads_before(REVISION, keep_below=("0013_sealed_titles",)):  # the seed names titles in clear
        upgrade(directory=MIGRATIONS, revision=head)
    upgrade(directory=MIGRATIONS, revision=BELOW)


def _insert(session, table: str, **values) -> None:
    cols = ", ".join(values)
    session.execute(text(f"INSERT INTO {table} ({cols}) VALUES ({', '.join(':' + k for k in values)})"), values)


def _seed_in_clear(session, marker: str) -> dict[str, str]:
    """Rows as the app wrote them before 0012 (Core inserts: the models already know the new columns)."""
    now = datetime(2026, 11, 1, 9, 0)
    ids = {k: new_id() for k in ("officer", "member", "company", "public", "secret", "empty", "revoked", "pending")}
    _insert(session, "company", id=ids["company"], corporate_number="1000000000003", name_ja="甲", name_en="Ko",
            size_class="small", prefecture="13", region="kanto", key_products="", created_at=now)
    for who, role, company in (("officer", "officer", None), ("member", "company_member", ids["company"])):
        _insert(session, "user_account", id=ids[who], email=f"{who}@example.jp", display_name=who, role=role,
                company_id=company, password_hash="x", password_changed_at=now, active=True, created_at=now)
    common = {"format": "company", "company_id": ids["company"], "title": "t", "venue": "", "online_url": "",
              "starts_at": now, "ends_at": now + timedelta(hours=1), "time_zone": "Asia/Tokyo", "sequence": 0,
              "created_at": now, "updated_at": now}
    _insert(session, "dialogue", id=ids["public"], purpose=f"{marker} 公開の目的", level=0, status="cancelled",
            status_reason=f"{marker} 台風のため中止", **common)
    _insert(session, "dialogue", id=ids["secret"], purpose=f"{marker} 限定の目的", level=2, status="postponed",
            status_reason=f"{marker} 限定の事情", **common)
    _insert(session, "dialogue", id=ids["empty"], purpose="", level=1, status="planned", status_reason="", **common)
    invitation = {"dialogue_id": ids["secret"], "company_id": ids["company"], "invited_at": now}
    _insert(session, "invitation", id=ids["revoked"], user_id=ids["member"], status="revoked", revoked_at=now,
            revoke_reason=f"{marker} 送付先の誤り", **invitation)
    _insert(session, "invitation", id=ids["pending"], user_id=ids["officer"], status="pending", revoke_reason="",
            **invitation)
    session.commit()
    return ids


def _columns(engine) -> dict[str, set[str]]:
    return {t: {c["name"] for c in inspect(engine).get_columns(t)} for t in SEALED}


def test_rows_in_clear_are_sealed_readable_and_come_back_on_downgrade(empty_db, tmp_path):
    from flask_migrate import downgrade, upgrade

    from app import create_app
    from dialogue.meetings.models import Dialogue, Invitation

    marker = population.canary("MTG")
    app = create_app({**base_overrides(tmp_path), "SQLALCHEMY_DATABASE_URI": empty_db})
    with app.app_context():
        # given a database just below this revision, with text written in clear
        _below_this_revision()
        ids = _seed_in_clear(db.session, marker)
        db.session.remove()
        assert population.hits(db.engine, [marker]), "the plaintext search would prove nothing"

        # when the migration runs
        upgrade(directory=MIGRATIONS, revision="heads")
        db.session.remove()

        # then the plaintext columns are gone and nothing of the text is left in the raw database
        columns = _columns(db.engine)
        for table, fields in SEALED.items():
            assert not set(fields) & columns[table], table
            assert {f"{f}_ct" for f in fields} <= columns[table], table
        assert population.hits(db.engine, [marker]) == []

        # and every value reads back through the models, bound to its row and the dialogue's level
        s = db.session
        public, secret, empty = (s.get(Dialogue, ids[k]) for k in ("public", "secret", "empty"))
        assert (public.purpose, public.status_reason) == (f"{marker} 公開の目的", f"{marker} 台風のため中止")
        assert (secret.purpose, secret.status_reason) == (f"{marker} 限定の目的", f"{marker} 限定の事情")
        raw = s.execute(text("SELECT purpose_ct FROM dialogue WHERE id = :i"), {"i": ids["secret"]}).scalar_one()
        assert Dialogue.purpose.open_column(bytes(raw), ids["secret"], 2) == f"{marker} 限定の目的"
        assert (empty.purpose, empty.status_reason) == (None, None)  # "" meant "none": NULL, as the app writes it
        assert s.get(Invitation, ids["revoked"]).revoke_reason == f"{marker} 送付先の誤り"
        assert s.get(Invitation, ids["pending"]).revoke_reason is None
        s.remove()

        # when it is downgraded, the same text is back in clear ("" where there was none)
        downgrade(directory=MIGRATIONS, revision=BELOW)
        rows = {r[0]: tuple(r[1:]) for r in db.session.execute(text("SELECT id, purpose, status_reason FROM dialogue"))}
        assert rows[ids["public"]] == (f"{marker} 公開の目的", f"{marker} 台風のため中止")
        assert rows[ids["secret"]] == (f"{marker} 限定の目的", f"{marker} 限定の事情")
        assert rows[ids["empty"]] == ("", "")
        reasons = dict(db.session.execute(text("SELECT id, revoke_reason FROM invitation")).all())
        assert reasons == {ids["revoked"]: f"{marker} 送付先の誤り", ids["pending"]: ""}
        assert not {f"{f}_ct" for fs in SEALED.values() for f in fs} & set().union(*_columns(db.engine).values())
        db.session.remove()

        # and upgraded again, sealed again
        upgrade(directory=MIGRATIONS, revision="heads")
        assert db.session.get(Dialogue, ids["secret"]).purpose == f"{marker} 限定の目的"
        db.session.remove()
        db.engine.dispose()


def test_a_value_that_does_not_open_stops_the_downgrade_before_any_change(empty_db, tmp_path, capfd):
    from flask_migrate import downgrade, upgrade

    from app import create_app

    app = create_app({**base_overrides(tmp_path), "SQLALCHEMY_DATABASE_URI": empty_db})
    with app.app_context():
        _below_this_revision()
        ids = _seed_in_clear(db.session, population.canary())
        db.session.remove()
        upgrade(directory=MIGRATIONS, revision="heads")
        # a level lowered in SQL: the purpose no longer opens
        db.session.execute(text("UPDATE dialogue SET level = 1 WHERE id = :i"), {"i": ids["secret"]})
        db.session.commit()
        db.session.remove()
        with pytest.raises(SystemExit):  # Flask-Migrate logs the RuntimeError (to stderr) and exits
            downgrade(directory=MIGRATIONS, revision=BELOW)
        # 0013 (sealed titles) depends on this revision and goes down first: the dialogue's title, sealed at
        # the same level, is the first value found not to open
        err = capfd.readouterr().err
        assert any(f"dialogue.{f} of row {ids['secret']} does not decrypt" in err for f in ("title", "purpose")), err
        # and nothing was changed: still at this revision, no plaintext column came back
        columns = _columns(db.engine)
        assert "purpose_ct" in columns["dialogue"] and "purpose" not in columns["dialogue"]
        assert "revoke_reason" not in columns["invitation"]
        # still at the heads (0013, which needs this revision, stands for it in alembic_version)
        versions = set(db.session.execute(text("SELECT version_num FROM alembic_version")).scalars().all())
        assert versions & {REVISION, "0013_sealed_titles"}, versions
        db.session.remove()
        db.engine.dispose()
