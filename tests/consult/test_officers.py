"""The ministry's side: only officers on the desk roster see anything; what they do is audited."""

from __future__ import annotations

import io
import json
import re

import pytest
from sqlalchemy import select

from clearance.audit import AuditEntry
from clearance.db import db
from clearance.outbox import MailMessage
from clearance.permissions import Role
from dialogue.consult.models import ConsultCase, FeedbackCandidate
from tests.consult.conftest import Visitor, put_on_roster, said
from tests.factories import csrf, sign_in


@pytest.fixture
def case_id(desk_app):
    Visitor(desk_app.test_client()).new_case("We were told to move the plant to a country of concern.",
                                             files=[(io.BytesIO(b"the letter"), "letter.txt")])
    with desk_app.app_context():
        return db.session.execute(select(ConsultCase.id)).scalar_one()


def _signed_in(app, person):
    client = app.test_client()
    assert sign_in(client, person).status_code == 302
    return client


@pytest.mark.parametrize("role", [Role.COMPANY_MEMBER, Role.COMPANY_ADMIN, Role.SECURITY_OFFICER, Role.ADMIN])
def test_other_roles_are_refused_the_inbox_and_the_case(desk_app, factory, case_id, role):
    client = _signed_in(desk_app, factory.person(role))
    assert client.get("/officer/consult").status_code == 403
    assert client.get(f"/officer/consult/{case_id}").status_code == 403


def test_officer_not_on_the_roster_sees_nothing(desk_app, factory, case_id):
    client = _signed_in(desk_app, factory.person(Role.OFFICER))
    page = client.get("/officer/consult").get_data(as_text=True)
    assert said(page, "You are not on the roster of the anonymous consultation desk, so no consultations are "
                      "shown. An administrator can add you.")
    assert case_id not in page
    assert client.get(f"/officer/consult/{case_id}").status_code == 404
    assert client.get(f"/officer/consult/{case_id}/feedback").status_code == 404
    token = csrf(client, "/officer/consult")
    assert client.post(f"/officer/consult/{case_id}/reply", data={"csrf_token": token, "text": "x"}).status_code == 404


def test_anonymous_visitor_is_sent_to_sign_in(desk_app, case_id):
    resp = desk_app.test_client().get(f"/officer/consult/{case_id}")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]


def test_roster_officer_reads_replies_and_the_submitter_sees_it(desk_app, desk_officer, case_id):
    client = _signed_in(desk_app, desk_officer)
    inbox = client.get("/officer/consult").get_data(as_text=True)
    assert case_id in inbox
    page = client.get(f"/officer/consult/{case_id}").get_data(as_text=True)
    assert "move the plant" in page and "file-1.txt" in page
    link = re.search(r'href="(/officer/consult/[^"]+/files/[^"]+)"', page).group(1)
    assert client.get(link).data == b"the letter"
    token = csrf(client, f"/officer/consult/{case_id}")
    resp = client.post(f"/officer/consult/{case_id}/reply", data={
        "csrf_token": token, "text": "We can help. Please do not sign anything yet.",
        "files": [(io.BytesIO(b"%PDF-1.4\n%%EOF"), "x.txt")],
    }, content_type="multipart/form-data")
    assert resp.status_code == 302
    with desk_app.app_context():
        case = db.session.get(ConsultCase, case_id)
        assert case.status == "answered" and case.acknowledged_on is not None and not case.awaiting_ministry
        summaries = [e.summary for e in db.session.execute(select(AuditEntry)).scalars()]
    assert "Consultation case read" in summaries and "Consultation answered" in summaries


def test_assignment_goes_to_roster_officers_only_and_mails_fixed_wording(desk_app, factory, desk_officer, case_id):
    colleague = factory.person(Role.OFFICER)
    outsider = factory.person(Role.OFFICER)
    put_on_roster(desk_app, colleague.id)
    client = _signed_in(desk_app, desk_officer)
    token = csrf(client, f"/officer/consult/{case_id}")
    client.post(f"/officer/consult/{case_id}/assign", data={"csrf_token": token, "assignee": outsider.id})
    with desk_app.app_context():
        assert db.session.get(ConsultCase, case_id).assignee_id is None
    client.post(f"/officer/consult/{case_id}/assign", data={"csrf_token": token, "assignee": colleague.id})
    with desk_app.app_context():
        case = db.session.get(ConsultCase, case_id)
        assert case.assignee_id == colleague.id
        mails = db.session.execute(select(MailMessage).where(MailMessage.to_addr == colleague.email)).scalars().all()
        assert len(mails) == 1
        text = mails[0].subject + (mails[0].body or "")
        assert case.ref not in text and case_id not in text and "plant" not in text


