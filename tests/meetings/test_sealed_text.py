"""A dialogue's purpose and status reason, and why an invitation was withdrawn, are sealed at rest.

Purpose and status reason are bound to the dialogue's level (re-sealed when an officer changes it,
also for "this and all following"); the withdrawal reason to level 0. They are shown where they were,
never searched in SQL, never written to the audit log, and absent from the raw database. Attacks:
a purpose swapped between two dialogues and a level lowered in SQL fail closed (the error page,
an audit entry naming the place, nothing of the text).
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta
from urllib.parse import quote

import pytest
from markupsafe import escape
from sqlalchemy import select, text

from clearance import failclosed
from clearance.audit import AuditEntry
from clearance.auth.models import UserAccount
from clearance.crypto import DecryptionError
from clearance.db import db
from dialogue.meetings import service
from dialogue.meetings.models import Dialogue, Invitation
from tests.crypto import population
from tests.factories import csrf, sign_in
from tests.meetings.conftest import soon
from tests.meetings.helpers import invite, invite_tokens, notifier, plan


def _client(app, person):
    c = app.test_client()
    assert sign_in(c, person).status_code == 302
    return c


def _raw(app, table: str, column: str, row_id: str) -> bytes | None:
    with app.app_context():
        value = db.session.execute(text(f"SELECT {column} FROM {table} WHERE id = :i"), {"i": row_id}).scalar_one()
        return None if value is None else bytes(value)


def _set_raw(app, table: str, column: str, row_id: str, value) -> None:
    """Tampering in SQL: moves no data generation, as an attacker's write would not."""
    with app.app_context():
        db.session.execute(text(f"UPDATE {table} SET {column} = :v WHERE id = :i"), {"v": value, "i": row_id})
        db.session.commit()


def _crypto_audits(app) -> list[dict]:
    with app.app_context():
        rows = db.session.execute(select(AuditEntry.data).where(AuditEntry.realm == "crypto")
                                  .order_by(AuditEntry.seq)).scalars().all()
        return [json.loads(r) for r in rows]


def _closed(app, resp, secrets: list[str]) -> None:
    """The fail-closed page (the app's own error page and status), in the viewer's language; no text."""
    body = resp.get_data(as_text=True)
    assert resp.status_code == failclosed.STATUS
    with app.test_request_context(headers={"Accept-Language": "ja"}):
        assert str(escape(failclosed.message())) in body
    assert not [s for s in secrets if s in body]


def _change_status(app, officer_id: str, did: str, new: str, reason: str) -> None:
    with app.test_request_context():
        service.change_status(db.session, db.session.get(UserAccount, officer_id), db.session.get(Dialogue, did),
                              new, reason, notifier(app))
        db.session.commit()


def _edit(app, officer_id: str, did: str, *, following: bool = False, **changes) -> None:
    with app.test_request_context():
        d = db.session.get(Dialogue, did)
        data = replace(service.input_of(db.session, d), **changes)
        actor = db.session.get(UserAccount, officer_id)
        if following:
            service.update_series(db.session, actor, d, data, notifier(app))
        else:
            service.edit_dialogue(db.session, actor, d, data, notifier(app))
        db.session.commit()


@pytest.fixture
def cleared(monkeypatch):
    """Every account may read dialogues up to level 2, and everyone may be invited to them."""
    from clearance import policy

    monkeypatch.setattr(service, "cleared_level", lambda session, user_id, now=None: 2)
    monkeypatch.setattr(policy, "eligibility",
                        lambda session, label, ids, now, **kw: {u: policy.Decision(True, "granted") for u in ids})


# --------------------------------------------------------------------------- sealed, shown, never searched


