"""Register forms. Choices come from the taxonomy (labels translated at render time); lengths are capped."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import EmailField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import Email, InputRequired, Length, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from clearance.forms import SafeForm
from dialogue.registry.service import corporate_number_problem
from dialogue.registry.taxonomy import (
    CRITICAL_MATERIALS,
    GROUP_KINDS,
    PREFECTURES,
    REGIONS,
    SECTORS,
    SIZE_CLASSES,
    TECH_FIELDS,
    TIERS,
)

_REQ = _l("This field is required.")


class MultiCheckboxField(SelectMultipleField):
    """A list of checkboxes (accessible as a fieldset in templates/registry/_macros.html)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _choices(labels: dict) -> list[tuple[str, object]]:
    return list(labels.items())


def prefecture_choices(locale: str) -> list[tuple[str, str]]:
    return [(code, ja if locale == "ja" else en) for code, (ja, en, _r) in PREFECTURES.items()]


def _valid_corporate_number(_form, field) -> None:
    problem = corporate_number_problem(field.data or "")
    if problem:
        raise ValidationError(str(problem))


class CompanyForm(SafeForm):
    corporate_number = StringField(_l("Corporate number"), validators=[InputRequired(_REQ), Length(max=40),
                                                                     _valid_corporate_number],
                                   render_kw={"inputmode": "numeric", "autocomplete": "off", "spellcheck": "false"})
    name_ja = StringField(_l("Name (Japanese)"), validators=[InputRequired(_REQ), Length(max=200)])
    name_en = StringField(_l("Name (English)"), validators=[InputRequired(_REQ), Length(max=200)])
    size_class = SelectField(_l("Size class"), choices=_choices(SIZE_CLASSES), validators=[InputRequired(_REQ)])
    prefecture = SelectField(_l("Prefecture"), choices=[], validators=[InputRequired(_REQ)])
    sectors = MultiCheckboxField(_l("Sectors"), choices=_choices(SECTORS),
                                 validators=[InputRequired(_l("Choose at least one sector."))])
    tech_field = SelectField(_l("Technology field"), choices=[("", _l("— none —")), *_choices(TECH_FIELDS)],
                             validators=[Optional()])
    materials = MultiCheckboxField(_l("Critical materials"), choices=_choices(CRITICAL_MATERIALS))
    key_products = TextAreaField(_l("Key products"), validators=[Optional(), Length(max=2000)],
                                 render_kw={"rows": 3})
    key_technologies = TextAreaField(_l("Key technologies"), validators=[Optional(), Length(max=2000)],
                                     render_kw={"rows": 3})
    associations = MultiCheckboxField(_l("Industry associations"), choices=[])


class CorrectionForm(SafeForm):
    """What a company may ask to correct: the profile without its number and memberships."""

    name_ja = StringField(_l("Name (Japanese)"), validators=[InputRequired(_REQ), Length(max=200)])
    name_en = StringField(_l("Name (English)"), validators=[InputRequired(_REQ), Length(max=200)])
    size_class = SelectField(_l("Size class"), choices=_choices(SIZE_CLASSES), validators=[InputRequired(_REQ)])
    prefecture = SelectField(_l("Prefecture"), choices=[], validators=[InputRequired(_REQ)])
    sectors = MultiCheckboxField(_l("Sectors"), choices=_choices(SECTORS),
                                 validators=[InputRequired(_l("Choose at least one sector."))])
    tech_field = SelectField(_l("Technology field"), choices=[("", _l("— none —")), *_choices(TECH_FIELDS)],
                             validators=[Optional()])
    materials = MultiCheckboxField(_l("Critical materials"), choices=_choices(CRITICAL_MATERIALS))
    key_products = TextAreaField(_l("Key products"), validators=[Optional(), Length(max=2000)], render_kw={"rows": 3})
    key_technologies = TextAreaField(_l("Key technologies"), validators=[Optional(), Length(max=2000)],
                                     render_kw={"rows": 3})
    note = TextAreaField(_l("Note to the ministry"), validators=[Optional(), Length(max=2000)], render_kw={"rows": 4})


class DecisionForm(SafeForm):
    reason = TextAreaField(_l("Reason (sent to the company)"), validators=[Optional(), Length(max=2000)],
                           render_kw={"rows": 3})


class AssociationForm(SafeForm):
    name_ja = StringField(_l("Name (Japanese)"), validators=[InputRequired(_REQ), Length(max=200)])
    name_en = StringField(_l("Name (English)"), validators=[InputRequired(_REQ), Length(max=200)])
    sectors = MultiCheckboxField(_l("Sectors"), choices=_choices(SECTORS),
                                 validators=[InputRequired(_l("Choose at least one sector."))])


