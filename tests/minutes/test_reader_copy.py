"""Issue 11: minutes leave only through the reader's copy (dialogue.minutes.reader.reader_view).

The scenario of the issue: draft minutes with a level-2 BATT section holding inline feedback and a
level-1 SEMI decisions section with action items (plus a labelled attendee note and a cited
SEMI briefing). Read as an officer cleared L1·BATT and as an officer with no clearance, every output —
API GET, the API's 409 body, the editor, the HTML conflict page, compare, revisions, the page, both
PDFs, the public summary — holds none of the withheld text; a company participant's portal page and
PDF neither. Then a client that knows the keys of withheld parts tries to overwrite, relabel, delete
and move them, and cannot.
"""

from __future__ import annotations

import json
import re

import pytest

from clearance.db import db
from dialogue.minutes import service
from dialogue.minutes.models import Minutes
from tests.clearance.helpers import briefing, certify, grant
from tests.factories import csrf, sign_in
from tests.minutes.helpers import current_doc, save, start, to_participant_review
from tests.minutes.scenario import (
    C1_ACTION,
    C1_NOTE,
    C1_TITLE,
    C1B_FEEDBACK,
    C2_FEEDBACK,
    C2_TITLE,
    PUBLIC_BODY,
    WITHHELD_FROM_BOTH,
    officer_outputs,
    pdf_text,
    readers,
)


@pytest.mark.parametrize("who", ["L1-BATT", "uncleared"])
def test_no_output_carries_a_withheld_part(app, world, factory, scenario, who):
    minutes_id, cited = scenario
    reader = readers(app, factory)[who]
    client = app.test_client()
    sign_in(client, reader)
    outputs = officer_outputs(app, client, minutes_id)
    withheld = WITHHELD_FROM_BOTH + [cited] + ([C1B_FEEDBACK] if who == "uncleared" else [])
    for name, text in outputs.items():
        leaked = [c for c in withheld if c in text]
        assert not leaked, f"{who} got {leaked} in {name}"
    # nor their labels: no level-2 marking where only lower parts are shown (revision list, diff, API, PDF)
    for name in ("revisions", "compare", "compare-2-3", "api", "api-409", "pdf", "view"):
        assert "重要経済安保情報" not in outputs[name] and "2:BATT" not in outputs[name], name
    # what they may read is there, and only the number of withheld parts
    assert PUBLIC_BODY in outputs["view"] and PUBLIC_BODY in outputs["pdf"] and PUBLIC_BODY in outputs["api"]
    if who == "L1-BATT":
        assert C1B_FEEDBACK in outputs["view"] and C1B_FEEDBACK in outputs["api"]
    api = json.loads(outputs["api"])
    # withheld: the L2 section, its feedback, the decisions section, its action, the attendee (+ the raised item)
    assert api["withheld"] == (5 if who == "L1-BATT" else 6)
    assert set(api) == {"id", "status", "revision", "document", "withheld"}
    shown_keys = {r["key"] for group in ("attendees", "sections", "actions", "feedback") for r in api["document"][group]}
    assert not shown_keys & {"f-batt2", "t-semi", "a-semi"}
    conflict = json.loads(outputs["api-409"])
    assert conflict["withheld"] == api["withheld"]
    assert len(api["document"]["sections"]) == 1  # of three: nothing says where the others were


def test_the_cleared_author_reads_everything(app, world, factory, scenario):
    minutes_id, cited = scenario
    client = app.test_client()
    sign_in(client, world.officer)
    view = client.get(f"/minutes/{minutes_id}").get_data(as_text=True)
    for canary in WITHHELD_FROM_BOTH + [C1B_FEEDBACK]:
        assert canary in view, canary
    api = client.get(f"/api/minutes/{minutes_id}").get_json()
    assert api["withheld"] == 0 and api["document"]["sections"][-1]["cites"] == [cited]
    text = pdf_text(client.get(f"/minutes/{minutes_id}/pdf").data)
    assert C2_FEEDBACK in text and C1_ACTION in text and C1_NOTE in text


def test_a_participant_sees_nothing_withheld_in_the_portal(app, world, factory, scenario):
    minutes_id, cited = scenario
    to_participant_review(app, world, minutes_id)
    certify(app, world.a, level=1)
    grant(app, world.a_member.id, level=1, compartments=("BATT",))
    client = app.test_client()
    sign_in(client, world.a_member)
    page = client.get(f"/portal/minutes/{minutes_id}").get_data(as_text=True)
    pdf = pdf_text(client.get(f"/portal/minutes/{minutes_id}/pdf").data)
    summary = pdf_text(client.get(f"/portal/minutes/{minutes_id}/summary.pdf").data)
    for name, text in (("portal", page), ("portal-pdf", pdf), ("portal-summary", summary)):
        leaked = [c for c in WITHHELD_FROM_BOTH + [cited] if c in text]
        assert not leaked, f"{leaked} in {name}"
    assert PUBLIC_BODY in page and PUBLIC_BODY in pdf and PUBLIC_BODY in summary
    assert C1B_FEEDBACK in pdf  # cleared L1·BATT: the raised item is theirs to read
    assert C1B_FEEDBACK not in summary  # the summary holds the public sections' text only


