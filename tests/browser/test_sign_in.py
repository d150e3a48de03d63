"""Sign-in in a real browser: Japanese by default, two steps, language switch, sign-out,
first-time enrolment, keyboard only; plus the screenshots in docs/screenshots."""

from __future__ import annotations

import re

import pyotp
from playwright.sync_api import expect

from clearance.auth.models import UserAccount
from clearance.db import db
from clearance.permissions import Role
from tests.browser.conftest import MOBILE
from tests.browser.steps import html_lang, sign_in, sign_out, submit_code, submit_password


def stored_locale(app, user_id: str) -> str | None:
    with app.app_context():
        return db.session.get(UserAccount, user_id).locale


def test_officer_is_sent_to_japanese_login_and_signs_in_with_totp(page, factory, shoot):
    officer = factory.person(Role.OFFICER)

    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login\?next=(/|%2F)$"))
    assert html_lang(page) == "ja", "Japanese must be the default, whatever the browser asks for (en-US here)"
    assert "ログイン" in page.content()
    shoot(page, "login-ja")

    page.fill("#email", officer.email)
    page.fill("#password", officer.password)
    page.click("form[action='/login'] button[type=submit]")
    expect(page).to_have_url(re.compile(r"/login/totp$"))
    assert html_lang(page) == "ja"
    shoot(page, "totp", publish=False)  # same layout as the login page

    submit_code(page, officer)
    expect(page).to_have_url(re.compile(r"/officer$"))
    expect(page.locator("header .who")).to_contain_text(officer.display_name)
    expect(page.locator("main h1")).to_be_visible()
    assert html_lang(page) == "ja"
    shoot(page, "overview-ja")
    page.guard.assert_clean()


def test_language_switch_persists_for_the_user(page, factory, app, shoot):
    officer = factory.person(Role.OFFICER)
    sign_in(page, officer)
    assert html_lang(page) == "ja"

    page.click("header button[name=locale][value=en]")
    expect(page).to_have_url(re.compile(r"/officer$"))  # back where we were
    assert html_lang(page) == "en"
    expect(page.locator("main h1")).to_have_text("Overview")
    expect(page.locator("header button[name=locale][value=ja]")).to_have_text("日本語")
    shoot(page, "overview-en")
    assert stored_locale(app, officer.id) == "en"

    page.click("header button[name=locale][value=ja]")
    assert html_lang(page) == "ja"
    assert stored_locale(app, officer.id) == "ja"

    # Choose English again, sign out (the session and its language go), sign back in: English.
    page.click("header button[name=locale][value=en]")
    assert html_lang(page) == "en"
    sign_out(page)
    assert html_lang(page) == "ja", "after sign-out the anonymous login page is Japanese again"
    sign_in(page, officer)
    assert html_lang(page) == "en", "the user's language (user.locale) is restored at sign-in"
    expect(page.locator("main h1")).to_have_text("Overview")
    page.guard.assert_clean()


def test_sign_out_ends_on_login_and_protects_pages(page, factory):
    officer = factory.person(Role.OFFICER)
    sign_in(page, officer)

    sign_out(page)
    assert html_lang(page) == "ja"
    assert "ログイン" in page.content()
    expect(page.locator("#email")).to_be_visible()
    expect(page.locator("header form[action='/logout']")).to_have_count(0)

    page.goto("/officer")
    expect(page).to_have_url(re.compile(r"/login\?next=(/|%2F)officer$"))
    page.goto("/account/")
    expect(page).to_have_url(re.compile(r"/login\?next=(/|%2F)account(/|%2F)$"))
    page.guard.assert_clean()


