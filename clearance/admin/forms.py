from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import DateField, EmailField, SelectField, StringField
from wtforms.validators import Email, InputRequired, Length, Optional, ValidationError

from clearance.forms import SafeForm

_REQ = _l("This field is required.")


class AccountForm(SafeForm):
    email = EmailField(_l("E-mail address"), validators=[InputRequired(_REQ), Email(_l("Enter a valid e-mail address.")), Length(max=254)])
    display_name = StringField(_l("Name"), validators=[InputRequired(_REQ), Length(max=120)])
    role = SelectField(_l("Role"), choices=[])
    company_id = SelectField(_l("Company"), choices=[], validate_choice=False)
    department = StringField(_l("Department"), validators=[Optional(), Length(max=120)])


class RoleForm(SafeForm):
    role = SelectField(_l("Role"), choices=[])


class AuditFilterForm(SafeForm):
    class Meta:
        csrf = False  # a GET filter changes nothing

    q = StringField(_l("Actor or summary contains"), validators=[Optional(), Length(max=100)])
    person = StringField(_l("Person"), validators=[Optional(), Length(max=254)])
    obj = StringField(_l("Object (an id or value in the details)"), validators=[Optional(), Length(max=100)])
    realm = SelectField(_l("Area"), choices=[], validate_choice=False)
    kind = SelectField(_l("Kind"), choices=[], validate_choice=False)
    start = DateField(_l("From"), validators=[Optional()])
    end = DateField(_l("To"), validators=[Optional()])

    def validate_start(self, field) -> None:
        _bounded(field)

    def validate_end(self, field) -> None:
        _bounded(field)


def _bounded(field) -> None:
    # Year 9999 + one day overflows, year 1 underflows the time-zone shift: keep dates sane.
    if field.data is not None and not 2000 <= field.data.year <= 2100:
        raise ValidationError(_l("Dates must lie between 2000 and 2100."))


class AccountFilterForm(SafeForm):
    class Meta:
        csrf = False

    q = StringField(_l("Name or e-mail contains"), validators=[Optional(), Length(max=100)])
    role = SelectField(_l("Role"), choices=[], validate_choice=False)
