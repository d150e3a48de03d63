"""The desk's forms.

Public forms (`DeskForm`) switch Flask-WTF's CSRF off, because its secret lives
in flask.session, which the desk never touches; the desk checks its own token
(dialogue.consult.desk_session) on every POST instead. The officers' forms are
ordinary FlaskForms with the app's CSRF.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    HiddenField,
    MultipleFileField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from clearance.forms import SafeForm
from dialogue.consult.taxonomy import CATEGORIES, LABELS, SECTORS, SIZE_CLASSES, STATUSES, TIERS

_REQ = _l("This field is required.")
MAX_TEXT = 20000


class DeskForm(SafeForm):
    class Meta:
        csrf = False  # checked against the desk session by the views


def _choices(options: dict, blank: str | None = None) -> list[tuple[str, str]]:
    out = [("", blank)] if blank is not None else []
    return out + [(k, v) for k, v in options.items()]


class SubmitForm(DeskForm):
    category = RadioField(_l("What is your consultation about?"), choices=_choices(CATEGORIES),
                          validators=[InputRequired(_l("Choose what your consultation is about."))])
    sector = SelectField(_l("Sector (optional)"), choices=_choices(SECTORS, _l("Prefer not to say")),
                         validators=[Optional()])
    tier = RadioField(_l("Where does your firm sit in the supply chain? (optional)"),
                      choices=_choices(TIERS, _l("Prefer not to say")), default="", validators=[Optional()])
    size_class = SelectField(_l("Company size (optional)"), choices=_choices(SIZE_CLASSES, _l("Prefer not to say")),
                             validators=[Optional()])
    text = TextAreaField(_l("Describe your situation"),
                         validators=[InputRequired(_l("Please describe your situation.")), Length(max=MAX_TEXT)],
                         render_kw={"rows": 12, "spellcheck": "true"})
    files = MultipleFileField(_l("Attach files (optional)"))
    keep_names = BooleanField(_l("Keep the names of my files (they may say who you are)"))
    #: honeypot: hidden from people by CSS and from screen readers; bots fill it in
    website = StringField(_l("Leave this field empty"), render_kw={"autocomplete": "off", "tabindex": "-1"})
    #: signed time the form was served (minimum time before sending, and single use)
    form_token = HiddenField()


class ConfirmForm(DeskForm):
    receipt = HiddenField()
    last_group = StringField(_l("To check your note, type the last five digits of the receipt"),
                             validators=[InputRequired(_REQ), Length(max=20)],
                             render_kw={"inputmode": "numeric", "autocomplete": "off", "spellcheck": "false"})
    written_down = BooleanField(_l("I have written down or printed my receipt and will keep it safe"),
                                validators=[InputRequired(_l("Please confirm that you have kept your receipt."))])


class OpenForm(DeskForm):
    receipt = StringField(_l("Receipt number"), validators=[InputRequired(_REQ), Length(max=120)],
                          render_kw={"inputmode": "numeric", "autocomplete": "off", "spellcheck": "false",
                                     "autocapitalize": "off", "placeholder": "12345 67890 12345 67890 12345"})


class ReplyForm(DeskForm):
    text = TextAreaField(_l("Your message"), validators=[Length(max=MAX_TEXT)], render_kw={"rows": 7})
    files = MultipleFileField(_l("Attach files (optional)"))
    keep_names = BooleanField(_l("Keep the names of my files (they may say who you are)"))


# ---------------------------------------------------------------------------
# Officers
# ---------------------------------------------------------------------------


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class OfficerReplyForm(SafeForm):
    text = TextAreaField(_l("Reply to the submitter"), validators=[Length(max=MAX_TEXT)], render_kw={"rows": 7})
    files = MultipleFileField(_l("Attach files (optional)"))


class AssignForm(SafeForm):
    assignee = SelectField(_l("Assigned officer"), choices=[], validate_choice=False)


class StatusForm(SafeForm):
    status = SelectField(_l("Move to"), choices=_choices(STATUSES))


class LabelsForm(SafeForm):
    labels = MultiCheckboxField(_l("Labels"), choices=_choices(LABELS), validate_choice=False)


class FeedbackForm(SafeForm):
    text = TextAreaField(_l("Anonymised text for the policy analysis"),
                         validators=[InputRequired(_REQ), Length(max=MAX_TEXT)], render_kw={"rows": 10})
    share_sector = BooleanField(_l("Pass on the sector"))
    share_tier = BooleanField(_l("Pass on the supply-chain tier"))
    share_size = BooleanField(_l("Pass on the company size"))
    anonymised = BooleanField(
        _l("I have removed names, places, products, dates and anything else that could identify the submitter"),
        validators=[InputRequired(_l("Confirm that the text is anonymised."))])


class RosterForm(SafeForm):
    user_id = SelectField(_l("Officer"), choices=[], validate_choice=False)