def test_new_staff_member_is_forced_through_enrolment(page, factory, app, shoot):
    newcomer = factory.person(Role.OFFICER, totp=False)

    submit_password(page, newcomer)
    expect(page).to_have_url(re.compile(r"/login/enrol$"))
    expect(page.locator(".qr svg")).to_be_visible()
    shown = page.locator("#totp-secret").inner_text()
    assert " " in shown.strip(), "the key is shown in groups of four for reading aloud / typing"
    secret = re.sub(r"\s+", "", shown)
    assert re.fullmatch(r"[A-Z2-7]{32}", secret), shown
    shoot(page, "enrol")

    # Protected pages stay shut while enrolment is pending.
    page.fill("#code", pyotp.TOTP(secret).now())
    page.click("form[action='/login/enrol'] button[type=submit]")

    codes = page.locator("#recovery-codes li")
    expect(codes).to_have_count(10)
    texts = codes.all_inner_texts()
    assert len(set(texts)) == 10 and all(re.fullmatch(r"[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}", t.strip()) for t in texts)

    page.click("#recovery-codes ~ .actions a.button-primary")
    expect(page).to_have_url(re.compile(r"/officer$"))
    expect(page.locator("header .who")).to_contain_text(newcomer.display_name)
    with app.app_context():
        assert db.session.get(UserAccount, newcomer.id).totp_enabled
    page.guard.assert_clean()


def focused(page) -> str:
    return page.evaluate(
        "() => { const e = document.activeElement;"
        " return e.id || e.getAttribute('name') || e.className || e.tagName; }"
    )


def test_keyboard_only_sign_in(page, factory):
    officer = factory.person(Role.OFFICER)
    page.goto("/login")

    # The e-mail field has autofocus; without it, Tab must reach it after the header controls.
    seen = [focused(page)]
    for _ in range(8):  # skip link, brand, language button, then the form
        if seen[-1] == "email":
            break
        page.keyboard.press("Tab")
        seen.append(focused(page))
    assert seen[-1] == "email", f"Tab never reached the e-mail field: {seen}"
    # The focus ring must be visible (outline drawn by :focus-visible).
    outline = page.evaluate("() => getComputedStyle(document.activeElement).outlineStyle")
    assert outline not in ("", "none"), "keyboard focus must be visible"

    page.keyboard.type(officer.email)
    page.keyboard.press("Tab")
    assert focused(page) == "password"
    page.keyboard.type(officer.password)
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.type") == "submit"
    page.keyboard.press("Enter")

    expect(page).to_have_url(re.compile(r"/login/totp$"))
    for _ in range(6):
        if focused(page) == "code":
            break
        page.keyboard.press("Tab")
    assert focused(page) == "code"
    from tests.factories import totp_code

    page.keyboard.type(totp_code(officer.totp_secret))
    page.keyboard.press("Enter")  # submits the form from the field
    expect(page).to_have_url(re.compile(r"/officer$"))
    expect(page.locator("header .who")).to_contain_text(officer.display_name)
    page.guard.assert_clean()


def test_admin_pages_and_404_screenshots(page, factory, shoot):
    admin = factory.person(Role.ADMIN)
    sign_in(page, admin)

    page.goto("/account/")
    expect(page.locator("main h1")).to_be_visible()
    shoot(page, "account")

    page.goto("/admin/audit")
    expect(page.locator("table.table tbody tr").first).to_be_visible()
    expect(page.locator("table.table tbody")).to_contain_text(admin.email)
    shoot(page, "audit-log")

    page.guard.allow_console_error(r"status of 404")
    response = page.goto("/no-such-page")
    assert response is not None and response.status == 404
    expect(page.locator(".error-code")).to_have_text("404")
    assert html_lang(page) == "ja"
    shoot(page, "404")
    page.guard.assert_clean()


def test_mobile_login_page(browser, live_server, shoot):
    context = browser.new_context(locale="en-US", viewport=MOBILE, device_scale_factor=1, is_mobile=True,
                                  has_touch=True, base_url=live_server.url)
    try:
        pg = context.new_page()
        csp = []
        pg.on("console", lambda m: csp.append(m.text) if m.type == "error" or "Content Security" in m.text else None)
        pg.goto("/login")
        assert html_lang(pg) == "ja"
        # Nothing may overflow sideways on a phone.
        width = pg.evaluate("() => document.documentElement.scrollWidth")
        assert width <= MOBILE["width"], f"page is {width}px wide on a {MOBILE['width']}px screen"
        shoot(pg, "login-mobile")
        assert not csp, csp
    finally:
        context.close()
