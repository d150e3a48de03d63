"""Each clause of the rule on its own: from a world where a company member may read a level-2
briefing, change exactly one fact and check that decide(), the SQL list filter and the
who-may-read filter all deny, and that decide() names that clause."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import select

from clearance import policy
from clearance.auth.models import UserAccount
from clearance.db import db
from clearance.labels import Label
from dialogue.briefings.models import LABELLED, Briefing
from tests.clearance.test_policy_properties import NOW, Cert, Clr, Doc, User, World, _clear, _store, reference

FUTURE = NOW + timedelta(days=400)


def baseline() -> World:
    member = User("00000000-0000-4000-8000-000000000000", True, 0, "技術部",
                  Clr("valid", 2, FUTURE, True, frozenset({"SEMI", "QNT"})))
    officer = User("00000000-0000-4000-8000-000000000001", True, None, "経済安全保障政策室",
                   Clr("valid", 2, FUTURE, True, frozenset({"SEMI"})))
    doc = Doc("00000000-0000-4000-9000-000000000000", 2, frozenset({"SEMI"}), frozenset({0, 1}), False,
              frozenset({0}), frozenset(), frozenset())
    return World([Cert("valid", 2, FUTURE, frozenset({"技術部", "調達部"}))], [frozenset({0}), frozenset()],
                 [member, officer], [doc])


def _member(w: World, **kw) -> World:
    w.users[0] = replace(w.users[0], **kw)
    return w


def _clearance(w: World, **kw) -> World:
    return _member(w, clearance=replace(w.users[0].clearance, **kw))


def _cert(w: World, **kw) -> World:
    w.certs[0] = replace(w.certs[0], **kw)
    return w


def _doc(w: World, **kw) -> World:
    w.docs[0] = replace(w.docs[0], **kw)
    return w


CASES = {
    "account_inactive": lambda w: _member(w, active=False),
    "no_clearance": lambda w: _member(w, clearance=None),
    "clearance_suspended": lambda w: _clearance(w, status="suspended"),
    "clearance_revoked": lambda w: _clearance(w, status="revoked"),
    "clearance_expired": lambda w: _clearance(w, expires_at=NOW),  # expiring at this instant is expired
    "undertaking_not_signed": lambda w: _clearance(w, undertaking=False),
    "clearance_level": lambda w: _clearance(w, level=1),
    "no_certification": lambda w: (w.certs.__setitem__(0, None), w)[1],
    "certification_suspended": lambda w: _cert(w, status="suspended"),
    "certification_revoked": lambda w: _cert(w, status="revoked"),
    "certification_expired": lambda w: _cert(w, expires_at=NOW - timedelta(days=1)),  # expired yesterday
    "certification_level": lambda w: _cert(w, level=1),
    "department_not_covered": lambda w: _member(w, dept="総務部"),
    "compartment": lambda w: _doc(w, codes=frozenset({"SEMI", "BATT"})),
    "handler_list": lambda w: _doc(w, handlers=frozenset({1})),
    "not_released": lambda w: _doc(w, release_companies=frozenset()),
}


def _check(app, w: World) -> tuple[policy.Decision, bool, bool]:
    with app.app_context():
        _store(w)
        d = w.docs[0]
        s = policy.subject(db.session, w.users[0].id)
        handlers = {w.users[h].id for h in d.handlers}
        release = policy.Release(d.release_all, frozenset(w.company_ids[c] for c in d.release_companies),
                                 frozenset(w.group_ids[g] for g in d.release_groups),
                                 frozenset(w.users[u].id for u in d.release_users))
        label = Label.of(d.level, d.codes)
        decision = policy.decide(s, label, NOW, handlers=handlers, release=release)
        listed = d.id in set(db.session.execute(
            select(Briefing.id).where(policy.readable_clause(LABELLED, s, NOW))).scalars())
        eligible = w.users[0].id in set(db.session.execute(select(UserAccount.id).where(
            policy.users_who_may_read(label, NOW, handlers_of=("briefing", d.id)))).scalars())
        _clear()
        return decision, listed, eligible


def test_baseline_member_may_read(app):
    decision, listed, eligible = _check(app, baseline())
    assert decision == policy.Decision(True, "granted") and listed and eligible
    assert reference(baseline(), 0, baseline().docs[0])


@pytest.mark.parametrize("clause", sorted(CASES))
def test_each_clause_alone_denies_everywhere(app, clause):
    w = CASES[clause](baseline())
    assert not reference(w, 0, w.docs[0])
    decision, listed, eligible = _check(app, w)
    assert decision == policy.Decision(False, clause)
    assert not listed, f"{clause}: the list filter still shows the briefing"
    if clause != "not_released":  # who-may-read ignores release lists: an invitation is the release
        assert not eligible, f"{clause}: users_who_may_read still includes the member"


def test_release_through_a_group_or_by_name_reaches_the_member(app):
    for change in (dict(release_companies=frozenset(), release_groups=frozenset({0})),
                   dict(release_companies=frozenset(), release_users=frozenset({0})),
                   dict(release_companies=frozenset(), release_all=True)):
        decision, listed, _ = _check(app, _doc(baseline(), **change))
        assert decision.allowed and listed, change


def test_officers_need_a_clearance_like_anyone_else(app):
    w = baseline()
    w.users[1] = replace(w.users[1], clearance=None)
    with app.app_context():
        _store(w)
        s = policy.subject(db.session, w.users[1].id)
        label = Label.of(1)
        assert policy.decide(s, label, NOW, handlers=set(), release=None) == policy.Decision(False, "no_clearance")
        assert not db.session.execute(select(Briefing.id).where(policy.readable_clause(LABELLED, s, NOW))).first()
        _clear()


def test_public_material_needs_no_clearance_but_still_a_release(app):
    w = _member(_doc(baseline(), level=0, codes=frozenset(), handlers=frozenset()), clearance=None)
    decision, listed, eligible = _check(app, w)
    assert decision == policy.Decision(True, "public") and listed and eligible
    decision, listed, _ = _check(app, _doc(w, release_companies=frozenset()))
    assert decision == policy.Decision(False, "not_released") and not listed