def test_status_moves_only_along_the_workflow(desk_app, desk_officer, case_id):
    client = _signed_in(desk_app, desk_officer)
    token = csrf(client, f"/officer/consult/{case_id}")

    def move(status):
        client.post(f"/officer/consult/{case_id}/status", data={"csrf_token": token, "status": status})
        with desk_app.app_context():
            return db.session.get(ConsultCase, case_id).status

    assert move("answered") == "new", "new cannot jump to answered"
    assert move("acknowledged") == "acknowledged"
    assert move("in_progress") == "in_progress"
    assert move("closed") == "closed"
    with desk_app.app_context():
        assert db.session.get(ConsultCase, case_id).closed_on is not None
    assert move("in_progress") == "in_progress", "a closed case can be reopened"
    with desk_app.app_context():
        assert db.session.get(ConsultCase, case_id).closed_on is None


def test_labels_come_from_the_fixed_list(desk_app, desk_officer, case_id):
    client = _signed_in(desk_app, desk_officer)
    token = csrf(client, f"/officer/consult/{case_id}")
    client.post(f"/officer/consult/{case_id}/labels",
                data={"csrf_token": token, "labels": ["urgent", "export_control", "Company X JV"]})
    with desk_app.app_context():
        assert db.session.get(ConsultCase, case_id).label_codes == ["export_control", "urgent"]
    assert case_id in client.get("/officer/consult?label=urgent").get_data(as_text=True)
    assert case_id not in client.get("/officer/consult?label=legal").get_data(as_text=True)


def test_inbox_filters_by_topic_status_and_assignee(desk_app, desk_officer, case_id):
    client = _signed_in(desk_app, desk_officer)
    assert case_id in client.get("/officer/consult?category=technology_transfer").get_data(as_text=True)
    assert case_id not in client.get("/officer/consult?category=acquisition").get_data(as_text=True)
    assert case_id in client.get("/officer/consult?who=unassigned").get_data(as_text=True)
    assert case_id not in client.get("/officer/consult?who=me").get_data(as_text=True)
    assert case_id not in client.get("/officer/consult?status=closed").get_data(as_text=True)


def test_feedback_candidate_has_no_link_back_to_the_case(desk_app, desk_officer, case_id):
    client = _signed_in(desk_app, desk_officer)
    prep = client.get(f"/officer/consult/{case_id}/feedback?m=0").get_data(as_text=True)
    assert "move the plant" in prep, "the chosen message is the starting point"
    token = csrf(client, f"/officer/consult/{case_id}/feedback")
    refused = client.post(f"/officer/consult/{case_id}/feedback", data={"csrf_token": token, "text": "x"})
    assert refused.status_code == 400, "the officer must confirm the text is anonymised"
    resp = client.post(f"/officer/consult/{case_id}/feedback", data={
        "csrf_token": token, "text": "A supplier was pressed to relocate production.", "anonymised": "y",
    })
    assert resp.status_code == 302
    with desk_app.app_context():
        item = db.session.execute(select(FeedbackCandidate)).scalar_one()
        case = db.session.get(ConsultCase, case_id)
        row = {c.name: getattr(item, c.name) for c in FeedbackCandidate.__table__.columns}
        assert case_id not in json.dumps(row, default=str) and case.ref not in json.dumps(row, default=str)
        assert item.month.day == 1 and item.sector is None
        assert item.text == "A supplier was pressed to relocate production."
        entry = db.session.execute(select(AuditEntry).order_by(AuditEntry.seq.desc())).scalars().first()
        assert item.id not in entry.data, "the audit entry names the case, never the candidate"


def test_admin_manages_the_roster(desk_app, factory):
    admin = factory.person(Role.ADMIN)
    officer = factory.person(Role.OFFICER)
    member = factory.person(Role.COMPANY_MEMBER)
    client = _signed_in(desk_app, admin)
    page = client.get("/officer/consult/roster").get_data(as_text=True)
    assert officer.email in page and member.email not in page, "only officers can be put on the roster"
    absent = "You are not on the roster of the anonymous consultation desk, so no consultations are shown. " \
             "An administrator can add you."
    token = csrf(client, "/officer/consult/roster")
    client.post("/officer/consult/roster", data={"csrf_token": token, "action": "add", "user_id": member.id})
    client.post("/officer/consult/roster", data={"csrf_token": token, "action": "add", "user_id": officer.id})
    officer_client = _signed_in(desk_app, officer)
    assert not said(officer_client.get("/officer/consult").get_data(as_text=True), absent)
    client.post("/officer/consult/roster", data={"csrf_token": token, "action": "remove", "user_id": officer.id})
    assert said(officer_client.get("/officer/consult").get_data(as_text=True), absent)
    with desk_app.app_context():
        summaries = [e.summary for e in db.session.execute(select(AuditEntry)).scalars()]
    assert "Officer added to the consultation desk" in summaries
    assert "Officer removed from the consultation desk" in summaries


def test_officers_cannot_manage_the_roster(desk_app, desk_officer):
    assert _signed_in(desk_app, desk_officer).get("/officer/consult/roster").status_code == 403


def test_officer_forms_need_the_csrf_token(desk_app, desk_officer, case_id):
    client = _signed_in(desk_app, desk_officer)
    assert client.post(f"/officer/consult/{case_id}/status", data={"status": "acknowledged"}).status_code == 400
    with desk_app.app_context():
        assert db.session.get(ConsultCase, case_id).status == "new"
