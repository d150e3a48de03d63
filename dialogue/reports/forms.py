"""Report request forms: one per kind; each chooses the output format too."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, DateField, HiddenField, RadioField, SelectField, SelectMultipleField, ValidationError
from wtforms.validators import InputRequired, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from clearance.forms import SafeForm
from dialogue.registry.taxonomy import REGIONS, SECTORS

FORMAT_CHOICES = [("pdf", "PDF"), ("xlsx", "XLSX"), ("csv", "CSV")]


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _period(form) -> None:
    if form.date_from.data and form.date_to.data and form.date_from.data > form.date_to.data:
        raise ValidationError(_l("The period ends before it starts."))


class ReactionsForm(SafeForm):
    kind = HiddenField(default="reactions")
    date_from = DateField(_l("From"), validators=[Optional()])
    date_to = DateField(_l("To"), validators=[Optional()])
    sectors = MultiCheckboxField(_l("Sectors (none: all)"), choices=[(k, v) for k, v in SECTORS.items()],
                                 validators=[Optional()])
    regions = MultiCheckboxField(_l("Regions (none: all)"), choices=[(k, v) for k, v in REGIONS.items()],
                                 validators=[Optional()])
    include_classified = BooleanField(_l("Also quote items above public that I may read (the report is then labelled)"))
    appendix = BooleanField(_l("Also list every item in the PDF (up to 500; the XLSX always lists them all)"))
    fmt = RadioField(_l("Format"), choices=FORMAT_CHOICES, default="pdf", validators=[InputRequired()])

    def validate_date_to(self, _field) -> None:
        _period(self)


class ActivityForm(SafeForm):
    kind = HiddenField(default="activity")
    date_from = DateField(_l("From"), validators=[Optional()])
    date_to = DateField(_l("To"), validators=[Optional()])
    fmt = RadioField(_l("Format"), choices=FORMAT_CHOICES, default="pdf", validators=[InputRequired()])

    def validate_date_to(self, _field) -> None:
        _period(self)


class StatementForm(SafeForm):
    kind = HiddenField(default="statement")
    company_id = SelectField(_l("A company"), choices=[], validators=[Optional()], validate_choice=True)
    association_id = SelectField(_l("or industry association"), choices=[], validators=[Optional()],
                                 validate_choice=True)
    fmt = RadioField(_l("Format"), choices=FORMAT_CHOICES, default="pdf", validators=[InputRequired()])

    def validate_association_id(self, field) -> None:
        if bool(self.company_id.data) == bool(field.data):
            raise ValidationError(_l("Choose either a company or an association."))