def test_a_cite_the_reader_may_not_open_is_dropped_from_a_section_they_read(app, world, factory):
    """A participant reads a public section citing a public briefing not released to their company:
    the section is theirs, the cite is not — and an officer's save keeps the cite."""
    not_for_a = briefing(app, title="CANARY-UNRELEASED", level=0, release=[("company", world.b)])
    minutes_id = start(app, world)
    doc, base = current_doc(app, minutes_id)
    doc.sections[0].body, doc.sections[0].cites = PUBLIC_BODY, [not_for_a]
    save(app, minutes_id, doc, base, world.officer.id)
    to_participant_review(app, world, minutes_id)
    client = app.test_client()
    sign_in(client, world.a_member)
    page = client.get(f"/portal/minutes/{minutes_id}").get_data(as_text=True)
    assert PUBLIC_BODY in page and "Cites 1 briefing" not in page and "1件の説明資料" not in page
    with app.test_request_context():
        from dialogue.minutes.reader import reader_view
        from tests.feedback.world import user

        copy = reader_view(db.session, user(world.a_member.id), db.session.get(Minutes, minutes_id))
        assert copy.doc.sections[0].cites == [] and copy.withheld == 1
        assert not_for_a not in json.dumps(copy.to_dict())


# ---------------------------------------------------------------------------
# Saving: a client never overwrites, relabels, deletes or moves what it could not read
# ---------------------------------------------------------------------------


def _api_save(client, minutes_id: str, document: dict, base: int):
    token = csrf(client, f"/minutes/{minutes_id}")
    return client.post(f"/api/minutes/{minutes_id}/revisions", headers={"X-CSRFToken": token},
                       json={"base_revision": base, "document": document})


def test_a_client_that_knows_withheld_keys_cannot_touch_those_parts(app, world, factory, scenario):
    minutes_id, cited = scenario
    stored_before, base = current_doc(app, minutes_id)
    reader = readers(app, factory)["L1-BATT"]
    client = app.test_client()
    sign_in(client, reader)
    mine = client.get(f"/api/minutes/{minutes_id}").get_json()["document"]
    hidden_l2 = next(s for s in stored_before.sections if s.title == C2_TITLE)
    hidden_dec = stored_before.decisions()
    forged = dict(mine)
    # overwrite + relabel the hidden L2 section, drop the hidden decisions section (by omission)
    forged["sections"] = mine["sections"] + [{"key": hidden_l2.key, "title": "pwned", "body": "pwned", "level": 0}]
    # overwrite + relabel the hidden action, move the hidden feedback into a section I can read
    forged["actions"] = [{"key": "t-semi", "description": "pwned", "level": 0, "section_key": mine["sections"][0]["key"]}]
    forged["feedback"] = mine["feedback"] + [{"key": "f-batt2", "text": "pwned", "subtopic": "threat_information",
                                             "instrument": "dialogue", "section_key": mine["sections"][0]["key"]}]
    forged["attendees"] = [a for a in mine["attendees"]] + [{"key": "a-semi", "name": "pwned", "level": 0}]
    resp = _api_save(client, minutes_id, forged, base)
    assert resp.status_code == 201, resp.get_data(as_text=True)
    after, _ = current_doc(app, minutes_id)
    assert after.section(hidden_l2.key) == hidden_l2
    assert after.section(hidden_dec.key) == hidden_dec
    assert [s.key for s in after.sections] == [s.key for s in stored_before.sections]  # not moved either
    assert next(a for a in after.actions if a.key == "t-semi") == stored_before.actions[0]
    assert next(f for f in after.feedback if f.key == "f-batt2") == next(
        f for f in stored_before.feedback if f.key == "f-batt2")
    assert next(a for a in after.attendees if a.key == "a-semi") == next(
        a for a in stored_before.attendees if a.key == "a-semi")
    assert "pwned" not in after.to_json()


