"""The anonymous desk in a real browser, the whole submitter journey twice — with JavaScript
and without — plus the officers' side. No request may leave the app's origin and the CSP may
report nothing. Screenshots stay in the test's temporary folder (docs/screenshots is full)."""

from __future__ import annotations

import io
import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from clearance.auth.models import UserAccount
from clearance.db import db
from clearance.permissions import Role
from dialogue.consult import service
from dialogue.consult.models import ConsultCase
from tests.browser.conftest import MOBILE, TIMEOUT_MS, VIEWPORT, PageGuard
from tests.browser.steps import html_lang, sign_in
from tests.consult.conftest import put_on_roster
from tests.consult.samples import CANARIES, jpeg_with_gps


@pytest.fixture
def desk_page(browser, live_server, request):
    """A page in a context whose JavaScript is switched on or off by the test's parameter."""
    contexts = []

    def make(*, javascript: bool, viewport=VIEWPORT):
        context = browser.new_context(locale="en-US", viewport=viewport, device_scale_factor=1,
                                      base_url=live_server.url, service_workers="block",
                                      java_script_enabled=javascript)
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        pg = context.new_page()
        guard = PageGuard(origin=live_server.origin())
        pg.on("request", guard.on_request)
        pg.on("console", guard.on_console)
        pg.on("pageerror", guard.on_page_error)
        pg.guard = guard
        return pg

    yield make
    for context in contexts:
        context.close()


def _officer_replies(app, officer_id: str, text: str) -> None:
    with app.app_context():
        case = db.session.execute(select(ConsultCase)).scalar_one()
        service.ministry_reply(db.session, db.session.get(UserAccount, officer_id), case, text, [])
        db.session.commit()


@pytest.mark.parametrize("javascript", [True, False], ids=["javascript-on", "javascript-off"])
def test_whole_submitter_journey(desk_page, live_server, factory, shoot, tmp_path, javascript):
    app = live_server.app
    app.config["TAIWA_CONSULT_MIN_FORM_SECONDS"] = 0  # a robot fills the form faster than the bot check allows
    officer = factory.person(Role.OFFICER)
    put_on_roster(app, officer.id)
    page = desk_page(javascript=javascript)
    suffix = "js" if javascript else "nojs"

    # The sign-in page leads to the desk, in Japanese.
    page.goto("/login")
    page.click("a[href^='/consult']")
    expect(page).to_have_url(re.compile(r"/consult\?lang=ja$"))
    assert html_lang(page) == "ja"
    expect(page.locator("#recorded")).to_be_visible()
    shoot(page, f"consult-landing-ja-{suffix}", publish=False)

    # A new consultation with a photo that carries GPS.
    page.click("a[href='/consult/new']")
    page.check("input[name=category][value=technology_transfer]")
    page.select_option("select[name=sector]", "semiconductors")
    page.check("input[name=tier][value='2']")
    page.fill("textarea[name=text]", "海外の顧客から製造レシピの提出を求められています。")
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(jpeg_with_gps())
    page.set_input_files("input[name=files]", str(photo))
    expect(page.locator("input[name=website]")).not_to_be_in_viewport()
    shoot(page, f"consult-new-ja-{suffix}", publish=False)
    page.click("form.desk-form button[type=submit]")

    # The receipt, once; the cleaning report; the confirmation step.
    groups = page.locator(".receipt-group").all_inner_texts()
    assert len(groups) == 5 and all(re.fullmatch(r"\d{5}", g) for g in groups)
    code = "".join(groups)
    expect(page.locator(".cleaned")).to_contain_text("GPS")
    shoot(page, f"consult-receipt-ja-{suffix}", publish=False)
    page.emulate_media(media="print")
    shoot(page, f"consult-receipt-print-{suffix}", publish=False)
    assert not page.locator("form[action='/consult/new/confirm']").is_visible(), "only the slip prints"
    expect(page.locator(".slip")).to_be_visible()
    page.emulate_media(media="screen")
    page.fill("input[name=last_group]", groups[-1])
    page.check("input[name=written_down]")
    page.click("form[action='/consult/new/confirm'] button[type=submit]")
    expect(page).to_have_url(re.compile(r"/consult/case$"))
    expect(page.locator(".conversation")).to_contain_text("製造レシピ")
    assert code not in page.content()

    # The ministry replies; the visitor leaves and comes back with the receipt.
    _officer_replies(app, officer.id, "ご相談ありがとうございます。まだ何も提出しないでください。")
    page.click("button[name=action][value=leave]")
    expect(page).to_have_url(re.compile(r"/consult\?left=1$"))
    page.goto("/consult/open")
    page.fill("input[name=receipt]", " ".join(groups))
    page.click("form[action='/consult/open'] button[type=submit]")
    expect(page).to_have_url(re.compile(r"/consult/case$"))
    expect(page.locator(".message.is-new")).to_contain_text("まだ何も提出しないでください")

    # Answer with a file; switch to English; download both ways.
    notes = tmp_path / "notes.txt"
    notes.write_text("顧客とのやり取りのメモ", encoding="utf-8")
    page.fill("textarea[name=text]", "分かりました。メモを添付します。")
    page.set_input_files("input[name=files]", str(notes))
    page.click("button[name=action][value=reply]")
    expect(page).to_have_url(re.compile(r"/consult/case#latest$"))
    expect(page.locator(".conversation .message")).to_have_count(3)
    page.click("header button[name=locale][value=en]")
    assert html_lang(page) == "en"
    expect(page.locator("main h1")).to_have_text("Your consultation")
    shoot(page, f"consult-case-en-{suffix}", publish=False)
    with page.expect_download() as dl:
        page.click(".message-files a >> nth=0")
    content = open(dl.value.path(), "rb").read()
    assert content[:3] == b"\xff\xd8\xff" and not any(c.encode() in content for c in CANARIES)

    page.guard.assert_clean()
    assert not [r for r in page.guard.requests if "/static/js" in r], "the desk loads no script at all"


