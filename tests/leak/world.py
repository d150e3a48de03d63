"""The leak suite's world: readers of every kind, and a unique canary in every labelled or sealed field.

Each canary is a token ``CANARY<12 hex>`` planted (with some Japanese around it)
into one field of one object; the registry keeps what it is (kind, field,
label) and its *right*: who may read it, decided by the same rule the app
must follow (clearance.policy.decide over the object's label, handler list and
release list, narrowed by the area's own scoping: which companies may see the
object at all, officers only…). The checker then only has to find tokens in
an output and ask each one whether this reader may hold it.

Objects are made through the areas' services wherever they exist (briefings,
minutes, feedback, desk cases), so what is planted is what users would write;
fields of crypto.REGISTRY that the explicit planting did not reach get a
canary too (generically, like tests/crypto/population.py), so a sealed field
added later is covered without editing the suite.
"""

from __future__ import annotations

import copy
import io
import itertools
import os
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert, inspect, select

from clearance import policy
from clearance.auth.models import UserAccount
from clearance.crypto import REGISTRY
from clearance.db import db, new_id, utcnow
from clearance.labels import Compartment, Label, LabelCompartment, Level
from clearance.people import (
    CertificationDepartment,
    ClearanceCompartment,
    CompanyCertification,
    PersonalClearance,
    handlers_of,
    set_handlers,
)
from clearance.permissions import COMPANY_ROLES, Role
from tests.factories import Factory, Person, sign_in

DEPT = "技術開発本部"
FULL = os.environ.get("TAIWA_LEAK_FULL") == "1"


#: every kind the explicit planting writes (the at-rest test is parametrised over them)
EXPLICIT_KINDS = (
    "briefing.title", "briefing.summary", "briefing.body", "briefing.file", "briefing.file_name",
    "briefing.withdrawn_reason", "dialogue.title", "dialogue.venue", "dialogue.online_url", "dialogue.purpose",
    "dialogue.status_reason", "dialogue.agenda", "advance_topic.body", "invitation.revoke_reason",
    "minutes.attendee", "minutes.section.title", "minutes.section.body", "minutes.feedback", "minutes.action",
    "minutes.revision_note", "minutes.return_note", "minutes.correction", "minutes.correction_response",
    "minutes.addendum", "feedback.text", "feedback.answer", "desk.case_text", "desk.reply", "clearance.reason",
    "clearance.decision_reason", "clearance.status_reason", "certification.reason", "certification.decision_reason",
)


def token() -> str:
    return "CANARY" + uuid.uuid4().hex[:12]


# ---------------------------------------------------------------------------
# Rights: who may hold a canary
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class LabelRight:
    """Readable under clearance.policy at `label` (with the object's handler and release lists), and only
    by accounts the area lets see the object at all: officers unless `staff_only` is False, company staff
    only of `companies` (None: any company the release list reaches)."""

    label: Label
    handlers: frozenset[str] | None = None
    release: policy.Release | None = None
    companies: frozenset[str] | None = None
    staff_only: bool = False
    anonymous: bool = False

    def allows(self, session, user: UserAccount | None, subject: policy.Subject | None, now: datetime) -> bool:
        if user is None:
            return self.anonymous and self.label.is_public
        if user.role in COMPANY_ROLES:
            if self.staff_only:
                return False
            if self.companies is not None and user.company_id not in self.companies:
                return False
        handlers = self.handlers if self.label.level >= Level.CRITICAL else None
        return policy.decide(subject, self.label, now, handlers=handlers, release=self.release).allowed

    def describe(self) -> str:
        return f"label {self.label.code()}"


@dataclass(frozen=True)
class PeopleRight:
    """Readable by these accounts only (desk cases: the desk; clearance reasons: security officers…)."""

    user_ids: frozenset[str]
    why: str

    def allows(self, session, user, subject, now) -> bool:
        return user is not None and user.id in self.user_ids

    def describe(self) -> str:
        return self.why


@dataclass(frozen=True)
class NobodyRight:
    """A canary no reader may receive through a page (only used at rest, or for fields of unknown reach:
    those are checked against anonymous readers only, see `strict`)."""

    why: str
    strict: bool = False

    def allows(self, session, user, subject, now) -> bool:
        return not self.strict and user is not None

    def describe(self) -> str:
        return self.why


@dataclass(frozen=True)
class Canary:
    token: str
    kind: str  # what was planted: "briefing.title", "minutes.section.body", …
    label: str  # for messages: "2:SEMI", "desk", …
    right: Any
    object_id: str = ""

    def describe(self) -> str:
        return f"{self.token} ({self.kind} of {self.object_id[:8]}, {self.label}, readable by: {self.right.describe()})"


