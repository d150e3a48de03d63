"""Feedback forms. The sub-topic list is grouped by 3P category, so choosing it files the category too."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import DateField, RadioField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from clearance.forms import SafeForm
from dialogue.feedback.service import MAX_ANSWER, MAX_SECTORS, MAX_TEXT
from dialogue.feedback.taxonomy import CATEGORIES, INSTRUMENTS, KINDS, STATUSES, SUBTOPICS, subtopics_of
from dialogue.registry.taxonomy import REGIONS, SECTORS, SIZE_CLASSES, TIERS


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def subtopic_choices() -> dict[str, list[tuple[str, str]]]:
    """Sub-topics grouped under their category (rendered as <optgroup>)."""
    return {str(label): [(s.code, str(s.label)) for s in subtopics_of(code)] for code, label in CATEGORIES.items()}


def instrument_choices(blank: str | None = None) -> list[tuple[str, str]]:
    head = [("", blank)] if blank else []
    return head + [(k, str(v)) for k, v in INSTRUMENTS.items()]


def _known_subtopic(_form, field) -> None:
    if field.data not in SUBTOPICS:
        raise ValidationError(_l("Choose a topic from the list."))


def _max_sectors(_form, field) -> None:
    if len(field.data or []) > MAX_SECTORS:
        raise ValidationError(_l("Choose up to %(n)d sectors.", n=MAX_SECTORS))


class PortalFeedbackForm(SafeForm):
    """Company staff: a request or an opinion for the ministry."""

    kind = RadioField(_l("What is it?"), choices=[(k, v) for k, v in KINDS.items()], default="request",
                      validators=[InputRequired(_l("Choose whether this is a request or an opinion."))])
    # Rendered by hand with a blank first option; the choice is checked by _known_subtopic.
    subtopic = SelectField(_l("Topic"), validate_choice=False, validators=[
        DataRequired(_l("Choose the topic closest to what you want to say.")), _known_subtopic])
    instrument = SelectField(_l("Policy area (optional)"), validators=[Optional()])
    sectors = MultiCheckboxField(_l("Sectors concerned (optional)"), choices=[(k, v) for k, v in SECTORS.items()],
                                 validators=[Optional(), _max_sectors])
    text = TextAreaField(_l("Your request or opinion"), validators=[
        DataRequired(_l("Write what you would like the ministry to know.")),
        Length(max=MAX_TEXT, message=_l("Keep it under %(max)d characters.")),
    ])

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.subtopic.choices = subtopic_choices()
        self.instrument.choices = instrument_choices(str(_l("Let the ministry decide")))


class ClassifyForm(SafeForm):
    """Officers: where the item belongs."""

    subtopic = SelectField(_l("Sub-topic (and so the 3P category)"), validate_choice=False,
                           validators=[DataRequired(), _known_subtopic])
    instrument = SelectField(_l("Policy instrument"), validators=[DataRequired()])
    sectors = MultiCheckboxField(_l("Sectors"), choices=[(k, v) for k, v in SECTORS.items()],
                                 validators=[Optional(), _max_sectors])
    tier = SelectField(_l("Supply-chain tier"), choices=[("", "—")] + [(str(k), v) for k, v in TIERS.items()],
                       validators=[Optional()])
    region = SelectField(_l("Region"), choices=[("", "—")] + [(k, v) for k, v in REGIONS.items()],
                         validators=[Optional()])
    size_class = SelectField(_l("Company size"), choices=[("", "—")] + [(k, v) for k, v in SIZE_CLASSES.items()],
                             validators=[Optional()])

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.subtopic.choices = subtopic_choices()
        self.instrument.choices = instrument_choices()


class StatusForm(SafeForm):
    status = SelectField(_l("Status"), choices=[(k, v) for k, v in STATUSES.items() if k != "answered"],
                         validators=[DataRequired()])


class AnswerForm(SafeForm):
    answer = TextAreaField(_l("The ministry's official answer"), validators=[
        DataRequired(_l("Write the answer.")),
        Length(max=MAX_ANSWER, message=_l("Keep it under %(max)d characters.")),
    ])


class MeasuresForm(SafeForm):
    measures = MultiCheckboxField(_l("Policy measures this item informed"), validators=[Optional()], validate_choice=True)


class MeasureForm(SafeForm):
    title_ja = StringField(_l("Title (Japanese)"), validators=[DataRequired(), Length(max=200)])
    title_en = StringField(_l("Title (English)"), validators=[DataRequired(), Length(max=200)])
    category = SelectField(_l("3P category"), choices=[(k, v) for k, v in CATEGORIES.items()], validators=[DataRequired()])
    instrument = SelectField(_l("Policy instrument"), validators=[DataRequired()])
    announced_on = DateField(_l("Announced on"), validators=[Optional()])
    description = TextAreaField(_l("What the ministry did"), validators=[Optional(), Length(max=MAX_TEXT)])

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.instrument.choices = instrument_choices()


def category_of(subtopic: str) -> str:
    s = SUBTOPICS.get(subtopic)
    return s.category if s else ""
