"""The one rule, three ways, against a brute-force reference.

Random worlds of users, companies, groups, clearances, certifications, dates
and labelled briefings are written to the database (SQLite or PostgreSQL,
whichever the suite runs on); then for every user and every briefing:

* the pure ``policy.decide()``,
* the SQL filter ``policy.readable_clause()`` ("which may this user list"),
* the SQL filter ``policy.users_who_may_read()`` and ``policy.eligibility()``
  ("who could read at this label")

must all agree with ``reference()``, a plain restatement of the rule over the
world description that shares no code with clearance.policy.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, insert, select

from clearance import policy
from clearance.auth.models import UserAccount
from clearance.db import db
from clearance.labels import Compartment, Label, LabelCompartment
from clearance.people import (
    CertificationDepartment,
    ClearanceCompartment,
    CompanyCertification,
    HandlerEntry,
    PersonalClearance,
    ReleaseEntry,
)
from dialogue.briefings.models import LABELLED, Briefing
from dialogue.registry.models import Company, CompanyGroup, GroupMember

NOW = datetime(2026, 6, 1, 3, 0, 0)
CODES = ["SEMI", "BATT", "QNT"]
DEPTS = ["技術部", "調達部", "総務部"]
#: expiry instants around NOW, to hit the boundary (expires_at == NOW is already expired); weighted towards
#: "valid" facts so that most worlds differ from full access in one clause at a time
OFFSETS = [timedelta(days=400)] * 8 + [timedelta(days=-400), timedelta(seconds=-1), timedelta(0), timedelta(seconds=1)]
STATUSES = ["valid"] * 6 + ["suspended", "revoked"]
MOSTLY_TRUE = st.sampled_from([True] * 5 + [False])


@dataclass(frozen=True)
class Clr:
    status: str
    level: int
    expires_at: datetime
    undertaking: bool
    codes: frozenset[str]


@dataclass(frozen=True)
class Cert:
    status: str
    level: int
    expires_at: datetime
    depts: frozenset[str]


@dataclass(frozen=True)
class User:
    id: str
    active: bool
    company: int | None  # index into World.companies
    dept: str | None
    clearance: Clr | None


@dataclass(frozen=True)
class Doc:
    id: str
    level: int
    codes: frozenset[str]
    handlers: frozenset[int]  # user indexes
    release_all: bool
    release_companies: frozenset[int]
    release_groups: frozenset[int]
    release_users: frozenset[int]


@dataclass
class World:
    certs: list[Cert | None]  # per company
    groups: list[frozenset[int]]  # members (company indexes) per group
    users: list[User]
    docs: list[Doc]
    company_ids: list[str] = field(default_factory=list)
    group_ids: list[str] = field(default_factory=list)


def reference(w: World, ui: int, d: Doc, *, handlers: bool = True, release: bool = True) -> bool:
    """The rule as the issue states it, written out longhand."""
    u = w.users[ui]
    if not u.active:
        return False
    if d.level > 0 or d.codes:
        c = u.clearance
        if c is None or c.status != "valid" or c.expires_at <= NOW or not c.undertaking or c.level < d.level:
            return False
        if u.company is not None:
            k = w.certs[u.company]
            if k is None or k.status != "valid" or k.expires_at <= NOW or k.level < d.level or u.dept not in k.depts:
                return False
        if not d.codes <= c.codes:
            return False
        if handlers and d.level == 2 and ui not in d.handlers:
            return False
    if release and u.company is not None:
        in_group = any(u.company in members and gi in d.release_groups for gi, members in enumerate(w.groups))
        if not (d.release_all or u.company in d.release_companies or in_group or ui in d.release_users):
            return False
    return True


codes = st.frozensets(st.sampled_from(CODES), max_size=3)
#: people mostly hold every compartment and material mostly needs few, so the other clauses get exercised
held_codes = st.one_of(st.just(frozenset(CODES)), st.just(frozenset(CODES)), codes)
doc_codes = st.one_of(st.just(frozenset()), st.frozensets(st.sampled_from(CODES), max_size=1), codes)
levels = st.sampled_from([1, 2, 2])
clearances = st.builds(Clr, st.sampled_from(STATUSES), levels, st.sampled_from(OFFSETS).map(NOW.__add__),
                       MOSTLY_TRUE, held_codes)
certs = st.builds(Cert, st.sampled_from(STATUSES), levels, st.sampled_from(OFFSETS).map(NOW.__add__),
                  st.frozensets(st.sampled_from(DEPTS), min_size=1, max_size=3))


def sometimes_none(strategy):
    """Mostly present, sometimes missing."""
    return st.one_of(st.none(), strategy, strategy, strategy)


@st.composite
def worlds(draw) -> World:
    n_companies = draw(st.integers(1, 3))
    cert_list = [draw(sometimes_none(certs)) for _ in range(n_companies)]
    groups = [draw(st.frozensets(st.integers(0, n_companies - 1), max_size=n_companies)) for _ in range(2)]
    users = []
    for i in range(draw(st.integers(1, 8))):
        company = draw(sometimes_none(st.integers(0, n_companies - 1)))
        users.append(User(f"00000000-0000-4000-8000-{i:012d}", draw(MOSTLY_TRUE), company,
                          draw(sometimes_none(st.sampled_from(DEPTS))), draw(sometimes_none(clearances))))
    n = len(users)
    docs = []
    for i in range(draw(st.integers(1, 8))):
        docs.append(Doc(
            f"00000000-0000-4000-9000-{i:012d}", draw(st.integers(0, 2)), draw(doc_codes),
            draw(st.frozensets(st.integers(0, n - 1), max_size=n)), draw(st.booleans()),
            draw(st.frozensets(st.integers(0, n_companies - 1), max_size=2)),
            draw(st.frozensets(st.integers(0, 1), max_size=2)), draw(st.frozensets(st.integers(0, n - 1), max_size=2)),
        ))
    return World(cert_list, groups, users, docs)


def subject_of(w: World, ui: int) -> policy.Subject:
    """The same facts as plain values, built from the world (not from the database)."""
    u = w.users[ui]
    c, k = u.clearance, (w.certs[u.company] if u.company is not None else None)
    return policy.Subject(
        user_id=u.id, active=u.active, company_id=w.company_ids[u.company] if u.company is not None else None,
        department=u.dept,
        clearance=policy.PersonalFacts(c.status, c.level, c.expires_at, c.undertaking, c.codes) if c else None,
        certification=policy.CompanyFacts(k.status, k.level, k.expires_at, k.depts) if k else None,
        groups=frozenset(w.group_ids[g] for g, members in enumerate(w.groups) if u.company in members),
    )


def release_of(w: World, d: Doc) -> policy.Release:
    return policy.Release(d.release_all, frozenset(w.company_ids[c] for c in d.release_companies),
                          frozenset(w.group_ids[g] for g in d.release_groups),
                          frozenset(w.users[u].id for u in d.release_users))


# ---------------------------------------------------------------------------
# Pure: decide() against the reference, no database
# ---------------------------------------------------------------------------


@settings(max_examples=1500, deadline=None)
@given(worlds())
def test_decide_matches_the_reference(w):
    w.company_ids = [f"c{i}" for i in range(len(w.certs))]
    w.group_ids = ["g0", "g1"]
    for ui in range(len(w.users)):
        s = subject_of(w, ui)
        for d in w.docs:
            handlers = {w.users[h].id for h in d.handlers}
            got = policy.decide(s, Label.of(d.level, d.codes), NOW, handlers=handlers, release=release_of(w, d))
            assert got.allowed == reference(w, ui, d), (w.users[ui], d, got)
            assert got.clause in policy.CLAUSES
            assert got.allowed == (got.clause in ("public", "granted"))
            without = policy.decide(s, Label.of(d.level, d.codes), NOW, handlers=None, release=None)
            assert without.allowed == reference(w, ui, d, handlers=False, release=False)


# ---------------------------------------------------------------------------
# SQL: the same worlds in the database
# ---------------------------------------------------------------------------


def _clear() -> None:
    for model in (HandlerEntry, ReleaseEntry, LabelCompartment, Briefing, ClearanceCompartment, PersonalClearance,
                  CertificationDepartment, CompanyCertification, GroupMember, CompanyGroup, UserAccount, Company,
                  Compartment):
        db.session.execute(delete(model))
    db.session.commit()


def _store(w: World) -> None:
    from dialogue.registry import corporate_number

    _clear()
    db.session.execute(insert(Compartment), [{"code": c, "name_ja": c, "name_en": c, "created_at": NOW} for c in CODES])
    w.company_ids = [f"00000000-0000-4000-a000-{i:012d}" for i in range(len(w.certs))]
    w.group_ids = [f"00000000-0000-4000-b000-{i:012d}" for i in range(len(w.groups))]
    for i, cid in enumerate(w.company_ids):
        db.session.add(Company(id=cid, corporate_number=corporate_number.make(f"{i + 7 * 10**11:012d}"),
                               name_ja=f"会社{i}", name_en=f"Co {i}", size_class="small", prefecture="13", region="kanto"))
    for i, gid in enumerate(w.group_ids):
        db.session.add(CompanyGroup(id=gid, kind="technology", name_ja=f"群{i}", name_en=f"G{i}", sector="chemicals"))
    db.session.flush()
    for gi, members in enumerate(w.groups):
        for ci in members:
            db.session.add(GroupMember(id=f"00000000-0000-4000-c{gi:03d}-{ci:012d}", group_id=w.group_ids[gi],
                                       company_id=w.company_ids[ci]))
    for ci, k in enumerate(w.certs):
        if k is None:
            continue
        cid = f"00000000-0000-4000-d000-{ci:012d}"
        db.session.add(CompanyCertification(
            id=cid, company_id=w.company_ids[ci], level=k.level, agency="a", certified_on=(NOW - timedelta(days=999)).date(),
            contract_ref="c", expires_on=k.expires_at.date() + timedelta(days=1), expires_at=k.expires_at, status=k.status,
            in_force=True, reason="r", requested_by="t"))
        db.session.flush()
        for dept in k.depts:
            db.session.add(CertificationDepartment(certification_id=cid, department=dept))
    for ui, u in enumerate(w.users):
        db.session.add(UserAccount(
            id=u.id, email=f"u{ui}@example.jp", display_name=f"U{ui}", active=u.active, password_hash="x",
            role="company_member" if u.company is not None else "officer",
            company_id=w.company_ids[u.company] if u.company is not None else None, department=u.dept))
    db.session.flush()
    for ui, u in enumerate(w.users):
        c = u.clearance
        if c is None:
            continue
        pid = f"00000000-0000-4000-e000-{ui:012d}"
        db.session.add(PersonalClearance(
            id=pid, user_id=u.id, level=c.level, agency="a", notified_on=(NOW - timedelta(days=999)).date(),
            expires_on=c.expires_at.date() + timedelta(days=1), expires_at=c.expires_at,
            undertaking_signed=c.undertaking, status=c.status, in_force=True, reason="r", requested_by="t"))
        db.session.flush()
        for code in c.codes:
            db.session.add(ClearanceCompartment(clearance_id=pid, code=code))
    for d in w.docs:
        b = Briefing(id=d.id, title=d.id, summary="", level=d.level, status="released", sort_at=NOW, created_at=NOW,
                     updated_at=NOW)
        if d.level == 2:
            b.designating_agency, b.designation_number = "a", "n"
            b.designated_on, b.designation_expires_on = NOW.date(), NOW.date() + timedelta(days=9)
        db.session.add(b)
        db.session.flush()
        for code in d.codes:
            db.session.add(LabelCompartment(owner_table="briefing", owner_id=d.id, code=code))
        for h in d.handlers:
            db.session.add(HandlerEntry(owner_table="briefing", owner_id=d.id, user_id=w.users[h].id, added_at=NOW))
        entries = {("all", "")} if d.release_all else set()
        entries |= {("company", w.company_ids[c]) for c in d.release_companies}
        entries |= {("group", w.group_ids[g]) for g in d.release_groups}
        entries |= {("user", w.users[u].id) for u in d.release_users}
        for kind, target in entries:
            db.session.add(ReleaseEntry(owner_table="briefing", owner_id=d.id, kind=kind, target_id=target))
    db.session.commit()


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(w=worlds())
def test_sql_filters_match_the_reference(app, w):
    with app.app_context():
        _store(w)
        for ui, u in enumerate(w.users):
            expected = {d.id for d in w.docs if reference(w, ui, d)}
            # facts loaded from the database, as on every request
            loaded = policy.subject(db.session, u.id)
            assert loaded == subject_of(w, ui)
            listed = set(db.session.execute(
                select(Briefing.id).where(policy.readable_clause(LABELLED, loaded, NOW))).scalars())
            assert listed == expected, (u, [d for d in w.docs if (d.id in listed) != (d.id in expected)])
        for d in w.docs:
            label = Label.of(d.level, d.codes)
            expected_users = {w.users[ui].id for ui in range(len(w.users))
                              if reference(w, ui, d, handlers=False, release=False)}
            got = set(db.session.execute(select(UserAccount.id).where(policy.users_who_may_read(label, NOW))).scalars())
            assert got == expected_users, (d, got ^ expected_users)
            with_handlers = {w.users[ui].id for ui in range(len(w.users)) if reference(w, ui, d, release=False)}
            got_h = set(db.session.execute(select(UserAccount.id).where(
                policy.users_who_may_read(label, NOW, handlers_of=("briefing", d.id)))).scalars())
            assert got_h == with_handlers
            verdicts = policy.eligibility(db.session, label, [u.id for u in w.users], NOW)
            assert {uid for uid, v in verdicts.items() if v.allowed} == expected_users
        _clear()
