"""The officers' overview: live figures, gaps, the SVG charts and their CSP."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import event

from clearance.auth.models import UserAccount
from clearance.db import db, utcnow
from dialogue.home import service as home
from dialogue.meetings import service
from dialogue.meetings.models import Dialogue, Invitation
from tests.factories import sign_in
from tests.meetings.conftest import soon
from tests.meetings.helpers import invite, notifier, plan


def _hold(app, world):
    """A dialogue with the chain's tier 1 (company A; C has no accounts), held."""
    did = plan(app, world.officer.id, counterpart=world.chain, start=soon(days=2))
    ids = invite(app, world.officer.id, did, service.InviteFilter(group_id=world.chain, tiers=[1]))
    with app.test_request_context():
        d = db.session.get(Dialogue, did)
        inv = db.session.get(Invitation, ids[0])
        service.reply(db.session, db.session.get(UserAccount, inv.user_id), inv, "accepted", notifier(app))
        service.change_status(db.session, db.session.get(UserAccount, world.officer.id), d, "held", "",
                              notifier(app), now=d.starts_at + timedelta(hours=1))
        db.session.commit()
    return did


def test_overview_counts_what_was_held_and_shows_the_gaps(app, world):
    _hold(app, world)
    with app.app_context():
        o = home.overview(db.session, utcnow() + timedelta(days=3))
    assert (o.groups_engaged, o.companies_reached, o.regions_reached, o.dialogues_held) == (1, 1, 1, 1)
    assert o.matrix[("semiconductors", "tohoku")].reached == 1  # company A
    assert o.matrix[("automotive", "kyushu")].gap  # company B, never reached
    assert o.matrix[("chemicals", "tohoku")].gap  # company C: on tier 1 but had no account to invite
    chain = next(c for c in o.chains if c.group_id == world.chain)
    assert chain.gaps == [3]  # tier 1 reached (A); tier 3 (B) not; tiers 2 and 4 are empty
    assert o.by_size == [("large", 1, 0), ("mid", 1, 0), ("small", 1, 1)]
    assert o.sme_share == 0.5


def test_reach_older_than_twelve_months_is_a_gap_again(app, world):
    _hold(app, world)
    with app.app_context():
        o = home.overview(db.session, utcnow() + timedelta(days=400))
    assert o.companies_reached == 1 and o.matrix[("semiconductors", "tohoku")].gap


def test_overview_queries_never_touch_the_invitations(app, world):
    """What keeps the overview flat as invitations grow: it reads company_reach, not invitation."""
    _hold(app, world)
    seen = []
    with app.app_context():
        listener = lambda *a: seen.append(a[2])  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            home.overview(db.session, utcnow())
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
    assert seen and not [s for s in seen if "invitation" in s.lower()]


def test_overview_page_and_charts(app, world):
    _hold(app, world)
    c = app.test_client()
    sign_in(c, world.officer)
    page = c.get("/officer")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "ov-gap" in html and "/officer/charts/regions.svg" in html
    for name in ("regions", "sizes", "months"):
        svg = c.get(f"/officer/charts/{name}.svg")
        assert svg.status_code == 200 and svg.mimetype == "image/svg+xml"
        body = svg.get_data(as_text=True)
        assert body.startswith("<svg") and "<script" not in body
        assert "script-src" not in svg.headers["Content-Security-Policy"]
    assert c.get("/officer/charts/nothing.svg").status_code == 404


def test_company_staff_get_no_overview_or_charts(app, world):
    c = app.test_client()
    sign_in(c, world.a_admin)
    assert c.get("/officer").status_code == 403
    assert c.get("/officer/charts/regions.svg").status_code == 403
