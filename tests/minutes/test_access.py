"""Who reads which minutes and which sections: invitations, labels, cited briefings, the public summary."""

from __future__ import annotations

import subprocess

import pytest

from clearance.db import db
from clearance.permissions import Role
from dialogue.minutes import service
from dialogue.minutes.document import DocumentInvalid
from dialogue.minutes.models import Minutes
from tests.clearance.helpers import DEPT, briefing, certify, grant
from tests.factories import audit_summaries, sign_in
from tests.feedback.world import user
from tests.minutes.helpers import current_doc, save, start, to_participant_review

RESTRICTED = "懸念国による調達指示の具体的な事例（取扱注意）"
PUBLIC = "官民対話を継続することで一致した。"


def _labelled_minutes(app, world) -> str:
    """Section 0 public and marked for the summary, section 1 official-sensitive."""
    minutes_id = start(app, world)
    doc, base = current_doc(app, minutes_id)
    doc.sections[0].body, doc.sections[0].public = PUBLIC, True
    doc.sections[1].body, doc.sections[1].level = RESTRICTED, 1
    grant(app, world.officer.id, level=2)
    save(app, minutes_id, doc, base, world.officer.id)
    return minutes_id


def _pdf_text(data: bytes) -> str:
    return subprocess.run(["pdftotext", "-layout", "-", "-"], input=data, capture_output=True, check=True).stdout.decode()


def test_a_participant_of_another_dialogue_gets_404_by_url_and_the_attempt_is_audited(app, world):
    minutes_id = _labelled_minutes(app, world)
    to_participant_review(app, world, minutes_id)
    outsider = app.test_client()
    sign_in(outsider, world.b_member)
    for path in (f"/portal/minutes/{minutes_id}", f"/portal/minutes/{minutes_id}/pdf",
                 f"/portal/minutes/{minutes_id}/summary.pdf"):
        resp = outsider.get(path)
        assert resp.status_code == 404
        assert PUBLIC not in resp.get_data(as_text=True)
    assert PUBLIC not in outsider.get("/portal/minutes").get_data(as_text=True)
    assert outsider.get("/portal/minutes/not-an-id").status_code == 404
    assert audit_summaries(app).count("Read denied") >= 4
    # and a company account cannot reach the officers' pages at all
    assert outsider.get(f"/minutes/{minutes_id}").status_code == 403


def test_a_colleague_who_was_not_invited_does_not_see_the_minutes(app, world, factory):
    minutes_id = _labelled_minutes(app, world)
    to_participant_review(app, world, minutes_id)
    stranger = factory.person(Role.COMPANY_MEMBER, company_id=world.a)
    client = app.test_client()
    sign_in(client, stranger)
    assert client.get(f"/portal/minutes/{minutes_id}").status_code == 404


def test_participants_see_nothing_while_the_minutes_are_a_draft(app, world):
    minutes_id = _labelled_minutes(app, world)
    client = app.test_client()
    sign_in(client, world.a_member)
    assert client.get(f"/portal/minutes/{minutes_id}").status_code == 404


def test_an_uncleared_participant_reads_only_the_public_sections(app, world):
    minutes_id = _labelled_minutes(app, world)
    to_participant_review(app, world, minutes_id)
    client = app.test_client()
    sign_in(client, world.a_member)
    html = client.get(f"/portal/minutes/{minutes_id}").get_data(as_text=True)
    assert PUBLIC in html and RESTRICTED not in html
    assert "サプライチェーンの現状" not in html  # not even the title of the withheld section
    text = _pdf_text(client.get(f"/portal/minutes/{minutes_id}/pdf").data)
    assert PUBLIC in text and RESTRICTED not in text
    assert "Read denied" in audit_summaries(app)


def test_a_cleared_participant_of_a_certified_company_reads_the_restricted_section(app, world):
    minutes_id = _labelled_minutes(app, world)
    to_participant_review(app, world, minutes_id)
    grant(app, world.a_member.id, level=1)
    certify(app, world.a, level=1, departments=(DEPT,))
    client = app.test_client()
    sign_in(client, world.a_member)
    html = client.get(f"/portal/minutes/{minutes_id}").get_data(as_text=True)
    assert RESTRICTED in html
    assert "Read allowed" in audit_summaries(app)


def test_the_public_summary_and_its_pdf_hold_the_public_section_and_nothing_else(app, world):
    minutes_id = _labelled_minutes(app, world)
    client = app.test_client()
    sign_in(client, world.officer)
    html = client.get(f"/minutes/{minutes_id}/summary").get_data(as_text=True)
    assert PUBLIC in html and RESTRICTED not in html
    resp = client.get(f"/minutes/{minutes_id}/summary.pdf")
    assert resp.status_code == 200 and resp.mimetype == "application/pdf"
    text = _pdf_text(resp.data)
    assert PUBLIC in text and RESTRICTED not in text
    assert "取扱注意" not in text  # a public document carries the public banner only
    full = _pdf_text(client.get(f"/minutes/{minutes_id}/pdf").data)
    assert RESTRICTED in full and PUBLIC in full