def test_a_client_cannot_write_into_or_point_at_a_withheld_section(app, world, factory, scenario):
    minutes_id, _cited = scenario
    stored, base = current_doc(app, minutes_id)
    hidden_l2 = next(s for s in stored.sections if s.title == C2_TITLE)
    reader = readers(app, factory)["L1-BATT"]
    client = app.test_client()
    sign_in(client, reader)
    mine = client.get(f"/api/minutes/{minutes_id}").get_json()["document"]
    for change in (
        {"feedback": mine["feedback"] + [{"key": "f-new", "text": "x", "subtopic": "threat_information",
                                          "instrument": "dialogue", "section_key": hidden_l2.key}]},
        {"actions": [{"key": "t-new", "description": "x", "section_key": hidden_l2.key}]},
        {"actions": [{"key": "t-new", "description": "x"}]},  # under the decisions section, withheld from them
        {"attendees": mine["attendees"] + [{"key": "a-new", "name": "x", "level": 1, "compartments": ["SEMI"]}]},
    ):
        resp = _api_save(client, minutes_id, {**mine, **change}, base)
        assert resp.status_code == 400, (change, resp.get_data(as_text=True))
        body = resp.get_data(as_text=True)
        assert C2_TITLE not in body and C1_TITLE not in body
    assert current_doc(app, minutes_id)[1] == base


def test_the_html_editor_round_trip_keeps_withheld_parts_and_labels(app, world, factory, scenario):
    """An L1·BATT officer saves the editor as it was rendered: the withheld parts, and the labels of
    the parts they read, come out exactly as stored."""
    minutes_id, _cited = scenario
    before, base = current_doc(app, minutes_id)
    reader = readers(app, factory)["L1-BATT"]
    client = app.test_client()
    sign_in(client, reader)
    html = client.get(f"/minutes/{minutes_id}/edit").get_data(as_text=True)
    data: dict[str, list[str]] = {}
    for tag in re.findall(r"<input[^>]*>", html):
        name, value = re.search(r'name="([^"]+)"', tag), re.search(r'value="([^"]*)"', tag)
        if name is None or ('type="checkbox"' in tag and "checked" not in tag):
            continue  # a browser sends only ticked boxes
        data.setdefault(name.group(1), []).append(value.group(1) if value else "")
    for name, body in re.findall(r'<textarea[^>]*name="([^"]+)"[^>]*>([^<]*)</textarea>', html):
        data.setdefault(name, []).append(body)
    for name, inner in re.findall(r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', html, re.S):
        data[name] = re.findall(r'<option value="([^"]*)"[^>]*selected', inner)
    data = {k: [v.replace("&#34;", '"').replace("&#39;", "'").replace("&amp;", "&") for v in vs]
            for k, vs in data.items() if vs}
    resp = client.post(f"/minutes/{minutes_id}/edit", data=data)
    assert resp.status_code == 302, resp.get_data(as_text=True)[:2000]
    after, number = current_doc(app, minutes_id)
    assert number == base + 1
    assert after.sections == before.sections
    assert after.actions == before.actions and after.feedback == before.feedback
    assert after.attendees == before.attendees


def test_old_revisions_without_part_labels_still_load(app, world):
    """Schema-1 JSON (no labels on attendees, actions or feedback) loads: rows public or inheriting."""
    from dialogue.minutes.document import effective_labels, loads

    old = json.dumps({"schema": 1, "attendees": [{"key": "a1", "name": "n", "organisation": "", "side": "company",
                                                   "attended": True, "user_id": None, "company_id": None}],
                      "sections": [{"key": "s1", "title": "d", "body": "", "kind": "decisions", "level": 1,
                                    "compartments": [], "public": False, "cites": [], "agenda_item_id": None}],
                      "actions": [{"key": "t1", "description": "x", "owner": "", "due": None, "done": False}],
                      "feedback": []})
    doc = loads(old)
    labels = effective_labels(doc)
    assert labels[("actions", "t1")].level == 1  # still under the decisions section, as in schema 1
    assert labels[("attendees", "a1")].is_public
    assert json.loads(doc.to_json())["schema"] == 2


def test_restore_does_not_resubmit_what_the_restorer_could_not_read(app, world, factory, scenario):
    """Restoring revision 1 as an uncleared officer keeps the withheld parts of the current revision."""
    minutes_id, _cited = scenario
    before, base = current_doc(app, minutes_id)
    uncleared = readers(app, factory)["uncleared"]
    with app.test_request_context():
        from tests.feedback.world import user

        service.restore(db.session, db.session.get(Minutes, minutes_id), 1, base=base, actor=user(uncleared.id))
        db.session.commit()
    after, _ = current_doc(app, minutes_id)
    for s in before.sections:
        if s.level > 0:
            assert after.section(s.key) == s
    assert after.actions == before.actions
