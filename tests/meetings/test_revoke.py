"""An officer takes back an invitation sent by mistake — and everyone else tries to break it:
other companies, the invitee's own company administrator, a missing CSRF token, the old RSVP
link, a closed dialogue, a second withdrawal, an over-long reason."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from icalendar import Calendar
from sqlalchemy import select

from clearance.auth.models import UserAccount
from clearance.db import db
from clearance.outbox import MailMessage
from clearance.permissions import Role
from dialogue.meetings import service
from dialogue.meetings.models import Dialogue, Invitation, RsvpToken
from dialogue.portal.models import Notification
from tests.factories import audit_summaries, csrf, sign_in
from tests.meetings.conftest import soon
from tests.meetings.helpers import invite_tokens, notifier, plan


def _setup(app, world, **kw):
    """A supply-chain dialogue with every account of the chain invited: {user_id: (invitation, token)}."""
    did = plan(app, world.officer.id, counterpart=world.chain, start=soon(), venue="本館17階 第1会議室",
               online_url="https://meet.example.jp/abc", **kw)
    pairs = invite_tokens(app, world.officer.id, did, service.InviteFilter(group_id=world.chain))
    with app.app_context():
        by_user = {db.session.get(Invitation, i).user_id: (i, t) for i, t in pairs}
    return did, by_user


def _revoke(app, world, inv_id, reason="", *, keep=False, now=None):
    """Revoke through the service. keep=True returns the queued mail before commit (delivery blanks it)."""
    with app.test_request_context():
        actor = db.session.get(UserAccount, world.officer.id)
        service.revoke_invitation(db.session, actor, db.session.get(Invitation, inv_id), reason, notifier(app),
                                  now=now)
        db.session.flush()
        mails = [(m.to_addr, m.subject, m.body, m.attachment_type, m.attachment)
                 for m in db.session.execute(select(MailMessage).where(MailMessage.sent_at.is_(None))).scalars()]
        db.session.commit()
        return mails if keep else None


def _reply(app, who, inv_id, answer):
    with app.test_request_context():
        status = service.reply(db.session, db.session.get(UserAccount, who.id), db.session.get(Invitation, inv_id),
                               answer, notifier(app))
        db.session.commit()
        return status


def _client(app, person):
    c = app.test_client()
    assert sign_in(c, person).status_code == 302
    return c


# --------------------------------------------------------------------------- the service


def test_revoking_tells_the_invitee_with_a_cancel_and_spends_the_link(app, world):
    did, inv = _setup(app, world)
    inv_id, _token = inv[world.b_member.id]
    with app.app_context():
        sequence = db.session.get(Dialogue, did).sequence
    mails = _revoke(app, world, inv_id, "送付先の誤りでした", keep=True)

    [(to, subject, body, kind, attachment)] = [m for m in mails if m[0] == world.b_member.email]
    assert kind == "text/calendar; method=CANCEL"
    assert "送付先の誤りでした" in body and "試験対話" in body
    assert "本館17階" not in body and "meet.example.jp" not in body  # no place or link for someone not coming
    cal = Calendar.from_ical(attachment)
    assert str(cal["method"]) == "CANCEL"
    ev = cal.walk("VEVENT")[0]
    assert str(ev["uid"]) == f"dialogue-{did}@meti.example.go.jp"  # the same event the REQUEST put in the calendar
    assert str(ev["status"]) == "CANCELLED" and int(ev["sequence"]) > sequence
    assert "location" not in ev
    assert {m[0] for m in mails} == {world.b_member.email}  # nobody else hears of it

    with app.app_context():
        row = db.session.get(Invitation, inv_id)
        assert row.status == "revoked" and row.revoke_reason == "送付先の誤りでした" and row.revoked_at is not None
        assert db.session.execute(select(RsvpToken.used_at).where(RsvpToken.invitation_id == inv_id)).scalar_one()
        note = db.session.execute(select(Notification).where(Notification.user_id == world.b_member.id,
                                                             Notification.kind == "revoked")).scalar_one()
        assert note.link == f"/portal/dialogues/{inv_id}"
    assert "Invitation revoked" in audit_summaries(app)


def test_a_freed_seat_goes_to_the_longest_waiting(app, world):
    did, inv = _setup(app, world, seat_limit=1)
    assert _reply(app, world.a_member, inv[world.a_member.id][0], "accepted") == "accepted"
    assert _reply(app, world.a_colleague, inv[world.a_colleague.id][0], "accepted") == "waitlisted"
    assert _reply(app, world.a_admin, inv[world.a_admin.id][0], "accepted") == "waitlisted"
    _revoke(app, world, inv[world.a_member.id][0])
    with app.app_context():
        status = {i.user_id: i.status for i in db.session.execute(
            select(Invitation).where(Invitation.dialogue_id == did)).scalars()}
        assert status[world.a_member.id] == "revoked"
        assert status[world.a_colleague.id] == "accepted"  # joined the list first
        assert status[world.a_admin.id] == "waitlisted"
        assert service.accepted_count(db.session, did) == 1
        assert db.session.execute(select(Notification).where(Notification.user_id == world.a_colleague.id,
                                                             Notification.kind == "promoted")).scalar_one()
    assert "Waiting list promoted" in audit_summaries(app)


def test_revoking_a_waiting_or_pending_invitation_promotes_nobody(app, world):
    did, inv = _setup(app, world, seat_limit=1)
    _reply(app, world.a_member, inv[world.a_member.id][0], "accepted")
    _reply(app, world.a_colleague, inv[world.a_colleague.id][0], "accepted")  # waits
    _revoke(app, world, inv[world.a_colleague.id][0])
    _revoke(app, world, inv[world.b_member.id][0])
    with app.app_context():
        assert service.accepted_count(db.session, did) == 1
        assert db.session.get(Invitation, inv[world.a_member.id][0]).status == "accepted"
    assert "Waiting list promoted" not in audit_summaries(app)


def test_a_second_withdrawal_is_refused_and_changes_nothing(app, world):
    _did, inv = _setup(app, world)
    inv_id = inv[world.b_member.id][0]
    _revoke(app, world, inv_id, "一回目")
    with pytest.raises(service.Refused) as exc:
        _revoke(app, world, inv_id, "二回目")
    assert exc.value.code == "already_revoked"
    with app.app_context():
        assert db.session.get(Invitation, inv_id).revoke_reason == "一回目"
        assert len(db.session.execute(select(Notification).where(Notification.kind == "revoked")).all()) == 1
    assert audit_summaries(app).count("Invitation revoked") == 1


@pytest.mark.parametrize("status", ["held", "closed", "cancelled"])
def test_no_withdrawal_once_the_dialogue_took_place_or_was_cancelled(app, world, status):
    did, inv = _setup(app, world)
    with app.app_context():
        db.session.get(Dialogue, did).status = status
        db.session.commit()
    with pytest.raises(service.Refused) as exc:
        _revoke(app, world, inv[world.b_member.id][0])
    assert exc.value.code == "revoke_closed"
    with app.app_context():
        assert db.session.get(Invitation, inv[world.b_member.id][0]).status == "pending"


def test_a_delegated_invitation_is_withdrawn_at_the_colleague_s(app, world, factory):
    _did, inv = _setup(app, world)
    newcomer = factory.person(Role.COMPANY_MEMBER, company_id=world.a)  # not invited yet
    with app.test_request_context():
        issued = service.delegate(db.session, db.session.get(UserAccount, world.a_member.id),
                                  db.session.get(Invitation, inv[world.a_member.id][0]), newcomer.id)
        db.session.commit()
        handed = issued.invitation.id
    with pytest.raises(service.Refused) as exc:
        _revoke(app, world, inv[world.a_member.id][0])
    assert exc.value.code == "revoke_delegated"
    _revoke(app, world, handed)  # the colleague's one is the live invitation


def test_an_over_long_reason_is_refused_by_the_service(app, world):
    _did, inv = _setup(app, world)
    with pytest.raises(service.Refused) as exc:
        _revoke(app, world, inv[world.b_member.id][0], "長" * (service.REVOKE_REASON_MAX + 1))
    assert exc.value.code == "revoke_reason_long" and exc.value.values == {"cap": service.REVOKE_REASON_MAX}
    _revoke(app, world, inv[world.b_member.id][0], "長" * service.REVOKE_REASON_MAX)  # exactly the cap is fine


def test_a_withdrawn_invitation_cannot_be_answered_passed_on_or_used_for_topics(app, world):
    _did, inv = _setup(app, world)
    inv_id = inv[world.a_member.id][0]
    _reply(app, world.a_member, inv_id, "accepted")
    _revoke(app, world, inv_id)
    for answer in ("accepted", "declined", "withdrawn"):
        with pytest.raises(service.Refused) as exc:
            _reply(app, world.a_admin, inv_id, answer)  # the company administrator cannot undo it either
        assert exc.value.code == "revoked"
    with app.test_request_context():
        member = db.session.get(UserAccount, world.a_member.id)
        invitation = db.session.get(Invitation, inv_id)
        with pytest.raises(service.Refused) as exc:
            service.delegate(db.session, member, invitation, world.a_colleague.id)
        assert exc.value.code == "revoked"
        with pytest.raises(service.Refused) as exc:
            service.add_topic(db.session, member, invitation, "topic", "まだ話したい")
        assert exc.value.code == "revoked"


def test_a_withdrawn_invitation_leaves_the_invitee_s_calendar_feed(app, world):
    _did, inv = _setup(app, world)
    with app.test_request_context():
        token = service.create_feed(db.session, db.session.get(UserAccount, world.b_member.id))
        db.session.commit()
    assert "試験対話" in app.test_client().get(f"/calendar/feed.ics?token={token}").get_data(as_text=True)
    _revoke(app, world, inv[world.b_member.id][0])
    assert "BEGIN:VEVENT" not in app.test_client().get(f"/calendar/feed.ics?token={token}").get_data(as_text=True)


# --------------------------------------------------------------------------- the pages


def _revoke_path(did, inv_id):
    return f"/dialogues/{did}/invitations/{inv_id}/revoke"


def test_officer_withdraws_from_the_invitation_list(app, world):
    did, inv = _setup(app, world)
    inv_id = inv[world.b_member.id][0]
    c = _client(app, world.officer)
    page = c.get(f"/dialogues/{did}").get_data(as_text=True)
    assert page.count('class="dlg-revoke"') == 4 and _revoke_path(did, inv_id) in page
    resp = c.post(_revoke_path(did, inv_id), data={"csrf_token": csrf(c, f"/dialogues/{did}"),
                                                   "reason": "対象外の企業でした"})
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/dialogues/{did}#invitations")
    page = c.get(f"/dialogues/{did}").get_data(as_text=True)
    assert "招待を取り消しました" in page  # the flash, in Japanese first
    assert "省が取り消し" in page and "対象外の企業でした" in page
    assert _revoke_path(did, inv_id) not in page and page.count('class="dlg-revoke"') == 3
    with app.app_context():
        assert db.session.get(Invitation, inv_id).status == "revoked"


@pytest.mark.parametrize("who", ["b_member", "a_admin", "a_member"])
def test_company_users_cannot_withdraw_any_invitation(app, world, who):
    """Another company's user, the invitee's own company administrator, the invitee: all 403."""
    did, inv = _setup(app, world)
    person = getattr(world, who)
    c = _client(app, person)
    token = csrf(c, "/portal/dialogues")
    for target in (world.a_member.id, world.b_member.id):
        resp = c.post(_revoke_path(did, inv[target][0]), data={"csrf_token": token, "reason": "x"})
        assert resp.status_code == 403
    with app.app_context():
        assert {i.status for i in db.session.execute(select(Invitation)).scalars()} == {"pending"}
    assert "Invitation revoked" not in audit_summaries(app)


def test_a_security_officer_who_may_read_dialogues_may_not_withdraw(app, world, factory):
    did, inv = _setup(app, world)
    c = _client(app, factory.person(Role.SECURITY_OFFICER))
    resp = c.post(_revoke_path(did, inv[world.b_member.id][0]), data={"csrf_token": csrf(c, "/account/")})
    assert resp.status_code == 403
    with app.app_context():
        assert db.session.get(Invitation, inv[world.b_member.id][0]).status == "pending"


def test_withdrawing_without_a_csrf_token_is_refused(app, world):
    did, inv = _setup(app, world)
    c = _client(app, world.officer)
    for data in ({"reason": "x"}, {"reason": "x", "csrf_token": "forged"}):
        resp = c.post(_revoke_path(did, inv[world.b_member.id][0]), data=data)
        assert resp.status_code == 400
        assert "フォーム" in resp.get_data(as_text=True)  # the clear message, not a bare error
    with app.app_context():
        assert db.session.get(Invitation, inv[world.b_member.id][0]).status == "pending"


def test_an_over_long_reason_gets_a_message_not_a_500(app, world):
    did, inv = _setup(app, world)
    c = _client(app, world.officer)
    resp = c.post(_revoke_path(did, inv[world.b_member.id][0]),
                  data={"csrf_token": csrf(c, f"/dialogues/{did}"), "reason": "あ" * 5000})
    assert resp.status_code == 302
    page = c.get(f"/dialogues/{did}").get_data(as_text=True)
    assert "1000" in page and "理由" in page  # "理由が長すぎます … 1000文字 …"
    with app.app_context():
        assert db.session.get(Invitation, inv[world.b_member.id][0]).status == "pending"


def test_a_second_withdrawal_through_the_page_says_so(app, world):
    did, inv = _setup(app, world)
    c = _client(app, world.officer)
    path = _revoke_path(did, inv[world.b_member.id][0])
    c.post(path, data={"csrf_token": csrf(c, f"/dialogues/{did}")})
    c.post(path, data={"csrf_token": csrf(c, f"/dialogues/{did}")})  # a stale tab, or a double click
    assert "すでに取り消されています" in c.get(f"/dialogues/{did}").get_data(as_text=True)
    assert audit_summaries(app).count("Invitation revoked") == 1


def test_invitation_ids_of_another_dialogue_or_unknown_are_404(app, world):
    did, inv = _setup(app, world)
    other = plan(app, world.officer.id, counterpart=world.chain, start=soon(days=30), title="別の対話")
    c = _client(app, world.officer)
    token = csrf(c, f"/dialogues/{did}")
    for path in (_revoke_path(other, inv[world.b_member.id][0]), _revoke_path(did, "no-such-invitation"),
                 _revoke_path("no-such-dialogue", inv[world.b_member.id][0]), _revoke_path(did, "x" * 500)):
        assert c.post(path, data={"csrf_token": token}).status_code == 404, path


def test_closed_dialogue_shows_no_withdraw_action_and_refuses_it(app, world):
    did, inv = _setup(app, world)
    with app.test_request_context():
        service.change_status(db.session, db.session.get(UserAccount, world.officer.id),
                              db.session.get(Dialogue, did), "cancelled", "延期不可のため中止", notifier(app))
        db.session.commit()
    c = _client(app, world.officer)
    page = c.get(f"/dialogues/{did}").get_data(as_text=True)
    assert 'class="dlg-revoke"' not in page
    c.post(_revoke_path(did, inv[world.b_member.id][0]), data={"csrf_token": csrf(c, f"/dialogues/{did}")})
    assert "取り消せません" in c.get(f"/dialogues/{did}").get_data(as_text=True)


def test_the_old_rsvp_link_stops_working_after_withdrawal(app, world):
    _did, inv = _setup(app, world)
    inv_id, token = inv[world.b_member.id]
    # The invitee opened the mailed link before the withdrawal and keeps the page open...
    early = app.test_client()
    early.get(f"/calendar/rsvp?token={token}")
    answer_token = csrf(early, "/calendar/rsvp")
    _revoke(app, world, inv_id)
    # ...so answering from it now fails,
    resp = early.post("/calendar/rsvp", data={"csrf_token": answer_token, "answer": "accepted"})
    assert resp.status_code == 410 and "取り消" in resp.get_data(as_text=True)
    # and following the link again says why.
    late = app.test_client()
    assert late.get(f"/calendar/rsvp?token={token}").status_code == 302
    page = late.get("/calendar/rsvp")
    assert page.status_code == 410 and "取り消" in page.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Invitation, inv_id).status == "revoked"
    assert not any("revoked →" in s for s in audit_summaries(app))


def test_the_invitee_sees_it_withdrawn_read_only_in_the_portal(app, world):
    did, inv = _setup(app, world)
    inv_id = inv[world.b_member.id][0]
    _revoke(app, world, inv_id, "別の企業宛てでした")
    b = _client(app, world.b_member)
    listing = b.get("/portal/dialogues").get_data(as_text=True)
    assert "省が取り消し" in listing
    page = b.get(f"/portal/dialogues/{inv_id}").get_data(as_text=True)
    assert "別の企業宛てでした" in page
    assert "本館17階" not in page and "meet.example.jp" not in page  # no place, no meeting link
    assert 'name="answer"' not in page and "/delegate" not in page and "/topics" not in page
    assert f"/portal/dialogues/{inv_id}/dialogue.ics" not in page
    token = csrf(b, f"/portal/dialogues/{inv_id}")
    b.post(f"/portal/dialogues/{inv_id}/reply", data={"csrf_token": token, "answer": "accepted"})
    b.post(f"/portal/dialogues/{inv_id}/topics", data={"csrf_token": token, "kind": "topic", "body": "x"})
    with app.app_context():
        assert db.session.get(Invitation, inv_id).status == "revoked"
        assert service.topics_of(db.session, did) == []
    # A stale download link gives a cancelled event, not a live one.
    # the CANCEL went out by mail; the file with venue and link is no longer served
    assert b.get(f"/portal/dialogues/{inv_id}/dialogue.ics").status_code == 404


def test_the_withdraw_form_is_labelled_and_bounded(app, world):
    did, _inv = _setup(app, world)
    c = _client(app, world.officer)
    html = c.get(f"/dialogues/{did}").get_data(as_text=True)
    ids = re.findall(r'<textarea class="input" id="(revoke-[^"]+)" name="reason" rows="2" maxlength="1000"', html)
    assert len(ids) == 4
    assert all(f'<label class="label" for="{i}">' in html for i in ids)


def test_answer_deadline_does_not_stop_a_withdrawal(app, world):
    """A mistaken invitation can be taken back after the answer deadline too (until the dialogue is held)."""
    did, inv = _setup(app, world, answer_by_local=soon() - timedelta(days=7))
    with app.app_context():
        late = db.session.get(Dialogue, did).answer_by + timedelta(days=1)
    _revoke(app, world, inv[world.b_member.id][0], now=late)
    with app.app_context():
        assert db.session.get(Invitation, inv[world.b_member.id][0]).revoked_at == late


def test_a_withdrawn_invitations_calendar_file_is_gone(app, world):
    """The .ics carries the venue and the online link: after a withdrawal (perhaps a wrong address)
    the company no longer gets it, by link or by guessing."""
    _did, inv = _setup(app, world)
    inv_id, _token = inv[world.b_member.id]
    c = app.test_client()
    sign_in(c, world.b_member)
    assert c.get(f"/portal/dialogues/{inv_id}/dialogue.ics").status_code == 200
    _revoke(app, world, inv_id, "送付先の誤りでした")
    assert c.get(f"/portal/dialogues/{inv_id}/dialogue.ics").status_code == 404