def test_a_section_above_public_cannot_be_marked_for_the_summary(app, world):
    minutes_id = start(app, world)
    doc, base = current_doc(app, minutes_id)
    doc.sections[1].level, doc.sections[1].public = 1, True
    with pytest.raises(DocumentInvalid):
        save(app, minutes_id, doc, base, world.officer.id)


def test_citing_a_briefing_raises_the_section_and_the_minutes_label(app, world):
    grant(app, world.officer.id, level=2, compartments=("SEMI",))
    b = briefing(app, title="SiC供給途絶リスク", level=2, compartments=("SEMI",), handlers=[world.officer.id])
    minutes_id = start(app, world)
    doc, base = current_doc(app, minutes_id)
    doc.sections[0].body, doc.sections[0].cites = "ブリーフィングを踏まえ議論した。", [b]
    save(app, minutes_id, doc, base, world.officer.id)
    doc, base = current_doc(app, minutes_id)
    assert doc.sections[0].level == 2 and doc.sections[0].compartments == ["SEMI"]
    with app.app_context():
        label = service.label_of(db.session, db.session.get(Minutes, minutes_id))
        assert label.level == 2 and label.compartments == frozenset({"SEMI"})
    # marking it public now is refused: the cited briefing keeps it classified
    doc.sections[0].public, doc.sections[0].level, doc.sections[0].compartments = True, 0, []
    with pytest.raises(DocumentInvalid):
        save(app, minutes_id, doc, base, world.officer.id)


def test_citing_a_briefing_you_may_not_read_is_refused_without_saying_it_exists(app, world):
    b = briefing(app, title="機微情報", level=2, compartments=("AERO",), handlers=[])
    minutes_id = start(app, world)
    doc, base = current_doc(app, minutes_id)
    doc.sections[0].cites = [b]
    with pytest.raises(DocumentInvalid) as exc:
        save(app, minutes_id, doc, base, world.officer.id)
    assert "機微情報" not in str(exc.value.errors)


def test_an_officer_cannot_see_or_overwrite_a_section_above_their_clearance(app, world, factory):
    minutes_id = _labelled_minutes(app, world)
    uncleared = factory.person(Role.OFFICER)
    client = app.test_client()
    sign_in(client, uncleared)
    assert RESTRICTED not in client.get(f"/minutes/{minutes_id}").get_data(as_text=True)
    assert RESTRICTED not in client.get(f"/minutes/{minutes_id}/edit").get_data(as_text=True)
    assert RESTRICTED not in client.get(f"/api/minutes/{minutes_id}").get_data(as_text=True)
    assert RESTRICTED not in client.get(f"/minutes/{minutes_id}/compare?a=1&b=2").get_data(as_text=True)
    # a save without the hidden section (or with it rewritten) keeps it exactly as stored
    doc, base = current_doc(app, minutes_id)
    hidden_key = doc.sections[1].key
    doc.sections[1].body, doc.sections[1].level = "書き換え", 0
    with app.test_request_context():
        service.save(db.session, db.session.get(Minutes, minutes_id), base=base, document=doc,
                     actor=user(uncleared.id))
        db.session.commit()
    doc, _ = current_doc(app, minutes_id)
    kept = next(s for s in doc.sections if s.key == hidden_key)
    assert kept.body == RESTRICTED and kept.level == 1
    # nor may they label new text above what they could read
    doc.sections[0].level = 1
    with pytest.raises(DocumentInvalid):
        save(app, minutes_id, doc, base + 1, uncleared.id)


def test_feedback_captured_in_a_level_2_section_follows_the_minutes_handler_list(app, world, factory):
    from sqlalchemy import select

    from dialogue.feedback.models import FeedbackItem
    from dialogue.minutes.document import InlineFeedback

    grant(app, world.officer.id, level=2)
    minutes_id = start(app, world)
    doc, base = current_doc(app, minutes_id)
    doc.sections[1].level = 2
    doc.feedback.append(InlineFeedback(key="f1", text="特定の供給網への妨害の兆候について詳細な共有を", subtopic="threat_information",
                                       instrument="dialogue", section_key=doc.sections[1].key))
    save(app, minutes_id, doc, base, world.officer.id)
    with app.app_context():
        item = db.session.execute(select(FeedbackItem)).scalar_one()
        assert item.level == 2
        item_id = item.id
    host = app.test_client()
    sign_in(host, world.officer)  # cleared, and a host: on the minutes' handler list
    assert "妨害の兆候" in host.get(f"/feedback/{item_id}").get_data(as_text=True)
    cleared_stranger = factory.person(Role.OFFICER)
    grant(app, cleared_stranger.id, level=2)  # cleared, but not on the handler list
    other = app.test_client()
    sign_in(other, cleared_stranger)
    assert "妨害の兆候" not in other.get(f"/feedback/{item_id}").get_data(as_text=True)
    summaries = audit_summaries(app)
    assert "Read allowed" in summaries and "Read denied" in summaries