# ---------------------------------------------------------------------------
# Readers
# ---------------------------------------------------------------------------

#: every kind of reader the issue names; "anon" has no account
READER_KINDS = (
    "anon",
    "officer_none",  # officer without any clearance
    "officer_l1",  # level 1, every compartment
    "officer_l2",  # level 2, every compartment, on the handler lists (the author of everything)
    "officer_l2_nolist",  # level 2, every compartment, on no handler list
    "officer_wrongcomp",  # level 2 in another compartment only, on the handler lists
    "officer_expired",  # level 2, every compartment, expired
    "officer_suspended",  # level 2, every compartment, suspended
    "desk",  # desk officer (consultation desk roster), no clearance
    "security",  # security officer, no clearance
    "admin",  # administrator, no clearance
    "staff_cert",  # company staff, company certified at 2, cleared 2, invited, released to, on lists
    "staff_uncert",  # company staff, company NOT certified, cleared 2, invited, released to, on lists
    "staff_other",  # staff of another certified company, cleared 2, invited to nothing, released nothing
)


@dataclass
class Reader:
    kind: str
    person: Person | None
    client: Any = None

    @property
    def user_id(self) -> str | None:
        return self.person.id if self.person else None


@dataclass
class World:
    app: Any
    compartments: list[str]
    other_compartment: str
    labels: list[Label]
    readers: dict[str, Reader] = field(default_factory=dict)
    canaries: dict[str, Canary] = field(default_factory=dict)
    #: route argument name → ids of planted objects (path converters are filled from here)
    ids: dict[str, list[str]] = field(default_factory=dict)
    #: ids that belong together (a briefing and its file, a case and its attachment): tried first
    pairs: list[dict[str, str]] = field(default_factory=list)
    companies: dict[str, str] = field(default_factory=dict)
    #: the draft minutes whose API is probed with a stale base
    draft_minutes: str = ""
    files_dir: Path | None = None
    _rights_cache: dict[tuple[str, str], bool] = field(default_factory=dict)

    # -- planting -------------------------------------------------------------------------------------

    def plant(self, kind: str, label: Label | str, right: Any, object_id: str = "", text: str = "") -> str:
        """A new canary; returns the value to write (the token with a little text around it)."""
        t = token()
        self.canaries[t] = Canary(t, kind, label.code() if isinstance(label, Label) else label, right, object_id)
        return f"{text or '試験'} {t} 機密" if kind.split(".")[-1] not in ("online_url",) else f"https://meet.example.jp/{t}"

    def add_id(self, arg: str, value: str) -> None:
        self.ids.setdefault(arg, [])
        if value not in self.ids[arg]:
            self.ids[arg].append(value)

    # -- the oracle -----------------------------------------------------------------------------------

    def may_hold(self, user_id: str | None, tok: str) -> bool:
        """May this account (None: anonymous) receive this canary?"""
        key = (user_id or "", tok)
        if key not in self._rights_cache:
            c = self.canaries[tok]
            with self.app.app_context():
                user = db.session.get(UserAccount, user_id) if user_id else None
                subject = policy.subject(db.session, user_id) if user_id else None
                self._rights_cache[key] = bool(c.right.allows(db.session, user, subject, utcnow()))
        return self._rights_cache[key]

    def user_by_email(self, email: str) -> str | None:
        with self.app.app_context():
            return db.session.execute(select(UserAccount.id).where(UserAccount.email == email)).scalar()


# ---------------------------------------------------------------------------
# Building
# ---------------------------------------------------------------------------


def _grant(user_id: str, level: int, codes: Iterable[str], *, status: str = "valid", expired: bool = False,
           world: World) -> None:
    """A personal clearance in force, its reasons sealed canaries (readable by security officers)."""
    now = utcnow()
    expires_at = now - timedelta(days=2) if expired else now + timedelta(days=365)
    rid = new_id()
    right = PeopleRight(frozenset(world.security_ids), "security officers")
    rec = PersonalClearance(id=rid, user_id=user_id, level=level, agency="経済産業省", notified_on=date(2020, 1, 1),
                            expires_on=expires_at.date(), expires_at=expires_at, undertaking_signed=True,
                            status=status, in_force=True, requested_by="leak-suite")
    rec.reason = world.plant("clearance.reason", "security", right, rid)
    rec.decision_reason = world.plant("clearance.decision_reason", "security", right, rid)
    if status != "valid":
        rec.status_reason = world.plant("clearance.status_reason", "security", right, rid)
    db.session.add(rec)
    db.session.flush()
    codes = sorted(set(codes))
    if codes:
        db.session.execute(insert(ClearanceCompartment), [{"clearance_id": rid, "code": c} for c in codes])


