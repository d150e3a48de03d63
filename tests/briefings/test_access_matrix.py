"""Every briefing route × every kind of reader the issue names.

One level-2 briefing in compartment SEMI with an attachment. A cleared,
certified handler at company A reads it on every route (the control); every
other kind of reader gets, on every route, exactly what a nonexistent
briefing gets — 404 for page, PDF and attachment; a list and a search with no
trace of it — and each of those denials is in the audit log with its clause.
No denied response contains the title, the summary, the text or the
attachment's name.
"""

from __future__ import annotations

import io
import json
import re
from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import select

from clearance import files
from clearance.audit import AuditEntry
from clearance.db import db, utcnow
from clearance.permissions import Role
from tests.clearance.helpers import DEPT, briefing, certify, grant
from tests.factories import Person, csrf, sign_in

TITLE = "Suspicious acquisition approach to wafer polishing supplier"
SUMMARY = "Approach by an overseas fund through a domestic shell"
BODY = "The approach used a consultancy registered in March; the fund is controlled abroad."
FILENAME = "acquisition-timeline.pdf"
SECRETS = (TITLE, SUMMARY, BODY, FILENAME, "wafer polishing", "consultancy registered")


@dataclass
class World:
    briefing_id: str
    file_id: str
    readers: dict[str, Person]


def _world(app, factory) -> World:
    a, b, c, d = (factory.company() for _ in range(4))
    now = utcnow()
    certify(app, a, 2, [DEPT])
    certify(app, c, 2, [DEPT], expires_at=now - timedelta(days=1))  # expired yesterday
    certify(app, d, 2, [DEPT])
    people = {
        "cleared": factory.person(Role.COMPANY_MEMBER, company_id=a, department=DEPT),
        "uncleared": factory.person(Role.COMPANY_MEMBER, company_id=a, department=DEPT),
        "company_uncertified": factory.person(Role.COMPANY_MEMBER, company_id=b, department=DEPT),
        "certification_expired_yesterday": factory.person(Role.COMPANY_MEMBER, company_id=c, department=DEPT),
        "suspended": factory.person(Role.COMPANY_MEMBER, company_id=a, department=DEPT),
        "revoked_mid_session": factory.person(Role.COMPANY_ADMIN, company_id=a, department=DEPT, totp=False),
        "wrong_compartment": factory.person(Role.COMPANY_MEMBER, company_id=a, department=DEPT),
        "wrong_department": factory.person(Role.COMPANY_MEMBER, company_id=a, department="総務部"),
        "not_on_handler_list": factory.person(Role.COMPANY_MEMBER, company_id=a, department=DEPT),
        "other_company": factory.person(Role.COMPANY_MEMBER, company_id=d, department=DEPT),
        "officer_without_clearance": factory.person(Role.OFFICER),
    }
    for name, p in people.items():
        if name == "uncleared" or name == "officer_without_clearance":
            continue
        codes = ["QNT"] if name == "wrong_compartment" else ["SEMI"]
        grant(app, p.id, 2, codes, status="suspended" if name == "suspended" else "valid")
    handlers = [p.id for n, p in people.items() if n != "not_on_handler_list"]
    bid = briefing(app, title=TITLE, summary=SUMMARY, body=BODY, level=2, compartments=["SEMI"],
                   release=[("company", a), ("company", b), ("company", c)], handlers=handlers)
    with app.app_context():
        stored = files.save_upload(db.session, io.BytesIO(b"%PDF-1.4\n% test\n%%EOF\n"), filename=FILENAME,
                                   owner_table="briefing", owner_id=bid, level=2)
        db.session.commit()
        fid = stored.id
    return World(bid, fid, people)


def _same_page(text: str, path: str) -> str:
    """A response with the requested path and the (timestamped) CSRF token taken out."""
    text = re.sub(r'name="csrf_token" value="[^"]*"', 'name="csrf_token" value=""', text)
    return text.replace(path, "PATH")


def _routes(w: World) -> dict[str, str]:
    return {
        "page": f"/briefings/{w.briefing_id}",
        "pdf": f"/briefings/{w.briefing_id}/pdf",
        "attachment": f"/briefings/{w.briefing_id}/files/{w.file_id}",
        "list": "/briefings",
        "search": "/briefings?q=wafer",
    }


EXPECTED_CLAUSE = {
    "uncleared": "no_clearance",
    "company_uncertified": "no_certification",
    "certification_expired_yesterday": "certification_expired",
    "suspended": "clearance_suspended",
    "revoked_mid_session": "clearance_revoked",
    "wrong_compartment": "compartment",
    "wrong_department": "department_not_covered",
    "not_on_handler_list": "handler_list",
    "other_company": "not_released",
    "officer_without_clearance": "no_clearance",
}


def _denials(app, user_id: str, briefing_id: str) -> list[dict]:
    with app.app_context():
        rows = db.session.scalars(select(AuditEntry).where(AuditEntry.realm == "clearance",
                                                           AuditEntry.actor_id == user_id)).all()
        out = []
        for e in rows:
            data = json.loads(e.data)
            if data.get("object") == f"briefing:{briefing_id}":
                out.append({"summary": e.summary, "kind": e.kind, **data})
        return out


