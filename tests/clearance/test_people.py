"""Who may record clearances and certifications, the two-person rule, immediacy, expiry reminders."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import inspect, select

from clearance import people
from clearance.audit import AuditEntry
from clearance.auth.models import UserAccount
from clearance.db import db, utcnow
from clearance.outbox import MailMessage
from clearance.people import CompanyCertification, NotAllowed, PersonalClearance
from clearance.permissions import Role
from tests.clearance.helpers import DEPT, briefing, certify, compartment, grant
from tests.factories import audit_summaries, csrf, sign_in

TODAY = date(2026, 1, 15)


def _user(app, person) -> UserAccount:
    return db.session.get(UserAccount, person.id)


def _record(app, actor, subject_id, level=1, **kw):
    args = dict(level=level, agency="経済産業省", notified_on=TODAY, expires_on=TODAY + timedelta(days=3000),
                undertaking_signed=True, compartments=[], reason="Assessment result notified")
    args.update(kw)
    return people.record_clearance(db.session, _user(app, actor), subject_id, **args)


def test_only_security_officers_record_clearances(app, factory):
    officer, admin = factory.person(Role.OFFICER), factory.person(Role.ADMIN)
    target = factory.person(Role.COMPANY_MEMBER)
    with app.app_context():
        for actor in (officer, admin):
            with pytest.raises(NotAllowed, match="not_security_officer"):
                _record(app, actor, target.id)
    client = app.test_client()
    sign_in(client, officer)
    assert client.get(f"/clearance/people/{target.id}").status_code == 403
    assert client.post(f"/clearance/people/{target.id}", data={}).status_code in (400, 403)


def test_nobody_records_or_changes_their_own_clearance(app, factory):
    so = factory.person(Role.SECURITY_OFFICER)
    with app.app_context():
        with pytest.raises(NotAllowed, match="own_record"):
            _record(app, so, so.id)
    record = grant(app, so.id, 1)
    with app.app_context():
        with pytest.raises(NotAllowed, match="own_record"):
            people.change_clearance_status(db.session, _user(app, so), record, "suspended", "trying it on myself")
    client = app.test_client()
    sign_in(client, so)
    page = client.get(f"/clearance/people/{so.id}").get_data(as_text=True)
    assert 'name="agency"' not in page and "card-quiet" in page  # no form for one's own record, a note instead
    other = client.get(f"/clearance/people/{factory.person(Role.OFFICER).id}").get_data(as_text=True)
    assert 'name="agency"' in other
    token = csrf(client, "/clearance/compartments")
    resp = client.post(f"/clearance/people/{so.id}", data={"csrf_token": token, "level": "2", "agency": "x",
                                                           "notified_on": "2026-01-01", "reason": "self grant"})
    assert resp.status_code == 403
    with app.app_context():
        assert db.session.scalar(select(PersonalClearance).where(PersonalClearance.status == "pending")) is None


def test_every_change_needs_a_reason(app, factory):
    so, target = factory.person(Role.SECURITY_OFFICER), factory.person(Role.OFFICER)
    with app.app_context():
        with pytest.raises(NotAllowed, match="reason_required"):
            _record(app, so, target.id, reason="  ")
        record = _record(app, so, target.id)
        db.session.commit()
        with pytest.raises(NotAllowed, match="reason_required"):
            people.change_clearance_status(db.session, _user(app, so), record.id, "revoked", "")


def test_level_two_grant_waits_for_a_second_security_officer(app, factory):
    first, second = factory.person(Role.SECURITY_OFFICER), factory.person(Role.SECURITY_OFFICER)
    target = factory.person(Role.OFFICER)
    with app.app_context():
        record = _record(app, first, target.id, level=2)
        db.session.commit()
        assert record.status == "pending" and not record.in_force
        assert people.clearance_in_force(db.session, target.id) is None  # nothing granted yet
        with pytest.raises(NotAllowed, match="two_person"):
            people.approve_clearance(db.session, _user(app, first), record.id, "I approve my own")
        people.approve_clearance(db.session, _user(app, second), record.id, "Checked the notification")
        db.session.commit()
        rec = people.clearance_in_force(db.session, target.id)
        assert rec.id == record.id and rec.status == "valid" and rec.decided_by == second.id
        # the other security officer was told by mail that an approval waits
        assert db.session.scalar(select(MailMessage).where(MailMessage.to_addr == second.email)) is not None
    summaries = audit_summaries(app)
    assert "Level-2 clearance recorded, awaiting a second security officer" in summaries
    assert "Level-2 clearance approved" in summaries


def test_the_subject_cannot_approve_a_grant_to_themselves(app, factory):
    first, subject = factory.person(Role.SECURITY_OFFICER), factory.person(Role.SECURITY_OFFICER)
    with app.app_context():
        record = _record(app, first, subject.id, level=2)
        db.session.commit()
        with pytest.raises(NotAllowed, match="two_person"):
            people.approve_clearance(db.session, _user(app, subject), record.id, "approving my own grant")


def test_level_two_certification_needs_a_second_security_officer_too(app, factory):
    first, second = factory.person(Role.SECURITY_OFFICER), factory.person(Role.SECURITY_OFFICER)
    company = factory.company()
    with app.app_context():
        rec = people.record_certification(
            db.session, _user(app, first), company, level=2, agency="経済産業省", certified_on=TODAY,
            contract_ref="METI-2026-01", expires_on=TODAY + timedelta(days=1000), departments=[DEPT],
            reason="Contract signed")
        db.session.commit()
        assert rec.status == "pending" and people.certification_in_force(db.session, company) is None
        with pytest.raises(NotAllowed, match="two_person"):
            people.approve_certification(db.session, _user(app, first), rec.id, "self approval")
        people.approve_certification(db.session, _user(app, second), rec.id, "Contract checked")
        db.session.commit()
        assert people.certification_in_force(db.session, company).level == 2


def test_a_new_record_supersedes_the_one_in_force(app, factory):
    so, target = factory.person(Role.SECURITY_OFFICER), factory.person(Role.OFFICER)
    with app.app_context():
        first = _record(app, so, target.id, compartments=[])
        db.session.commit()
        compartment(app, "SEMI")
        second = _record(app, so, target.id, compartments=["SEMI"])
        db.session.commit()
        rows = {r.id: r for r in db.session.scalars(select(PersonalClearance))}
        assert rows[first.id].status == "superseded" and not rows[first.id].in_force
        assert rows[second.id].in_force and people.compartments_of_clearance(db.session, second.id) == ["SEMI"]


@pytest.mark.parametrize(("kw", "reason"), [
    ({"level": 3}, "not_hosted"),
    ({"level": 0}, "level"),
    ({"expires_on": TODAY}, "expiry_before_start"),
    ({"expires_on": TODAY + timedelta(days=3653 + 1)}, "expiry_too_late"),
    ({"compartments": ["NOPE"]}, "unknown_compartment"),
    ({"agency": " "}, "agency_required"),
])
def test_impossible_records_are_refused(app, factory, kw, reason):
    so, target = factory.person(Role.SECURITY_OFFICER), factory.person(Role.OFFICER)
    with app.app_context():
        with pytest.raises(NotAllowed, match=reason):
            _record(app, so, target.id, **kw)


def test_records_hold_only_the_outcome_never_questionnaire_data():
    columns = {c.key for c in inspect(PersonalClearance).columns}
    assert columns == {
        "id", "user_id", "level", "agency", "notified_on", "expires_on", "expires_at", "undertaking_signed", "status",
        "in_force", "reason_ct", "requested_by", "requested_at", "decided_by", "decided_at", "decision_reason_ct",
        "status_changed_by", "status_changed_at", "status_reason_ct",
    }, "a new column on personal_clearance: is it assessment data? Only the outcome may be stored."
    from clearance.clearance_forms import ClearanceForm

    fields = {name for name in dir(ClearanceForm) if not name.startswith("_")
              and getattr(getattr(ClearanceForm, name), "field_class", None)}
    assert fields == {"level", "agency", "notified_on", "expires_on", "undertaking_signed", "compartments", "reason"}


def test_suspension_takes_effect_on_the_very_next_request(app, factory):
    so = factory.person(Role.SECURITY_OFFICER)
    company = factory.company()
    member = factory.person(Role.COMPANY_MEMBER, company_id=company, department=DEPT)
    record = grant(app, member.id, 1)
    certify(app, company, 1)
    bid = briefing(app, title="Port congestion outlook", level=1)
    reader = app.test_client()
    sign_in(reader, member)
    assert reader.get(f"/briefings/{bid}").status_code == 200

    officer_client = app.test_client()
    sign_in(officer_client, so)
    token = csrf(officer_client, f"/clearance/people/{member.id}")
    resp = officer_client.post(f"/clearance/clearances/{record}/suspended",
                               data={"csrf_token": token, "reason": "Under investigation"})
    assert resp.status_code == 302

    resp = reader.get(f"/briefings/{bid}")  # same session, very next request
    assert resp.status_code == 404 and "Port congestion" not in resp.get_data(as_text=True)
    assert "Port congestion" not in reader.get("/briefings").get_data(as_text=True)
    with app.app_context():
        last = db.session.scalars(select(AuditEntry).where(AuditEntry.realm == "clearance")
                                  .order_by(AuditEntry.seq.desc())).first()
        assert last.summary == "Read denied" and '"clause":"clearance_suspended"' in last.data


def test_security_officer_pages_record_a_clearance_with_ten_year_default(app, factory):
    so, target = factory.person(Role.SECURITY_OFFICER), factory.person(Role.OFFICER)
    compartment(app, "SEMI", "半導体", "Semiconductors")
    client = app.test_client()
    sign_in(client, so)
    page = f"/clearance/people/{target.id}"
    resp = client.post(page, data={"csrf_token": csrf(client, page), "level": "1", "agency": "経済産業省",
                                   "notified_on": "2025-05-17", "undertaking_signed": "y", "compartments": ["SEMI"],
                                   "reason": "Result notified by letter"})
    assert resp.status_code == 302
    with app.app_context():
        rec = people.clearance_in_force(db.session, target.id)
        assert rec.expires_on == date(2035, 5, 17) and rec.level == 1 and rec.requested_by == so.id
    assert "Clearance recorded" in audit_summaries(app)


def test_specially_designated_secret_level_is_refused_on_the_form(app, factory):
    so, target = factory.person(Role.SECURITY_OFFICER), factory.person(Role.OFFICER)
    client = app.test_client()
    sign_in(client, so)
    page = f"/clearance/people/{target.id}"
    resp = client.post(page, data={"csrf_token": csrf(client, page), "level": "3", "agency": "内閣府",
                                   "notified_on": "2025-05-17", "reason": "Trying level three"})
    assert resp.status_code == 400
    assert "特定秘密" in resp.get_data(as_text=True)
    with app.app_context():
        assert people.clearance_history(db.session, target.id) == []


def test_expiring_records_are_listed_and_mailed_to_security_officers(mail_app, factory):
    app = mail_app
    factory = type(factory)(app)
    so1, so2 = factory.person(Role.SECURITY_OFFICER), factory.person(Role.SECURITY_OFFICER)
    soon, later = factory.person(Role.OFFICER, display_name="期限 近子"), factory.person(Role.OFFICER,
                                                                                         display_name="期限 遠子")
    company = factory.company(name_ja="期限間近工業株式会社")
    now = utcnow()
    grant(app, soon.id, 1, expires_at=now + timedelta(days=30))
    grant(app, later.id, 1, expires_at=now + timedelta(days=200))
    certify(app, company, 1, expires_at=now + timedelta(days=60))
    client = app.test_client()
    sign_in(client, so1)
    page = client.get("/clearance").get_data(as_text=True)
    assert "期限 近子" in page and "期限間近工業株式会社" in page and "期限 遠子" not in page

    result = app.test_cli_runner().invoke(args=["clearance-reminders"])
    assert result.exit_code == 0 and "queued 2" in result.output, result.output
    for so in (so1, so2):
        body = app.mailbox.last_to(so.email).get_content()
        assert "期限 近子" in body and "期限間近工業株式会社" in body and "期限 遠子" not in body
    assert "Expiry reminders queued" in audit_summaries(app)


def test_compartments_are_created_by_security_officers_with_valid_codes(app, factory):
    so = factory.person(Role.SECURITY_OFFICER)
    client = app.test_client()
    sign_in(client, so)
    token = csrf(client, "/clearance/compartments")
    bad = client.post("/clearance/compartments", data={"csrf_token": token, "code": "a b", "name_ja": "x",
                                                        "name_en": "x"})
    assert bad.status_code == 400
    ok = client.post("/clearance/compartments", data={"csrf_token": token, "code": "qnt", "name_ja": "量子",
                                                       "name_en": "Quantum"})
    assert ok.status_code == 302
    again = client.post("/clearance/compartments", data={"csrf_token": token, "code": "QNT", "name_ja": "量子",
                                                          "name_en": "Quantum"})
    assert again.status_code == 400
    assert re.search(r"<code>QNT</code>", client.get("/clearance/compartments").get_data(as_text=True))


def test_revoking_a_certification_cuts_off_its_staff(app, factory):
    so = factory.person(Role.SECURITY_OFFICER)
    company = factory.company()
    member = factory.person(Role.COMPANY_MEMBER, company_id=company, department=DEPT)
    grant(app, member.id, 1)
    cert = certify(app, company, 1)
    bid = briefing(app, title="Rare earth export licensing", level=1)
    reader = app.test_client()
    sign_in(reader, member)
    assert reader.get(f"/briefings/{bid}").status_code == 200
    client = app.test_client()
    sign_in(client, so)
    token = csrf(client, f"/clearance/companies/{company}")
    assert client.post(f"/clearance/certifications/{cert}/revoked",
                       data={"csrf_token": token, "reason": "Contract terminated"}).status_code == 302
    assert reader.get(f"/briefings/{bid}").status_code == 404
    with app.app_context():
        assert db.session.get(CompanyCertification, cert).status == "revoked"
