"""Briefing summaries and withdrawal reasons are sealed at the briefing's level, like the body.

Lists decrypt only their page's summaries and search titles only; a summary copied to another
briefing, or a level lowered in SQL, fails closed in the list and on the page, and is audited.
"""

from __future__ import annotations

import json

from sqlalchemy import select, text

from clearance.audit import AuditEntry
from clearance.crypto import DecryptionError
from clearance.db import db
from clearance.permissions import Role
from dialogue.briefings.models import Briefing
from tests.clearance.helpers import briefing, grant
from tests.crypto import population
from tests.factories import csrf, sign_in


def _officer_client(app, factory):
    officer = factory.person(Role.OFFICER, locale="en")
    grant(app, officer.id, 2, ["SEMI"])
    client = app.test_client()
    sign_in(client, officer)
    return officer, client


def _last_decryption_failure(app) -> dict:
    with app.app_context():
        entry = db.session.execute(select(AuditEntry).where(AuditEntry.realm == "crypto")
                                   .order_by(AuditEntry.seq.desc()).limit(1)).scalar_one()
        return json.loads(entry.data)


def _raw(app, column: str, bid: str) -> bytes:
    with app.app_context():
        return bytes(db.session.execute(text(f"SELECT {column} FROM briefing WHERE id = :i"), {"i": bid}).scalar_one())


def test_the_summary_is_sealed_shown_in_the_list_and_only_titles_are_searched(app, factory):
    _, client = _officer_client(app, factory)
    marker = population.canary("SUM")
    bid = briefing(app, title="Helium supply outlook", summary=f"{marker} stock for 40 days", level=1)
    assert marker.encode() not in _raw(app, "summary_ct", bid)
    with app.app_context():
        assert db.session.get(Briefing, bid).summary == f"{marker} stock for 40 days"
    assert f"{marker} stock for 40 days" in client.get("/briefings").get_data(as_text=True)
    assert marker in client.get("/briefings?q=Helium").get_data(as_text=True)
    # SQL cannot see a sealed summary: searching for its words finds nothing (titles only, as the form says)
    assert "Helium" not in client.get(f"/briefings?q={marker}").get_data(as_text=True)


def test_a_summary_swapped_between_two_briefings_fails_closed_and_is_audited(app, factory):
    officer, client = _officer_client(app, factory)
    first = briefing(app, title="First", summary="Routing through resellers in third countries", level=1)
    second = briefing(app, title="Second", summary="Dual-use lathes re-exported", level=1)
    a, b = _raw(app, "summary_ct", first), _raw(app, "summary_ct", second)
    with app.app_context():
        db.session.execute(text("UPDATE briefing SET summary_ct = :ct WHERE id = :i"), {"ct": b, "i": first})
        db.session.execute(text("UPDATE briefing SET summary_ct = :ct WHERE id = :i"), {"ct": a, "i": second})
        db.session.commit()
    for path in ("/briefings", f"/briefings/{first}", f"/briefings/{second}"):
        resp = client.get(path)
        page = resp.get_data(as_text=True)
        assert resp.status_code == 500, path
        assert "resellers" not in page and "lathes" not in page
        failure = _last_decryption_failure(app)
        assert (failure["table"], failure["column"]) == ("briefing", "summary")
        assert failure["row_id"] in (first, second)


def test_a_level_lowered_in_sql_makes_summary_and_withdrawal_reason_unreadable(app, factory):
    officer, client = _officer_client(app, factory)
    bid = briefing(app, title="Designated note", summary="Stockpile at 40 days", body="Details.", level=2,
                   compartments=["SEMI"], handlers=[officer.id], designator_id=officer.id)
    with app.app_context():
        b = db.session.get(Briefing, bid)
        b.withdrawn_reason = "Superseded by the April outlook"
        db.session.commit()
    assert "Stockpile" in client.get("/briefings").get_data(as_text=True)
    with app.app_context():
        db.session.execute(text("UPDATE briefing SET level = 1, designating_agency = NULL, designation_number = NULL,"
                                " designated_on = NULL, designation_expires_on = NULL WHERE id = :id"), {"id": bid})
        db.session.commit()
    resp = client.get("/briefings")
    assert resp.status_code == 500 and "Stockpile" not in resp.get_data(as_text=True)
    failure = _last_decryption_failure(app)
    # the list opens the title first (sealed at the level too since issue 11)
    assert (failure["table"], failure["column"], failure["row_id"]) == ("briefing", "title", bid)
    resp = client.get(f"/briefings/{bid}")
    assert resp.status_code == 500 and "Stockpile" not in resp.get_data(as_text=True)
    with app.app_context():
        b = db.session.get(Briefing, bid)
        for field in ("title", "summary", "withdrawn_reason"):
            try:
                getattr(b, field)
            except DecryptionError as exc:
                assert exc.where == ("briefing", field, bid)
            else:
                raise AssertionError(f"{field} opened at a lowered level")


def test_the_withdrawal_reason_is_sealed_and_stays_out_of_the_audit_log(app, factory):
    officer, client = _officer_client(app, factory)
    marker = population.canary("WD")
    bid = briefing(app, title="Helium supply outlook", level=1, designator_id=officer.id)
    token = csrf(client, f"/briefings/{bid}")
    resp = client.post(f"/briefings/{bid}/withdraw", data={"csrf_token": token, "reason": f"{marker} superseded"})
    assert resp.status_code == 302
    with app.app_context():
        b = db.session.get(Briefing, bid)
        assert (b.status, b.withdrawn_reason) == ("withdrawn", f"{marker} superseded")
        entries = db.session.execute(select(AuditEntry.summary, AuditEntry.data)).all()
        assert "Briefing withdrawn" in [s for s, _ in entries]
        assert all(marker not in data for _, data in entries)
        assert population.hits(db.engine, [marker]) == []
        db.session.remove()
        db.engine.dispose()


def test_raising_the_label_reseals_the_summary(app, factory):
    officer, client = _officer_client(app, factory)
    bid = briefing(app, title="Port data note", summary="Container dwell times", level=0, release=[("all", "")])
    page = f"/briefings/{bid}/label"
    resp = client.post(page, data={"csrf_token": csrf(client, page), "level": "1", "compartments": ["SEMI"],
                                   "reason": "Contains supplier names"})
    assert resp.status_code == 302
    with app.app_context():
        b = db.session.get(Briefing, bid)
        assert (b.level, b.summary) == (1, "Container dwell times")
    assert "Container dwell times" in client.get(f"/briefings/{bid}").get_data(as_text=True)
