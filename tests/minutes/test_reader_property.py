"""Property: random labelled documents × random readers → the reader's copy never holds a part above the
reader and always holds every part the reader may read.

Each example stores a random document as a new revision (written directly: the property is about
reading, and random documents need not pass the author-side rules), then builds the copy through
reader.reader_view. The expectation is computed here independently: labels joined by hand from the
document's rules (a part under a section takes the join of both; a part under no section the join of
every section; a part under a section the reader may not read is withheld with it), and each label put
to clearance.policy.decide with the minutes' handler list at level 2. Every part's text is a canary.
"""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import update

from clearance import policy
from clearance.db import db, new_id, utcnow
from clearance.labels import Label
from clearance.people import handlers_of, set_handlers
from clearance.permissions import Role
from dialogue.minutes.document import ActionItem, Attendee, Document, InlineFeedback, Section
from dialogue.minutes.models import Minutes, MinutesRevision
from dialogue.minutes.reader import reader_view
from tests.clearance.helpers import certify, grant
from tests.feedback.world import user
from tests.minutes.helpers import start

COMPARTMENTS = ("BATT", "SEMI")
labels = st.tuples(st.integers(0, 2), st.sets(st.sampled_from(COMPARTMENTS)))


@st.composite
def documents(draw):
    n_sections = draw(st.integers(1, 4))
    section_labels = draw(st.lists(labels, min_size=n_sections, max_size=n_sections))
    decisions_at = draw(st.one_of(st.none(), st.integers(0, n_sections - 1)))
    owner = st.one_of(st.none(), st.integers(0, n_sections - 1))
    actions = draw(st.lists(st.tuples(owner, labels), max_size=4))
    feedback = draw(st.lists(st.tuples(owner, labels), max_size=4))
    attendees = draw(st.lists(labels, max_size=3))
    return section_labels, decisions_at, actions, feedback, attendees


def canary(group: str, i: int) -> str:
    return f"ZQ{group}{i:02d}QZ"


def build(spec) -> Document:
    section_labels, decisions_at, actions, feedback, attendees = spec
    doc = Document()
    for i, (level, comps) in enumerate(section_labels):
        doc.sections.append(Section(key=f"s{i}", title=canary("T", i), body=canary("B", i), level=level,
                                    compartments=sorted(comps), kind="decisions" if i == decisions_at else "agenda"))
    for i, (owner, (level, comps)) in enumerate(actions):
        doc.actions.append(ActionItem(key=f"t{i}", description=canary("A", i), owner=canary("O", i),
                                      section_key=None if owner is None else f"s{owner}", level=level,
                                      compartments=sorted(comps)))
    for i, (owner, (level, comps)) in enumerate(feedback):
        doc.feedback.append(InlineFeedback(key=f"f{i}", text=canary("F", i), subtopic="threat_information",
                                           instrument="dialogue", section_key=None if owner is None else f"s{owner}",
                                           level=level, compartments=sorted(comps)))
    for i, (level, comps) in enumerate(attendees):
        doc.attendees.append(Attendee(key=f"a{i}", name=canary("N", i), note=canary("M", i), side="other",
                                      level=level, compartments=sorted(comps)))
    return doc


def _join(*pairs: tuple[int, set[str]]) -> Label:
    """The join, by hand: the highest level and the union of compartments."""
    return Label.of(max((p[0] for p in pairs), default=0), set().union(*(p[1] for p in pairs)))


def expected(spec, subject, handlers, now) -> tuple[set[str], int]:
    """(canaries the reader must get, how many parts must be withheld)."""
    section_labels, decisions_at, actions, feedback, attendees = spec

    def may(label: Label) -> bool:
        return policy.decide(subject, label, now, handlers=handlers if label.level >= 2 else None,
                             release=None).allowed

    readable_sections = {i for i, lab in enumerate(section_labels) if may(_join(lab))}
    shown: set[str] = set()
    withheld = 0
    for i in range(len(section_labels)):
        if i in readable_sections:
            shown |= {canary("T", i), canary("B", i)}
        else:
            withheld += 1
    for group, rows, texts in (("actions", actions, ("A", "O")), ("feedback", feedback, ("F",))):
        for i, (owner, lab) in enumerate(rows):
            if group == "actions" and owner is None:
                owner = decisions_at
            if owner is None:
                ok = may(_join(*section_labels, lab))
            else:
                ok = owner in readable_sections and may(_join(section_labels[owner], lab))
            if ok:
                shown |= {canary(t, i) for t in texts}
            else:
                withheld += 1
    for i, lab in enumerate(attendees):
        if may(_join(lab)):
            shown |= {canary("N", i), canary("M", i)}
        else:
            withheld += 1
    return shown, withheld


