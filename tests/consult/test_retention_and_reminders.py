"""Retention with a frozen clock, and the daily reminders: batch mails with fixed wording."""

from __future__ import annotations

import io
import json

from sqlalchemy import func, select

from clearance import audit, files
from clearance.audit import AuditEntry
from clearance.auth.models import UserAccount
from clearance.db import db
from clearance.outbox import MailMessage
from dialogue.consult import service
from dialogue.consult.models import ConsultAttachment, ConsultCase, ConsultMessage
from tests.consult.conftest import Visitor, put_on_roster


def _close(app, officer_id: str) -> str:
    with app.app_context():
        case = db.session.execute(select(ConsultCase)).scalar_one()
        service.set_status(db.session, db.session.get(UserAccount, officer_id), case, "closed")
        db.session.commit()
        return case.id


def test_closed_case_is_purged_365_days_after_closing_with_files_and_keys(desk_app, desk_officer, frozen):
    code = Visitor(desk_app.test_client()).new_case("zzPURGEcanary text", files=[(io.BytesIO(b"zzPURGEfile"), "a.txt")])
    with desk_app.app_context():
        ids = [f.id for f in db.session.execute(select(files.StoredFile)).scalars()]
        assert ids and all(db.session.get(files.StoredFileBlob, i) is not None for i in ids)  # kept in the database
    case_id = _close(desk_app, desk_officer.id)
    runner = desk_app.test_cli_runner()

    frozen.advance(days=364)
    assert "0 case(s) purged" in runner.invoke(args=["consult-purge"]).output
    v = Visitor(desk_app.test_client())
    v.open(code)
    assert v.get("/consult/case").status_code == 200, "still there the day before"

    frozen.advance(days=1)
    result = runner.invoke(args=["consult-purge"])
    assert "1 case(s) purged" in result.output, result.output
    with desk_app.app_context():
        for model in (ConsultCase, ConsultMessage, ConsultAttachment, files.StoredFile, files.StoredFileBlob):
            assert db.session.scalar(select(func.count()).select_from(model)) == 0, model
        entry = db.session.execute(select(AuditEntry).where(
            AuditEntry.summary == "Consultation case purged (retention)")).scalar_one()
        assert json.loads(entry.data)["case"] == case_id and "zzPURGE" not in entry.data
        assert audit.verify(db.session) is None
    again = Visitor(desk_app.test_client())
    again.open(code)
    assert again.get("/consult/case").status_code == 303, "the receipt stops working"


def test_answered_case_left_by_its_submitter_expires_after_its_own_period(app_factory, tmp_path, factory, frozen):
    app = app_factory(TAIWA_CONSULT_MIN_FORM_SECONDS=0, TAIWA_FILES_DIR=str(tmp_path / "f"),
                      TAIWA_CONSULT_RETENTION_ANSWERED_DAYS=30)
    officer = factory.person()
    put_on_roster(app, officer.id)
    Visitor(app.test_client()).new_case()
    with app.app_context():
        case = db.session.execute(select(ConsultCase)).scalar_one()
        service.ministry_reply(db.session, db.session.get(UserAccount, officer.id), case, "Answer", [])
        db.session.commit()
    frozen.advance(days=29)
    with app.app_context():
        assert service.purge_expired(db.session, service.Retention.from_config(app.config)) == 0
    frozen.advance(days=1)
    with app.app_context():
        assert service.purge_expired(db.session, service.Retention.from_config(app.config)) == 1
        db.session.commit()


def test_open_cases_are_never_purged(desk_app, frozen):
    Visitor(desk_app.test_client()).new_case()
    frozen.advance(days=3000)
    with desk_app.app_context():
        assert service.purge_expired(db.session, service.Retention.from_config(desk_app.config)) == 0


def _mails(app) -> list[MailMessage]:
    with app.app_context():
        rows = db.session.execute(select(MailMessage).order_by(MailMessage.created_at)).scalars().all()
        return [(m.to_addr, m.subject, m.body or "") for m in rows]


