"""The reasons recorded with clearances and certifications are sealed at rest (issue 5).

Written through the security officers' pages, they read back on those pages and appear nowhere in
the raw database (the SQLite file and its WAL as they lie, or a plain pg_dump), the audit log
included. A reason moved to another record in SQL fails closed and is audited. They are bound to
level 0, so a record's level changed in SQL leaves them readable (the level is what the subject is
cleared for, not a classification of the text).
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from markupsafe import escape
from sqlalchemy import select, text

from clearance import failclosed, people
from clearance.audit import AuditEntry
from clearance.db import db, new_id
from clearance.permissions import Role
from tests.clearance.helpers import DEPT, certify, grant
from tests.crypto import population
from tests.factories import csrf, sign_in


def _post(client, page: str, url: str, **data: str | list[str]) -> None:
    resp = client.post(url, data={"csrf_token": csrf(client, page), **data})
    assert resp.status_code == 302, (url, resp.status_code)


def _raw_as_it_lies(engine) -> bytes:
    """SQLite: the main file, WAL and shared memory as a thief would copy them now (no checkpoint first)."""
    base = Path(engine.url.database)
    return b"".join(p.read_bytes() for p in (Path(str(base) + s) for s in ("", "-wal", "-shm")) if p.exists())


def test_reasons_given_on_the_pages_are_shown_there_and_sealed_everywhere_else(app, factory):
    so, second = factory.person(Role.SECURITY_OFFICER), factory.person(Role.SECURITY_OFFICER)
    target = factory.person(Role.OFFICER)
    company = factory.company()
    factory.person(Role.COMPANY_MEMBER, company_id=company, department=DEPT)
    m = {k: population.canary(k.upper()) for k in ("rec", "dec", "sus", "crec", "crej", "crev", "cdec")}
    first, other = app.test_client(), app.test_client()
    sign_in(first, so)
    sign_in(other, second)
    person, firm = f"/clearance/people/{target.id}", f"/clearance/companies/{company}"

    # a level-2 clearance: recorded, approved by a second officer, then suspended
    _post(first, person, person, level="2", agency="経済産業省", notified_on="2025-05-17", undertaking_signed="y",
          reason=f"{m['rec']} 適性評価の結果を書面で通知")
    with app.app_context():
        clearance_id = db.session.scalar(select(people.PersonalClearance.id)
                                         .where(people.PersonalClearance.user_id == target.id))
    _post(other, person, f"/clearance/clearances/{clearance_id}/approve", reason=f"{m['dec']} 書類を確認")
    _post(first, person, f"/clearance/clearances/{clearance_id}/suspended", reason=f"{m['sus']} 調査中のため")
    # a certification recorded and revoked; a level-2 one rejected by the second officer
    _post(first, firm, firm, level="1", agency="経済産業省", certified_on="2025-04-01", contract_ref="METI-1",
          expires_on="2028-03-31", other_departments=DEPT, reason=f"{m['crec']} 契約締結")
    with app.app_context():
        cert_id = people.certification_in_force(db.session, company).id
    _post(first, firm, f"/clearance/certifications/{cert_id}/revoked", reason=f"{m['crev']} 契約終了")
    _post(first, firm, firm, level="2", agency="経済産業省", certified_on="2025-04-01", contract_ref="METI-2",
          expires_on="2028-03-31", other_departments=DEPT, reason=f"{m['crej']} 重要情報の契約")
    with app.app_context():
        pending = db.session.scalar(select(people.CompanyCertification.id).where(
            people.CompanyCertification.company_id == company, people.CompanyCertification.status == "pending"))
    _post(other, firm, f"/clearance/certifications/{pending}/reject", reason=f"{m['cdec']} 契約書の写しが未着")

    # the pages show every reason to the security officers
    shown = other.get(person).get_data(as_text=True) + other.get(firm).get_data(as_text=True)
    missing = [k for k, v in m.items() if v not in shown]
    assert missing == [], missing

    with app.app_context():
        # the audit log says what happened and by whom, never why
        entries = db.session.scalars(select(AuditEntry).where(AuditEntry.realm == "clearance")).all()
        summaries = {e.summary for e in entries}
        assert {"Level-2 clearance approved", "Clearance suspended", "Certification revoked",
                "Pending certification rejected"} <= summaries
        assert not [e.summary for e in entries if any(v in e.data for v in m.values())]
        # and nothing of the text is in the raw database: as it lies on disk (SQLite: file and WAL before any
        # checkpoint, where the latest writes are), then checkpointed (or as a plain dump on PostgreSQL)
        if db.engine.dialect.name == "sqlite":
            raw = _raw_as_it_lies(db.engine)
            assert b"Clearance suspended" in raw, "the search must see the latest writes"
            assert [k for k, v in m.items() if any(n in raw for n in population.needles(v))] == []
        assert population.hits(db.engine, list(m.values())) == []
        db.session.remove()
        db.engine.dispose()


def _expected_message(app) -> str:
    with app.test_request_context(headers={"Accept-Language": "en"}):
        from flask import session

        session["locale"] = "en"
        return str(escape(failclosed.message()))


@pytest.mark.parametrize(("kind", "field"), [("clearance", "reason"), ("clearance", "status_reason"),
                                             ("certification", "decision_reason")])
def test_a_reason_swapped_between_two_records_fails_closed_and_is_audited(app, factory, kind, field):
    so = factory.person(Role.SECURITY_OFFICER, locale="en")
    words = {"a": population.canary("A"), "b": population.canary("B")}
    if kind == "clearance":
        model, subjects = people.PersonalClearance, {k: factory.person(Role.OFFICER).id for k in words}
        records = {k: grant(app, subjects[k], 1) for k in words}
        page = f"/clearance/people/{subjects['a']}"
    else:
        model, subjects = people.CompanyCertification, {k: factory.company() for k in words}
        records = {k: certify(app, subjects[k], 1) for k in words}
        page = f"/clearance/companies/{subjects['a']}"
    table = model.__tablename__
    with app.app_context():
        # given two records whose reasons read back
        for k, rid in records.items():
            rec = db.session.get(model, rid)
            setattr(rec, field, f"{words[k]} {field}")
            # the pages show a decision or status reason only with the officer who gave it
            rec.decided_by = rec.status_changed_by = so.id
        db.session.commit()
        raw = {k: db.session.execute(text(f"SELECT {field}_ct FROM {table} WHERE id = :i"),
                                     {"i": rid}).scalar_one() for k, rid in records.items()}
    client = app.test_client()
    sign_in(client, so)
    assert words["a"] in client.get(page).get_data(as_text=True)
    with app.app_context():
        before = db.session.scalar(select(AuditEntry.seq).order_by(AuditEntry.seq.desc()))
        # when someone with SQL access swaps them
        for k, other in (("a", "b"), ("b", "a")):
            db.session.execute(text(f"UPDATE {table} SET {field}_ct = :ct WHERE id = :i"),
                               {"ct": raw[other], "i": records[k]})
        db.session.commit()
    # then the page fails closed: neither text, the integrity message, and an audit entry naming the place
    resp = client.get(page)
    body = resp.get_data(as_text=True)
    assert resp.status_code == 500
    assert _expected_message(app) in body and words["a"] not in body and words["b"] not in body
    with app.app_context():
        entry = db.session.scalars(select(AuditEntry).where(AuditEntry.seq > before, AuditEntry.realm == "crypto")
                                   ).one()
        data = json.loads(entry.data)
        assert entry.summary == "Decryption failed" and entry.kind == "negative" and entry.actor == so.email
        assert (data["table"], data["column"], data["row_id"]) == (table, field, records["a"])
        assert words["a"] not in entry.data and words["b"] not in entry.data


def test_reasons_are_bound_to_level_0_so_a_level_set_in_sql_leaves_them_readable(app, factory):
    """The level of a record is what its subject is cleared for; tools that set it in SQL (the benches) do not
    re-seal, and the access rule never opens a reason, so binding it would only break the history page."""
    target, company = factory.person(Role.OFFICER), factory.company()
    clearance_id, cert_id = grant(app, target.id, 1), certify(app, company, 1)
    with app.app_context():
        db.session.execute(text("UPDATE personal_clearance SET level = 2 WHERE id = :i"), {"i": clearance_id})
        db.session.execute(text("UPDATE company_certification SET level = 2 WHERE id = :i"), {"i": cert_id})
        db.session.commit()
        assert db.session.get(people.PersonalClearance, clearance_id).reason == "test fixture"
        assert db.session.get(people.CompanyCertification, cert_id).reason == "test fixture"


def test_a_reason_needs_the_row_id_first_whatever_the_keyword_order(app, factory):
    target = factory.person(Role.OFFICER)
    with app.app_context():
        rec = people.PersonalClearance(reason="Assessment notified", status_reason=None, id=new_id(),
                                       user_id=target.id, level=1, agency="a", notified_on=date(2025, 1, 1),
                                       expires_on=date(2030, 1, 1), expires_at=people.expiry_instant(date(2030, 1, 1)),
                                       status="valid", requested_by="t")
        assert rec.reason == "Assessment notified" and rec.status_reason is None
        assert b"Assessment" not in rec.reason_ct
