"""A dialogue's title is material at the dialogue's level (issue 11): the minutes list shows nothing of a
dialogue the officer may not read, and the minutes pages and PDF name it only to readers cleared for it."""

from __future__ import annotations

import io

from pypdf import PdfReader

from clearance.permissions import Role
from tests.clearance.helpers import grant
from tests.crypto import population
from tests.factories import sign_in
from tests.feedback.world import held_dialogue
from tests.minutes.helpers import start


def _client(app, person):
    c = app.test_client()
    assert sign_in(c, person).status_code == 302
    return c


def test_minutes_name_a_classified_dialogue_only_to_cleared_readers(app, world, factory):
    marker = population.canary("MIN")
    did = held_dialogue(app, world.officer.id, [(world.a_member.id, world.a, "accepted")],
                        title=f"{marker} 技術流出対策(限定)", level=1, company_id=world.a)
    grant(app, world.officer.id, 2)
    mid = start(app, world, did)
    uncleared = _client(app, world.officer2)
    cleared = factory.person(Role.OFFICER)
    grant(app, cleared.id, 1)
    cleared_client = _client(app, cleared)

    index = uncleared.get("/minutes").get_data(as_text=True)
    assert marker not in index and mid not in index and did not in index  # nothing of it in the list
    assert f"{marker} 技術流出対策(限定)" in cleared_client.get("/minutes").get_data(as_text=True)

    for path in (f"/minutes/{mid}", f"/minutes/{mid}/revisions"):
        resp = uncleared.get(path)
        assert marker not in resp.get_data(as_text=True), path
        if resp.status_code == 200:
            assert "秘密区分のある対話" in resp.get_data(as_text=True) or "Classified dialogue" in resp.get_data(
                as_text=True), path
    assert marker in cleared_client.get(f"/minutes/{mid}").get_data(as_text=True)

    resp = uncleared.get(f"/minutes/{mid}/pdf")
    if resp.status_code == 200 and resp.mimetype == "application/pdf":
        text = "".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(resp.data)).pages)
        assert marker not in text and marker.encode() not in resp.data