class GroupForm(SafeForm):
    kind = SelectField(_l("Kind of group"), choices=_choices(GROUP_KINDS), validators=[InputRequired(_REQ)])
    name_ja = StringField(_l("Name (Japanese)"), validators=[InputRequired(_REQ), Length(max=200)])
    name_en = StringField(_l("Name (English)"), validators=[InputRequired(_REQ), Length(max=200)])
    sector = SelectField(_l("Sector"), choices=_choices(SECTORS), validators=[InputRequired(_REQ)])
    subject_ja = StringField(_l("Product or technology (Japanese)"), validators=[Optional(), Length(max=200)])
    subject_en = StringField(_l("Product or technology (English)"), validators=[Optional(), Length(max=200)])


class MemberForm(SafeForm):
    """Add a company to an association or group by its corporate number (there are thousands to choose from)."""

    corporate_number = StringField(_l("Corporate number of the company"),
                                   validators=[InputRequired(_REQ), Length(max=40), _valid_corporate_number],
                                   render_kw={"inputmode": "numeric", "autocomplete": "off", "spellcheck": "false"})
    tier = SelectField(_l("Tier"), choices=[("", "—"), *[(str(k), v) for k, v in TIERS.items()]],
                       validators=[Optional()])


class LinkForm(SafeForm):
    supplier = SelectField(_l("Supplier"), choices=[], validators=[InputRequired(_REQ)])
    customer = SelectField(_l("Customer"), choices=[], validators=[InputRequired(_REQ)])


class ContactForm(SafeForm):
    name = StringField(_l("Name"), validators=[InputRequired(_REQ), Length(max=120)],
                       render_kw={"autocomplete": "off"})
    department = StringField(_l("Department"), validators=[Optional(), Length(max=120)],
                             render_kw={"autocomplete": "off"})
    title = StringField(_l("Title"), validators=[Optional(), Length(max=120)], render_kw={"autocomplete": "off"})
    email = EmailField(_l("E-mail address"), validators=[Optional(), Email(_l("Enter a valid e-mail address.")),
                                                         Length(max=254)], render_kw={"autocomplete": "off"})
    phone = StringField(_l("Phone"), validators=[Optional(), Length(max=40)],
                        render_kw={"autocomplete": "off", "inputmode": "tel"})


class ImportForm(SafeForm):
    file = FileField(_l("CSV file"), validators=[InputRequired(_l("Choose a CSV file."))],
                     render_kw={"accept": ".csv,.txt,text/csv"})


class CompanyFilterForm(SafeForm):
    class Meta:
        csrf = False  # a GET filter changes nothing

    q = StringField(_l("Name, number or product contains"), validators=[Optional(), Length(max=100)])
    sector = SelectField(_l("Sector"), choices=[("", _l("All sectors")), *_choices(SECTORS)], validate_choice=False)
    region = SelectField(_l("Region"), choices=[("", _l("All regions")), *_choices(REGIONS)], validate_choice=False)
    size = SelectField(_l("Size class"), choices=[("", _l("All sizes")), *_choices(SIZE_CLASSES)],
                       validate_choice=False)
    tech_field = SelectField(_l("Technology field"), choices=[("", _l("All fields")), *_choices(TECH_FIELDS)],
                             validate_choice=False)
    material = SelectField(_l("Critical material"),
                           choices=[("", _l("All materials")), *_choices(CRITICAL_MATERIALS)], validate_choice=False)
    association = SelectField(_l("Industry association"), choices=[], validate_choice=False)
    group = SelectField(_l("Company group"), choices=[], validate_choice=False)


class AssociationFilterForm(SafeForm):
    class Meta:
        csrf = False

    q = StringField(_l("Name contains"), validators=[Optional(), Length(max=100)])
    sector = SelectField(_l("Sector"), choices=[("", _l("All sectors")), *_choices(SECTORS)], validate_choice=False)


class GroupFilterForm(SafeForm):
    class Meta:
        csrf = False

    q = StringField(_l("Name or subject contains"), validators=[Optional(), Length(max=100)])
    kind = SelectField(_l("Kind of group"), choices=[("", _l("All kinds")), *_choices(GROUP_KINDS)],
                       validate_choice=False)
    sector = SelectField(_l("Sector"), choices=[("", _l("All sectors")), *_choices(SECTORS)], validate_choice=False)


class CorrectionFilterForm(SafeForm):
    class Meta:
        csrf = False

    status = SelectField(_l("Status"), choices=[], validate_choice=False)