def test_the_readers_copy_holds_exactly_what_the_reader_may_read(app, world, factory):
    minutes_id = start(app, world)
    people = {"host L2 BATT+SEMI on the list": world.officer}
    for name, level, comps in (("uncleared", None, ()), ("L1", 1, ()), ("L1 BATT", 1, ("BATT",)),
                               ("L1 SEMI", 1, ("SEMI",)), ("L2 BATT+SEMI off the list", 2, COMPARTMENTS),
                               ("L2 BATT on the list", 2, ("BATT",))):
        person = factory.person(Role.OFFICER)
        if level is not None:
            grant(app, person.id, level=level, compartments=comps)
        people[name] = person
    grant(app, world.officer.id, level=2, compartments=COMPARTMENTS)
    certify(app, world.a, level=1)
    grant(app, world.a_member.id, level=1, compartments=("BATT",))
    people["participant L1 BATT"] = world.a_member
    names = sorted(people)
    with app.test_request_context():
        listed = handlers_of(db.session, "minutes", minutes_id) | {people["L2 BATT on the list"].id}
        set_handlers(db.session, "minutes", minutes_id, listed, added_by=world.officer.id)
        db.session.commit()
        minutes = db.session.get(Minutes, minutes_id)
        handlers = handlers_of(db.session, "minutes", minutes_id)
        seen_withheld = seen_shown = 0

        @settings(max_examples=70, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        @given(spec=documents(), who=st.sampled_from(names))
        def check(spec, who):
            nonlocal seen_withheld, seen_shown
            doc = build(spec)
            number = minutes.current_revision + 1
            rev = MinutesRevision(id=new_id(), level=2, minutes_id=minutes_id, number=number, author_id=None,
                                  author_name="property")
            rev.content = doc.to_json()
            db.session.add(rev)
            db.session.execute(update(Minutes).where(Minutes.id == minutes_id).values(current_revision=number,
                                                                                      level=2))
            db.session.commit()
            db.session.refresh(minutes)
            reader = user(people[who].id)
            now = utcnow()
            copy = reader_view(db.session, reader, minutes, now=now)
            text = json.dumps(copy.to_dict(), ensure_ascii=False)
            want, withheld = expected(spec, policy.subject(db.session, reader), handlers, now)
            every = {c for c in _all_canaries(spec)}
            got = {c for c in every if c in text}
            assert got - want == set(), f"{who} got parts above them: {sorted(got - want)}"
            assert want - got == set(), f"{who} is missing parts they may read: {sorted(want - got)}"
            assert copy.withheld == withheld
            for group in ("attendees", "sections", "actions", "feedback"):
                for item in getattr(doc, group):
                    if canary({"attendees": "N", "sections": "T", "actions": "A", "feedback": "F"}[group],
                              int(item.key[1:])) not in want:
                        assert f'"{item.key}"' not in text  # not even the key of a withheld part
            seen_withheld += withheld > 0
            seen_shown += bool(want)

        check()
    assert seen_withheld and seen_shown  # the examples exercised both sides


def _all_canaries(spec) -> set[str]:
    section_labels, _d, actions, feedback, attendees = spec
    out = {canary(t, i) for i in range(len(section_labels)) for t in "TB"}
    out |= {canary(t, i) for i in range(len(actions)) for t in "AO"}
    out |= {canary("F", i) for i in range(len(feedback))}
    out |= {canary(t, i) for i in range(len(attendees)) for t in "NM"}
    return out
