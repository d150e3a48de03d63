"""SafeForm: the one base class of every form in Taiwa, where hostile input is refused.

WTForms trusts its form data: a file part sent under a text field's name reaches
`Length` as a FileStorage (TypeError), a JSON body reaches it as an int, a number
field takes 10**20 and a date field 9999-12-31. Every form class derives from
SafeForm (tests/test_hostile_input.py walks them all), so the rules below hold for
every form by construction, not view by view:

- a file part where the form expects text, or a form posted as JSON that is not a
  flat object of strings: 400, with a message naming the field, before WTForms
  sees the data;
- a date or date-time outside clearance.bounds.DATE_MIN..DATE_MAX, an integer
  beyond 32 bits, a number that is not finite: the field's own error, and the field
  reads as empty so no view computes with it.
"""

from __future__ import annotations

import math
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from flask import request
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from flask_wtf.file import FileField as FlaskFileField
from flask_wtf.form import _Auto, _is_submitted
from werkzeug.datastructures import CombinedMultiDict, ImmutableMultiDict
from werkzeug.exceptions import BadRequest
from wtforms import (
    DateField,
    DateTimeField,
    DateTimeLocalField,
    DecimalField,
    FileField,
    FloatField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
)
from wtforms.fields import MultipleFileField

from clearance import bounds

_FILE_FIELDS = (FileField, FlaskFileField, MultipleFileField)
_DATE_FIELDS = (DateField, DateTimeField, DateTimeLocalField)
_NUMBER_FIELDS = (IntegerField, DecimalField, FloatField)


class InputRefused(BadRequest):
    """400 with a message for the person who sent it (the error page shows `user_message`)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.user_message = message


def _text_only_formdata(form: Any) -> ImmutableMultiDict | None:
    """The request's form data for `form`, refusing what no browser sends for a text field."""
    for field in form:
        if not isinstance(field, _FILE_FIELDS) and field.name in request.files:
            raise InputRefused(_("“%(field)s” expects text, not a file. Nothing was saved.",
                                 field=field.label.text or field.name))
    if request.files:
        return CombinedMultiDict((request.files, request.form))  # type: ignore[return-value]
    if request.form:
        return request.form
    if request.is_json:
        payload = request.get_json(silent=True)
        flat = isinstance(payload, dict) and all(
            isinstance(v, str) or (isinstance(v, list) and all(isinstance(x, str) for x in v)) for v in payload.values()
        )
        if not flat:
            raise InputRefused(_("This form expects form fields, not other data. Nothing was saved."))
        return ImmutableMultiDict(payload)
    return None


def _out_of_bounds(field: Any) -> str | None:
    """The error for a value no view may compute with, or None."""
    data = field.data
    if data is None:
        return None
    if isinstance(field, _DATE_FIELDS) and isinstance(data, date | datetime) and not bounds.in_range(data):
        return _("Enter a date between %(first)s and %(last)s.", first=bounds.DATE_MIN.isoformat(),
                 last=bounds.DATE_MAX.isoformat())
    if isinstance(field, _NUMBER_FIELDS):
        if isinstance(data, Decimal) and not data.is_finite() or isinstance(data, float) and not math.isfinite(data):
            return _("Enter a number.")
        if isinstance(data, int | Decimal | float) and abs(data) > bounds.INT_MAX:
            return _("This number is too large.")
    return None


def _drop_blank_choices(field: Any) -> None:
    """`Optional()` ends validation, choice check included, when the raw input is whitespace: a choice
    of "\t" would reach the view as if it had been offered. No choice is blank, so blank means none."""
    if isinstance(field, SelectMultipleField) and isinstance(field.data, list):
        field.data = [v for v in field.data if not (isinstance(v, str) and not v.strip())]
    elif isinstance(field, SelectField | RadioField) and isinstance(field.data, str) and not field.data.strip():
        field.data = ""


class SafeForm(FlaskForm):
    class Meta(FlaskForm.Meta):
        def wrap_formdata(self, form: Any, formdata: Any) -> Any:
            if formdata is _Auto:
                return _text_only_formdata(form) if _is_submitted() else None
            return formdata

    def validate(self, extra_validators: Any = None) -> bool:
        # Bounds first, so inline validators (a period's end after its start…) never see 9999-12-31.
        refused = {}
        for field in self:
            _drop_blank_choices(field)
            message = _out_of_bounds(field)
            if message:
                refused[field.name] = message
                field.data = None
        ok = super().validate(extra_validators)
        for field in self:
            if field.name in refused:
                field.errors = [refused[field.name]]
        if refused:
            self._errors = None  # the cached errors dict predates the ones added here
        return ok and not refused

