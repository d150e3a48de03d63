"""Why minutes went back to draft is a reviewer's remark on their content: sealed, and still readable
after later saves change the minutes' level (it is bound to the row at level 0 for that reason)."""

from __future__ import annotations

from sqlalchemy import text

from clearance.db import db
from dialogue.minutes import service
from dialogue.minutes.models import Minutes
from tests.clearance.helpers import grant
from tests.crypto import population
from tests.factories import sign_in
from tests.feedback.world import user
from tests.minutes.helpers import current_doc, save, start


def test_the_return_note_is_sealed_and_survives_a_level_change(app, world):
    marker = population.canary("RN")
    minutes_id = start(app, world)
    with app.test_request_context():
        m = db.session.get(Minutes, minutes_id)
        service.submit_for_review(db.session, m, actor=user(world.officer.id))
        service.return_to_draft(db.session, m, actor=user(world.officer2.id), note=f"{marker} 出席者の訂正が必要")
        db.session.commit()
    # a later save raises the minutes' level (a conditional UPDATE of the row, no re-sealing)
    grant(app, world.officer.id, level=2)
    doc, base = current_doc(app, minutes_id)
    doc.sections[1].body, doc.sections[1].level = "取扱注意の記述", 1
    save(app, minutes_id, doc, base, world.officer.id)
    with app.app_context():
        m = db.session.get(Minutes, minutes_id)
        assert m.level == 1 and m.return_note == f"{marker} 出席者の訂正が必要"
        assert population.hits(db.engine, [marker]) == []
    client = app.test_client()
    sign_in(client, world.officer)
    assert marker in client.get(f"/minutes/{minutes_id}").get_data(as_text=True)
    # sending it to review again clears the note
    with app.test_request_context():
        service.submit_for_review(db.session, db.session.get(Minutes, minutes_id), actor=user(world.officer.id))
        db.session.commit()
    with app.app_context():
        assert db.session.execute(text("SELECT return_note_ct FROM minutes WHERE id = :i"),
                                  {"i": minutes_id}).scalar_one() is None
        db.session.remove()
        db.engine.dispose()


def test_the_return_note_is_shown_only_to_a_reader_from_whom_nothing_is_withheld(app, world):
    """The note may describe any part (「BATT の段落を書き直すこと」): an officer who gets a copy with
    parts withheld does not see it; the cleared officer does (review finding, issue 11)."""
    from clearance.permissions import Role
    from tests.factories import Factory

    marker = population.canary("RN")
    minutes_id = start(app, world)
    grant(app, world.officer.id, level=2)
    doc, base = current_doc(app, minutes_id)
    doc.sections[1].body, doc.sections[1].level = "取扱注意の記述", 1
    save(app, minutes_id, doc, base, world.officer.id)
    with app.test_request_context():
        m = db.session.get(Minutes, minutes_id)
        service.submit_for_review(db.session, m, actor=user(world.officer.id))
        service.return_to_draft(db.session, m, actor=user(world.officer.id), note=f"{marker} 第2節を書き直すこと")
        db.session.commit()
    uncleared = Factory(app).person(Role.OFFICER)
    client = app.test_client()
    sign_in(client, uncleared)
    page = client.get(f"/minutes/{minutes_id}")
    assert page.status_code == 200 and marker not in page.get_data(as_text=True)
    cleared = app.test_client()
    sign_in(cleared, world.officer)
    assert marker in cleared.get(f"/minutes/{minutes_id}").get_data(as_text=True)
