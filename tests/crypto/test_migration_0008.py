"""Migration 0008 (sealed text): rows written in clear before it are sealed, readable through the
models, gone from the raw database, and a downgrade gives the same text back."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError

from clearance.db import db, new_id
from tests.conftest import ROOT, base_overrides, heads_before
from tests.crypto import population

REVISION = "0008_sealed_text"
MIGRATIONS = str(ROOT / "migrations")
SEALED = {
    "briefing": ("summary", "withdrawn_reason"),
    "correction_request": ("proposed", "original", "note", "decision_reason"),
    "notification": ("title",),
    "minutes": ("return_note",),
}


def _insert(session, table: str, **values) -> None:
    cols = ", ".join(values)
    session.execute(text(f"INSERT INTO {table} ({cols}) VALUES ({', '.join(':' + k for k in values)})"), values)


def _seed_in_clear(session, marker: str) -> dict[str, str]:
    """Rows as the app wrote them before 0008 (Core inserts: the models already know the new columns)."""
    now = datetime(2026, 11, 1, 9, 0)
    ids = {k: new_id() for k in ("officer", "member", "company", "b0", "b2", "pending", "rejected", "approved",
                                 "dialogue", "minutes", "note")}
    _insert(session, "company", id=ids["company"], corporate_number="1000000000003", name_ja="甲", name_en="Ko",
            size_class="small", prefecture="13", region="kanto", key_products="", created_at=now)
    for who, role, company in (("officer", "officer", None), ("member", "company_member", ids["company"])):
        _insert(session, "user_account", id=ids[who], email=f"{who}@example.jp", display_name=who, role=role,
                company_id=company, password_hash="x", password_changed_at=now, active=True, created_at=now)
    common = {"status": "released", "created_at": now, "updated_at": now, "sort_at": now}
    _insert(session, "briefing", id=ids["b0"], title="Public", summary=f"{marker} summary zero", level=0, **common)
    _insert(session, "briefing", id=ids["b2"], title="Designated", summary=f"{marker} summary two", level=2,
            designating_agency="経済産業省", designation_number="経安-1", designated_on=date(2026, 1, 1),
            designation_expires_on=date(2030, 1, 1), withdrawn_reason=f"{marker} withdrawn", **common)
    request = {"company_id": ids["company"], "requested_by_id": ids["member"], "created_at": now}
    _insert(session, "correction_request", id=ids["pending"], status="pending", decision_reason="",
            proposed=f'{{"key_products": "{marker} wafers"}}', original='{"key_products": ""}',
            note=f"{marker} new contact: 山田太郎 090-1234-5678", **request)
    _insert(session, "correction_request", id=ids["rejected"], status="rejected", decided_at=now,
            decision_reason=f"{marker} registered head office", proposed="{}", original="{}", note="", **request)
    _insert(session, "correction_request", id=ids["approved"], status="approved", decided_at=now, decision_reason="",
            proposed='{"size_class": "large"}', original='{"size_class": "small"}', note="", **request)
    # The meetings branch is at its own head here; from 0012 on, purpose and status_reason are sealed columns.
    plain = ({"purpose": "", "status_reason": ""}
             if "purpose" in {c["name"] for c in inspect(session.get_bind()).get_columns("dialogue")} else {})
    _insert(session, "dialogue", id=ids["dialogue"], format="company", company_id=ids["company"], title="t",
            venue="", online_url="", starts_at=now, ends_at=now + timedelta(hours=1),
            time_zone="Asia/Tokyo", level=1, status="held", sequence=0, created_at=now,
            updated_at=now, **plain)
    _insert(session, "minutes", id=ids["minutes"], dialogue_id=ids["dialogue"], status="draft", level=1,
            current_revision=1, created_at=now, updated_at=now, return_note=f"{marker} fix section 2")
    _insert(session, "notification", id=ids["note"], user_id=ids["member"], kind="feedback",
            title=f"{marker} the ministry answered", link="/portal", created_at=now)
    session.commit()
    return ids


def test_rows_in_clear_are_sealed_readable_and_come_back_on_downgrade(empty_db, tmp_path):
    from flask_migrate import downgrade, upgrade

    from app import create_app
    from dialogue.briefings.models import Briefing
    from dialogue.minutes.models import Minutes
    from dialogue.portal.models import Notification
    from dialogue.registry.models import CorrectionRequest

    marker = population.canary("MIG")
    app = create_app({**base_overrides(tmp_path), "SQLALCHEMY_DATABASE_URI": empty_db})
    with app.app_context():
        # given a database at every head but this one, with text written in clear
        for head in heads_before(REVISION, keep_below=("0013_sealed_titles",)):  # the seed names titles in clear
            upgrade(directory=MIGRATIONS, revision=head)
        ids = _seed_in_clear(db.session, marker)
        db.session.remove()
        assert population.hits(db.engine, [marker]), "the plaintext search would prove nothing"

        # when the migration runs
        upgrade(directory=MIGRATIONS, revision="heads")
        db.session.remove()

        # then the plaintext columns are gone and nothing of the text is left in the raw database
        columns = {t: {c["name"] for c in inspect(db.engine).get_columns(t)} for t in SEALED}
        for table, fields in SEALED.items():
            assert not set(fields) & columns[table], table
            assert {f"{f}_ct" for f in fields} <= columns[table], table
        assert population.hits(db.engine, [marker]) == []

        # and every value reads back through the models, bound to its row (and the briefing's level)
        s = db.session
        assert s.get(Briefing, ids["b0"]).summary == f"{marker} summary zero"
        b2 = s.get(Briefing, ids["b2"])
        assert (b2.summary, b2.withdrawn_reason) == (f"{marker} summary two", f"{marker} withdrawn")
        assert s.get(Briefing, ids["b0"]).withdrawn_reason is None
        pending = s.get(CorrectionRequest, ids["pending"])
        assert pending.note == f"{marker} new contact: 山田太郎 090-1234-5678"
        assert pending.proposed == f'{{"key_products": "{marker} wafers"}}'
        assert pending.decision_reason is None  # "" meant "no reason": NULL, as the app now writes it
        assert s.get(CorrectionRequest, ids["rejected"]).decision_reason == f"{marker} registered head office"
        assert s.get(CorrectionRequest, ids["approved"]).original == '{"size_class": "small"}'
        assert s.get(Minutes, ids["minutes"]).return_note == f"{marker} fix section 2"
        assert s.get(Notification, ids["note"]).title == f"{marker} the ministry answered"
        # the rejection rule still holds on the sealed column
        with pytest.raises(IntegrityError):
            s.execute(text("UPDATE correction_request SET decision_reason_ct = NULL WHERE id = :i"),
                      {"i": ids["rejected"]})
            s.flush()
        s.rollback()
        s.remove()

        # when it is downgraded, the same text is back in clear
        downgrade(directory=MIGRATIONS, revision="sealing@-1")
        row = db.session.execute(text("SELECT summary, withdrawn_reason FROM briefing WHERE id = :i"),
                                 {"i": ids["b2"]}).one()
        assert tuple(row) == (f"{marker} summary two", f"{marker} withdrawn")
        assert db.session.execute(text("SELECT note, decision_reason FROM correction_request WHERE id = :i"),
                                  {"i": ids["pending"]}).one() == (f"{marker} new contact: 山田太郎 090-1234-5678", "")
        assert db.session.execute(text("SELECT return_note FROM minutes")).scalar_one() == f"{marker} fix section 2"
        assert db.session.execute(text("SELECT title FROM notification")).scalar_one() == \
            f"{marker} the ministry answered"
        db.session.remove()
        upgrade(directory=MIGRATIONS, revision="heads")
        assert db.session.get(Briefing, ids["b2"]).summary == f"{marker} summary two"
        db.session.remove()
        db.engine.dispose()


def test_a_value_that_does_not_open_stops_the_downgrade_before_any_change(empty_db, tmp_path, capfd):
    from flask_migrate import downgrade, upgrade

    from app import create_app

    app = create_app({**base_overrides(tmp_path), "SQLALCHEMY_DATABASE_URI": empty_db})
    with app.app_context():
        for head in heads_before(REVISION, keep_below=("0013_sealed_titles",)):  # the seed names titles in clear
            upgrade(directory=MIGRATIONS, revision=head)
        ids = _seed_in_clear(db.session, population.canary())
        db.session.remove()
        upgrade(directory=MIGRATIONS, revision="heads")
        # a level lowered in SQL: the summary no longer opens
        db.session.execute(text("UPDATE briefing SET level = 1, designating_agency = NULL, designation_number = NULL, "
                                "designated_on = NULL, designation_expires_on = NULL WHERE id = :i"), {"i": ids["b2"]})
        db.session.commit()
        db.session.remove()
        with pytest.raises(SystemExit):  # Flask-Migrate logs the RuntimeError (to stderr) and exits
            downgrade(directory=MIGRATIONS, revision="sealing@-1")
        assert f"briefing.summary of row {ids['b2']} does not decrypt" in capfd.readouterr().err
        # and nothing was changed: still at this revision, no plaintext column came back
        columns = {c["name"] for c in inspect(db.engine).get_columns("briefing")}
        assert "summary_ct" in columns and "summary" not in columns
        assert REVISION in db.session.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
        db.session.remove()
        db.engine.dispose()
