"""Every save is a revision; stale saves are refused with both versions; restore; compare; the JSON API."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from clearance.db import db
from dialogue.feedback.models import FeedbackItem
from dialogue.minutes import service
from dialogue.minutes.models import Minutes, MinutesRevision
from tests.factories import audit_summaries, csrf, sign_in
from tests.minutes.helpers import current_doc, edit, save, start


def test_minutes_start_from_the_replies_and_the_agenda(app, world):
    minutes_id = start(app, world)
    doc, number = current_doc(app, minutes_id)
    assert number == 1
    names = {a.name: a for a in doc.attendees}
    assert names["議事 一郎"].side == "ministry"
    member = next(a for a in doc.attendees if a.user_id == world.a_member.id)
    assert member.attended and member.organisation == "甲材料株式会社"
    assert not any(a.user_id == world.a_colleague.id for a in doc.attendees)  # declined: not listed
    assert [s.title for s in doc.sections][:2] == ["脅威・リスク情報の共有", "サプライチェーンの現状"]
    assert [s.kind for s in doc.sections] == ["agenda", "agenda", "decisions"]
    assert [s.agenda_item_id is not None for s in doc.sections] == [True, True, False]


def test_minutes_need_a_held_dialogue_and_only_one_per_dialogue(app, world):
    start(app, world)
    with app.test_request_context(), pytest.raises(service.MinutesError) as exc:
        from dialogue.meetings.models import Dialogue
        from tests.feedback.world import user

        service.create(db.session, db.session.get(Dialogue, world.dialogue), actor=user(world.officer.id))
    assert exc.value.code == "exists"


def test_every_save_is_a_sealed_revision_with_author_and_time(app, world):
    minutes_id = start(app, world)
    assert edit(app, minutes_id, world.officer.id, s0="冒頭、経済産業省から脅威分析を説明した。") == 2
    assert edit(app, minutes_id, world.officer2.id, s0="冒頭、経済産業省から脅威分析を説明した。質疑あり。") == 3
    with app.app_context():
        revs = db.session.execute(select(MinutesRevision).where(MinutesRevision.minutes_id == minutes_id)
                                  .order_by(MinutesRevision.number)).scalars().all()
        assert [r.number for r in revs] == [1, 2, 3]
        assert revs[2].author_id == world.officer2.id and revs[2].author_name == "確認 二郎"
        assert "脅威分析".encode() not in revs[2].content_ct
    assert audit_summaries(app).count("Minutes saved") == 2


def test_a_save_based_on_a_stale_revision_is_refused_with_both_versions(app, world):
    minutes_id = start(app, world)
    doc_a, base = current_doc(app, minutes_id)
    doc_b, _ = current_doc(app, minutes_id)
    doc_a.sections[0].body = "一郎の版"
    doc_b.sections[0].body = "二郎の版"
    assert save(app, minutes_id, doc_a, base, world.officer.id) == 2
    with pytest.raises(service.StaleRevision) as exc:
        save(app, minutes_id, doc_b, base, world.officer2.id)
    assert exc.value.current == 2 and exc.value.base == 1
    assert not hasattr(exc.value, "current_doc")  # the current revision is shown only through the reader's gate
    assert exc.value.yours.sections[0].body == "二郎の版"
    _doc, number = current_doc(app, minutes_id)
    assert number == 2  # nothing stored for the stale save


def test_the_optimistic_lock_holds_even_if_the_row_was_read_before_the_other_save(app, world):
    """Two workers load the same minutes row, both at revision 1; the conditional UPDATE lets one through."""
    from tests.feedback.world import user

    minutes_id = start(app, world)
    doc, _ = current_doc(app, minutes_id)
    with app.test_request_context():
        stale = db.session.get(Minutes, minutes_id)
        db.session.expunge(stale)  # this worker's copy still says revision 1
    save(app, minutes_id, doc, 1, world.officer.id)
    with app.test_request_context():
        db.session.add(stale)
        stale.current_revision = 1  # pretend the other save never reached this worker's memory
        with pytest.raises(service.StaleRevision):
            service.save(db.session, stale, base=1, document=doc, actor=user(world.officer2.id))


def test_stale_save_in_the_editor_answers_409_with_a_comparison_and_keeps_your_text(app, world):
    minutes_id = start(app, world)
    doc, _ = current_doc(app, minutes_id)
    doc.sections[0].body = "先に保存された本文"
    save(app, minutes_id, doc, 1, world.officer2.id)
    client = app.test_client()
    sign_in(client, world.officer)
    resp = client.post(f"/minutes/{minutes_id}/edit", data={
        "csrf_token": csrf(client, f"/minutes/{minutes_id}"), "base_revision": "1",
        "section-0-key": doc.sections[0].key, "section-0-title": doc.sections[0].title,
        "section-0-body": "後から保存しようとした本文", "section-0-level": "0"})
    assert resp.status_code == 409
    html = resp.get_data(as_text=True)
    assert "<del>先に</del>保存<del>され</del>た本文" in html  # the current text, in the comparison
    assert ">後から保存しようとした本文</textarea>" in html  # yours, still in the form
    assert 'name="base_revision" type="hidden" value="2"' in html


def test_json_api_saves_and_answers_409_for_a_stale_base(app, world):
    minutes_id = start(app, world)
    client = app.test_client()
    sign_in(client, world.officer)
    token = csrf(client, f"/minutes/{minutes_id}")
    got = client.get(f"/api/minutes/{minutes_id}").get_json()
    doc = got["document"]
    doc["sections"][0]["body"] = "APIからの本文"
    headers = {"X-CSRFToken": token}
    first = client.post(f"/api/minutes/{minutes_id}/revisions", json={"base_revision": 1, "document": doc},
                        headers=headers)
    assert first.status_code == 201 and first.get_json()["revision"] == 2
    doc["sections"][0]["body"] = "古い版に基づく本文"
    second = client.post(f"/api/minutes/{minutes_id}/revisions", json={"base_revision": 1, "document": doc},
                         headers=headers)
    assert second.status_code == 409
    body = second.get_json()
    assert body["current_revision"] == 2 and body["base_revision"] == 1
    assert body["current"]["sections"][0]["body"] == "APIからの本文"
    assert body["yours"]["sections"][0]["body"] == "古い版に基づく本文"


@pytest.mark.parametrize("payload", [
    None, [], {"base_revision": "1"}, {"base_revision": True, "document": {}},
    {"base_revision": 1, "document": "x"}, {"base_revision": 1, "document": {"sections": "x"}},
    {"base_revision": 1, "document": {"sections": [{"key": "BAD KEY", "title": "t"}]}},
    {"base_revision": 1, "document": {"sections": [{"key": "s1", "title": "t", "level": 3}]}},
    {"base_revision": 1, "document": {"sections": [{"key": "s1", "title": "t", "level": 1, "public": True}]}},
    {"base_revision": 1, "document": {"feedback": [{"key": "f1", "text": "x", "subtopic": "nope", "instrument": "rd"}]}},
])
def test_json_api_refuses_malformed_documents_without_a_500(app, world, payload):
    minutes_id = start(app, world)
    client = app.test_client()
    sign_in(client, world.officer)
    token = csrf(client, f"/minutes/{minutes_id}")
    resp = client.post(f"/api/minutes/{minutes_id}/revisions", data=json.dumps(payload),
                       content_type="application/json", headers={"X-CSRFToken": token})
    assert resp.status_code == 400, resp.get_data(as_text=True)
    assert current_doc(app, minutes_id)[1] == 1


def test_json_api_without_csrf_token_is_refused(app, world):
    minutes_id = start(app, world)
    client = app.test_client()
    sign_in(client, world.officer)
    resp = client.post(f"/api/minutes/{minutes_id}/revisions", json={"base_revision": 1, "document": {}})
    assert resp.status_code == 400
    assert current_doc(app, minutes_id)[1] == 1


def test_restoring_an_old_revision_saves_it_again_as_the_newest(app, world):
    minutes_id = start(app, world)
    edit(app, minutes_id, world.officer.id, s0="第一稿")
    edit(app, minutes_id, world.officer.id, s0="第二稿（誤り）")
    client = app.test_client()
    sign_in(client, world.officer)
    resp = client.post(f"/minutes/{minutes_id}/restore/2", data={
        "csrf_token": csrf(client, f"/minutes/{minutes_id}/revisions"), "base_revision": "3"})
    assert resp.status_code == 302
    doc, number = current_doc(app, minutes_id)
    assert number == 4 and doc.sections[0].body == "第一稿"
    with app.app_context():
        rev = db.session.execute(select(MinutesRevision).where(MinutesRevision.minutes_id == minutes_id,
                                                               MinutesRevision.number == 4)).scalar_one()
        assert rev.restored_from == 2
    # restoring from a stale page is a conflict, not a silent overwrite
    stale = client.post(f"/minutes/{minutes_id}/restore/3", data={
        "csrf_token": csrf(client, f"/minutes/{minutes_id}/revisions"), "base_revision": "3"})
    assert stale.status_code == 409


def test_two_revisions_compare_side_by_side(app, world):
    minutes_id = start(app, world)
    edit(app, minutes_id, world.officer.id, s0="経済産業省から説明。\n質疑なし。")
    edit(app, minutes_id, world.officer.id, s0="経済産業省から説明。\n質疑あり：価格転嫁について。")
    client = app.test_client()
    sign_in(client, world.officer)
    html = client.get(f"/minutes/{minutes_id}/compare?a=2&b=3").get_data(as_text=True)
    assert 'class="diff-changed"' in html
    assert "<del>なし</del>" in html and "<ins>あり：価格転嫁について</ins>" in html
    # a revision beyond the latest is clamped to the latest (clearance.bounds), never a 404 or a 500
    clamped = client.get(f"/minutes/{minutes_id}/compare?a=2&b=99")
    assert clamped.status_code == 200 and "<ins>あり：価格転嫁について</ins>" in clamped.get_data(as_text=True)
    assert client.get(f"/minutes/{minutes_id}/compare?a=x").status_code == 200  # not a number: the default


def test_inline_feedback_becomes_feedback_items_updated_not_duplicated(app, world):
    from dialogue.minutes.document import InlineFeedback

    minutes_id = start(app, world)
    doc, base = current_doc(app, minutes_id)
    doc.feedback.append(InlineFeedback(key="f1", text="価格転嫁のガイドラインがほしい", subtopic="price_pass_through",
                                       instrument="dialogue", section_key=doc.sections[1].key, company_id=world.a))
    save(app, minutes_id, doc, base, world.officer.id)
    doc.feedback[0].text = "価格転嫁の政府ガイドラインがほしい"
    save(app, minutes_id, doc, base + 1, world.officer.id)
    with app.app_context():
        items = db.session.execute(select(FeedbackItem).where(FeedbackItem.minutes_id == minutes_id)).scalars().all()
        assert len(items) == 1
        item = items[0]
        assert item.text == "価格転嫁の政府ガイドラインがほしい" and item.source == "dialogue"
        assert item.company_id == world.a and item.dialogue_id == world.dialogue and item.region == "tohoku"
        assert item.category == "partnership"
    doc.feedback = []
    save(app, minutes_id, doc, base + 2, world.officer.id)
    with app.app_context():
        assert db.session.execute(select(func.count()).select_from(FeedbackItem)).scalar_one() == 0
