"""Invitations: preview from filters, clearance above public, replies, deadline, seats, waiting list, delegation."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from clearance.auth.models import UserAccount
from clearance.db import db, utcnow
from clearance.outbox import MailMessage
from dialogue.meetings import service
from dialogue.meetings.models import Dialogue, Invitation
from dialogue.portal.models import Notification
from tests.factories import audit_summaries
from tests.meetings.conftest import soon
from tests.meetings.helpers import invite, notifier, plan


def _preview(app, did, f):
    with app.test_request_context():  # the policy's reasons are translated
        return service.preview(db.session, db.session.get(Dialogue, did), f)


def test_preview_of_a_supply_chain_tier_lists_exactly_its_companies_and_accounts(app, world):
    did = plan(app, world.officer.id, counterpart=world.chain, start=soon())
    p = _preview(app, did, service.InviteFilter(group_id=world.chain, tiers=[1]))
    assert {c.company_id for c in p.candidates} == {world.a, world.c}  # B sits on tier 3
    assert {c.user_id for c in p.invitees} == {world.a_member.id, world.a_colleague.id, world.a_admin.id}
    assert [c.excluded for c in p.candidates if c.company_id == world.c] == ["no_account"]


def test_filters_combine(app, world):
    did = plan(app, world.officer.id, counterpart=world.chain, start=soon())
    kyushu = _preview(app, did, service.InviteFilter(association_id=world.association, regions=["kyushu"]))
    assert {c.company_id for c in kyushu.candidates} == {world.b}
    small = _preview(app, did, service.InviteFilter(group_id=world.chain, sizes=["small", "mid"],
                                                    sectors=["semiconductors"]))
    assert {c.company_id for c in small.candidates} == {world.a}
    assert _preview(app, did, service.InviteFilter()).candidates == []  # nobody, never everybody


def test_sending_invites_exactly_the_preview_mails_and_notifies(app, world):
    did = plan(app, world.officer.id, counterpart=world.chain, start=soon())
    ids = invite(app, world.officer.id, did, service.InviteFilter(group_id=world.chain, tiers=[3]))
    with app.app_context():
        assert db.session.get(Dialogue, did).status == "invited"
        invs = db.session.execute(select(Invitation).where(Invitation.id.in_(ids))).scalars().all()
        assert [(i.user_id, i.status) for i in invs] == [(world.b_member.id, "pending")]
        mail = db.session.execute(select(MailMessage).where(MailMessage.to_addr == world.b_member.email)).scalar_one()
        assert "text/calendar; method=REQUEST" == mail.attachment_type
        assert db.session.execute(select(Notification).where(Notification.user_id == world.b_member.id)).scalar_one()
    assert "Invitations sent" in audit_summaries(app)
    # Asking again finds them already invited.
    again = _preview(app, did, service.InviteFilter(group_id=world.chain, tiers=[3]))
    assert [c.excluded for c in again.candidates] == ["already_invited"]


def test_a_preview_that_changed_before_sending_is_refused(app, world, factory):
    did = plan(app, world.officer.id, counterpart=world.chain, start=soon())
    f = service.InviteFilter(group_id=world.chain, tiers=[3])
    seen = _preview(app, did, f).fingerprint
    factory.person(factory_role_member(), company_id=world.b)  # a new account appears meanwhile
    with app.test_request_context(), pytest.raises(service.Refused) as exc:
        service.send_invitations(db.session, db.session.get(UserAccount, world.officer.id),
                                 db.session.get(Dialogue, did), f, seen)
    assert exc.value.code == "preview_changed"


def factory_role_member():
    from clearance.permissions import Role

    return Role.COMPANY_MEMBER


def test_above_public_only_people_cleared_for_the_level_are_invited(app, world):
    did = plan(app, world.officer.id, counterpart=world.chain, start=soon(), level=1)
    p = _preview(app, did, service.InviteFilter(group_id=world.chain))
    assert p.invitees == []  # nobody in the test register holds a clearance
    excluded = [c for c in p.candidates if c.user_id]
    assert excluded and {c.excluded for c in excluded} == {"clearance"}
    assert all(c.excluded_detail for c in excluded)  # the policy's reason, shown in the preview


def test_clearance_policy_decides_who_is_excluded(app, world, monkeypatch):
    from clearance import policy

    def eligibility(session, label, user_ids, now, **kw):
        assert int(label.level) == 2
        return {u: policy.Decision(u != world.b_member.id, "granted" if u != world.b_member.id else "no_clearance")
                for u in user_ids}

    monkeypatch.setattr(policy, "eligibility", eligibility)
    did = plan(app, world.officer.id, counterpart=world.chain, start=soon(), level=2)
    p = _preview(app, did, service.InviteFilter(group_id=world.chain))
    assert world.b_member.id not in {c.user_id for c in p.invitees}
    assert world.a_member.id in {c.user_id for c in p.invitees}
    with app.test_request_context():  # the explanation is in the request's language, as in the preview
        expected = policy.explain("no_clearance")
    assert [(c.excluded, c.excluded_detail) for c in p.candidates if c.user_id == world.b_member.id] == [
        ("clearance", expected)]


def _reply(app, who, inv_id, answer, **kw):
    with app.test_request_context():
        actor = db.session.get(UserAccount, who.id)
        inv = db.session.get(Invitation, inv_id)
        status = service.reply(db.session, actor, inv, answer, notifier(app), **kw)
        db.session.commit()
        return status


def _invite_a(app, world, **kw):
    did = plan(app, world.officer.id, counterpart=world.chain, start=soon(), **kw)
    ids = invite(app, world.officer.id, did, service.InviteFilter(company_id=world.a))
    with app.app_context():
        by_user = {db.session.get(Invitation, i).user_id: i for i in ids}
    return did, by_user


def test_a_reply_after_the_deadline_is_refused(app, world):
    did, inv = _invite_a(app, world, answer_by_local=soon() - timedelta(days=3))
    late = utcnow() + timedelta(days=12)
    with pytest.raises(service.Refused) as exc:
        _reply(app, world.a_member, inv[world.a_member.id], "accepted", now=late)
    assert exc.value.code == "deadline_passed"
    assert _reply(app, world.a_member, inv[world.a_member.id], "accepted") == "accepted"
    assert _reply(app, world.a_member, inv[world.a_member.id], "withdrawn", now=late) == "withdrawn"


def test_beyond_the_seat_limit_replies_wait_and_a_decline_promotes_the_first_in_line(app, world):
    did, inv = _invite_a(app, world, seat_limit=1)
    assert _reply(app, world.a_member, inv[world.a_member.id], "accepted") == "accepted"
    assert _reply(app, world.a_colleague, inv[world.a_colleague.id], "accepted") == "waitlisted"
    assert _reply(app, world.a_admin, inv[world.a_admin.id], "accepted") == "waitlisted"
    _reply(app, world.a_member, inv[world.a_member.id], "declined")
    with app.app_context():
        status = {i.user_id: i.status for i in db.session.execute(select(Invitation)).scalars()}
        assert status[world.a_colleague.id] == "accepted"  # waited longest
        assert status[world.a_admin.id] == "waitlisted"
        assert service.accepted_count(db.session, did) == 1
        promoted = db.session.execute(select(Notification).where(Notification.user_id == world.a_colleague.id,
                                                                 Notification.kind == "promoted")).scalar_one()
        assert promoted.link.startswith("/portal/dialogues/")


def test_only_the_invitee_or_their_company_admin_may_answer(app, world):
    _did, inv = _invite_a(app, world)
    with pytest.raises(service.Refused) as exc:
        _reply(app, world.a_colleague, inv[world.a_member.id], "accepted")
    assert exc.value.code == "not_yours"
    assert _reply(app, world.a_admin, inv[world.a_member.id], "declined") == "declined"


def _delegate(app, who, inv_id, colleague_id):
    with app.test_request_context():
        actor = db.session.get(UserAccount, who.id)
        issued = service.delegate(db.session, actor, db.session.get(Invitation, inv_id), colleague_id)
        notifier(app).invited(issued, delegated=True)
        db.session.commit()
        return issued.invitation.id


def test_delegation_outside_the_company_is_refused(app, world, factory):
    did = plan(app, world.officer.id, counterpart=world.chain, start=soon())
    ids = invite(app, world.officer.id, did, service.InviteFilter(company_id=world.a, sizes=["small"]))
    with app.app_context():
        mine = next(i for i in ids if db.session.get(Invitation, i).user_id == world.a_member.id)
    outsider = factory.person(factory_role_member(), company_id=world.b)
    for target in (outsider.id, world.officer.id, "no-such-id", world.a_member.id):
        with pytest.raises(service.Refused) as exc:
            _delegate(app, world.a_member, mine, target)
        assert exc.value.code in ("colleague", "colleague_invited")


def test_delegating_an_accepted_place_hands_the_seat_to_the_colleague(app, world, factory):
    _did, inv = _invite_a(app, world, seat_limit=1)
    newcomer = factory.person(factory_role_member(), company_id=world.a)  # joined after the invitations
    _reply(app, world.a_member, inv[world.a_member.id], "accepted")
    new_id = _delegate(app, world.a_member, inv[world.a_member.id], newcomer.id)
    with app.app_context():
        assert db.session.get(Invitation, inv[world.a_member.id]).status == "delegated"
        assert db.session.get(Invitation, new_id).status == "accepted"
        assert db.session.get(Invitation, inv[world.a_member.id]).delegated_to_id == new_id
    assert "Invitation delegated" in audit_summaries(app)


def test_advance_topics_come_only_from_the_invited_company(app, world):
    _did, inv = _invite_a(app, world)
    with app.test_request_context():
        a = db.session.get(UserAccount, world.a_colleague.id)
        b = db.session.get(UserAccount, world.b_member.id)
        invitation = db.session.get(Invitation, inv[world.a_member.id])
        service.add_topic(db.session, a, invitation, "question", "価格転嫁の指針は?")
        with pytest.raises(service.Refused):
            service.add_topic(db.session, b, invitation, "topic", "割り込み")
        db.session.commit()
        assert [t.body for t, *_ in service.topics_of(db.session, invitation.dialogue_id)] == ["価格転嫁の指針は?"]


def test_cancelling_tells_every_invitee_the_reason(app, world):
    did, _inv = _invite_a(app, world)
    with app.test_request_context():
        d = db.session.get(Dialogue, did)
        service.change_status(db.session, db.session.get(UserAccount, world.officer.id), d, "cancelled",
                              "会場の都合により中止します", notifier(app))
        db.session.flush()  # read the queued mail before commit: delivery blanks the bodies
        mails = db.session.execute(select(MailMessage).where(MailMessage.subject.like("%Cancelled%")
                                                             | MailMessage.subject.like("%中止%"))).scalars().all()
        assert len(mails) == 3
        assert all("会場の都合により中止します" in m.body for m in mails)
        assert all(m.attachment_type == "text/calendar; method=CANCEL" for m in mails)
        kinds = db.session.execute(select(Notification.kind).where(Notification.kind == "cancelled")).scalars().all()
        assert len(kinds) == 3


def test_marking_held_records_which_companies_were_reached(app, world):
    from dialogue.meetings.models import CompanyReach

    did, inv = _invite_a(app, world)
    _reply(app, world.a_member, inv[world.a_member.id], "accepted")
    with app.test_request_context():
        d = db.session.get(Dialogue, did)
        service.change_status(db.session, db.session.get(UserAccount, world.officer.id), d, "held", "",
                              notifier(app), now=d.starts_at + timedelta(minutes=5))
        db.session.commit()
        reach = db.session.get(CompanyReach, world.a)
        assert reach is not None and reach.last_at == d.starts_at and reach.dialogues == 1


def test_delegating_a_classified_invitation_to_an_uncleared_colleague_is_refused(app, world, factory, monkeypatch):
    from clearance import policy

    newcomer = factory.person(factory_role_member(), company_id=world.a)  # not cleared

    def eligibility(session, label, user_ids, now, **kw):
        return {u: policy.Decision(u == world.a_member.id, "granted" if u == world.a_member.id else "no_clearance")
                for u in user_ids}

    monkeypatch.setattr(policy, "eligibility", eligibility)
    did = plan(app, world.officer.id, counterpart=world.chain, start=soon(), level=2)
    ids = invite(app, world.officer.id, did, service.InviteFilter(company_id=world.a))
    with app.test_request_context():
        invitations = [db.session.get(Invitation, i) for i in ids]
        assert [i.user_id for i in invitations] == [world.a_member.id]  # only the cleared member was asked
        assert newcomer.id not in {c.id for c in service.colleagues(db.session, invitations[0])}
    with pytest.raises(service.Refused) as exc:
        _delegate(app, world.a_member, ids[0], newcomer.id)
    assert exc.value.code == "colleague"
