"""Forms of the security officers' pages. They carry only the outcome of an assessment:
there is deliberately no field for questionnaire or investigation data."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, DateField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from clearance.forms import SafeForm
from clearance.labels import LEVEL_LABELS, Level

_REQ = _l("This field is required.")


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def clearance_level_choices() -> list[tuple]:
    return [
        (str(int(lv)), f"{int(lv)} · {LEVEL_LABELS[lv]}") for lv in (Level.OFFICIAL_SENSITIVE, Level.CRITICAL)
    ] + [("3", _l("特定秘密 (Specially Designated Secrets) — not handled in Taiwa"), {"disabled": True})]


class ClearanceForm(SafeForm):
    level = SelectField(_l("Level"), choices=[], validate_choice=False, default="1")
    agency = StringField(_l("Assessing agency"), validators=[InputRequired(_REQ), Length(max=120)])
    notified_on = DateField(_l("Result notified on"), validators=[InputRequired(_REQ)])
    expires_on = DateField(_l("Expires on"), validators=[Optional()])
    undertaking_signed = BooleanField(_l("Confidentiality undertaking signed"))
    compartments = MultiCheckboxField(_l("Compartments (need to know)"), choices=[])
    reason = TextAreaField(_l("Reason for this record"), validators=[InputRequired(_REQ), Length(min=5, max=2000)])


class CertificationForm(SafeForm):
    level = SelectField(_l("Highest level"), choices=[], validate_choice=False, default="1")
    agency = StringField(_l("Certifying agency"), validators=[InputRequired(_REQ), Length(max=120)])
    certified_on = DateField(_l("Certified on"), validators=[InputRequired(_REQ)])
    contract_ref = StringField(_l("Contract reference"), validators=[InputRequired(_REQ), Length(max=120)])
    expires_on = DateField(_l("Expires on"), validators=[InputRequired(_REQ)])
    departments = MultiCheckboxField(_l("Authorised departments"), choices=[])
    other_departments = TextAreaField(_l("Other authorised departments (one per line)"),
                                      validators=[Optional(), Length(max=4000)])
    reason = TextAreaField(_l("Reason for this record"), validators=[InputRequired(_REQ), Length(min=5, max=2000)])


class ReasonForm(SafeForm):
    reason = TextAreaField(_l("Reason"), validators=[InputRequired(_REQ), Length(min=5, max=2000)])


class CompartmentForm(SafeForm):
    code = StringField(_l("Code"), validators=[InputRequired(_REQ), Length(min=2, max=16)])
    name_ja = StringField(_l("Name (Japanese)"), validators=[InputRequired(_REQ), Length(max=120)])
    name_en = StringField(_l("Name (English)"), validators=[InputRequired(_REQ), Length(max=120)])


class PeopleFilterForm(SafeForm):
    class Meta:
        csrf = False  # a GET filter changes nothing

    q = StringField(_l("Name or e-mail contains"), validators=[Optional(), Length(max=100)])
    standing = SelectField(_l("Clearance"), choices=[], validate_choice=False)


class CompanyFilterForm(SafeForm):
    class Meta:
        csrf = False

    q = StringField(_l("Company name contains"), validators=[Optional(), Length(max=100)])
