"""The minutes document: what one revision holds, as plain dataclasses with a JSON form.

    attendees   who was invited and who actually came, with an optional note; each row has its own
                label (public unless raised: who attended a classified meeting can be material too)
    sections    discussion per agenda item, decisions, other notes — each with its own label,
                a "public" flag (goes into the 議事要旨) and the briefings it cites
    actions     action items (owner, due date, done); each sits under a section (its own
                section_key, or the decisions section) and may carry a higher label of its own
    feedback    feedback items captured inline; each sits under its section (or, without one, under
                the whole document) and may carry a higher label of its own

No part is unlabelled: `effective_labels()` gives every part the join of its parent's
label, its own label and the labels of the briefings its section cites. Who may read
which part is decided from those labels (dialogue.minutes.access) and a reader only
ever gets the copy dialogue.minutes.reader builds.

Validation lives here too, so the HTML form and the JSON API refuse the same
things with the same messages.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

from flask_babel import gettext as _

from clearance.labels import InvalidLabel, Label, NotHostedHere, join
from dialogue.feedback.taxonomy import INSTRUMENTS, SUBTOPICS

#: 2: attendees, actions and feedback carry their own level/compartments (default public / inherit);
#: actions may name their section; attendees have a note. Schema-1 JSON loads with those defaults.
SCHEMA = 2
MAX_SECTION_CHARS = 50_000
MAX_DOCUMENT_CHARS = 400_000
MAX_SECTIONS = 60
MAX_ROWS = 200
KEY = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
SECTION_KINDS = ("agenda", "decisions", "other")


class DocumentInvalid(ValueError):
    """The document may not be saved; `errors` lists (where, message) pairs in reading order."""

    def __init__(self, errors: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(f"{w}: {m}" for w, m in errors))
        self.errors = errors


@dataclass
class Attendee:
    key: str
    name: str
    organisation: str = ""
    #: company | ministry | other
    side: str = "company"
    attended: bool = True
    user_id: str | None = None
    company_id: str | None = None
    note: str = ""
    level: int = 0
    compartments: list[str] = field(default_factory=list)

    @property
    def label(self) -> Label:
        return Label.of(self.level, self.compartments)


@dataclass
class Section:
    key: str
    title: str
    body: str = ""
    kind: str = "agenda"
    agenda_item_id: str | None = None
    level: int = 0
    compartments: list[str] = field(default_factory=list)
    public: bool = False
    #: briefing ids this section draws on; the section's label is raised to cover them
    cites: list[str] = field(default_factory=list)

    @property
    def label(self) -> Label:
        return Label.of(self.level, self.compartments)


@dataclass
class ActionItem:
    key: str
    description: str
    owner: str = ""
    due: str | None = None  # ISO date
    done: bool = False
    #: the section it belongs to; None: the decisions section (the schema-1 rule)
    section_key: str | None = None
    level: int = 0
    compartments: list[str] = field(default_factory=list)

    @property
    def label(self) -> Label:
        return Label.of(self.level, self.compartments)


@dataclass
class InlineFeedback:
    key: str
    text: str
    subtopic: str
    instrument: str
    section_key: str | None = None
    company_id: str | None = None
    kind: str = "request"
    level: int = 0
    compartments: list[str] = field(default_factory=list)

    @property
    def label(self) -> Label:
        return Label.of(self.level, self.compartments)


@dataclass
class Document:
    attendees: list[Attendee] = field(default_factory=list)
    sections: list[Section] = field(default_factory=list)
    actions: list[ActionItem] = field(default_factory=list)
    feedback: list[InlineFeedback] = field(default_factory=list)

    def section(self, key: str | None) -> Section | None:
        return next((s for s in self.sections if s.key == key), None)

    def decisions(self) -> Section | None:
        return next((s for s in self.sections if s.kind == "decisions"), None)

    def parent_of_action(self, a: ActionItem) -> Section | None:
        return self.section(a.section_key) if a.section_key else self.decisions()

    def label(self, cited: dict[str, Label] | None = None) -> Label:
        """The join of every part's effective label: the label of the whole document."""
        return join(*effective_labels(self, cited).values())

    def to_json(self) -> str:
        return json.dumps({"schema": SCHEMA, **asdict(self)}, ensure_ascii=False, sort_keys=True,
                          separators=(",", ":"))

    def to_dict(self) -> dict[str, Any]:
        return {"schema": SCHEMA, **asdict(self)}


#: a part of a document: (group, key); group is one of GROUPS
Part = tuple[str, str]
GROUPS = ("attendees", "sections", "actions", "feedback")