def _certify(company_id: str, world: World) -> None:
    now = utcnow()
    rid = new_id()
    right = PeopleRight(frozenset(world.security_ids), "security officers")
    rec = CompanyCertification(id=rid, company_id=company_id, level=2, agency="経済産業省",
                               certified_on=date(2020, 1, 1), contract_ref="C-1",
                               expires_on=(now + timedelta(days=365)).date(), expires_at=now + timedelta(days=365),
                               status="valid", in_force=True, requested_by="leak-suite")
    rec.reason = world.plant("certification.reason", "security", right, rid)
    rec.decision_reason = world.plant("certification.decision_reason", "security", right, rid)
    db.session.add(rec)
    db.session.flush()
    db.session.execute(insert(CertificationDepartment), [{"certification_id": rid, "department": DEPT}])


def _labels(comps: list[str]) -> list[Label]:
    """Every level × (no compartment, each compartment) — and, in the full run, all compartments together."""
    out = []
    for level in (0, 1, 2):
        out.append(Label.of(level))
        out += [Label.of(level, [c]) for c in comps]
        if FULL and len(comps) > 1:
            out.append(Label.of(level, comps))
    return out


def build(app, tmp: Path) -> World:
    """Seed the demo (so every kind of route has something to show), then the readers and the canaries."""
    factory = Factory(app)
    with app.app_context():
        from dialogue.demo.seed import seed

        seed(db.session, app.config, tmp / "demo-accounts.json", if_empty=False)
        hosted = sorted(db.session.execute(select(Compartment.code)).scalars())
    assert len(hosted) >= 3, "the leak suite needs three hosted compartments"
    comps = hosted[:-1] if FULL else hosted[:2]
    other = hosted[-1]
    world = World(app=app, compartments=comps, other_compartment=other, labels=_labels(comps))
    world.files_dir = Path(app.config["TAIWA_FILES_DIR"])

    c_cert = factory.company(name_ja="漏洩試験認定株式会社")
    c_uncert = factory.company(name_ja="漏洩試験未認定株式会社")
    c_other = factory.company(name_ja="漏洩試験他社株式会社")
    world.companies = {"cert": c_cert, "uncert": c_uncert, "other": c_other}
    people: dict[str, Person | None] = {"anon": None}
    for kind in READER_KINDS[1:]:
        if kind.startswith("officer") or kind == "desk":
            people[kind] = factory.person(Role.OFFICER, display_name=f"読者 {kind}")
        elif kind == "security":
            people[kind] = factory.person(Role.SECURITY_OFFICER, display_name="読者 security")
        elif kind == "admin":
            people[kind] = factory.person(Role.ADMIN, display_name="読者 admin")
        else:
            company = {"staff_cert": c_cert, "staff_uncert": c_uncert, "staff_other": c_other}[kind]
            people[kind] = factory.person(Role.COMPANY_MEMBER, company_id=company, department=DEPT, totp=False,
                                          display_name=f"読者 {kind}")
    world.readers = {k: Reader(k, p) for k, p in people.items()}
    uid = {k: p.id for k, p in people.items() if p}
    with app.app_context():
        world.security_ids = [u for u in db.session.execute(select(UserAccount.id).where(
            UserAccount.role == Role.SECURITY_OFFICER.value)).scalars()]
        allc = comps + [other]
        _grant(uid["officer_l1"], 1, allc, world=world)
        _grant(uid["officer_l2"], 2, allc, world=world)
        _grant(uid["officer_l2_nolist"], 2, allc, world=world)
        _grant(uid["officer_wrongcomp"], 2, [other], world=world)
        _grant(uid["officer_expired"], 2, allc, expired=True, world=world)
        _grant(uid["officer_suspended"], 2, allc, status="suspended", world=world)
        for k in ("staff_cert", "staff_uncert", "staff_other"):
            _grant(uid[k], 2, allc, world=world)
        _certify(c_cert, world)
        _certify(c_other, world)
        db.session.commit()
        from dialogue.consult import service as consult

        consult.roster_add(db.session, db.session.get(UserAccount, uid["officer_l2"]), uid["desk"])
        db.session.commit()

    #: on every handler list of the planted level-2 objects
    world.handlers = frozenset(uid[k] for k in ("officer_l2", "officer_wrongcomp", "officer_expired",
                                                "officer_suspended", "staff_cert", "staff_uncert"))
    _briefings(world, uid)
    _dialogues_and_minutes(world, uid)
    _feedback(world, uid)
    _desk(world, uid)
    _registry_fill(world)
    with app.app_context():
        _ids_from_database(world)
        _audit_proofs(world)
    return world