def test_the_cleared_certified_handler_reads_on_every_route(app, factory):
    w = _world(app, factory)
    client = app.test_client()
    sign_in(client, w.readers["cleared"])
    for name, path in _routes(w).items():
        resp = client.get(path)
        body = resp.get_data()  # consume streamed downloads so their request context ends
        resp.close()
        assert resp.status_code == 200, name
        if name in ("page", "list", "search"):
            assert TITLE in body.decode(), name
        if name == "attachment":
            assert body.startswith(b"%PDF-1.4")
        if name == "pdf":
            assert body.startswith(b"%PDF")
    allowed = _denials(app, w.readers["cleared"].id, w.briefing_id)
    assert {e["route"] for e in allowed} == {"page", "pdf", "attachment"}
    assert all(e["summary"] == "Read allowed" and e["clause"] == "granted" for e in allowed)


@pytest.mark.parametrize("kind", sorted(EXPECTED_CLAUSE))
def test_every_other_reader_is_refused_everywhere_and_each_refusal_is_audited(app, factory, kind):
    w = _world(app, factory)
    person = w.readers[kind]
    client = app.test_client()
    assert sign_in(client, person).status_code == 302
    if kind == "revoked_mid_session":
        assert client.get(_routes(w)["page"]).status_code == 200  # still cleared when the session starts
        _revoke(app, factory, person)
    nowhere = "/briefings/00000000-0000-4000-8000-000000000000"
    missing = _same_page(client.get(nowhere).get_data(as_text=True), nowhere)
    for name, path in _routes(w).items():
        resp = client.get(path)
        text = resp.get_data(as_text=True)
        if name in ("list", "search"):
            assert resp.status_code == 200, (kind, name)
        else:
            assert resp.status_code == 404, (kind, name, resp.status_code)
            # identical to a nonexistent briefing's page, but for the path the reader typed (in the language switch)
            assert _same_page(text, path) == missing, (kind, name, "differs from a nonexistent briefing")
        for secret in SECRETS:
            assert secret not in text, (kind, name, secret)
        assert w.briefing_id not in text or name not in ("list", "search"), (kind, name)
    denials = [e for e in _denials(app, person.id, w.briefing_id) if e["summary"] == "Read denied"]
    assert {e["route"] for e in denials} == {"page", "pdf", "attachment"}, denials
    assert all(e["clause"] == EXPECTED_CLAUSE[kind] and e["kind"] == "negative" for e in denials), denials
    assert all(e["label"] == "2:SEMI" for e in denials)


def _revoke(app, factory, person: Person) -> None:
    so = factory.person(Role.SECURITY_OFFICER)
    client = app.test_client()
    sign_in(client, so)
    with app.app_context():
        from clearance.people import clearance_in_force

        record = clearance_in_force(db.session, person.id).id
    page = f"/clearance/people/{person.id}"
    resp = client.post(f"/clearance/clearances/{record}/revoked",
                       data={"csrf_token": csrf(client, page), "reason": "Left the company"})
    assert resp.status_code == 302


def test_guessing_ids_answers_exactly_like_not_found(app, factory):
    w = _world(app, factory)
    client = app.test_client()
    sign_in(client, w.readers["uncleared"])
    bodies = set()
    for path in (f"/briefings/{w.briefing_id}", "/briefings/00000000-0000-4000-8000-000000000001",
                 "/briefings/" + "9" * 36, "/briefings/x", f"/briefings/{w.briefing_id[:-1]}0"):
        resp = client.get(path)
        assert resp.status_code == 404
        bodies.add(_same_page(resp.get_data(as_text=True), path))
    assert len(bodies) == 1
    for path in (f"/briefings/{w.briefing_id}/files/{w.file_id}", f"/briefings/{w.briefing_id}/files/nope",
                 f"/briefings/nope/files/{w.file_id}"):
        assert client.get(path).status_code == 404
    # an attachment id of one briefing cannot be fetched through another (readable) briefing
    other = briefing(app, title="Public note", release=[("all", "")])
    assert client.get(f"/briefings/{other}").status_code == 200
    assert client.get(f"/briefings/{other}/files/{w.file_id}").status_code == 404
    clauses = {e["clause"] for e in _denials(app, w.readers["uncleared"].id, w.briefing_id)}
    assert clauses == {"no_clearance"}


def test_officer_pages_refuse_officers_without_clearance(app, factory):
    w = _world(app, factory)
    officer = w.readers["officer_without_clearance"]
    client = app.test_client()
    sign_in(client, officer)
    for path in (f"/briefings/{w.briefing_id}/edit", f"/briefings/{w.briefing_id}/label",
                 f"/briefings/{w.briefing_id}/readers"):
        resp = client.get(path)
        assert resp.status_code == 404, path
        assert TITLE not in resp.get_data(as_text=True)
    token = csrf(client, "/briefings/new")
    for action in ("release", "withdraw"):
        assert client.post(f"/briefings/{w.briefing_id}/{action}", data={"csrf_token": token,
                                                                           "reason": "because"}).status_code == 404


def test_company_staff_cannot_reach_officer_pages(app, factory):
    w = _world(app, factory)
    client = app.test_client()
    sign_in(client, w.readers["cleared"])
    for path in ("/briefings/new", f"/briefings/{w.briefing_id}/edit", f"/briefings/{w.briefing_id}/readers",
                 f"/briefings/{w.briefing_id}/label", "/clearance", "/clearance/people"):
        assert client.get(path).status_code == 403, path
