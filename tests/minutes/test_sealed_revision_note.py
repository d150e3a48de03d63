"""The note saved with a revision ("what changed") may speak about the content: it is sealed at the revision's
level like the content, shown on the revisions page, absent from the raw database, and a revision's level
lowered in SQL makes it fail closed (audited) instead of showing it."""

from __future__ import annotations

import json

from sqlalchemy import select, text

from clearance.audit import AuditEntry
from clearance.db import db
from dialogue.minutes.models import MinutesRevision
from tests.clearance.helpers import grant
from tests.crypto import population
from tests.factories import csrf, sign_in
from tests.minutes.helpers import current_doc, save, start


def _revision(app, minutes_id: str, number: int) -> tuple[str, int, bytes | None]:
    with app.app_context():
        rev = db.session.execute(select(MinutesRevision).where(MinutesRevision.minutes_id == minutes_id,
                                                               MinutesRevision.number == number)).scalar_one()
        return rev.id, rev.level, rev.note_ct


def test_the_note_is_sealed_at_the_revision_level_and_shown_on_the_revisions_page(app, world):
    marker = population.canary("NOTE")
    minutes_id = start(app, world)
    grant(app, world.officer.id, level=2)
    doc, base = current_doc(app, minutes_id)
    doc.sections[1].body, doc.sections[1].level = "取扱注意の記述", 1
    client = app.test_client()
    sign_in(client, world.officer)
    token = csrf(client, f"/minutes/{minutes_id}")
    # saved through the JSON API with a note that names what changed
    resp = client.post(f"/api/minutes/{minutes_id}/revisions", headers={"X-CSRFToken": token},
                       json={"base_revision": base, "document": doc.to_dict(), "note": f"{marker} 調達先の名称を削除"})
    assert resp.status_code == 201, resp.get_data(as_text=True)
    rev_id, level, note_ct = _revision(app, minutes_id, 2)
    assert level == 1 and note_ct is not None and marker.encode() not in note_ct
    with app.app_context():
        assert db.session.get(MinutesRevision, rev_id).note == f"{marker} 調達先の名称を削除"
    page = client.get(f"/minutes/{minutes_id}/revisions").get_data(as_text=True)
    assert f"{marker} 調達先の名称を削除" in page
    with app.app_context():
        assert population.hits(db.engine, [marker]) == []
        db.session.remove()
        db.engine.dispose()


def test_no_note_is_null_and_shows_nothing(app, world):
    minutes_id = start(app, world)
    doc, base = current_doc(app, minutes_id)
    save(app, minutes_id, doc, base, world.officer.id, note="")
    assert _revision(app, minutes_id, 2)[2] is None
    client = app.test_client()
    sign_in(client, world.officer)
    assert "None" not in client.get(f"/minutes/{minutes_id}/revisions").get_data(as_text=True)


def test_a_revision_level_lowered_in_sql_makes_its_note_fail_closed_and_audited(app, world):
    minutes_id = start(app, world)
    grant(app, world.officer.id, level=2)
    doc, base = current_doc(app, minutes_id)
    doc.sections[1].body, doc.sections[1].level = "重要な記述", 2
    save(app, minutes_id, doc, base, world.officer.id, note="供給元の記載を追加")
    rev_id, level, _ = _revision(app, minutes_id, 2)
    assert level == 2
    with app.app_context():
        before = db.session.scalar(select(AuditEntry.seq).order_by(AuditEntry.seq.desc()))
        db.session.execute(text("UPDATE minutes_revision SET level = 0 WHERE id = :i"), {"i": rev_id})
        db.session.commit()
    client = app.test_client()
    sign_in(client, world.officer)
    resp = client.get(f"/minutes/{minutes_id}/revisions")
    assert resp.status_code == 500 and "供給元の記載を追加" not in resp.get_data(as_text=True)
    with app.app_context():
        entry = db.session.scalars(select(AuditEntry).where(AuditEntry.seq > before, AuditEntry.realm == "crypto")
                                   ).one()
        data = json.loads(entry.data)
        # the page opens the revision's content (for its compartments) before its note: both are sealed
        # at the revision's level, so whichever is opened first fails
        assert (entry.summary, data["table"], data["row_id"]) == ("Decryption failed", "minutes_revision", rev_id)
        assert data["column"] in ("content", "note")


def test_a_note_above_the_readers_clearance_is_withheld_on_the_revisions_page(app, world):
    """Given a level-1 revision whose note names what changed, an officer without a clearance sees
    the revision listed but not its note; a cleared officer sees the note."""
    minutes_id = start(app, world)
    grant(app, world.officer.id, level=2)
    doc, base = current_doc(app, minutes_id)
    doc.sections[1].body, doc.sections[1].level = "取扱注意の記述", 1
    save(app, minutes_id, doc, base, world.officer.id, note="調達先A社の名称を削除")
    cleared, uncleared = app.test_client(), app.test_client()
    sign_in(cleared, world.officer)
    sign_in(uncleared, world.officer2)
    assert "調達先A社の名称を削除" in cleared.get(f"/minutes/{minutes_id}/revisions").get_data(as_text=True)
    page = uncleared.get(f"/minutes/{minutes_id}/revisions").get_data(as_text=True)
    assert "調達先A社の名称を削除" not in page and "区分により" in page
