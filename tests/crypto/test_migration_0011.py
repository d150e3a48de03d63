"""Migration 0011 (sealed reasons): clearance and certification reasons and minutes revision notes written in
clear before it are sealed, readable through the models, gone from the raw database, the tables' children
(removed by ON DELETE CASCADE if a table were rebuilt) are all still there, and a downgrade gives the same
text back or refuses, before any change, when a value does not open."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, inspect, select, text

from clearance.db import db, new_id
from tests.conftest import ROOT, base_overrides, heads_before
from tests.crypto import population

REVISION = "0011_sealed_reasons"
MIGRATIONS = str(ROOT / "migrations")
SEALED = {
    "personal_clearance": ("reason", "decision_reason", "status_reason"),
    "company_certification": ("reason", "decision_reason", "status_reason"),
    "minutes_revision": ("note",),
}
CHILDREN = ("clearance_compartment", "certification_department", "minutes_revision")


def _insert(session, table: str, **values) -> None:
    cols = ", ".join(values)
    session.execute(text(f"INSERT INTO {table} ({cols}) VALUES ({', '.join(':' + k for k in values)})"), values)


def _at_every_other_head() -> None:
    from flask_migrate import upgrade

    for head in heads_before(REVISION):
        upgrade(directory=MIGRATIONS, revision=head)


def _seed_in_clear(session, marker: str) -> dict[str, str]:
    """Rows as the app wrote them before 0011: Core inserts for the three tables it changes (the models already
    know the new columns), the models for the rest."""
    from clearance.auth.models import UserAccount
    from dialogue.meetings.models import Dialogue
    from dialogue.minutes.models import Minutes
    from dialogue.registry.models import Company

    now = datetime(2026, 11, 1, 9, 0)
    ids = {k: new_id() for k in ("officer", "subject", "company", "c_old", "c_new", "k_old", "k_new", "dialogue",
                                 "minutes", "r1", "r2")}
    session.add(Company(id=ids["company"], corporate_number="1000000000003", name_ja="甲", name_en="Ko",
                        size_class="small", prefecture="13", region="kanto"))
    for who in ("officer", "subject"):
        session.add(UserAccount(id=ids[who], email=f"{who}@example.jp", display_name=who, role="officer",
                                password_hash="x"))
    session.flush()
    session.add(Dialogue(id=ids["dialogue"], level=1, format="company", company_id=ids["company"], title="t",
                         starts_at=now, ends_at=now + timedelta(hours=1), status="held"))
    session.add(Minutes(id=ids["minutes"], dialogue_id=ids["dialogue"], status="draft", level=1, current_revision=2))
    session.flush()
    _insert(session, "compartment", code="SEMI", name_ja="半導体", name_en="Semiconductors", created_at=now)
    dates = {"expires_on": date(2030, 1, 1), "expires_at": datetime(2029, 12, 31, 15, 0)}
    common = {"agency": "経済産業省", "requested_by": ids["officer"], "requested_at": now, **dates}
    _insert(session, "personal_clearance", id=ids["c_old"], user_id=ids["subject"], level=2, notified_on=date(2025, 1, 1),
            undertaking_signed=True, status="superseded", in_force=False, reason=f"{marker} 適性評価の結果通知",
            decided_by=ids["officer"], decided_at=now, decision_reason=f"{marker} 二人目の承認",
            status_changed_by=ids["officer"], status_changed_at=now, status_reason=f"{marker} superseded", **common)
    _insert(session, "personal_clearance", id=ids["c_new"], user_id=ids["subject"], level=1,
            notified_on=date(2025, 1, 1), undertaking_signed=True, status="valid", in_force=True, reason="再評価",
            decision_reason="", **common)  # "" meant "none given"; status_reason NULL
    _insert(session, "clearance_compartment", clearance_id=ids["c_old"], code="SEMI")
    _insert(session, "clearance_compartment", clearance_id=ids["c_new"], code="SEMI")
    _insert(session, "company_certification", id=ids["k_old"], company_id=ids["company"], level=2,
            certified_on=date(2025, 1, 1), contract_ref="C-1", status="revoked", in_force=True,
            reason=f"{marker} 契約締結", status_changed_by=ids["officer"], status_changed_at=now,
            status_reason=f"{marker} 契約違反の疑い", **common)
    _insert(session, "company_certification", id=ids["k_new"], company_id=ids["company"], level=1,
            certified_on=date(2025, 1, 1), contract_ref="C-2", status="rejected", in_force=False,
            reason="追加の部門", decided_by=ids["officer"], decided_at=now,
            decision_reason=f"{marker} 書類不備", **common)
    for kid in ("k_old", "k_new"):
        _insert(session, "certification_department", certification_id=ids[kid], department="技術開発本部")
    revision = {"minutes_id": ids["minutes"], "author_id": ids["officer"], "author_name": "o", "created_at": now,
                "restored_from": None, "content_ct": b"sealed elsewhere"}
    _insert(session, "minutes_revision", id=ids["r1"], number=1, level=0, note="", **revision)
    _insert(session, "minutes_revision", id=ids["r2"], number=2, level=1, note=f"{marker} 調達先の名称を削除",
            **revision)
    session.commit()
    return ids


def _children(session) -> dict[str, int]:
    return {t: session.execute(text(f"SELECT count(*) FROM {t}")).scalar_one() for t in CHILDREN}


def test_rows_in_clear_are_sealed_readable_and_come_back_on_downgrade(empty_db, tmp_path):
    from flask_migrate import downgrade, upgrade

    from app import create_app
    from clearance.people import CompanyCertification, PersonalClearance
    from dialogue.minutes.models import MinutesRevision

    marker = population.canary("MIG")
    app = create_app({**base_overrides(tmp_path), "SQLALCHEMY_DATABASE_URI": empty_db})
    with app.app_context():
        # given a database at every head but this one, with reasons and notes written in clear
        _at_every_other_head()
        ids = _seed_in_clear(db.session, marker)
        children = _children(db.session)
        db.session.remove()
        assert population.hits(db.engine, [marker]), "the plaintext search would prove nothing"

        # when the migration runs
        upgrade(directory=MIGRATIONS, revision="heads")
        db.session.remove()

        # then the plaintext columns are gone, no child row went with a rebuild, nothing of the text is left
        columns = {t: {c["name"] for c in inspect(db.engine).get_columns(t)} for t in SEALED}
        for table, fields in SEALED.items():
            assert not set(fields) & columns[table], table
            assert {f"{f}_ct" for f in fields} <= columns[table], table
        assert _children(db.session) == children
        assert population.hits(db.engine, [marker]) == []

        # and every value reads back through the models, bound to its row (and the revision's level)
        s = db.session
        old, new = s.get(PersonalClearance, ids["c_old"]), s.get(PersonalClearance, ids["c_new"])
        assert (old.reason, old.decision_reason, old.status_reason) == (
            f"{marker} 適性評価の結果通知", f"{marker} 二人目の承認", f"{marker} superseded")
        assert (new.reason, new.decision_reason, new.status_reason) == ("再評価", None, None)
        assert s.get(CompanyCertification, ids["k_old"]).status_reason == f"{marker} 契約違反の疑い"
        rejected = s.get(CompanyCertification, ids["k_new"])
        assert (rejected.reason, rejected.decision_reason) == ("追加の部門", f"{marker} 書類不備")
        assert s.get(MinutesRevision, ids["r2"]).note == f"{marker} 調達先の名称を削除"
        assert s.get(MinutesRevision, ids["r1"]).note is None  # "" meant "no note": NULL, as the app now writes it
        s.remove()

        # when it is downgraded, the same text is back in clear
        downgrade(directory=MIGRATIONS, revision="sealed_reasons@-1")
        row = db.session.execute(text("SELECT reason, decision_reason, status_reason FROM personal_clearance "
                                      "WHERE id = :i"), {"i": ids["c_old"]}).one()
        assert tuple(row) == (f"{marker} 適性評価の結果通知", f"{marker} 二人目の承認", f"{marker} superseded")
        assert db.session.execute(text("SELECT decision_reason FROM company_certification WHERE id = :i"),
                                  {"i": ids["k_new"]}).scalar_one() == f"{marker} 書類不備"
        notes = dict(db.session.execute(text("SELECT id, note FROM minutes_revision")).all())
        assert notes == {ids["r1"]: "", ids["r2"]: f"{marker} 調達先の名称を削除"}
        assert _children(db.session) == children
        db.session.remove()
        upgrade(directory=MIGRATIONS, revision="heads")
        assert db.session.get(PersonalClearance, ids["c_old"]).status_reason == f"{marker} superseded"
        db.session.remove()
        db.engine.dispose()


def test_a_value_that_does_not_open_stops_the_downgrade_before_any_change(empty_db, tmp_path, capfd):
    from flask_migrate import downgrade, upgrade

    from app import create_app

    app = create_app({**base_overrides(tmp_path), "SQLALCHEMY_DATABASE_URI": empty_db})
    with app.app_context():
        _at_every_other_head()
        ids = _seed_in_clear(db.session, population.canary())
        db.session.remove()
        upgrade(directory=MIGRATIONS, revision="heads")
        # a revision's level lowered in SQL: its note no longer opens
        db.session.execute(text("UPDATE minutes_revision SET level = 0 WHERE id = :i"), {"i": ids["r2"]})
        db.session.commit()
        db.session.remove()
        with pytest.raises(SystemExit):  # Flask-Migrate logs the RuntimeError (to stderr) and exits
            downgrade(directory=MIGRATIONS, revision="sealed_reasons@-1")
        assert f"minutes_revision.note of row {ids['r2']} does not decrypt" in capfd.readouterr().err
        # and nothing was changed: still at this revision, no plaintext column came back
        for table in SEALED:
            columns = {c["name"] for c in inspect(db.engine).get_columns(table)}
            assert not set(SEALED[table]) & columns, table
        assert REVISION in db.session.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
        assert db.session.execute(select(func.count()).select_from(text("personal_clearance"))).scalar_one() == 2
        db.session.remove()
        db.engine.dispose()
