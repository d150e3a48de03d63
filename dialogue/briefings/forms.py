"""Briefing forms. Choices are filled by the views from the register and the compartment list."""

from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, DateField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from clearance.forms import SafeForm
from clearance.labels import LEVEL_LABELS, Level

_REQ = _l("This field is required.")
MAX_BODY = 200_000
EMAIL_SPLIT = re.compile(r"[\s,;、，]+")


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def level_choices() -> list[tuple]:
    """The three hosted levels, and 特定秘密 shown but disabled so the refusal is visible, not hidden."""
    return [
        *[(str(int(lv)), f"{int(lv)} · {LEVEL_LABELS[lv]}") for lv in Level],
        ("3", _l("特定秘密 (Specially Designated Secrets) — not handled in Taiwa"), {"disabled": True}),
    ]


def emails_in(text: str | None) -> list[str]:
    return [e.strip().lower() for e in EMAIL_SPLIT.split(text or "") if e.strip()]


class BriefingForm(SafeForm):
    title = StringField(_l("Title"), validators=[InputRequired(_REQ), Length(max=200)])
    summary = TextAreaField(_l("Summary"), validators=[Optional(), Length(max=4000)])
    body = TextAreaField(_l("Body (Markdown)"), validators=[Optional(), Length(max=MAX_BODY)])
    level = SelectField(_l("Classification level"), choices=[], validate_choice=False, default="0")
    compartments = MultiCheckboxField(_l("Compartments (need to know)"), choices=[], validate_choice=True)
    designating_agency = StringField(_l("Designating agency"), validators=[Optional(), Length(max=120)])
    designation_number = StringField(_l("Designation number"), validators=[Optional(), Length(max=60)])
    designated_on = DateField(_l("Designated on"), validators=[Optional()])
    designation_expires_on = DateField(_l("Designation expires on"), validators=[Optional()])
    technology_domain = SelectField(_l("Technology domain"), choices=[], validate_choice=True, default="")
    risk_types = MultiCheckboxField(_l("Risk types"), choices=[])
    sectors = MultiCheckboxField(_l("Sectors"), choices=[])
    tech_fields = MultiCheckboxField(_l("Technology fields"), choices=[])
    materials = MultiCheckboxField(_l("Specified critical materials"), choices=[])
    release_all = BooleanField(_l("Release to every company in the dialogue"))
    release_companies = SelectMultipleField(_l("Release to companies"), choices=[])
    release_groups = SelectMultipleField(_l("Release to company groups"), choices=[])
    release_people = TextAreaField(_l("Release to named people (e-mail addresses)"),
                                   validators=[Optional(), Length(max=20_000)])
    handlers = TextAreaField(_l("Handler list (取扱者名簿): e-mail addresses"),
                             validators=[Optional(), Length(max=20_000)])
    expires_on = DateField(_l("Release ends on"), validators=[Optional()])


class LabelForm(SafeForm):
    level = SelectField(_l("New classification level"), choices=[], validate_choice=False)
    compartments = MultiCheckboxField(_l("Compartments (need to know)"), choices=[], validate_choice=True)
    designating_agency = StringField(_l("Designating agency"), validators=[Optional(), Length(max=120)])
    designation_number = StringField(_l("Designation number"), validators=[Optional(), Length(max=60)])
    designated_on = DateField(_l("Designated on"), validators=[Optional()])
    designation_expires_on = DateField(_l("Designation expires on"), validators=[Optional()])
    reason = TextAreaField(_l("Reason"), validators=[InputRequired(_REQ), Length(min=5, max=2000)])


class WithdrawForm(SafeForm):
    reason = TextAreaField(_l("Reason for withdrawal"), validators=[InputRequired(_REQ), Length(min=5, max=2000)])


class AttachmentForm(SafeForm):
    file = FileField(_l("Attachment"), validators=[FileRequired(_l("Choose a file."))])


class BriefingFilterForm(SafeForm):
    class Meta:
        csrf = False  # a GET filter changes nothing

    q = StringField(_l("Title contains"), validators=[Optional(), Length(max=100)])
    risk = SelectField(_l("Risk type"), choices=[], validate_choice=False)
    sector = SelectField(_l("Sector"), choices=[], validate_choice=False)
    level = SelectField(_l("Level"), choices=[], validate_choice=False)
    status = SelectField(_l("Status"), choices=[], validate_choice=False)