def effective_labels(doc: Document, cited: dict[str, Label] | None = None) -> dict[Part, Label]:
    """The effective label of every part of `doc`, keyed by (group, key).

    section   its own label ⊔ the labels of the briefings it cites (`cited`: id → label; a cite
              missing from `cited` adds nothing here — access.py treats an unknown cite as unreadable)
    action    its section's effective label ⊔ its own (section: its section_key, else the decisions
              section; with neither, the whole document's sections)
    feedback  its section's effective label ⊔ its own (without a section: every section's)
    attendee  its own label (public by default)
    """
    cited = cited or {}
    out: dict[Part, Label] = {}
    for s in doc.sections:
        out[("sections", s.key)] = join(s.label, *(cited[b] for b in s.cites if b in cited))
    whole = join(*(out[("sections", s.key)] for s in doc.sections))
    for a in doc.actions:
        parent = doc.parent_of_action(a)
        out[("actions", a.key)] = join(out[("sections", parent.key)] if parent else whole, a.label)
    for f in doc.feedback:
        parent = doc.section(f.section_key)
        out[("feedback", f.key)] = join(out[("sections", parent.key)] if parent else whole, f.label)
    for at in doc.attendees:
        out[("attendees", at.key)] = at.label
    return out


def parent_part(doc: Document, group: str, item: Any) -> Part | None:
    """The section a part sits under (None for sections, attendees and unsectioned items)."""
    if group == "actions":
        parent = doc.parent_of_action(item)
    elif group == "feedback":
        parent = doc.section(item.section_key)
    else:
        return None
    return ("sections", parent.key) if parent is not None else None


def items(doc: Document, group: str) -> list[Any]:
    return getattr(doc, group)


def loads(text: str) -> Document:
    """Parse a stored revision (trusted: it was validated when saved)."""
    return from_dict(json.loads(text))


def from_dict(raw: Any) -> Document:
    """Build a document from untrusted JSON-like input; raises DocumentInvalid on shape errors."""
    if not isinstance(raw, dict):
        raise DocumentInvalid([("document", _("The document must be an object."))])
    errors: list[tuple[str, str]] = []

    def rows(name: str) -> list[dict]:
        value = raw.get(name, [])
        if not isinstance(value, list) or not all(isinstance(r, dict) for r in value):
            errors.append((name, _("Must be a list of objects.")))
            return []
        if len(value) > MAX_ROWS:
            errors.append((name, _("Too many entries (at most %(n)d).", n=MAX_ROWS)))
            return []
        return value

    def s(row: dict, key: str, default: str = "", limit: int = 300) -> str:
        value = row.get(key, default)
        if value is None:
            return default
        if not isinstance(value, str):
            errors.append((key, _("Must be text.")))
            return default
        if len(value) > limit:
            errors.append((key, _("Too long (at most %(n)d characters).", n=limit)))
            return value[:limit]
        return value

    def opt(row: dict, key: str) -> str | None:
        value = row.get(key)
        if value in (None, ""):
            return None
        return s(row, key, limit=40)

    def b(row: dict, key: str, default: bool) -> bool:
        value = row.get(key, default)
        if not isinstance(value, bool):
            errors.append((key, _("Must be true or false.")))
            return default
        return value

    def str_list(row: dict, key: str, limit: int = 20) -> list[str]:
        value = row.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) and len(v) <= 40 for v in value):
            errors.append((key, _("Must be a list of short codes.")))
            return []
        return list(dict.fromkeys(value))[:limit]

    def level(row: dict) -> int:
        value = row.get("level", 0)
        if isinstance(value, bool) or not isinstance(value, int):
            errors.append(("level", _("Must be a number.")))
            return 0
        return value

    doc = Document(
        attendees=[Attendee(key=s(r, "key", limit=40), name=s(r, "name", limit=120),
                            organisation=s(r, "organisation", limit=200), side=s(r, "side", "company", 16),
                            attended=b(r, "attended", True), user_id=opt(r, "user_id"), company_id=opt(r, "company_id"),
                            note=s(r, "note", limit=1000), level=level(r), compartments=str_list(r, "compartments"))
                   for r in rows("attendees")],
        sections=[Section(key=s(r, "key", limit=40), title=s(r, "title", limit=300),
                          body=s(r, "body", limit=MAX_SECTION_CHARS), kind=s(r, "kind", "agenda", 16),
                          agenda_item_id=opt(r, "agenda_item_id"), level=level(r),
                          compartments=str_list(r, "compartments"), public=b(r, "public", False),
                          cites=str_list(r, "cites", 50))
                  for r in rows("sections")],
        actions=[ActionItem(key=s(r, "key", limit=40), description=s(r, "description", limit=1000),
                            owner=s(r, "owner", limit=200), due=opt(r, "due"), done=b(r, "done", False),
                            section_key=opt(r, "section_key"), level=level(r), compartments=str_list(r, "compartments"))
                 for r in rows("actions")],
        feedback=[InlineFeedback(key=s(r, "key", limit=40), text=s(r, "text", limit=4000),
                                 subtopic=s(r, "subtopic", limit=40), instrument=s(r, "instrument", limit=32),
                                 section_key=opt(r, "section_key"), company_id=opt(r, "company_id"),
                                 kind=s(r, "kind", "request", 16), level=level(r),
                                 compartments=str_list(r, "compartments"))
                  for r in rows("feedback")],
    )
    if errors:
        raise DocumentInvalid(errors)
    return doc


