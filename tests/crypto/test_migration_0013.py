"""Migration 0013 (sealed titles): dialogue titles, venues and online links, agenda item titles and briefing
titles written in clear before it are sealed at the object's level (an agenda item at its dialogue's), readable
through the models, gone from the raw database, and a downgrade gives the same text back, or refuses."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import inspect, text

from clearance.crypto import DecryptionError
from clearance.db import db, new_id
from tests.conftest import ROOT, base_overrides, heads_before
from tests.crypto import population

REVISION = "0013_sealed_titles"
MIGRATIONS = str(ROOT / "migrations")
SEALED = {"dialogue": ("title", "venue", "online_url"), "agenda_item": ("title",), "briefing": ("title",)}


def _below_this_revision() -> None:
    """Every head but this one (0012 included: this revision follows it)."""
    from flask_migrate import upgrade

    for head in heads_before(REVISION):
        upgrade(directory=MIGRATIONS, revision=head)


def _insert(session, table: str, **values) -> None:
    cols = ", ".join(values)
    session.execute(text(f"INSERT INTO {table} ({cols}) VALUES ({', '.join(':' + k for k in values)})"), values)


def _seed_in_clear(session, marker: str) -> dict[str, str]:
    """Rows as the app wrote them with 0012 (Core inserts: the models already know the new columns)."""
    now = datetime(2026, 11, 1, 9, 0)
    ids = {k: new_id() for k in ("company", "public", "secret", "empty", "a_public", "a_secret", "b0", "b2")}
    _insert(session, "company", id=ids["company"], corporate_number="1000000000003", name_ja="甲", name_en="Ko",
            size_class="small", prefecture="13", region="kanto", key_products="", created_at=now)
    common = {"format": "company", "company_id": ids["company"], "starts_at": now, "ends_at": now + timedelta(hours=1),
              "time_zone": "Asia/Tokyo", "status": "planned", "sequence": 0, "created_at": now, "updated_at": now}
    _insert(session, "dialogue", id=ids["public"], title=f"{marker} 公開の対話", venue=f"{marker} 本館2階",
            online_url=f"https://meet.example.jp/{marker}-pub", level=0, **common)
    _insert(session, "dialogue", id=ids["secret"], title=f"{marker} 技術流出対策(限定)", venue=f"{marker} 本館17階",
            online_url=f"https://meet.example.jp/{marker}-l1", level=1, **common)
    _insert(session, "dialogue", id=ids["empty"], title="無題", venue="", online_url="", level=2, **common)
    _insert(session, "agenda_item", id=ids["a_public"], dialogue_id=ids["public"], position=1, title=f"{marker} 議題公開")
    _insert(session, "agenda_item", id=ids["a_secret"], dialogue_id=ids["secret"], position=1, title=f"{marker} 議題限定")
    brief = {"status": "released", "created_at": now, "updated_at": now, "sort_at": now}
    _insert(session, "briefing", id=ids["b0"], title=f"{marker} public briefing", level=0, **brief)
    _insert(session, "briefing", id=ids["b2"], title=f"{marker} 重要経済安保 briefing", level=2,
            designating_agency="経済産業省", designation_number="経安-1", designated_on=date(2026, 1, 1),
            designation_expires_on=date(2030, 1, 1), **brief)
    session.commit()
    return ids


def _columns(engine) -> dict[str, set[str]]:
    return {t: {c["name"] for c in inspect(engine).get_columns(t)} for t in SEALED}


def test_titles_in_clear_are_sealed_readable_and_come_back_on_downgrade(empty_db, tmp_path):
    from flask_migrate import downgrade, upgrade

    from app import create_app
    from dialogue.briefings.models import Briefing
    from dialogue.meetings.models import AgendaItem, Dialogue

    marker = population.canary("TTL")
    app = create_app({**base_overrides(tmp_path), "SQLALCHEMY_DATABASE_URI": empty_db})
    with app.app_context():
        # given a database at 0012 (every other head too), with titles, venues and links in clear
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

        # and every value reads back through the models, bound to its row and the object's level
        s = db.session
        public, secret, empty = (s.get(Dialogue, ids[k]) for k in ("public", "secret", "empty"))
        assert (public.title, public.venue, public.online_url) == (
            f"{marker} 公開の対話", f"{marker} 本館2階", f"https://meet.example.jp/{marker}-pub")
        assert (secret.title, secret.venue, secret.online_url) == (
            f"{marker} 技術流出対策(限定)", f"{marker} 本館17階", f"https://meet.example.jp/{marker}-l1")
        assert (empty.title, empty.venue, empty.online_url) == ("無題", None, None)  # "" meant none: NULL
        raw = s.execute(text("SELECT title_ct FROM dialogue WHERE id = :i"), {"i": ids["secret"]}).scalar_one()
        assert Dialogue.title.open_column(bytes(raw), ids["secret"], 1) == f"{marker} 技術流出対策(限定)"
        with pytest.raises(DecryptionError):  # bound to level 1: at level 0 it does not open
            Dialogue.title.open_column(bytes(raw), ids["secret"], 0)
        assert [a.title for a in secret.agenda] == [f"{marker} 議題限定"]
        raw = s.execute(text("SELECT title_ct FROM agenda_item WHERE id = :i"), {"i": ids["a_secret"]}).scalar_one()
        assert AgendaItem.title.open_column(bytes(raw), ids["a_secret"], 1) == f"{marker} 議題限定"  # the dialogue's
        assert s.get(Briefing, ids["b2"]).title == f"{marker} 重要経済安保 briefing"
        assert s.get(Briefing, ids["b0"]).title == f"{marker} public briefing"
        s.remove()

        # when it is downgraded, the same text is back in clear ("" where there was none)
        downgrade(directory=MIGRATIONS, revision="sealed_titles@-1")
        rows = {r[0]: tuple(r[1:]) for r in db.session.execute(text("SELECT id, title, venue, online_url FROM dialogue"))}
        assert rows[ids["secret"]] == (f"{marker} 技術流出対策(限定)", f"{marker} 本館17階",
                                       f"https://meet.example.jp/{marker}-l1")
        assert rows[ids["empty"]] == ("無題", "", "")
        agenda = dict(db.session.execute(text("SELECT id, title FROM agenda_item")).all())
        assert agenda == {ids["a_public"]: f"{marker} 議題公開", ids["a_secret"]: f"{marker} 議題限定"}
        titles = dict(db.session.execute(text("SELECT id, title FROM briefing")).all())
        assert titles[ids["b2"]] == f"{marker} 重要経済安保 briefing"
        assert not {f"{f}_ct" for f in ("title", "venue", "online_url")} & (
            _columns(db.engine)["dialogue"] | _columns(db.engine)["agenda_item"])
        assert "title_ct" not in _columns(db.engine)["briefing"]
        assert "summary_ct" in _columns(db.engine)["briefing"]  # 0008's sealing is not touched
        db.session.remove()

        # and upgraded again, sealed again
        upgrade(directory=MIGRATIONS, revision="heads")
        assert db.session.get(Dialogue, ids["secret"]).venue == f"{marker} 本館17階"
        assert population.hits(db.engine, [marker]) == []
        db.session.remove()
        db.engine.dispose()


def test_a_title_that_does_not_open_stops_the_downgrade_before_any_change(empty_db, tmp_path, capfd):
    from flask_migrate import downgrade, upgrade

    from app import create_app

    app = create_app({**base_overrides(tmp_path), "SQLALCHEMY_DATABASE_URI": empty_db})
    with app.app_context():
        _below_this_revision()
        ids = _seed_in_clear(db.session, population.canary())
        db.session.remove()
        upgrade(directory=MIGRATIONS, revision="heads")
        # a briefing's level lowered in SQL: its title no longer opens
        db.session.execute(text("UPDATE briefing SET level = 1, designating_agency = NULL, designation_number = NULL,"
                                " designated_on = NULL, designation_expires_on = NULL WHERE id = :i"), {"i": ids["b2"]})
        db.session.commit()
        db.session.remove()
        with pytest.raises(SystemExit):  # Flask-Migrate logs the RuntimeError (to stderr) and exits
            downgrade(directory=MIGRATIONS, revision="sealed_titles@-1")
        assert f"briefing.title of row {ids['b2']} does not decrypt" in capfd.readouterr().err
        # and nothing was changed: still at this revision, no plaintext column came back
        columns = _columns(db.engine)
        assert "title_ct" in columns["dialogue"] and "title" not in columns["dialogue"]
        assert "title" not in columns["agenda_item"] and "title" not in columns["briefing"]
        assert REVISION in db.session.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
        db.session.remove()
        db.engine.dispose()
