"""The pages, attacked: another company's ids, reused and expired RSVP links, revoked feeds, bad input."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from icalendar import Calendar
from sqlalchemy import select, update

from clearance.db import db, utcnow
from dialogue.meetings import service
from dialogue.meetings.models import Dialogue, Invitation, RsvpToken
from tests.factories import audit_summaries, csrf, sign_in
from tests.meetings.conftest import soon
from tests.meetings.helpers import invite, invite_tokens, plan


def _setup(app, world, **kw):
    did = plan(app, world.officer.id, counterpart=world.chain, start=soon(), **kw)
    pairs = invite_tokens(app, world.officer.id, did, service.InviteFilter(group_id=world.chain))
    with app.app_context():
        by_user = {db.session.get(Invitation, i).user_id: (i, t) for i, t in pairs}
    return did, by_user


def _client(app, person):
    c = app.test_client()
    assert sign_in(c, person).status_code == 302
    return c


def test_company_a_cannot_reach_company_b_s_invitation_by_guessing(app, world):
    _did, inv = _setup(app, world)
    b_inv = inv[world.b_member.id][0]
    a = _client(app, world.a_member)
    token = csrf(a, "/portal/dialogues")
    for path in (f"/portal/dialogues/{b_inv}", f"/portal/dialogues/{b_inv}/dialogue.ics",
                 "/portal/dialogues/00000000-0000-0000-0000-000000000000", f"/portal/dialogues/{b_inv}x"):
        assert a.get(path).status_code == 404, path
    for action, data in (("reply", {"answer": "declined"}), ("delegate", {"colleague": world.a_colleague.id}),
                         ("topics", {"kind": "topic", "body": "x"})):
        resp = a.post(f"/portal/dialogues/{b_inv}/{action}", data={"csrf_token": token, **data})
        assert resp.status_code == 404, action
    with app.app_context():
        assert db.session.get(Invitation, b_inv).status == "pending"
    # and B's dialogue does not show in A's list, while A's own does
    html = a.get("/portal/dialogues").get_data(as_text=True)
    assert inv[world.a_member.id][0] in html and b_inv not in html


def test_company_staff_cannot_open_officers_dialogue_pages(app, world):
    did, _inv = _setup(app, world)
    a = _client(app, world.a_admin)
    for path in ("/dialogues", f"/dialogues/{did}", f"/dialogues/{did}/dialogue.ics", f"/dialogues/{did}/invite",
                 "/dialogues/new", "/dialogues/upcoming"):
        assert a.get(path).status_code == 403, path


def test_officer_plans_through_the_form_and_is_warned_of_a_double_booking(app, world):
    start = soon(days=30)
    plan(app, world.officer.id, counterpart=world.chain, start=start, title="先約")
    c = _client(app, world.officer)
    form = {"csrf_token": csrf(c, "/dialogues/new"), "format": "supply_chain", "group_id": world.chain,
            "title": "半導体サプライチェーン対話", "start": start.strftime("%Y-%m-%dT%H:%M"),
            "end": (start + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"), "time_zone": "Asia/Tokyo",
            "hosts": world.officer.id, "level": "0", "agenda": "一\n二\n\n三"}
    first = c.post("/dialogues/new", data=form)
    assert first.status_code == 200 and "先約" in first.get_data(as_text=True)
    second = c.post("/dialogues/new", data={**form, "confirm_overlap": "y"})
    assert second.status_code == 302
    detail = c.get(second.headers["Location"]).get_data(as_text=True)
    assert "半導体サプライチェーン対話" in detail and detail.index("一") < detail.index("三")


def test_series_form_error_is_friendly_and_nothing_is_saved(app, world):
    c = _client(app, world.officer)
    start = soon(days=40)
    resp = c.post("/dialogues/new", data={
        "csrf_token": csrf(c, "/dialogues/new"), "format": "association", "association_id": world.association,
        "title": "月例", "start": start.strftime("%Y-%m-%dT%H:%M"),
        "end": (start + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"), "time_zone": "Asia/Tokyo",
        "hosts": world.officer.id, "level": "0", "repeat": "custom", "repeat_rule": "FREQ=DAILY"})
    assert resp.status_code == 400
    assert "COUNT" in resp.get_data(as_text=True)
    with app.app_context():
        assert db.session.execute(select(Dialogue)).first() is None


@pytest.mark.parametrize("field, value", [
    ("start", "not a date"), ("time_zone", "Mars/Olympus"), ("format", "party"), ("hosts", "nobody"),
    ("group_id", "x" * 500), ("seat_limit", "-3"), ("online_url", "javascript:alert(1)"), ("level", "9"),
])
def test_bad_planning_input_is_a_400_never_a_500(app, world, field, value):
    c = _client(app, world.officer)
    start = soon(days=50)
    data = {"csrf_token": csrf(c, "/dialogues/new"), "format": "supply_chain", "group_id": world.chain,
            "title": "x", "start": start.strftime("%Y-%m-%dT%H:%M"),
            "end": (start + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"), "time_zone": "Asia/Tokyo",
            "hosts": world.officer.id, "level": "0", field: value}
    assert c.post("/dialogues/new", data=data).status_code == 400


def test_invite_page_previews_then_sends_by_tier(app, world):
    did = plan(app, world.officer.id, counterpart=world.chain, start=soon())
    c = _client(app, world.officer)
    page = c.get(f"/dialogues/{did}/invite?applied=1&group_id={world.chain}&tiers=3")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "乙部品株式会社" in html and "甲材料株式会社" not in html
    fingerprint = re.search(r'name="fingerprint" type="hidden" value="([^"]+)"', html).group(1)
    sent = c.post(f"/dialogues/{did}/invite", data={"csrf_token": csrf(c, f"/dialogues/{did}"), "group_id": world.chain,
                                                   "tiers": "3", "fingerprint": fingerprint})
    assert sent.status_code == 302
    with app.app_context():
        assert [i.user_id for i in db.session.execute(select(Invitation)).scalars()] == [world.b_member.id]


def test_rsvp_link_works_once(app, world):
    _did, inv = _setup(app, world)
    inv_id, token = inv[world.b_member.id]
    anon = app.test_client()
    first = anon.get(f"/calendar/rsvp?token={token}")
    assert first.status_code == 302 and "token" not in first.headers["Location"]
    page = anon.get("/calendar/rsvp")
    assert page.status_code == 200 and "試験対話" in page.get_data(as_text=True)
    done = anon.post("/calendar/rsvp", data={"csrf_token": csrf(anon, "/calendar/rsvp"), "answer": "accepted"})
    assert done.status_code == 200
    with app.app_context():
        assert db.session.get(Invitation, inv_id).status == "accepted"
    again = app.test_client()
    again.get(f"/calendar/rsvp?token={token}")
    assert again.get("/calendar/rsvp").status_code == 410
    assert any("accepted" in s for s in audit_summaries(app))


def test_rsvp_link_stops_working_after_it_expires(app, world):
    _did, inv = _setup(app, world)
    inv_id, token = inv[world.a_member.id]
    with app.app_context():
        db.session.execute(update(RsvpToken).values(expires_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
    anon = app.test_client()
    anon.get(f"/calendar/rsvp?token={token}")
    assert anon.get("/calendar/rsvp").status_code == 410
    with app.app_context():
        assert db.session.get(Invitation, inv_id).status == "pending"


def test_rsvp_with_a_guessed_token_is_a_404(app, world):
    anon = app.test_client()
    anon.get("/calendar/rsvp?token=" + "A" * 43)
    assert anon.get("/calendar/rsvp").status_code == 404
    assert anon.get("/calendar/rsvp").status_code == 404  # no token at all


def test_answering_in_the_portal_spends_the_mailed_link(app, world):
    _did, inv = _setup(app, world)
    inv_id, token = inv[world.a_member.id]
    a = _client(app, world.a_member)
    a.post(f"/portal/dialogues/{inv_id}/reply", data={"csrf_token": csrf(a, "/portal/dialogues"), "answer": "declined"})
    anon = app.test_client()
    anon.get(f"/calendar/rsvp?token={token}")
    assert anon.get("/calendar/rsvp").status_code == 410


def test_feed_serves_my_invitations_until_revoked(app, world):
    _did, _inv = _setup(app, world)
    a = _client(app, world.a_member)
    a.post("/calendar/feed", data={"csrf_token": csrf(a, "/calendar")})
    html = a.get("/calendar").get_data(as_text=True)
    url = re.search(r'<code class="dlg-url">([^<]+)</code>', html).group(1).replace("&amp;", "&")
    assert "/calendar/feed.ics?token=" in url
    assert "dlg-url" not in a.get("/calendar").get_data(as_text=True)  # shown once
    path = url.split("localhost", 1)[1]
    feed = app.test_client().get(path)
    assert feed.status_code == 200 and feed.mimetype == "text/calendar"
    cal = Calendar.from_ical(feed.data)
    events = cal.walk("VEVENT")
    assert [str(e["summary"]) for e in events] == ["試験対話"]
    assert events[0]["dtstart"].params["TZID"] == "Asia/Tokyo"
    a.post("/calendar/feed/revoke", data={"csrf_token": csrf(a, "/calendar")})
    assert app.test_client().get(path).status_code == 404
    assert {"Calendar feed created", "Calendar feed revoked"} <= set(audit_summaries(app))


def test_feed_hides_classified_details(app, world, monkeypatch):
    from clearance import policy

    monkeypatch.setattr(policy, "eligibility",
                        lambda session, label, ids, now, **kw: {u: policy.Decision(True, "granted") for u in ids})
    did = plan(app, world.officer.id, counterpart=world.chain, start=soon(), level=2, title="機微な対話",
               venue="本館 第1会議室")
    invite(app, world.officer.id, did, service.InviteFilter(company_id=world.b))
    with app.test_request_context():
        from clearance.auth.models import UserAccount

        token = service.create_feed(db.session, db.session.get(UserAccount, world.b_member.id))
        db.session.commit()
    body = app.test_client().get(f"/calendar/feed.ics?token={token}").get_data(as_text=True)
    assert "BEGIN:VEVENT" in body and "機微" not in body and "第1会議室" not in body
    assert "CLASS:CONFIDENTIAL" in body


def test_portal_ics_download_parses_back_with_the_dialogue_zone(app, world):
    did = plan(app, world.officer.id, counterpart=world.chain, start=soon(), time_zone="Europe/Berlin")
    ids = invite(app, world.officer.id, did, service.InviteFilter(company_id=world.b))
    b = _client(app, world.b_member)
    resp = b.get(f"/portal/dialogues/{ids[0]}/dialogue.ics")
    assert resp.status_code == 200 and "attachment" in resp.headers["Content-Disposition"]
    cal = Calendar.from_ical(resp.data)
    tz = cal.walk("VTIMEZONE")
    assert [str(t["tzid"]) for t in tz] == ["Europe/Berlin"]
    ev = cal.walk("VEVENT")[0]
    with app.app_context():
        d = db.session.get(Dialogue, did)
        assert ev.decoded("dtstart").astimezone(__import__("datetime").UTC).replace(tzinfo=None) == d.starts_at
        assert str(ev["uid"]) == f"dialogue-{did}@meti.example.go.jp"


def test_invitation_mail_carries_a_request_ics_over_smtp(mail_app, factory):
    from tests.meetings.conftest import World  # noqa: F401  (the same register, on the mail app)

    app = mail_app
    officer = factory.person()
    company = factory.company()
    from clearance.permissions import Role

    member = factory.person(Role.COMPANY_MEMBER, company_id=company)
    did = plan(app, officer.id, fmt="company", counterpart=company, start=soon())
    invite(app, officer.id, did, service.InviteFilter(company_id=company))
    msg = app.mailbox.last_to(member.email)
    parts = [p for p in msg.iter_attachments() if p.get_content_type() == "text/calendar"]
    assert len(parts) == 1 and parts[0].get_param("method") == "REQUEST"
    cal = Calendar.from_ical(parts[0].get_content())
    assert str(cal["method"]) == "REQUEST"
    ev = cal.walk("VEVENT")[0]
    assert str(ev["attendee"]) == f"mailto:{member.email}"
    assert ev["attendee"].params["PARTSTAT"] == "NEEDS-ACTION"
    assert "/calendar/rsvp?token=" in msg.get_body(("plain",)).get_content()
    with app.app_context():
        from clearance.outbox import MailMessage

        sent = db.session.execute(select(MailMessage)).scalars().all()
        assert sent and all(m.attachment_ct is None and m.body_ct is None for m in sent)  # blanked after delivery


def test_notifications_list_and_mark_read(app, world):
    _setup(app, world)
    b = _client(app, world.b_member)
    html = b.get("/portal/notifications").get_data(as_text=True)
    assert "試験対話" in html
    b.post("/portal/notifications/read", data={"csrf_token": csrf(b, "/portal/notifications")})
    from dialogue.portal.service import unread_count

    with app.app_context():
        assert unread_count(db.session, world.b_member.id) == 0


def test_dialogue_list_filters_and_pages(app, world):
    for n in range(3):
        plan(app, world.officer.id, counterpart=world.chain, start=soon(days=5 + n), title=f"定例{n}")
    plan(app, world.officer2.id, counterpart=world.association, fmt="association", start=soon(days=9),
         title="工業会対話", host_ids=[world.officer2.id])
    c = _client(app, world.officer)
    html = c.get("/dialogues").get_data(as_text=True)
    assert all(t in html for t in ("定例0", "定例2", "工業会対話", "試験サプライチェーン"))
    assert "工業会対話" not in c.get("/dialogues?mine=y").get_data(as_text=True)
    assert "定例1" not in c.get("/dialogues?format=association").get_data(as_text=True)
    found = c.get("/dialogues?q=工業会").get_data(as_text=True)
    assert "工業会対話" in found and "定例0" not in found
    for bad in ("?page=999999999999", "?page=-1", "?period=zzz&status=zzz", "?q=" + "%" * 300):
        assert c.get("/dialogues" + bad).status_code == 200
    assert "定例0" in c.get("/dialogues/upcoming").get_data(as_text=True)


def test_an_officer_without_clearance_cannot_open_a_classified_dialogue(app, world, monkeypatch):
    did = plan(app, world.officer.id, counterpart=world.chain, start=soon(days=3), level=1, title="限定の対話")
    c = _client(app, world.officer)
    assert c.get(f"/dialogues/{did}").status_code == 404
    assert c.get(f"/dialogues/{did}/dialogue.ics").status_code == 404
    assert c.get(f"/dialogues/{did}/invite").status_code == 404
    listing = c.get("/dialogues").get_data(as_text=True)
    assert "限定の対話" not in listing and f"/dialogues/{did}" not in listing
    monkeypatch.setattr(service, "cleared_level", lambda session, user_id, now=None: 1)
    with app.app_context():  # a real grant is a committed write, which moves the data generation
        from clearance import freshness

        freshness.bump(db.session)
        db.session.commit()
    assert c.get(f"/dialogues/{did}").status_code == 200
    assert "限定の対話" in c.get("/dialogues").get_data(as_text=True)


def test_a_company_member_whose_clearance_lapsed_loses_the_classified_invitation(app, world, monkeypatch):
    from clearance import policy

    monkeypatch.setattr(policy, "eligibility",
                        lambda session, label, ids, now, **kw: {u: policy.Decision(True, "granted") for u in ids})
    did = plan(app, world.officer.id, counterpart=world.chain, start=soon(), level=1, title="限定の対話")
    ids = invite(app, world.officer.id, did, service.InviteFilter(company_id=world.b))
    b = _client(app, world.b_member)
    assert b.get(f"/portal/dialogues/{ids[0]}").status_code == 404  # no standing now
    assert "限定の対話" not in b.get("/portal/dialogues").get_data(as_text=True)
    monkeypatch.setattr(service, "cleared_level", lambda session, user_id, now=None: 1)
    assert b.get(f"/portal/dialogues/{ids[0]}").status_code == 200
