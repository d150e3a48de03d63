"""Minutes forms. The editor is one page of repeated rows (no JavaScript needed): its fields are read
into a Document here; what the document may hold is checked by document.validate() and service.save().

Ids the form must not be trusted with (the account behind an attendee, the
agenda item behind a section, the kind of a section) are taken from the stored
document by row key, never from the request.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import MultiDict
from wtforms import BooleanField, DateTimeLocalField, IntegerField, RadioField, SelectField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional
from wtforms.widgets import HiddenInput

from clearance.forms import SafeForm
from dialogue.minutes.document import (
    KEY,
    MAX_ROWS,
    ActionItem,
    Attendee,
    Document,
    DocumentInvalid,
    InlineFeedback,
    Section,
)
from dialogue.minutes.service import MAX_ADDENDUM, MAX_CORRECTION


class EditorForm(SafeForm):
    """CSRF and the revision the edit started from; the rows are parsed by parse_editor()."""

    base_revision = IntegerField(widget=HiddenInput(), validators=[InputRequired(), NumberRange(min=1)])


def _rows(form: MultiDict, prefix: str) -> list[dict[str, str | list[str]]]:
    """Collect fields named prefix-<n>-<name> into row dicts, in the order of n."""
    found: dict[int, dict[str, str | list[str]]] = {}
    for name in form:
        parts = name.split("-", 2)
        if len(parts) != 3 or parts[0] != prefix or not parts[1].isdigit():
            continue
        index = int(parts[1])
        if index >= MAX_ROWS * 2:
            continue
        values = form.getlist(name)
        found.setdefault(index, {})[parts[2]] = values if parts[2] in ("cites", "compartments") else values[-1]
    return [found[i] for i in sorted(found)][:MAX_ROWS]


def _text(row: dict, key: str, limit: int) -> str:
    value = row.get(key, "")
    return value[:limit] if isinstance(value, str) else ""


def _label(row: dict, old) -> tuple[int, list[str]]:
    """A row's own label: from its fields when the row has them, else kept from the stored row (a
    form without the label fields never lowers a label), else public."""
    if row.get("labelled") != "y":
        return (old.level, list(old.compartments)) if old is not None else (0, [])
    try:
        level = int(_text(row, "level", 2) or 0)
    except ValueError:
        level = -1  # refused by validate() with a message
    return level, [c for c in row.get("compartments", []) if isinstance(c, str) and c]


def parse_editor(form: MultiDict, stored: Document) -> Document:
    """Read the editor's rows. Raises DocumentInvalid on malformed keys; empty new rows are dropped.

    `stored` is the reader's copy (dialogue.minutes.reader), not the stored document: a row whose key
    the reader could not see is read as a new row, and service.save drops it in favour of the stored
    part it names."""
    errors: list[tuple[str, str]] = []
    stored_attendees = {a.key: a for a in stored.attendees}
    stored_sections = {s.key: s for s in stored.sections}
    stored_actions = {a.key: a for a in stored.actions}
    stored_feedback = {f.key: f for f in stored.feedback}

    def key_of(row: dict, group: str) -> str | None:
        key = row.get("key", "")
        if not isinstance(key, str) or not KEY.match(key):
            errors.append((group, str(_l("A row of the form was damaged. Reload the page."))))
            return None
        return key

    doc = Document()
    for row in _rows(form, "attendee"):
        key = key_of(row, "attendees")
        if key is None:
            continue
        old = stored_attendees.get(key)
        name = _text(row, "name", 120).strip()
        if not name and old is None:
            continue  # an unused blank row
        level, compartments = _label(row, old)
        doc.attendees.append(Attendee(
            key=key, name=name or (old.name if old else ""), organisation=_text(row, "organisation", 200).strip(),
            side=old.side if old else (_text(row, "side", 16) or "other"), attended=row.get("attended") == "y",
            user_id=old.user_id if old else None, company_id=old.company_id if old else None,
            note=_text(row, "note", 1000).strip() if "note" in row else (old.note if old else ""),
            level=level, compartments=compartments))
    for row in _rows(form, "section"):
        key = key_of(row, "sections")
        if key is None:
            continue
        old = stored_sections.get(key)
        title, body = _text(row, "title", 300).strip(), _text(row, "body", 60_000)
        if old is None and not title and not body.strip():
            continue
        if old is not None and old.kind == "other" and row.get("delete") == "y":
            continue  # officers may remove sections they added; agenda and decisions stay
        try:
            level = int(_text(row, "level", 2) or 0)
        except ValueError:
            level = -1  # refused by validate() with a message
        compartments = [c for c in row.get("compartments", []) if isinstance(c, str) and c]
        doc.sections.append(Section(
            key=key, title=title, body=body, kind=old.kind if old else "other",
            agenda_item_id=old.agenda_item_id if old else None, level=level, compartments=compartments,
            public=row.get("public") == "y", cites=[c for c in row.get("cites", []) if isinstance(c, str) and c]))
    for row in _rows(form, "action"):
        key = key_of(row, "actions")
        if key is None:
            continue
        description = _text(row, "description", 1000).strip()
        if not description:
            continue
        old_action = stored_actions.get(key)
        level, compartments = _label(row, old_action)
        section_key = (_text(row, "section", 40) or None) if "section" in row else \
            (old_action.section_key if old_action else None)
        doc.actions.append(ActionItem(key=key, description=description, owner=_text(row, "owner", 200).strip(),
                                      due=_text(row, "due", 10) or None, done=row.get("done") == "y",
                                      section_key=section_key, level=level, compartments=compartments))
    for row in _rows(form, "feedback"):
        key = key_of(row, "feedback")
        if key is None:
            continue
        text = _text(row, "text", 4000).strip()
        if not text:
            if key in stored_feedback:
                continue  # emptied: removed from the minutes
            continue
        level, compartments = _label(row, stored_feedback.get(key))
        doc.feedback.append(InlineFeedback(
            key=key, text=text, subtopic=_text(row, "subtopic", 40), instrument=_text(row, "instrument", 32),
            section_key=_text(row, "section", 40) or None, company_id=_text(row, "company", 36) or None,
            kind=_text(row, "kind", 16) or "request", level=level, compartments=compartments))
    if errors:
        raise DocumentInvalid(errors[:1])
    return doc


class ApproveInternalForm(SafeForm):
    deadline = DateTimeLocalField(_l("Participants may request corrections until"), format="%Y-%m-%dT%H:%M",
                                  validators=[DataRequired(_l("Choose a deadline."))])


class ReturnForm(SafeForm):
    note = TextAreaField(_l("Why it goes back to draft"), validators=[
        DataRequired(_l("Say why the minutes go back to draft.")), Length(max=1000)])


class AddendumForm(SafeForm):
    body = TextAreaField(_l("Addendum"), validators=[DataRequired(_l("Write the addendum.")),
                                                     Length(max=MAX_ADDENDUM)])
    level = SelectField(_l("Classification"), coerce=int, choices=[], validators=[InputRequired()])
    public = BooleanField(_l("Include in the public summary"))


class CorrectionForm(SafeForm):
    section = SelectField(_l("Section"), choices=[], validators=[Optional()], validate_choice=False)
    body = TextAreaField(_l("What should be corrected"), validators=[
        DataRequired(_l("Describe the correction you would like.")),
        Length(max=MAX_CORRECTION, message=_l("Keep it under %(max)d characters."))])


class ResolveForm(SafeForm):
    decision = RadioField(_l("Decision"), choices=[("accept", _l("Accepted (applied to the draft)")),
                                                   ("decline", _l("Declined"))],
                          validators=[InputRequired(_l("Choose accepted or declined."))])
    response = TextAreaField(_l("Answer to the participant"), validators=[Optional(), Length(max=MAX_CORRECTION)])


class RestoreForm(SafeForm):
    base_revision = IntegerField(validators=[InputRequired(), NumberRange(min=1)])