def test_desk_on_a_phone_without_javascript(desk_page, shoot):
    page = desk_page(javascript=False, viewport=MOBILE)
    page.goto("/consult/new")
    expect(page.locator("textarea[name=text]")).to_be_visible()
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= MOBILE["width"], "no sideways scrolling on a phone"
    shoot(page, "consult-new-mobile", publish=False)
    page.guard.assert_clean()


def test_officer_works_the_case_in_the_inbox(page, live_server, factory, shoot):
    app = live_server.app
    officer = factory.person(Role.OFFICER)
    put_on_roster(app, officer.id)
    with app.app_context():
        result = service.submit_case(db.session, service.NewCase(
            category="acquisition", text="A fund offered to buy 60% of our shares.", sector="machine_tools",
            tier="3", size_class="small",
            uploads=service.prepare_uploads([service.Upload("offer.jpg", io.BytesIO(jpeg_with_gps()))],
                                            max_files=3, max_bytes=1 << 20, keep_names=True)), ack_days=7)
        db.session.commit()
        ref = db.session.get(ConsultCase, result.case_id).ref
    sign_in(page, officer)
    page.click("nav a[href='/officer/consult']")
    expect(page.locator("table.inbox")).to_contain_text(ref)
    shoot(page, "consult-inbox", publish=False)
    page.click(f"text={ref}")
    expect(page.locator(".conversation")).to_contain_text("60%")
    page.fill("textarea[name=text]", "Thank you. Please do not reply to the fund yet.")
    page.click("form[action$='/reply'] button[type=submit]")
    expect(page.locator(".flashes")).to_be_visible()
    expect(page.locator(".status-pill").first).to_contain_text(re.compile("回答済み|Answered"))
    shoot(page, "consult-officer-case", publish=False)
    page.guard.assert_clean()


def test_officer_not_on_the_roster_sees_an_empty_desk(page, live_server, factory):
    officer = factory.person(Role.OFFICER)
    sign_in(page, officer)
    page.goto("/officer/consult")
    expect(page.locator("main")).not_to_contain_text("table")
    expect(page.locator("table.inbox")).to_have_count(0)
    page.guard.assert_clean()
