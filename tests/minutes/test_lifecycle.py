"""draft → internal review (a second officer) → participant review (corrections until a deadline) → approved
→ locked, after which only dated addenda."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from clearance.db import db, utcnow
from dialogue.minutes import service
from dialogue.minutes.models import Minutes, MinutesAddendum
from dialogue.portal.models import Notification
from tests.factories import csrf, sign_in
from tests.feedback.world import user
from tests.minutes.helpers import current_doc, edit, save, start, status, to_locked, to_participant_review


def _m(minutes_id: str) -> Minutes:
    return db.session.get(Minutes, minutes_id)


def test_the_officer_who_sent_minutes_to_review_cannot_approve_them(app, world):
    minutes_id = start(app, world)
    client = app.test_client()
    sign_in(client, world.officer)
    token = csrf(client, f"/minutes/{minutes_id}")
    assert client.post(f"/minutes/{minutes_id}/submit", data={"csrf_token": token}).status_code == 302
    assert status(app, minutes_id) == "internal_review"
    deadline = (utcnow() + timedelta(days=10)).strftime("%Y-%m-%dT%H:%M")
    resp = client.post(f"/minutes/{minutes_id}/approve-internal", data={"csrf_token": token, "deadline": deadline})
    assert resp.status_code == 302 and status(app, minutes_id) == "internal_review"
    second = app.test_client()
    sign_in(second, world.officer2)
    token2 = csrf(second, f"/minutes/{minutes_id}")
    assert second.post(f"/minutes/{minutes_id}/approve-internal",
                       data={"csrf_token": token2, "deadline": deadline}).status_code == 302
    assert status(app, minutes_id) == "participant_review"
    with app.app_context():
        m = _m(minutes_id)
        assert m.reviewed_by_id == world.officer2.id and m.submitted_by_id == world.officer.id
        notes = db.session.execute(select(Notification).where(Notification.kind == "minutes")).scalars().all()
        assert {n.user_id for n in notes} == {world.a_member.id}  # the accepted invitee; not the declined one
        assert all("半導体" not in n.title for n in notes)  # notices carry no title or content


def test_internal_review_needs_a_future_deadline(app, world):
    minutes_id = start(app, world)
    with app.test_request_context():
        service.submit_for_review(db.session, _m(minutes_id), actor=user(world.officer.id))
        for deadline in (utcnow() - timedelta(days=1), utcnow() + timedelta(days=400)):
            with pytest.raises(service.MinutesError) as exc:
                service.approve_internal(db.session, _m(minutes_id), actor=user(world.officer2.id), deadline=deadline)
            assert exc.value.code == "deadline"


def test_minutes_are_not_editable_during_internal_review(app, world):
    minutes_id = start(app, world)
    with app.test_request_context():
        service.submit_for_review(db.session, _m(minutes_id), actor=user(world.officer.id))
        db.session.commit()
    doc, base = current_doc(app, minutes_id)
    with pytest.raises(service.MinutesError) as exc:
        save(app, minutes_id, doc, base, world.officer.id)
    assert exc.value.code == "not_editable"


def test_participant_requests_a_correction_and_approval_waits_for_an_answer(app, world):
    minutes_id = start(app, world)
    doc, _ = current_doc(app, minutes_id)
    to_participant_review(app, world, minutes_id)
    member = app.test_client()
    sign_in(member, world.a_member)
    page = member.get(f"/portal/minutes/{minutes_id}")
    assert page.status_code == 200
    token = csrf(member, f"/portal/minutes/{minutes_id}")
    assert member.post(f"/portal/minutes/{minutes_id}/corrections", data={
        "csrf_token": token, "section": doc.sections[0].key, "body": "弊社の発言は「検討中」でした。"}).status_code == 302
    with app.test_request_context(), pytest.raises(service.MinutesError) as exc:
        service.approve(db.session, _m(minutes_id), actor=user(world.officer.id))
    assert exc.value.code == "open_corrections"
    # the officer applies it (editing is allowed in participant review) and answers
    edit(app, minutes_id, world.officer.id, s0="甲材料より「検討中」との発言があった。")
    with app.test_request_context():
        c = service.corrections(db.session, _m(minutes_id))[0]
        service.resolve_correction(db.session, _m(minutes_id), c.id, actor=user(world.officer.id), accept=True,
                                   response="修正しました。")
        service.approve(db.session, _m(minutes_id), actor=user(world.officer.id))
        db.session.commit()
    assert status(app, minutes_id) == "approved"
    html = member.get(f"/portal/minutes/{minutes_id}").get_data(as_text=True)
    assert "修正しました。" in html and "「検討中」との発言" in html


def test_a_correction_after_the_deadline_is_refused(app, world):
    minutes_id = start(app, world)
    to_participant_review(app, world, minutes_id)
    with app.test_request_context():
        m = _m(minutes_id)
        with pytest.raises(service.MinutesError) as exc:
            service.request_correction(db.session, m, actor=user(world.a_member.id), body="遅れた依頼",
                                       section_key=None, now=m.correction_deadline + timedelta(minutes=1))
        assert exc.value.code == "deadline_passed"


def test_locked_minutes_refuse_edits_restores_and_api_saves_but_take_dated_addenda(app, world):
    minutes_id = start(app, world)
    edit(app, minutes_id, world.officer.id, s0="確定本文")
    to_locked(app, world, minutes_id)
    doc, base = current_doc(app, minutes_id)
    with pytest.raises(service.MinutesError):
        save(app, minutes_id, doc, base, world.officer.id)
    client = app.test_client()
    sign_in(client, world.officer)
    token = csrf(client, f"/minutes/{minutes_id}")
    assert client.get(f"/minutes/{minutes_id}/edit").status_code == 302
    api = client.post(f"/api/minutes/{minutes_id}/revisions", json={"base_revision": base, "document": doc.to_dict()},
                      headers={"X-CSRFToken": token})
    assert api.status_code == 409 and api.get_json()["code"] == "not_editable"
    restore = client.post(f"/minutes/{minutes_id}/restore/1", data={"csrf_token": token, "base_revision": str(base)})
    assert restore.status_code == 302
    assert current_doc(app, minutes_id)[1] == base
    for action in ("submit", "approve", "lock"):
        client.post(f"/minutes/{minutes_id}/{action}", data={"csrf_token": token})
        assert status(app, minutes_id) == "locked"
    resp = client.post(f"/minutes/{minutes_id}/addenda", data={
        "csrf_token": token, "body": "後日、資料を追加配布した。", "level": "0", "public": "y"})
    assert resp.status_code == 302
    with app.app_context():
        add = db.session.execute(select(MinutesAddendum)).scalar_one()
        assert add.created_at.date() == utcnow().date() and add.public
    assert "後日、資料を追加配布した。" in client.get(f"/minutes/{minutes_id}/summary").get_data(as_text=True)


def test_addenda_only_once_locked(app, world):
    minutes_id = start(app, world)
    with app.test_request_context(), pytest.raises(service.MinutesError) as exc:
        service.add_addendum(db.session, _m(minutes_id), actor=user(world.officer.id), body="x", level=0)
    assert exc.value.code == "addendum_needs_lock"


def test_returning_to_draft_needs_a_reason(app, world):
    minutes_id = start(app, world)
    with app.test_request_context():
        service.submit_for_review(db.session, _m(minutes_id), actor=user(world.officer.id))
        with pytest.raises(service.MinutesError):
            service.return_to_draft(db.session, _m(minutes_id), actor=user(world.officer2.id), note="  ")
        service.return_to_draft(db.session, _m(minutes_id), actor=user(world.officer2.id), note="出席者の訂正が必要")
        db.session.commit()
    assert status(app, minutes_id) == "draft"


def test_notifications_do_not_reach_other_companies(app, world):
    minutes_id = start(app, world)
    to_participant_review(app, world, minutes_id)
    with app.app_context():
        assert not db.session.execute(select(Notification).where(Notification.user_id == world.b_member.id)).first()


def test_an_officer_cannot_answer_a_correction_they_may_not_read(app, world):
    """A correction about the whole minutes quotes what it is about: an officer from whom a part is
    withheld neither sees it nor answers it by posting its id (the service refuses it as absent)."""
    from clearance.permissions import Role
    from tests.clearance.helpers import grant
    from tests.factories import Factory

    minutes_id = start(app, world)
    grant(app, world.officer.id, level=2)
    doc, base = current_doc(app, minutes_id)
    doc.sections[1].body, doc.sections[1].level = "取扱注意の記述", 1
    save(app, minutes_id, doc, base, world.officer.id)
    to_participant_review(app, world, minutes_id)
    with app.test_request_context():
        c = service.request_correction(db.session, _m(minutes_id), actor=user(world.a_member.id),
                                       body="全体について訂正をお願いします。", section_key=None)
        db.session.commit()
        correction_id = c.id
    uncleared = Factory(app).person(Role.OFFICER)
    with app.test_request_context(), pytest.raises(service.MinutesError) as refused:
        service.resolve_correction(db.session, _m(minutes_id), correction_id, actor=user(uncleared.id),
                                   accept=False, response="読めない訂正への回答")
    assert refused.value.code == "no_such_correction"
    with app.test_request_context():
        service.resolve_correction(db.session, _m(minutes_id), correction_id, actor=user(world.officer.id),
                                   accept=True, response="修正しました。")
        db.session.commit()
