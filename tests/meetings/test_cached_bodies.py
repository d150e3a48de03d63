"""Cached page bodies (clearance/freshness.py) on the dialogue list, the portal and the register:
never stale after a write, never shown to another viewer, never holding a session's secrets."""

from __future__ import annotations

import re
import time
from datetime import datetime, timedelta

from markupsafe import Markup
from sqlalchemy import select, text, update

from clearance import freshness, policy
from clearance.audit import AuditEntry
from clearance.db import db
from dialogue.meetings import service
from dialogue.meetings.models import Invitation
from dialogue.registry.models import Company
from tests.factories import sign_in
from tests.meetings.conftest import soon
from tests.meetings.helpers import invite_tokens, plan


def _client(app, person):
    c = app.test_client()
    assert sign_in(c, person).status_code == 302
    return c


def _generation(app) -> int:
    with app.app_context():
        return freshness.current(db.session)


def test_a_committed_change_moves_the_generation_and_a_rollback_does_not(app, factory):
    before = _generation(app)
    company = factory.company(name_ja="世代株式会社")
    assert _generation(app) > before
    moved = _generation(app)
    with app.app_context():
        db.session.get(Company, company).name_ja = "戻る株式会社"
        db.session.flush()
        db.session.rollback()
    assert _generation(app) == moved


def test_a_transaction_sees_its_own_commit_move_the_generation(app, factory):
    """Read once per transaction, but a view that commits and then renders must not reuse the old one."""
    company = factory.company(name_ja="自分の書き込み株式会社")
    with app.app_context():
        before = freshness.current(db.session)
        assert freshness.current(db.session) == before
        db.session.get(Company, company).name_en = "Own Write Ltd"
        db.session.commit()
        assert freshness.current(db.session) == before + 1


def test_a_bulk_statement_moves_the_generation_but_bookkeeping_does_not(app, factory):
    company = factory.company(name_ja="一括株式会社")
    before = _generation(app)
    with app.app_context():
        db.session.execute(update(Company).where(Company.id == company).values(name_en="Bulk Ltd"))
        db.session.commit()
    assert _generation(app) == before + 1
    with app.app_context():  # a sign-in throttle or an audit entry changes no page body
        db.session.execute(text("DELETE FROM throttle_bucket"))
        db.session.execute(update(AuditEntry).where(AuditEntry.seq < 0).values(summary="x"))
        db.session.commit()
    assert _generation(app) == before + 1


def test_a_new_dialogue_shows_in_the_list_at_once(app, world):
    c = _client(app, world.officer)
    assert "すぐ見える対話" not in c.get("/dialogues").get_data(as_text=True)
    assert "すぐ見える対話" not in c.get("/dialogues").get_data(as_text=True)  # now served from the cache
    plan(app, world.officer.id, counterpart=world.chain, start=soon(days=5), title="すぐ見える対話")
    assert "すぐ見える対話" in c.get("/dialogues").get_data(as_text=True)


def test_a_reply_shows_in_the_officers_counts_at_once(app, world):
    did = plan(app, world.officer.id, counterpart=world.chain, start=soon(days=6), title="数える対話")
    invite_tokens(app, world.officer.id, did, service.InviteFilter(group_id=world.chain))
    c = _client(app, world.officer)
    row = re.compile(r"数える対話.*?(\d+) / (\d+)", re.S)
    accepted, invited = map(int, row.search(c.get("/dialogues").get_data(as_text=True)).groups())
    assert accepted == 0 and invited > 0
    with app.app_context():
        inv = db.session.execute(select(Invitation).where(Invitation.dialogue_id == did)).scalars().first()
        inv.status = "accepted"
        accepted_id = inv.id
        db.session.commit()
    assert row.search(c.get("/dialogues").get_data(as_text=True)).group(1) == "1"
    with app.app_context():  # a withdrawn invitation no longer counts as invited
        other = db.session.execute(select(Invitation).where(Invitation.dialogue_id == did,
                                                            Invitation.id != accepted_id)).scalars().first()
        other.status = "revoked"
        db.session.commit()
    assert row.search(c.get("/dialogues").get_data(as_text=True)).groups() == ("1", str(invited - 1))


def test_company_b_never_gets_company_a_s_cached_portal(app, world):
    did = plan(app, world.officer.id, counterpart=world.chain, start=soon(days=7), title="甲だけの対話")
    invite_tokens(app, world.officer.id, did, service.InviteFilter(company_id=world.a))
    a, b = _client(app, world.a_member), _client(app, world.b_member)
    assert "甲だけの対話" in a.get("/portal/dialogues").get_data(as_text=True)
    assert "甲だけの対話" not in b.get("/portal/dialogues").get_data(as_text=True)
    assert "甲だけの対話" in a.get("/portal/dialogues").get_data(as_text=True)