def validate(doc: Document) -> list[tuple[str, str]]:
    """Every problem with a document, as (where, message); empty when it may be saved."""
    errors: list[tuple[str, str]] = []
    total = sum(len(s.body) + len(s.title) for s in doc.sections) + sum(len(f.text) for f in doc.feedback)
    if total > MAX_DOCUMENT_CHARS:
        errors.append(("document", _("The minutes are too long (at most %(n)d characters in all).",
                                     n=MAX_DOCUMENT_CHARS)))
    if len(doc.sections) > MAX_SECTIONS:
        errors.append(("sections", _("Too many sections (at most %(n)d).", n=MAX_SECTIONS)))
    keys: set[str] = set()
    for group, items in (("attendees", doc.attendees), ("sections", doc.sections), ("actions", doc.actions),
                         ("feedback", doc.feedback)):
        for item in items:
            if not KEY.match(item.key or ""):
                errors.append((group, _("An entry has a missing or malformed key.")))
            elif (group, item.key) in keys:
                errors.append((group, _("Two entries share the key %(key)s.", key=item.key)))
            keys.add((group, item.key))
    for a in doc.attendees:
        if not a.name.strip():
            errors.append((f"attendee {a.key}", _("Give the attendee's name.")))
        if a.side not in ("company", "ministry", "other"):
            errors.append((f"attendee {a.key}", _("Unknown side.")))
        if len(a.note) > 1000:
            errors.append((f"attendee {a.key}", _("Too long (at most %(n)d characters).", n=1000)))
    for group, label_items in (("attendee", doc.attendees), ("action", doc.actions), ("feedback", doc.feedback)):
        for item in label_items:
            try:
                Label.of(item.level, item.compartments)
            except NotHostedHere as exc:
                errors.append((f"{group} {item.key}", str(exc)))
            except InvalidLabel:
                errors.append((f"{group} {item.key}",
                               _("Choose a classification level and compartments from the lists.")))
    if sum(1 for s in doc.sections if s.kind == "decisions") > 1:
        errors.append(("sections", _("There is one decisions section.")))
    for s in doc.sections:
        where = s.title or s.key
        if s.kind not in SECTION_KINDS:
            errors.append((where, _("Unknown kind of section.")))
        if not s.title.strip():
            errors.append((where, _("Every section needs a title.")))
        if len(s.body) > MAX_SECTION_CHARS:
            errors.append((where, _("This section is too long (at most %(n)d characters).", n=MAX_SECTION_CHARS)))
        try:
            label = Label.of(s.level, s.compartments)
        except NotHostedHere as exc:
            errors.append((where, str(exc)))
            continue
        except InvalidLabel:
            errors.append((where, _("Choose a classification level and compartments from the lists.")))
            continue
        if s.public and not label.is_public:
            errors.append((where, _("Only a public section can go into the public summary.")))
    for a in doc.actions:
        if not a.description.strip():
            errors.append((f"action {a.key}", _("Describe the action.")))
        if a.due is not None:
            try:
                date.fromisoformat(a.due)
            except ValueError:
                errors.append((f"action {a.key}", _("The due date must be a date (YYYY-MM-DD).")))
        if a.section_key is not None and doc.section(a.section_key) is None:
            errors.append((f"action {a.key}", _("The action points at a section that does not exist.")))
    for f in doc.feedback:
        where = f"feedback {f.key}"
        if not f.text.strip():
            errors.append((where, _("Write the feedback.")))
        if f.subtopic not in SUBTOPICS:
            errors.append((where, _("Choose a sub-topic.")))
        if f.instrument not in INSTRUMENTS:
            errors.append((where, _("Choose a policy instrument.")))
        if f.kind not in ("request", "opinion"):
            errors.append((where, _("Choose whether this is a request or an opinion.")))
        if f.section_key is not None and doc.section(f.section_key) is None:
            errors.append((where, _("The feedback points at a section that does not exist.")))
    return errors
