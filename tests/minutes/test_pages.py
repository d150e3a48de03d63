"""Every page of the area renders for the roles that may see it (in both languages), and nothing else does."""

from __future__ import annotations

import pytest

from clearance.db import db
from dialogue.feedback import service as feedback_service
from dialogue.minutes.document import InlineFeedback
from tests.factories import csrf, sign_in
from tests.feedback.world import user
from tests.minutes.helpers import current_doc, save, start, to_participant_review


@pytest.fixture
def filled(app, world):
    minutes_id = start(app, world)
    doc, base = current_doc(app, minutes_id)
    doc.sections[0].body = "**脅威分析**を説明した。\n\n- 質疑1\n- 質疑2"
    doc.sections[0].public = True
    doc.feedback.append(InlineFeedback(key="f1", text="横断的な対話を増やしてほしい", subtopic="more_dialogue",
                                       instrument="dialogue", section_key=doc.sections[0].key, company_id=world.a))
    save(app, minutes_id, doc, base, world.officer.id)
    to_participant_review(app, world, minutes_id)
    with app.test_request_context():
        item = feedback_service.submit_from_portal(db.session, user(world.a_member.id), text="税制の要望", kind="request",
                                                   category="promotion", subtopic="investment_payback",
                                                   instrument="budget_tax")
        db.session.commit()
        item_id = item.id
    return minutes_id, item_id


@pytest.mark.parametrize("locale", ["ja", "en"])
def test_officer_pages_render(app, world, filled, locale):
    minutes_id, item_id = filled
    client = app.test_client()
    sign_in(client, world.officer)
    client.post("/language", data={"csrf_token": csrf(client, "/minutes"), "locale": locale, "next": "/minutes"})
    for path in ("/minutes", "/minutes?status=none", "/minutes?status=participant_review", f"/minutes/{minutes_id}",
                 f"/minutes/{minutes_id}/edit", f"/minutes/{minutes_id}/revisions",
                 f"/minutes/{minutes_id}/compare?a=1&b=2", f"/minutes/{minutes_id}/compare?a=1&b=2&full=1",
                 f"/minutes/{minutes_id}/summary", "/feedback", f"/feedback/{item_id}", "/feedback/analysis",
                 "/feedback/measures", "/reports", "/reports?kind=reactions&sector=robots", f"/api/minutes/{minutes_id}"):
        resp = client.get(path)
        assert resp.status_code == 200, (path, resp.status_code)
        assert resp.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("locale", ["ja", "en"])
def test_company_pages_render(app, world, filled, locale):
    minutes_id, item_id = filled
    client = app.test_client()
    sign_in(client, world.a_member)
    client.post("/language", data={"csrf_token": csrf(client, "/portal/minutes"), "locale": locale,
                                   "next": "/portal/minutes"})
    for path in ("/portal/minutes", f"/portal/minutes/{minutes_id}", "/portal/feedback", "/portal/feedback/new",
                 f"/portal/feedback/{item_id}"):
        resp = client.get(path)
        assert resp.status_code == 200, (path, resp.status_code)
    html = client.get(f"/portal/minutes/{minutes_id}").get_data(as_text=True)
    assert "<strong>脅威分析</strong>" in html
    assert "横断的な対話を増やしてほしい" not in html  # captured feedback is the ministry's working note


def test_security_officer_and_admin_reach_none_of_it(app, world, filled, factory):
    from clearance.permissions import Role

    minutes_id, item_id = filled
    for role in (Role.SECURITY_OFFICER, Role.ADMIN):
        client = app.test_client()
        sign_in(client, factory.person(role))
        for path in ("/minutes", f"/minutes/{minutes_id}", "/feedback", f"/feedback/{item_id}", "/reports",
                     "/portal/minutes", "/portal/feedback"):
            assert client.get(path).status_code == 403, (role, path)
