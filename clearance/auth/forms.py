"""Sign-in and account forms. Lengths are capped so no field can carry a flood."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import EmailField, HiddenField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Email, EqualTo, InputRequired, Length

from clearance.auth.passwords import MAX_LENGTH
from clearance.forms import SafeForm

_REQ = _l("This field is required.")


class LoginForm(SafeForm):
    email = EmailField(_l("E-mail address"), validators=[InputRequired(_REQ), Length(max=254)],
                       render_kw={"autocomplete": "username", "autofocus": True})
    password = PasswordField(_l("Password"), validators=[InputRequired(_REQ), Length(max=MAX_LENGTH)],
                             render_kw={"autocomplete": "current-password"})
    next = HiddenField()


class CodeForm(SafeForm):
    code = StringField(
        _l("Code"),
        validators=[InputRequired(_REQ), Length(max=32)],
        render_kw={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True, "spellcheck": "false"},
    )


class EnrolForm(SafeForm):
    code = StringField(
        _l("Six-digit code from your app"),
        validators=[InputRequired(_REQ), Length(max=16)],
        render_kw={"autocomplete": "one-time-code", "inputmode": "numeric", "spellcheck": "false"},
    )


class EmptyForm(SafeForm):
    """A form with nothing but its CSRF token, for buttons that change state."""


class ForgotForm(SafeForm):
    email = EmailField(_l("E-mail address"), validators=[InputRequired(_REQ), Email(_l("Enter a valid e-mail address.")), Length(max=254)],
                       render_kw={"autocomplete": "email"})


class NewPasswordForm(SafeForm):
    password = PasswordField(_l("New password"), validators=[InputRequired(_REQ), Length(max=MAX_LENGTH)],
                             render_kw={"autocomplete": "new-password"})
    confirm = PasswordField(
        _l("New password again"),
        validators=[InputRequired(_REQ), EqualTo("password", _l("The two passwords differ."))],
        render_kw={"autocomplete": "new-password"},
    )


class ChangePasswordForm(NewPasswordForm):
    current = PasswordField(_l("Current password"), validators=[InputRequired(_REQ), Length(max=MAX_LENGTH)],
                            render_kw={"autocomplete": "current-password"})


class ConfirmPasswordForm(SafeForm):
    current = PasswordField(_l("Current password"), validators=[InputRequired(_REQ), Length(max=MAX_LENGTH)],
                            render_kw={"autocomplete": "current-password"})


class PreferencesForm(SafeForm):
    display_name = StringField(_l("Name"), validators=[DataRequired(_REQ), Length(max=120)])
    locale = SelectField(_l("Language"), choices=[("ja", "日本語"), ("en", "English")])