def _token(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def test_cached_pages_hold_no_csrf_token_and_each_session_gets_its_own(app, world):
    """Given one account signed in twice (two sessions), when both load the cached portal page,
    then each page carries its own session's token, and no cached entry holds either."""
    first, second = _client(app, world.a_member), _client(app, world.a_member)
    page_1 = first.get("/portal/dialogues").get_data(as_text=True)
    page_1_again = first.get("/portal/dialogues").get_data(as_text=True)
    page_2 = second.get("/portal/dialogues").get_data(as_text=True)
    cache = app.extensions["taiwa_bodies"]
    assert cache.hits >= 2  # the second and third requests were served from the cache
    token_1, token_2 = _token(page_1), _token(page_2)
    assert token_1 != token_2 and _token(page_1_again) == token_1
    stored = [str(body) for _exp, body in cache._items.values() if isinstance(body, str)]
    assert stored and not any(token_1 in b or token_2 in b for b in stored)
    # and the token works: the sign-out form on a cached page signs the second session out
    assert second.post("/logout", data={"csrf_token": token_2}).status_code == 302
    assert second.get("/portal/dialogues").status_code == 302


def test_a_flash_message_is_shown_on_a_page_that_is_otherwise_cached(app, world):
    c = _client(app, world.officer)
    c.get("/dialogues")
    c.get("/dialogues")  # cached now
    with c.session_transaction() as s:
        s["_flashes"] = [("success", "保存しました（テスト）")]
    assert "保存しました（テスト）" in c.get("/dialogues").get_data(as_text=True)
    assert "保存しました（テスト）" not in c.get("/dialogues").get_data(as_text=True)


def test_a_body_does_not_outlive_the_viewers_clearance(app):
    """valid_until shortens a body's life to the moment a clearance lapses."""
    calls = []

    def render() -> str:
        calls.append(1)
        return "<p>classified title</p>"

    with app.test_request_context():
        soon_lapse = time.monotonic() + 1.0  # long enough for a loaded machine to make the second call
        freshness.cached_body(("t",), render, ttl=60, valid_until=lambda: soon_lapse)
        freshness.cached_body(("t",), render, ttl=60, valid_until=lambda: soon_lapse)
        assert len(calls) == 1
        time.sleep(max(0.0, soon_lapse - time.monotonic()) + 0.05)
        freshness.cached_body(("t",), render, ttl=60, valid_until=lambda: soon_lapse)
        assert len(calls) == 2


def test_changes_at_is_the_first_expiry_ahead():
    now = datetime(2026, 11, 26, 12, 0)
    personal = policy.PersonalFacts(status="valid", level=2, expires_at=now + timedelta(days=3),
                                    undertaking_signed=True)
    company = policy.CompanyFacts(status="valid", level=2, expires_at=now + timedelta(hours=5),
                                  departments=frozenset({"x"}))
    staff = policy.Subject(user_id="u", clearance=personal)
    member = policy.Subject(user_id="u", company_id="k", clearance=personal, certification=company)
    assert policy.changes_at(staff, now) == now + timedelta(days=3)
    assert policy.changes_at(member, now) == now + timedelta(hours=5)
    assert policy.changes_at(policy.Subject(user_id="u"), now) is None
    assert policy.changes_at(member, now + timedelta(days=4)) is None


def test_register_search_sees_a_new_company_at_once(app, factory):
    from clearance.permissions import Role

    officer = factory.person(Role.OFFICER)
    c = _client(app, officer)
    url = "/registry/companies?q=%E6%96%B0%E8%A6%8F"  # 新規
    assert "新規精密株式会社" not in c.get(url).get_data(as_text=True)
    assert "新規精密株式会社" not in c.get(url).get_data(as_text=True)
    factory.company(name_ja="新規精密株式会社")
    assert "新規精密株式会社" in c.get(url).get_data(as_text=True)


def test_the_cache_is_bounded_in_bytes_and_drops_the_least_recent():
    cache = freshness.BodyCache(max_bytes=1000)
    far = time.monotonic() + 60
    for i in range(10):
        cache.put(i, Markup.escape("x" * 200), far)
    assert cache._bytes <= 1000
    now = time.monotonic()
    assert cache.get(0, now) is None and cache.get(9, now) is not None
    cache.put("huge", Markup.escape("y" * 900), far)  # a quarter of the budget or more is never kept
    assert cache.get("huge", now) is None


def test_an_expired_clearance_is_not_served_from_a_body_cached_while_it_held(app, world):
    """Given a level-1 dialogue and an officer cleared until four seconds from now, when the list is
    cached while the clearance holds, then after it lapses (no write at all) the title is gone."""
    from clearance.db import utcnow
    from tests.clearance.helpers import grant

    plan(app, world.officer.id, counterpart=world.chain, start=soon(days=9), level=1, title="期限つき対話")
    lapse = utcnow() + timedelta(seconds=4)  # time for a loaded machine to sign in and load twice
    grant(app, world.officer.id, level=1, expires_at=lapse)
    c = _client(app, world.officer)
    assert "期限つき対話" in c.get("/dialogues").get_data(as_text=True)
    assert "期限つき対話" in c.get("/dialogues").get_data(as_text=True)
    time.sleep(max(0.0, (lapse - utcnow()).total_seconds()) + 0.2)
    assert "期限つき対話" not in c.get("/dialogues").get_data(as_text=True)


def test_a_savepoint_rolled_back_keeps_the_changes_flushed_before_it(app, factory):
    company = factory.company(name_ja="入れ子株式会社")
    before = _generation(app)
    with app.app_context():
        db.session.get(Company, company).name_en = "Nested Ltd"
        db.session.flush()
        with db.session.begin_nested() as sp:
            db.session.get(Company, company).name_ja = "取り消される名前"
            db.session.flush()
            sp.rollback()
        db.session.commit()
    assert _generation(app) == before + 1


def test_a_prefix_set_by_a_proxy_never_reaches_another_officers_register_page(app, factory):
    from clearance.permissions import Role

    a, b = factory.person(Role.OFFICER), factory.person(Role.OFFICER)
    ca, cb = _client(app, a), _client(app, b)
    planted = ca.get("/registry/companies?q=x", environ_overrides={"SCRIPT_NAME": "/evil"}).get_data(as_text=True)
    assert 'href="/evil/registry/' in planted
    assert "/evil/" not in cb.get("/registry/companies?q=x").get_data(as_text=True)
