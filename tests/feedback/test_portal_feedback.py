"""Company staff send feedback in the portal and read the ministry's answers; nobody else's."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from clearance.db import db
from clearance.outbox import MailMessage
from dialogue.feedback import service
from dialogue.feedback.models import FeedbackItem
from dialogue.portal.models import Notification
from tests.factories import audit_summaries, csrf, sign_in
from tests.feedback.world import user

GOOD = {"kind": "request", "subtopic": "leakage_guidance", "instrument": "", "text": "技術流出対策の最低限の指針がほしい。"}


def _submit(client, **overrides):
    data = {"csrf_token": csrf(client, "/portal/feedback/new"), **GOOD, **overrides}
    return client.post("/portal/feedback/new", data=data)


def _count(app) -> int:
    with app.app_context():
        return db.session.execute(select(func.count()).select_from(FeedbackItem)).scalar_one()


def test_company_member_sends_feedback_and_the_company_profile_is_filled_in(app, world):
    client = app.test_client()
    sign_in(client, world.a_member)
    resp = _submit(client)
    assert resp.status_code == 302
    with app.app_context():
        item = db.session.execute(select(FeedbackItem)).scalar_one()
        assert item.source == "company" and item.company_id == world.a
        assert item.category == "protection" and item.subtopic == "leakage_guidance"
        assert item.instrument == "technology_management"  # "let the ministry decide" → the sub-topic's default
        assert item.region == "tohoku" and item.size_class == "small"
        assert item.sectors == ["chemicals", "semiconductors"]
        assert item.text == GOOD["text"]
        assert item.text_ct and GOOD["text"].encode() not in item.text_ct  # sealed at rest
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert GOOD["text"] in page and "FB-" in page


def test_feedback_form_with_every_field_wrong_is_refused_and_stores_nothing(app, world):
    client = app.test_client()
    sign_in(client, world.a_member)
    resp = client.post("/portal/feedback/new", data={
        "csrf_token": csrf(client, "/portal/feedback/new"), "kind": "complaint", "subtopic": "<script>",
        "instrument": "nuclear", "sectors": ["semiconductors", "x", "robots", "steel", "aerospace", "chemicals"],
        "text": "x" * 4001})
    assert resp.status_code == 400
    html = resp.get_data(as_text=True)
    assert html.count('class="error"') >= 5
    assert "<script>" not in html
    assert _count(app) == 0


def test_empty_feedback_form_is_refused(app, world):
    client = app.test_client()
    sign_in(client, world.a_member)
    resp = client.post("/portal/feedback/new", data={"csrf_token": csrf(client, "/portal/feedback/new")})
    assert resp.status_code == 400
    assert _count(app) == 0


def test_feedback_without_csrf_token_is_refused(app, world):
    client = app.test_client()
    sign_in(client, world.a_member)
    assert client.post("/portal/feedback/new", data=GOOD).status_code == 400
    assert _count(app) == 0


def test_service_refuses_a_subtopic_from_another_category(app, world):
    with app.test_request_context():
        try:
            service.submit_from_portal(db.session, user(world.a_member.id), text="t", kind="request",
                                       category="promotion", subtopic="leakage_guidance", instrument="rd")
        except service.FeedbackInvalid as exc:
            assert set(exc.errors) == {"subtopic"}
        else:
            raise AssertionError("accepted a sub-topic of another category")


def test_colleague_sees_the_item_but_another_company_gets_404(app, world):
    a = app.test_client()
    sign_in(a, world.a_member)
    location = _submit(a).headers["Location"]
    colleague = app.test_client()
    sign_in(colleague, world.a_colleague)
    assert colleague.get(location).status_code == 200
    other = app.test_client()
    sign_in(other, world.b_member)
    resp = other.get(location)
    assert resp.status_code == 404
    assert GOOD["text"] not in resp.get_data(as_text=True)
    assert GOOD["text"] not in other.get("/portal/feedback").get_data(as_text=True)


def test_officer_answers_and_the_sender_is_notified_and_sees_the_answer(app, world):
    member = app.test_client()
    sign_in(member, world.a_member)
    location = _submit(member).headers["Location"]
    item_id = location.rsplit("/", 1)[1]
    officer = app.test_client()
    sign_in(officer, world.officer)
    token = csrf(officer, f"/feedback/{item_id}")
    resp = officer.post(f"/feedback/{item_id}/answer",
                        data={"csrf_token": token, "answer": "技術流出防止の指針を改訂しました。"})
    assert resp.status_code == 302
    with app.app_context():
        item = db.session.get(FeedbackItem, item_id)
        assert item.status == "answered" and item.answered_by_id == world.officer.id
        note = db.session.execute(select(Notification).where(Notification.user_id == world.a_member.id)).scalar_one()
        assert note.link == f"/portal/feedback/{item_id}"
        assert db.session.execute(select(MailMessage).where(MailMessage.to_addr == world.a_member.email)).first()
    page = member.get(location).get_data(as_text=True)
    assert "技術流出防止の指針を改訂しました。" in page
    assert "Feedback answered" in audit_summaries(app)


def test_status_moves_along_the_lifecycle_and_answered_comes_only_with_an_answer(app, world):
    with app.test_request_context():
        item = service.submit_from_portal(db.session, user(world.a_member.id), text="t", kind="opinion",
                                          category="promotion", subtopic="investment_payback", instrument="budget_tax")
        officer = user(world.officer.id)
        service.set_status(db.session, item, "under_review", actor=officer)
        service.set_status(db.session, item, "reflected", actor=officer)
        for bad in ("answered", "received", "bogus"):
            try:
                service.set_status(db.session, item, bad, actor=officer)
            except service.TransitionRefused:
                pass
            else:
                raise AssertionError(f"moved to {bad}")
        service.answer(db.session, item, "回答", actor=officer)
        db.session.commit()
        assert item.status == "answered"


def test_roles_reach_only_their_side(app, world):
    officer = app.test_client()
    sign_in(officer, world.officer)
    assert officer.get("/portal/feedback").status_code == 403
    member = app.test_client()
    sign_in(member, world.a_member)
    for path in ("/feedback", "/feedback/analysis", "/feedback/measures", "/reports"):
        assert member.get(path).status_code == 403


def test_reference_numbers_are_sequential_per_year(app, world):
    with app.test_request_context():
        refs = [service.submit_from_portal(db.session, user(world.a_member.id), text=f"t{i}", kind="request",
                                           category="promotion", subtopic="important_bases",
                                           instrument="budget_tax").ref for i in range(3)]
        db.session.commit()
    numbers = [int(re.search(r"-(\d+)$", r).group(1)) for r in refs]
    assert numbers == sorted(numbers) and len(set(numbers)) == 3