def _audit_proofs(world: World) -> None:
    """Sign a checkpoint over everything the world wrote, so each entry's proof download answers;
    the oldest, a middle and the newest entry are probed (an entry names rows, never content)."""
    from sqlalchemy import func

    from clearance import audit
    from clearance.audit import AuditEntry

    audit.make_checkpoint(db.session)
    db.session.commit()
    low, high = db.session.execute(select(func.min(AuditEntry.seq), func.max(AuditEntry.seq))).one()
    for seq in sorted({low, (low + high) // 2, high}):
        world.add_id("seq", str(seq))


def user(user_id: str) -> UserAccount:
    return db.session.get(UserAccount, user_id)


# -- briefings --------------------------------------------------------------------------------------------


def _briefings(world: World, uid: dict[str, str]) -> None:
    from dialogue.briefings import service as bs

    release = [("company", world.companies["cert"]), ("company", world.companies["uncert"])]
    rel = policy.Release.from_entries(release)
    author = uid["officer_l2"]
    for i, label in enumerate(world.labels):
        with world.app.test_request_context():
            v = bs.viewer(db.session, user(author))
            right = LabelRight(label, frozenset(world.handlers), rel)
            bid_holder = new_id()  # the canary names the object after creation
            inp = bs.BriefingInput(
                title=world.plant("briefing.title", label, right, bid_holder, "ブリーフィング"),
                summary=world.plant("briefing.summary", label, right, bid_holder),
                body=world.plant("briefing.body", label, right, bid_holder),
                level=int(label.level), compartments=sorted(label.compartments),
                designation=bs.Designation("経済産業省", f"経安-2025-{i:03d}", date(2025, 6, 1), date(2030, 5, 31)),
                release=release, handler_ids=[],
            )
            b = bs.create(db.session, v, inp)
            if label.level == 2:
                # the list as it stands after some on it lost their standing (expired, suspended, company
                # certification lapsed): the service refuses them as new handlers, the rule must still hold
                set_handlers(db.session, "briefing", b.id, world.handlers | {author}, author)
            opened = bs.open_briefing(db.session, v, b.id, utcnow(), route="leak-suite")
            content = f"試験添付 {world.plant('briefing.file', label, right, b.id)}\n".encode()
            name = world.plant("briefing.file_name", label, right, b.id).split()[1]
            stored = bs.add_attachment(db.session, v, opened, io.BytesIO(content), f"{name}.txt")
            world.pairs.append({"briefing_id": b.id, "file_id": stored.id})
            bs.release(db.session, v, opened)
            if i % 3 == 2:  # a withdrawn one per level: its reason is labelled like the briefing
                opened = bs.open_briefing(db.session, v, b.id, utcnow(), route="leak-suite")
                bs.withdraw(db.session, v, opened, world.plant("briefing.withdrawn_reason", label, right, b.id))
            db.session.commit()
            _fix_object_ids(world, bid_holder, b.id)
            world.add_id("briefing_id", b.id)


def _fix_object_ids(world: World, placeholder: str, real: str) -> None:
    for t, c in list(world.canaries.items()):
        if c.object_id == placeholder:
            world.canaries[t] = Canary(c.token, c.kind, c.label, c.right, real)


# -- dialogues, invitations, minutes ----------------------------------------------------------------------


def _dialogue(world: World, uid: dict[str, str], label: Label, *, status: str = "invited", days: int = 10) -> str:
    from dialogue.meetings.models import AgendaItem, Dialogue, Invitation, dialogue_host

    # A dialogue carries a level and no compartments (the planning form offers none, docs/DECISIONS.md):
    # planting a compartment would describe a state the product cannot reach.
    label = Label.of(label.level)
    invited = frozenset({world.companies["cert"], world.companies["uncert"]})
    right = LabelRight(label, companies=invited)
    did = new_id()
    start = (utcnow() + timedelta(days=days)).replace(microsecond=0)
    d = Dialogue(id=did, level=int(label.level), format="company", company_id=world.companies["cert"],
                 title=world.plant("dialogue.title", label, right, did, "対話"), region="kanto",
                 venue=world.plant("dialogue.venue", label, right, did, "会議室"),
                 online_url=world.plant("dialogue.online_url", label, right, did),
                 starts_at=start, ends_at=start + timedelta(hours=2), time_zone="Asia/Tokyo", status=status,
                 created_by=uid["officer_l2"])
    d.purpose = world.plant("dialogue.purpose", label, right, did)
    if status in ("cancelled", "postponed"):
        d.status_reason = world.plant("dialogue.status_reason", label, right, did)
    db.session.add(d)
    db.session.flush()
    db.session.execute(insert(dialogue_host), [{"dialogue_id": did, "user_id": uid["officer_l2"]}])
    for pos in (1, 2):
        db.session.add(AgendaItem(id=new_id(), dialogue=d, position=pos,
                                  title=world.plant("dialogue.agenda", label, right, did, "議題")))
    for k, company in (("staff_cert", world.companies["cert"]), ("staff_uncert", world.companies["uncert"])):
        inv = Invitation(id=new_id(), dialogue_id=did, company_id=company, user_id=uid[k], status="accepted",
                         invited_by=uid["officer_l2"])
        db.session.add(inv)
        world.add_id("invitation_id", inv.id)
        world.pairs.append({"dialogue_id": did, "invitation_id": inv.id})
    world.add_id("dialogue_id", did)
    return did


def _dialogues_and_minutes(world: World, uid: dict[str, str]) -> None:
    from dialogue.meetings import service as ms
    from dialogue.meetings.models import Dialogue, Invitation

    with world.app.test_request_context():
        for i, label in enumerate(world.labels):
            status = ("invited", "cancelled", "postponed")[i % 3]
            _dialogue(world, uid, label, status=status, days=10 + i)
        db.session.commit()
        # a topic from the certified company and a revoked invitation, on a public dialogue
        pub = _dialogue(world, uid, Label.of(0), days=30)
        db.session.commit()
        inv = db.session.execute(select(Invitation).where(Invitation.dialogue_id == pub,
                                                          Invitation.user_id == uid["staff_cert"])).scalar_one()
        topic_right = LabelRight(Label.of(0), companies=frozenset({world.companies["cert"]}))
        ms.add_topic(db.session, user(uid["staff_cert"]), inv, "topic",
                     world.plant("advance_topic.body", "officers+own company", topic_right, pub))
        inv2 = db.session.execute(select(Invitation).where(Invitation.dialogue_id == pub,
                                                           Invitation.user_id == uid["staff_uncert"])).scalar_one()
        revoke_right = LabelRight(Label.of(0), companies=frozenset({world.companies["uncert"]}))
        ms.revoke_invitation(db.session, user(uid["officer_l2"]), inv2,
                             world.plant("invitation.revoke_reason", "officers+invitee", revoke_right, inv2.id),
                             lambda *a, **k: None)
        db.session.commit()
        _ = Dialogue

    # minutes: one draft (editor, API, 409) and one locked (portal, summary, addenda), both on a public
    # dialogue that was held, with a section at every label, inline feedback and action items
    draft = _held_minutes(world, uid, final="draft")
    locked = _held_minutes(world, uid, final="locked")
    world.draft_minutes = draft
    world.add_id("minutes_id", draft)
    world.add_id("minutes_id", locked)


def _held_minutes(world: World, uid: dict[str, str], *, final: str) -> str:
    from dialogue.meetings.models import Dialogue
    from dialogue.minutes import service as mins
    from dialogue.minutes.document import ActionItem, Attendee, InlineFeedback, Section

    invited = frozenset({world.companies["cert"], world.companies["uncert"]})
    with world.app.test_request_context():
        did = _dialogue(world, uid, Label.of(0), status="held", days=-3)
        db.session.commit()
        author = user(uid["officer_l2"])
        m = mins.create(db.session, db.session.get(Dialogue, did), actor=author)
        # the level-2 handler list: the same people as every other planted level-2 object
        set_handlers(db.session, "minutes", m.id, world.handlers, added_by=author.id)
        db.session.commit()
        mid = m.id
        minutes_handlers = frozenset(handlers_of(db.session, "minutes", mid))
        doc, rev = mins.current(db.session, m)
        doc = copy.deepcopy(doc)
        doc.sections = []
        doc.feedback = []
        doc.actions = []
        public_right = LabelRight(Label.of(0), companies=invited)
        doc.attendees.append(Attendee(key=mins.new_key("a"), name=world.plant("minutes.attendee", "0", public_right,
                                                                                mid, "出席者"),
                                      organisation="外部", side="other"))
        decisions_label = next(lab for lab in world.labels if lab.level == 1 and lab.compartments)
        for label in world.labels:
            right = LabelRight(label, minutes_handlers, companies=invited)
            key = mins.new_key("s")
            kind = "decisions" if label == decisions_label else "agenda"
            doc.sections.append(Section(
                key=key, kind=kind, level=int(label.level), compartments=sorted(label.compartments),
                title=world.plant("minutes.section.title", label, right, mid, "節"),
                body=world.plant("minutes.section.body", label, right, mid),
                public=label.is_public,
            ))
            doc.feedback.append(InlineFeedback(
                key=mins.new_key("f"), text=world.plant("minutes.feedback", label, right, mid),
                subtopic=_first_subtopic(), instrument=_first_instrument(),
                section_key=key, company_id=world.companies["cert"]))
            if kind == "decisions":
                for _k in range(2):
                    doc.actions.append(ActionItem(key=mins.new_key("t"),
                                                  description=world.plant("minutes.action", label, right, mid),
                                                  owner="担当"))
        top = Label.of(2, world.compartments)
        top_right = LabelRight(top, minutes_handlers, companies=invited)
        m = db.session.get(type(m), mid)
        mins.save(db.session, m, base=rev.number, document=doc, actor=author,
                  note=world.plant("minutes.revision_note", top, top_right, mid))
        db.session.commit()
        if final == "locked":
            _lock(world, uid, mid, invited, minutes_handlers)
        else:
            # sent back once: the return note is read by officers only
            m = db.session.get(type(m), mid)
            mins.submit_for_review(db.session, m, actor=author)
            mins.return_to_draft(db.session, m, actor=user(uid["officer_l2_nolist"]),
                                 note=world.plant("minutes.return_note", "officers", LabelRight(Label.of(0),
                                                  staff_only=True), mid))
            db.session.commit()
        return mid


def _lock(world: World, uid, mid: str, invited, minutes_handlers) -> None:
    from dialogue.minutes import service as mins
    from dialogue.minutes.models import Minutes

    m = db.session.get(Minutes, mid)
    author = user(uid["officer_l2"])
    mins.submit_for_review(db.session, m, actor=author)
    mins.approve_internal(db.session, m, actor=user(uid["officer_l2_nolist"]), deadline=utcnow() + timedelta(days=7))
    db.session.commit()
    doc, _rev = mins.current(db.session, m)
    for s in doc.sections:  # a correction request on each section, and an answer, labelled like the section
        right = LabelRight(s.label, minutes_handlers, companies=frozenset({world.companies["cert"]}))
        officer_right = LabelRight(s.label, minutes_handlers, companies=frozenset({world.companies["cert"]}))
        if s.level >= 1 and not FULL and s.compartments:
            continue  # a few are enough in the short run
        c = mins.request_correction(db.session, m, actor=user(uid["staff_cert"]),
                                    body=world.plant("minutes.correction", s.label, right, mid), section_key=s.key)
        db.session.commit()  # answered in a later request, as in the app
        m = db.session.get(Minutes, mid)
        cid = c.id
        response = world.plant("minutes.correction_response", s.label, officer_right, mid)
        with db.session.no_autoflush:  # see the report: the service's own autoflush trips its CHECK here
            mins.resolve_correction(db.session, m, cid, actor=author, accept=False, response=response)
        db.session.commit()
        world.add_id("correction_id", cid)
        world.pairs.append({"minutes_id": mid, "correction_id": cid})
    db.session.commit()
    m = db.session.get(Minutes, mid)
    mins.approve(db.session, m, actor=author)
    mins.lock(db.session, m, actor=author)
    db.session.commit()
    for label in world.labels:
        right = LabelRight(label, minutes_handlers, companies=invited, anonymous=False)
        mins.add_addendum(db.session, m, actor=author, body=world.plant("minutes.addendum", label, right, mid),
                          level=int(label.level), compartments=sorted(label.compartments), public=label.is_public)
    db.session.commit()


def _first_subtopic() -> str:
    from dialogue.feedback.taxonomy import SUBTOPICS

    return next(iter(SUBTOPICS))


def _first_instrument() -> str:
    from dialogue.feedback.taxonomy import INSTRUMENTS

    return next(iter(INSTRUMENTS))


# -- feedback ---------------------------------------------------------------------------------------------


def _feedback(world: World, uid: dict[str, str]) -> None:
    from dialogue.feedback import service as fs
    from dialogue.feedback.taxonomy import CATEGORIES, SUBTOPICS

    category = next(iter(CATEGORIES))
    subtopic = next(s for s, v in SUBTOPICS.items() if _category_of(v, s) in (category, None))
    with world.app.test_request_context():
        for label in world.labels:
            right = LabelRight(label, companies=frozenset({world.companies["cert"]}))
            fid = new_id()
            item = fs.create_item(db.session, fs.FeedbackInput(
                text=world.plant("feedback.text", label, right, fid), category=category, subtopic=subtopic,
                instrument=_first_instrument(), source="company", level=int(label.level),
                compartments=sorted(label.compartments), company_id=world.companies["cert"],
            ), actor=user(uid["officer_l2"]))
            db.session.flush()
            fs.answer(db.session, item, world.plant("feedback.answer", label, right, item.id),
                      actor=user(uid["officer_l2"]))
            _fix_object_ids(world, fid, item.id)
            world.add_id("item_id", item.id)
        db.session.commit()


def _category_of(value: Any, key: str) -> str | None:
    from dialogue.feedback import taxonomy

    mapping = getattr(taxonomy, "SUBTOPIC_CATEGORY", None)
    return mapping.get(key) if isinstance(mapping, dict) else None


# -- the consultation desk --------------------------------------------------------------------------------


def _desk(world: World, uid: dict[str, str]) -> None:
    from dialogue.consult import service as cs
    from dialogue.consult.models import ConsultCase
    from dialogue.consult.taxonomy import CATEGORIES

    right = PeopleRight(frozenset({uid["desk"]}), "desk officers")
    with world.app.test_request_context():
        sub = cs.submit_case(db.session, cs.NewCase(category=next(iter(CATEGORIES)),
                                                    text=world.plant("desk.case_text", "desk", right)),
                             ack_days=3)
        db.session.commit()
        case = db.session.get(ConsultCase, sub.case_id)
        cs.ministry_reply(db.session, user(uid["desk"]), case, world.plant("desk.reply", "desk", right, case.id), [])
        db.session.commit()
        world.add_id("case_id", case.id)


# -- every other sealed field, generically ----------------------------------------------------------------


def _registry_fill(world: World) -> None:
    """A canary in every crypto.REGISTRY field the explicit planting did not reach (a field added later
    is covered without editing the suite). The right follows the row's own label where it has one;
    otherwise the field's reach is unknown here and only anonymous readers are held to it."""
    from tests.crypto import population

    planted_tables = set()
    with world.app.app_context():
        for (cls, name), f in REGISTRY.items():
            table = getattr(cls, "__tablename__", None)
            if table is None or inspect(cls, raiseerr=False) is None:
                continue
            if table not in _live_tables():
                continue
            raw = getattr(cls, f.column_attr)
            has_canary = db.session.execute(select(cls.id).where(raw.isnot(None)).limit(1)).first()
            key = f"{table}.{name}"
            if _explicitly_planted(world, key):
                continue
            obj = None
            if has_canary:
                obj = db.session.execute(select(cls).where(raw.isnot(None)).limit(1)).scalar()
            if obj is None:
                obj = db.session.execute(select(cls).limit(1)).scalar()
            if obj is None:
                try:
                    obj = population.make_row(db.session, cls)
                except Exception as exc:
                    raise AssertionError(f"leak suite: cannot make a {cls.__name__} row for {key}: {exc}") from exc
            right = _generic_right(obj, world)
            value = world.plant(f"registry:{key}", getattr(right, "label", None) or "unknown", right, str(obj.id))
            try:
                current = getattr(obj, name)
            except Exception:  # a generated row's placeholder bytes are no ciphertext: nothing to keep
                current = None
            setattr(obj, name, _keeping_shape(current, value, f.binary))
            db.session.flush()
            planted_tables.add(key)
        db.session.commit()


def _keeping_shape(current: Any, value: str, binary: bool) -> Any:
    """The canary in the field's own shape: a JSON object gets one more key, a list one more entry (the
    app parses these fields; a bare string would only make it fail, not show anything)."""
    import json

    text = current.decode("utf-8", "replace") if isinstance(current, bytes) else current
    try:
        parsed = json.loads(text) if text else None
    except ValueError:
        parsed = None
    if isinstance(parsed, dict):
        value = json.dumps({**parsed, "leak_suite": value}, ensure_ascii=False)
    elif isinstance(parsed, list):
        value = json.dumps([*parsed, value], ensure_ascii=False)
    return value.encode() if binary else value


def _explicitly_planted(world: World, key: str) -> bool:
    aliases = {
        "briefing.summary": "briefing.summary", "briefing.body": "briefing.body",
        "briefing.withdrawn_reason": "briefing.withdrawn_reason", "stored_file.original_name": "briefing.file_name",
        "dialogue.purpose": "dialogue.purpose", "dialogue.status_reason": "dialogue.status_reason",
        "invitation.revoke_reason": "invitation.revoke_reason", "advance_topic.body": "advance_topic.body",
        "minutes.return_note": "minutes.return_note", "minutes_revision.content": "minutes.section.body",
        "minutes_revision.note": "minutes.revision_note", "minutes_correction.body": "minutes.correction",
        "minutes_correction.response": "minutes.correction_response", "minutes_addendum.body": "minutes.addendum",
        "feedback_item.text": "feedback.text", "feedback_item.answer": "feedback.answer",
        "personal_clearance.reason": "clearance.reason", "personal_clearance.decision_reason": "clearance.decision_reason",
        "personal_clearance.status_reason": "clearance.status_reason",
        "company_certification.reason": "certification.reason",
        "company_certification.decision_reason": "certification.decision_reason",
        "consult_message.body": "desk.case_text",
    }
    kind = aliases.get(key)
    return kind is not None and any(c.kind == kind for c in world.canaries.values())


def _live_tables() -> set[str]:
    return set(inspect(db.engine).get_table_names())


#: tables whose rows are read by a role, not under a label
ROLE_TABLES = {"personal_clearance": "security", "company_certification": "security"}


def _generic_right(obj: Any, world: World) -> Any:
    if ROLE_TABLES.get(obj.__tablename__) == "security":
        return PeopleRight(frozenset(world.security_ids), "security officers")
    level = getattr(obj, "level", None)
    if isinstance(level, int):
        codes = db.session.execute(select(LabelCompartment.code).where(
            LabelCompartment.owner_table == obj.__tablename__, LabelCompartment.owner_id == str(obj.id))).scalars()
        return LabelRight(Label.of(level, codes))
    return NobodyRight(f"{obj.__tablename__}: reach unknown to the suite, held to 'never anonymous'")


# -- route arguments from the database --------------------------------------------------------------------

#: route argument → (model, how many): arguments whose objects the suite does not plant but which exist
#: (the demo data and the planting made them); the first rows are used
ARG_TABLES: dict[str, tuple[str, str]] = {
    "account_id": ("clearance.auth.models", "UserAccount"),
    "user_id": ("clearance.auth.models", "UserAccount"),
    "company_id": ("dialogue.registry.models", "Company"),
    "association_id": ("dialogue.registry.models", "Association"),
    "group_id": ("dialogue.registry.models", "CompanyGroup"),
    "contact_id": ("dialogue.registry.models", "ContactPerson"),
    "request_id": ("dialogue.registry.models", "CorrectionRequest"),
    "batch_id": ("dialogue.registry.models", "ImportBatch"),
    "job_id": ("dialogue.reports.models", "ReportJob"),
    "file_id": ("clearance.files", "StoredFile"),
    "attachment_id": ("dialogue.consult.models", "ConsultAttachment"),
}


def _ids_from_database(world: World) -> None:
    import importlib

    for arg, (module, name) in ARG_TABLES.items():
        try:
            cls = getattr(importlib.import_module(module), name)
        except (ImportError, AttributeError):
            continue
        rows = list(db.session.execute(select(cls.id).limit(3)).scalars())
        # planted readers first: their own pages are where their data shows
        if arg in ("account_id", "user_id"):
            rows = [r.user_id for r in world.readers.values() if r.person] + rows
        if arg == "company_id":
            rows = list(world.companies.values()) + rows
        for r in rows:
            world.add_id(arg, str(r))


def sign_in_all(world: World) -> None:
    for r in world.readers.values():
        r.client = world.app.test_client()
        if r.person is not None:
            resp = sign_in(r.client, r.person)
            assert resp.status_code in (200, 302), f"{r.kind} cannot sign in: {resp.status_code}"


_ = (itertools, Callable, Level)


def snapshot_messages(world: World) -> None:
    """The mail outbox and the portal notifications as they stand after the planting (read before any
    request could deliver and blank them): (recipient account or None, where, text)."""
    from clearance.outbox import MailMessage
    from dialogue.portal.models import Notification

    out: list[tuple[str | None, str, str]] = []
    with world.app.app_context():
        emails = dict(db.session.execute(select(UserAccount.email, UserAccount.id)).all())
        for m in db.session.execute(select(MailMessage)).scalars():
            text = "\n".join([m.to_addr, m.subject or "", m.body or "", m.attachment_name or "", m.attachment or ""])
            out.append((emails.get(m.to_addr), f"mail to {m.to_addr} ({m.subject[:40]})", text))
        for n in db.session.execute(select(Notification)).scalars():
            out.append((n.user_id, f"notification {n.kind} to {n.user_id[:8]} ({n.link})", f"{n.title}\n{n.link}"))
    world.messages = out
