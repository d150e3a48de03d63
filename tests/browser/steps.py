"""Steps the browser tests share: sign in, sign out, read the page language."""

from __future__ import annotations

import re

from tests.factories import Person, totp_code


def submit_password(pg, person: Person) -> None:
    pg.goto("/login")
    pg.fill("#email", person.email)
    pg.fill("#password", person.password)
    pg.click("form[action='/login'] button[type=submit]")


def submit_code(pg, person: Person) -> None:
    pg.wait_for_url("**/login/totp")
    pg.fill("#code", totp_code(person.totp_secret))
    pg.click("form[action='/login/totp'] button[type=submit]")


def sign_in(pg, person: Person) -> None:
    """Password, then the code from the authenticator; ends on the landing page."""
    submit_password(pg, person)
    submit_code(pg, person)
    pg.wait_for_url(re.compile(r"/(officer|portal)$"))


def sign_out(pg) -> None:
    pg.click("header form[action='/logout'] button[type=submit]")
    pg.wait_for_url(re.compile(r"/login$"))


def html_lang(pg) -> str:
    return pg.get_attribute("html", "lang") or ""