def test_no_mail_at_submission_time_then_one_digest_with_fixed_wording(desk_app, desk_officer, factory, frozen):
    bystander = factory.person()
    Visitor(desk_app.test_client()).new_case("zzMAILcanary secret")
    assert _mails(desk_app) == [], "a mail at the moment of submission would date it"
    result = desk_app.test_cli_runner().invoke(args=["consult-reminders"])
    assert "1 activity mail" in result.output, result.output
    mails = _mails(desk_app)
    assert [m[0] for m in mails] == [desk_officer.email]
    assert bystander.email not in [m[0] for m in mails]
    with desk_app.app_context():
        ref = db.session.execute(select(ConsultCase.ref)).scalar_one()
    for _to, subject, body in mails:
        assert "zzMAILcanary" not in subject + body and ref not in subject + body
        assert subject == service.MAIL["activity"][0]
    desk_app.test_cli_runner().invoke(args=["consult-reminders"])
    assert len(_mails(desk_app)) == 1, "nothing new: no second mail"


def test_acknowledgement_reminder_goes_to_the_assignee_once_a_day(desk_app, desk_officer, factory, frozen):
    colleague = factory.person()
    put_on_roster(desk_app, colleague.id)
    Visitor(desk_app.test_client()).new_case()
    with desk_app.app_context():
        case = db.session.execute(select(ConsultCase)).scalar_one()
        service.assign(db.session, db.session.get(UserAccount, desk_officer.id), case, colleague.id,
                       base_url="http://x")
        db.session.commit()
    runner = desk_app.test_cli_runner()
    runner.invoke(args=["consult-reminders"])  # the activity digest of day 0
    start = len(_mails(desk_app))
    frozen.advance(days=4)
    runner.invoke(args=["consult-reminders"])
    assert len(_mails(desk_app)) == start, "not yet: due in three days"
    frozen.advance(days=1)
    runner.invoke(args=["consult-reminders"])
    runner.invoke(args=["consult-reminders"])
    mails = _mails(desk_app)[start:]
    assert [(m[0], m[1]) for m in mails] == [(colleague.email, service.MAIL["reminder"][0])], "once, to the assignee"
    frozen.advance(days=5)
    runner.invoke(args=["consult-reminders"])
    assert len(_mails(desk_app)) == start + 2, "overdue: reminded again the next day it runs"


def test_acknowledged_case_needs_no_reminder(desk_app, desk_officer, frozen):
    Visitor(desk_app.test_client()).new_case()
    with desk_app.app_context():
        case = db.session.execute(select(ConsultCase)).scalar_one()
        service.set_status(db.session, db.session.get(UserAccount, desk_officer.id), case, "acknowledged")
        db.session.commit()
    frozen.advance(days=10)
    desk_app.test_cli_runner().invoke(args=["consult-reminders"])
    assert all(m[1] != service.MAIL["reminder"][0] for m in _mails(desk_app))


def test_reminders_write_the_days_activity_to_the_audit_log(desk_app, frozen):
    Visitor(desk_app.test_client()).new_case()
    frozen.advance(days=1)
    out = desk_app.test_cli_runner().invoke(args=["consult-reminders"]).output
    assert "1 day(s) audited" in out
    with desk_app.app_context():
        assert audit.verify(db.session) is None


def test_expired_desk_sessions_are_purged_by_day(desk_app, frozen):
    from dialogue.consult.models import DeskSessionRow

    Visitor(desk_app.test_client()).get("/consult")
    with desk_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(DeskSessionRow)) == 1
    frozen.advance(days=1)
    desk_app.test_cli_runner().invoke(args=["consult-reminders"])
    with desk_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(DeskSessionRow)) == 1, "kept through the next day"
    frozen.advance(days=1)
    desk_app.test_cli_runner().invoke(args=["consult-reminders"])
    with desk_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(DeskSessionRow)) == 0
