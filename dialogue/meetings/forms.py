"""Forms for the officers' dialogue pages, the portal and calendar settings. Lengths are capped."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from clearance.forms import SafeForm
from dialogue.meetings.labels import FORMAT_LABELS, LEVEL_LABELS
from dialogue.meetings.series import MAX_OCCURRENCES
from dialogue.meetings.times import COMMON_ZONES

_REQ = _l("This field is required.")
_DT = "%Y-%m-%dT%H:%M"


class MultiCheckbox(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class DialogueForm(SafeForm):
    format = SelectField(_l("Format"), choices=list(FORMAT_LABELS.items()), validators=[InputRequired(_REQ)])
    association_id = SelectField(_l("Industry association"), choices=[], validate_choice=False)
    group_id = SelectField(_l("Company group"), choices=[], validate_choice=False)
    company_number = StringField(_l("Company (corporate number)"), validators=[Optional(), Length(max=20)],
                                 render_kw={"inputmode": "numeric", "autocomplete": "off"})
    title = StringField(_l("Title"), validators=[InputRequired(_REQ), Length(max=200)])
    purpose = TextAreaField(_l("Purpose"), validators=[Optional(), Length(max=4000)], render_kw={"rows": 3})
    agenda = TextAreaField(_l("Agenda"), validators=[Optional(), Length(max=6000)], render_kw={"rows": 5})
    region = SelectField(_l("Region"), choices=[], validate_choice=False)
    venue = StringField(_l("Venue"), validators=[Optional(), Length(max=300)])
    online_url = StringField(_l("Online meeting link"), validators=[Optional(), Length(max=500)],
                             render_kw={"inputmode": "url", "placeholder": "https://"})
    start = DateTimeLocalField(_l("Start"), format=_DT, validators=[InputRequired(_REQ)])
    end = DateTimeLocalField(_l("End"), format=_DT, validators=[InputRequired(_REQ)])
    time_zone = SelectField(_l("Time zone"), choices=[(z, z) for z in COMMON_ZONES], default="Asia/Tokyo")
    hosts = MultiCheckbox(_l("Hosting officers"), choices=[], validate_choice=False)
    level = SelectField(_l("Classification"), choices=[(str(k), v) for k, v in LEVEL_LABELS.items()], default="0")
    answer_by = DateTimeLocalField(_l("Answer deadline"), format=_DT, validators=[Optional()])
    seat_limit = IntegerField(_l("Seat limit"), validators=[Optional(), NumberRange(min=1, max=10000)])
    repeat = SelectField(_l("Repeat"), choices=[
        ("", _l("Does not repeat")),
        ("weekly", _l("Every week")),
        ("biweekly", _l("Every two weeks")),
        ("monthly_nth", _l("Every month on the same weekday (e.g. every third Wednesday)")),
        ("custom", _l("Custom rule (RFC 5545 RRULE)")),
    ], default="")
    repeat_count = IntegerField(_l("Number of dialogues"), validators=[Optional(), NumberRange(min=2, max=MAX_OCCURRENCES)],
                                default=6)
    repeat_rule = StringField(_l("Custom rule"), validators=[Optional(), Length(max=300)],
                              render_kw={"placeholder": "FREQ=MONTHLY;BYDAY=3WE;COUNT=6", "spellcheck": "false"})
    confirm_overlap = BooleanField(_l("I know a host is busy then; plan it anyway"))
    #: only on the edit form of a dialogue in a series (removed otherwise)
    scope = RadioField(_l("Which dialogues to change"), choices=[
        ("one", _l("This dialogue only")),
        ("following", _l("This and all following dialogues in the series")),
    ], default="one")


class InviteFilterForm(SafeForm):
    """Read from the query string for the preview (no CSRF); posted with CSRF to send."""

    association_id = SelectField(_l("Members of the association"), choices=[], validate_choice=False)
    group_id = SelectField(_l("Members of the company group"), choices=[], validate_choice=False)
    tiers = MultiCheckbox(_l("Supply-chain tiers"), choices=[], coerce=int, validate_choice=False)
    regions = MultiCheckbox(_l("Regions"), choices=[], validate_choice=False)
    sectors = MultiCheckbox(_l("Sectors"), choices=[], validate_choice=False)
    sizes = MultiCheckbox(_l("Company size"), choices=[], validate_choice=False)
    company_number = StringField(_l("One company (corporate number)"), validators=[Optional(), Length(max=20)])
    fingerprint = HiddenField()


class StatusForm(SafeForm):
    status = HiddenField(validators=[InputRequired(_REQ), Length(max=16)])
    reason = TextAreaField(_l("Reason (sent to invitees)"), validators=[Optional(), Length(max=4000)],
                           render_kw={"rows": 2})


class RevokeForm(SafeForm):
    """Taking back one invitation. The reason's length is the service's to refuse, with a message."""

    reason = TextAreaField(_l("Reason (sent to the company)"), validators=[Optional()])


class DelegateForm(SafeForm):
    colleague = SelectField(_l("Colleague"), choices=[], validate_choice=False)


class TopicForm(SafeForm):
    kind = SelectField(_l("Kind"), choices=[("topic", _l("Topic")), ("question", _l("Question"))])
    body = TextAreaField(_l("Your topic or question"), validators=[InputRequired(_REQ), Length(max=4000)],
                         render_kw={"rows": 3})


class TimeZoneForm(SafeForm):
    time_zone = SelectField(_l("Your time zone"), choices=[(z, z) for z in COMMON_ZONES])


class ListFilterForm(SafeForm):
    class Meta:
        csrf = False

    q = StringField(_l("Search"), validators=[Optional(), Length(max=100)])
    status = SelectField(_l("Status"), choices=[], validate_choice=False)
    format = SelectField(_l("Format"), choices=[], validate_choice=False)
    region = SelectField(_l("Region"), choices=[], validate_choice=False)
    period = SelectField(_l("When"), choices=[("upcoming", _l("Upcoming")), ("past", _l("Past")), ("all", _l("All"))],
                         default="upcoming", validate_choice=False)
    mine = BooleanField(_l("Only mine"))
