"""The scenario of issue 11, shared by the reader's-copy tests and the structural guard: draft minutes
with a level-2 BATT section holding inline feedback and a level-1 SEMI decisions section with action
items, a labelled attendee, a cited SEMI briefing; canary strings in every withheld part."""

from __future__ import annotations

import re
import subprocess

import pytest

from clearance.permissions import Role
from dialogue.minutes.document import ActionItem, Attendee, InlineFeedback
from tests.clearance.helpers import briefing, grant
from tests.factories import csrf
from tests.minutes.helpers import current_doc, save, start

# canaries: every withheld part carries one, in every field that could show
C2_TITLE, C2_BODY, C2_FEEDBACK = "CANARY-L2-BATT-TITLE", "CANARY-L2-BATT-BODY", "CANARY-L2-BATT-FEEDBACK"
C1_TITLE, C1_BODY = "CANARY-L1-SEMI-DECISIONS-TITLE", "CANARY-L1-SEMI-DECISIONS-BODY"
C1_ACTION, C1_OWNER = "CANARY-L1-SEMI-ACTION", "CANARY-L1-SEMI-OWNER"
C1_NOTE, C1_ATTENDEE = "CANARY-L1-SEMI-ATTENDEE-NOTE", "CANARY-L1-SEMI-ATTENDEE"
C1B_FEEDBACK = "CANARY-L1-BATT-FEEDBACK-IN-PUBLIC-SECTION"  # an item raised above its public section
PUBLIC_BODY = "PUBLIC-BODY-EVERYONE-READS"  # no spaces: found in flattened PDF text too
WITHHELD_FROM_BOTH = [C2_TITLE, C2_BODY, C2_FEEDBACK, C1_TITLE, C1_BODY, C1_ACTION, C1_OWNER, C1_NOTE, C1_ATTENDEE]


def pdf_text(data: bytes) -> str:
    """The PDF's text in content order with all white space removed: a canary wrapped over two lines,
    or interleaved with the diagonal watermark in a layout rendering, is still found."""
    text = subprocess.run(["pdftotext", "-raw", "-", "-"], input=data, capture_output=True, check=True
                          ).stdout.decode()
    return re.sub(r"\s+", "", text)


@pytest.fixture
def scenario(app, world, factory):
    """Minutes written by a host cleared L2·BATT+SEMI; returns (minutes_id, keys, cited briefing id)."""
    grant(app, world.officer.id, level=2, compartments=("BATT", "SEMI"))
    cited = briefing(app, title="CANARY-BRIEFING-TITLE", level=1, compartments=("SEMI",))
    minutes_id = start(app, world)
    doc, base = current_doc(app, minutes_id)
    public, other = doc.sections[0], doc.sections[1]
    public.body, public.public = PUBLIC_BODY, True
    other.title, other.body, other.level, other.compartments = C2_TITLE, C2_BODY, 2, ["BATT"]
    decisions = doc.decisions()
    decisions.title, decisions.body, decisions.level, decisions.compartments = C1_TITLE, C1_BODY, 1, ["SEMI"]
    decisions.cites = [cited]
    doc.feedback = [
        InlineFeedback(key="f-batt2", text=C2_FEEDBACK, subtopic="threat_information", instrument="dialogue",
                       section_key=other.key),
        InlineFeedback(key="f-raised", text=C1B_FEEDBACK, subtopic="threat_information", instrument="dialogue",
                       section_key=public.key, level=1, compartments=["BATT"]),
    ]
    doc.actions = [ActionItem(key="t-semi", description=C1_ACTION, owner=C1_OWNER, due="2030-01-31")]
    doc.attendees.append(Attendee(key="a-semi", name=C1_ATTENDEE, side="other", note=C1_NOTE, level=1,
                                  compartments=["SEMI"]))
    save(app, minutes_id, doc, base, world.officer.id)
    # a second revision, so compare has two sides that both hold the canaries
    doc, base = current_doc(app, minutes_id)
    doc.sections[0].body = PUBLIC_BODY + " (2)"
    save(app, minutes_id, doc, base, world.officer.id)
    return minutes_id, cited


def readers(app, factory):
    batt = factory.person(Role.OFFICER, display_name="高橋 健")  # like k.takahashi: L1, BATT
    grant(app, batt.id, level=1, compartments=("BATT",))
    uncleared = factory.person(Role.OFFICER, display_name="無資格 花子")
    return {"L1-BATT": batt, "uncleared": uncleared}


def officer_outputs(app, client, minutes_id: str) -> dict[str, str]:
    """Every minutes output an officer can ask for, as text (PDFs through pdftotext)."""
    out = {}
    for name, path in (("api", f"/api/minutes/{minutes_id}"), ("view", f"/minutes/{minutes_id}"),
                       ("edit", f"/minutes/{minutes_id}/edit"), ("revisions", f"/minutes/{minutes_id}/revisions"),
                       ("compare", f"/minutes/{minutes_id}/compare?a=1&b=3&full=1"),
                       ("compare-2-3", f"/minutes/{minutes_id}/compare?a=2&b=3"),
                       ("summary", f"/minutes/{minutes_id}/summary")):
        resp = client.get(path)
        assert resp.status_code == 200, (name, resp.status_code)
        out[name] = resp.get_data(as_text=True)
    for name, path in (("pdf", f"/minutes/{minutes_id}/pdf"), ("summary.pdf", f"/minutes/{minutes_id}/summary.pdf")):
        resp = client.get(path)
        assert resp.status_code == 200 and resp.mimetype == "application/pdf", name
        out[name] = pdf_text(resp.data)
    token = csrf(client, f"/minutes/{minutes_id}")
    stale = client.post(f"/api/minutes/{minutes_id}/revisions", headers={"X-CSRFToken": token},
                        json={"base_revision": 1, "document": {"sections": [{"key": "mine", "title": "mine"}]}})
    assert stale.status_code == 409
    out["api-409"] = stale.get_data(as_text=True)
    conflict = client.post(f"/minutes/{minutes_id}/edit", data={
        "csrf_token": token, "base_revision": "1", "section-0-key": "snew", "section-0-title": "mine",
        "section-0-body": "my text", "section-0-level": "0"})
    assert conflict.status_code == 409
    out["edit-409"] = conflict.get_data(as_text=True)
    return out


