"""An invitation the ministry took back (sent by mistake) gives no access to the dialogue's minutes,
while a declined one still does (company staff read minutes of dialogues they were invited to)."""

from __future__ import annotations

from sqlalchemy import update

from clearance.db import db
from dialogue.meetings.models import Invitation
from tests.factories import sign_in
from tests.feedback.world import world  # noqa: F401 - held dialogues with invitations, as the minutes tests use
from tests.minutes.helpers import start, to_participant_review


def test_a_revoked_invitee_cannot_read_the_minutes(app, world):  # noqa: F811
    minutes_id = start(app, world)
    to_participant_review(app, world, minutes_id)
    colleague = app.test_client()
    sign_in(colleague, world.a_colleague)  # invited, declined
    assert colleague.get(f"/portal/minutes/{minutes_id}").status_code == 200
    with app.app_context():
        # Revoked before the dialogue was held (a held dialogue's invitations cannot be taken back).
        db.session.execute(update(Invitation).where(Invitation.user_id == world.a_colleague.id)
                           .values(status="revoked"))
        db.session.commit()
    assert colleague.get(f"/portal/minutes/{minutes_id}").status_code == 404
    assert minutes_id not in colleague.get("/portal/minutes").get_data(as_text=True)