def test_purpose_and_reasons_go_in_through_the_pages_sealed_and_nowhere_in_clear(app, world):
    purpose, revoked, cancelled = (population.canary(t) for t in ("PUR", "REV", "CAN"))
    officer = _client(app, world.officer)
    page = "/dialogues/new"
    start = soon(days=9)
    resp = officer.post(page, data={
        "csrf_token": csrf(officer, page), "format": "supply_chain", "group_id": world.chain, "title": "封印の対話",
        "purpose": f"{purpose} 調達先の集中を確認する", "start": start.strftime("%Y-%m-%dT%H:%M"),
        "end": (start + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"), "time_zone": "Asia/Tokyo",
        "hosts": world.officer.id, "level": "0", "agenda": "現状", "confirm_overlap": "y"})
    assert resp.status_code == 302, resp.get_data(as_text=True)[:2000]
    did = resp.headers["Location"].rsplit("/", 1)[-1]
    inv = {user: i for i, user in _invitees(app, world, did)}
    detail = f"/dialogues/{did}"
    assert f"{purpose} 調達先の集中を確認する" in officer.get(detail).get_data(as_text=True)

    # the officer withdraws one invitation with a reason, then cancels the dialogue with another
    resp = officer.post(f"{detail}/invitations/{inv[world.b_member.id]}/revoke",
                        data={"csrf_token": csrf(officer, detail), "reason": f"{revoked} 送付先の誤り"})
    assert resp.status_code == 302
    resp = officer.post(f"{detail}/status", data={"csrf_token": csrf(officer, detail), "status": "cancelled",
                                                  "reason": f"{cancelled} 台風のため"})
    assert resp.status_code == 302
    page = officer.get(detail).get_data(as_text=True)
    assert f"{revoked} 送付先の誤り" in page and f"{cancelled} 台風のため" in page

    # the invitees read them in the portal
    b = _client(app, world.b_member)
    assert f"{revoked} 送付先の誤り" in b.get(f"/portal/dialogues/{inv[world.b_member.id]}").get_data(as_text=True)
    a_page = _client(app, world.a_member).get(f"/portal/dialogues/{inv[world.a_member.id]}").get_data(as_text=True)
    assert f"{cancelled} 台風のため" in a_page and purpose in a_page

    # stored sealed: the models read them back; the raw database (file, WAL; the audit log included) has none
    with app.app_context():
        d = db.session.get(Dialogue, did)
        assert (d.purpose, d.status_reason) == (f"{purpose} 調達先の集中を確認する", f"{cancelled} 台風のため")
        assert db.session.get(Invitation, inv[world.b_member.id]).revoke_reason == f"{revoked} 送付先の誤り"
        entries = db.session.execute(select(AuditEntry.summary, AuditEntry.data)
                                     .where(AuditEntry.realm == "dialogue")).all()
        assert {"Invitation revoked", "Dialogue status invited → cancelled"} <= {s for s, _ in entries}
        assert all(m not in data for _, data in entries for m in (purpose, revoked, cancelled))
        assert population.hits(db.engine, [purpose, revoked, cancelled]) == []
        db.session.remove()
        db.engine.dispose()

    # the list searches titles and counterparts only: SQL cannot see a sealed purpose
    listing = officer.get(f"/dialogues?period=all&q={quote(purpose)}").get_data(as_text=True)
    assert detail not in listing
    assert detail in officer.get(f"/dialogues?period=all&q={quote('封印の対話')}").get_data(as_text=True)


def _invitees(app, world, did: str) -> list[tuple[str, str]]:
    """Invite the whole supply chain; [(invitation id, user id)]."""
    ids = invite(app, world.officer.id, did, service.InviteFilter(group_id=world.chain))
    with app.app_context():
        return [(i, db.session.get(Invitation, i).user_id) for i in ids]


def test_no_reason_is_stored_as_null_and_a_new_date_clears_the_postponement_reason(app, world):
    did = plan(app, world.officer.id, counterpart=world.chain, start=soon(days=6))
    assert _raw(app, "dialogue", "purpose_ct", did) is None
    _change_status(app, world.officer.id, did, "postponed", "会場の都合")
    assert _raw(app, "dialogue", "status_reason_ct", did) is not None
    with app.app_context():
        assert db.session.get(Dialogue, did).status_reason == "会場の都合"
    _edit(app, world.officer.id, did, start_local=soon(days=20), end_local=soon(days=20) + timedelta(hours=2))
    with app.app_context():
        d = db.session.get(Dialogue, did)
        assert d.status == "planned" and d.status_reason is None
    assert _raw(app, "dialogue", "status_reason_ct", did) is None
    inv_id, _token = invite_tokens(app, world.officer.id, did, service.InviteFilter(company_id=world.b))[0]
    with app.test_request_context():
        service.revoke_invitation(db.session, db.session.get(UserAccount, world.officer.id),
                                  db.session.get(Invitation, inv_id), "  ", notifier(app))
        db.session.commit()
    assert _raw(app, "invitation", "revoke_reason_ct", inv_id) is None


# --------------------------------------------------------------------------- the level in the associated data


def test_a_level_change_reseals_purpose_and_status_reason(app, world, cleared):
    did = plan(app, world.officer.id, counterpart=world.chain, start=soon(days=8), purpose="供給網の点検")
    _change_status(app, world.officer.id, did, "postponed", "議題の再検討")
    before = _raw(app, "dialogue", "purpose_ct", did)
    # the form's save of a postponed dialogue: its new date and, here, a higher classification
    _edit(app, world.officer.id, did, level=2)
    with app.app_context():
        d = db.session.get(Dialogue, did)
        assert (d.level, d.purpose) == (2, "供給網の点検")
        raw = _raw(app, "dialogue", "purpose_ct", did)
        assert raw != before
        assert Dialogue.purpose.open_column(raw, did, 2) == "供給網の点検"
        with pytest.raises(DecryptionError):
            Dialogue.purpose.open_column(raw, did, 0)
    page = _client(app, world.officer).get(f"/dialogues/{did}").get_data(as_text=True)
    assert "供給網の点検" in page


def test_this_and_all_following_reseals_each_dialogue_at_its_new_level(app, world, cleared):
    with app.test_request_context():
        data = service.DialogueInput(format="supply_chain", counterpart_id=world.chain, title="月例対話",
                                     start_local=soon(days=7), end_local=soon(days=7) + timedelta(hours=2),
                                     host_ids=[world.officer.id], purpose="毎月の情報共有")
        ids = [d.id for d in service.create_dialogues(db.session, db.session.get(UserAccount, world.officer.id),
                                                      data, "FREQ=WEEKLY;COUNT=3")]
        db.session.commit()
    _edit(app, world.officer.id, ids[1], following=True, level=1)
    with app.app_context():
        levels = {i: db.session.get(Dialogue, i).level for i in ids}
        assert [levels[i] for i in ids] == [0, 1, 1]
        for i in ids:
            raw = _raw(app, "dialogue", "purpose_ct", i)
            assert Dialogue.purpose.open_column(raw, i, levels[i]) == "毎月の情報共有"


def test_a_level_lowered_in_sql_makes_purpose_and_status_reason_unreadable(app, world, cleared):
    did = plan(app, world.officer.id, counterpart=world.chain, start=soon(days=5), level=1,
               purpose="限定の技術情報を共有する")
    [(inv_id, _t)] = invite_tokens(app, world.officer.id, did, service.InviteFilter(company_id=world.b))
    _change_status(app, world.officer.id, did, "postponed", "限定の事情により延期")
    officer, member = _client(app, world.officer), _client(app, world.b_member)
    assert "限定の技術情報" in officer.get(f"/dialogues/{did}").get_data(as_text=True)
    _set_raw(app, "dialogue", "level", did, 0)
    secrets = ["限定の技術情報", "限定の事情"]
    before = len(_crypto_audits(app))
    for client, path in ((officer, f"/dialogues/{did}"), (officer, f"/dialogues/{did}/dialogue.ics"),
                         (member, f"/portal/dialogues/{inv_id}"), (officer, f"/dialogues/{did}/edit")):
        _closed(app, client.get(path), secrets)
    audits = _crypto_audits(app)
    assert len(audits) == before + 4
    assert {(a["table"], a["row_id"]) for a in audits[before:]} == {("dialogue", did)}
    assert {a["column"] for a in audits[before:]} <= {"title", "purpose", "status_reason", "venue", "online_url"}
    with app.app_context():
        d = db.session.get(Dialogue, did)
        for field in ("title", "purpose", "status_reason"):
            with pytest.raises(DecryptionError) as exc:
                getattr(d, field)
            assert exc.value.where == ("dialogue", field, did)


# --------------------------------------------------------------------------- swapped ciphertexts


def test_a_purpose_swapped_between_two_dialogues_fails_closed_and_is_audited(app, world):
    first = plan(app, world.officer.id, counterpart=world.chain, start=soon(days=4), title="第一の対話",
                 purpose="第一の目的: 半導体材料")
    second = plan(app, world.officer.id, counterpart=world.chain, start=soon(days=5), title="第二の対話",
                  purpose="第二の目的: 工作機械")
    a, b = _raw(app, "dialogue", "purpose_ct", first), _raw(app, "dialogue", "purpose_ct", second)
    _set_raw(app, "dialogue", "purpose_ct", first, b)
    _set_raw(app, "dialogue", "purpose_ct", second, a)
    officer = _client(app, world.officer)
    secrets = ["第一の目的", "第二の目的", "半導体材料", "工作機械"]
    for did in (first, second):
        before = len(_crypto_audits(app))
        _closed(app, officer.get(f"/dialogues/{did}"), secrets)
        audits = _crypto_audits(app)
        assert len(audits) == before + 1
        assert (audits[-1]["table"], audits[-1]["column"], audits[-1]["row_id"]) == ("dialogue", "purpose", did)
        assert not [s for s in secrets if s in json.dumps(audits[-1], ensure_ascii=False)]
    # the list opens no purpose, so it still works (first request after the tampering: not a cached body)
    listing = officer.get("/dialogues")
    assert listing.status_code == 200 and "第一の対話" in listing.get_data(as_text=True)


def test_a_withdrawal_reason_swapped_between_invitations_fails_closed_for_officer_and_invitee(app, world):
    did = plan(app, world.officer.id, counterpart=world.chain, start=soon(days=4))
    pairs = {u: i for i, u in _invitees(app, world, did)}
    first, second = pairs[world.a_member.id], pairs[world.b_member.id]
    with app.test_request_context():
        actor = db.session.get(UserAccount, world.officer.id)
        for inv_id, reason in ((first, "甲への誤送信"), (second, "乙への誤送信")):
            service.revoke_invitation(db.session, actor, db.session.get(Invitation, inv_id), reason, notifier(app))
        db.session.commit()
    a, b = _raw(app, "invitation", "revoke_reason_ct", first), _raw(app, "invitation", "revoke_reason_ct", second)
    _set_raw(app, "invitation", "revoke_reason_ct", first, b)
    _set_raw(app, "invitation", "revoke_reason_ct", second, a)
    secrets = ["甲への誤送信", "乙への誤送信"]
    _closed(app, _client(app, world.officer).get(f"/dialogues/{did}"), secrets)
    _closed(app, _client(app, world.b_member).get(f"/portal/dialogues/{second}"), secrets)
    audits = _crypto_audits(app)
    assert [(x["table"], x["column"]) for x in audits[-2:]] == [("invitation", "revoke_reason")] * 2
    assert audits[-1]["row_id"] == second


def test_a_classified_dialogues_reason_is_not_mailed(app):
    """Title, agenda and place of a classified dialogue stay behind the sign-in; so does its reason."""
    from types import SimpleNamespace

    from flask import render_template

    dialogue = SimpleNamespace(title="限定対話", status_reason="機密の中止理由", venue=None, online_url=None, agenda=[])
    when = SimpleNamespace(local="2026年12月1日 10:00")
    with app.test_request_context():
        def body(classified: bool) -> str:
            return render_template("meetings/mail/notice.txt", user=SimpleNamespace(display_name="試験"),
                                   dialogue=dialogue, kind="cancelled", when=when, zone="Asia/Tokyo", link="/p",
                                   rsvp=None, classified=classified, revoke_reason="", deadline=None)

        assert "機密の中止理由" in body(False)
        assert "機密の中止理由" not in body(True)
