"""The submitter's side through the real pages, without JavaScript: submit, keep the receipt,
come back, read the reply, answer, add a file — and every way that should not work."""

from __future__ import annotations

import io

from sqlalchemy import func, select

from clearance.auth.models import WebSession
from clearance.db import db
from clearance.permissions import Role
from dialogue.consult import service
from dialogue.consult.models import ConsultCase, ConsultMessage
from tests.consult.conftest import CSRF, Visitor, said
from tests.factories import sign_in


def _case(app) -> ConsultCase:
    with app.app_context():
        return db.session.execute(select(ConsultCase)).scalar_one()


def _officer_reply(app, officer_id: str, text: str, files=()) -> None:
    from clearance.auth.models import UserAccount

    with app.app_context():
        case = db.session.execute(select(ConsultCase)).scalar_one()
        user = db.session.get(UserAccount, officer_id)
        prepared = service.prepare_uploads(files, max_files=3, max_bytes=1 << 20, keep_names=True)
        service.ministry_reply(db.session, user, case, text, prepared)
        db.session.commit()


def test_submitting_shows_a_receipt_once_and_confirmation_opens_the_case(visitor, desk_app):
    resp = visitor.submit("Our customer wants the sintering recipe.")
    assert resp.status_code == 200
    code = visitor.receipt_from(resp)
    html = resp.get_data(as_text=True)
    assert "print" in html.lower() and 'class="slip"' in html
    assert resp.headers["Cache-Control"] == "no-store"

    done = visitor.confirm(code)
    assert done.status_code == 303 and done.headers["Location"].endswith("/consult/case")
    page = visitor.get("/consult/case").get_data(as_text=True)
    assert "Our customer wants the sintering recipe." in page
    assert code not in page and code[:5] + " " not in page, "the receipt is shown once, on the receipt page only"
    case = _case(desk_app)
    assert case.status == "new" and case.message_count == 1


def test_confirmation_needs_the_last_group_and_the_tick(visitor):
    code = visitor.receipt_from(visitor.submit())
    wrong = visitor.confirm(code, last_group="00000" if code[-5:] != "00000" else "11111")
    assert wrong.status_code == 400
    assert visitor.receipt_from(wrong) == code, "the receipt is shown again, from the form, not from storage"
    unticked = visitor.confirm(code, written=False)
    assert unticked.status_code == 400
    assert visitor.confirm(code, last_group="".join(chr(ord(c) + 0xFEE0) for c in code[-5:])).status_code == 303


def test_confirmation_cannot_open_someone_elses_case(desk_app):
    alice, mallory = Visitor(desk_app.test_client()), Visitor(desk_app.test_client())
    alice_code = alice.receipt_from(alice.submit("Alice's secret"))
    mallory.receipt_from(mallory.submit("Mallory's"))
    # Mallory sends Alice's receipt through her own pending confirmation.
    resp = mallory.confirm(alice_code)
    assert resp.status_code == 303 and resp.headers["Location"].endswith("/consult")
    assert "Alice's secret" not in mallory.get("/consult/case", follow_redirects=True).get_data(as_text=True)


def test_coming_back_with_the_receipt_shows_the_reply_as_new(desk_app, desk_officer):
    first = Visitor(desk_app.test_client())
    code = first.new_case("Someone offered to buy a majority stake.")
    _officer_reply(desk_app, desk_officer.id, "Thank you. Please tell us which country.")

    later = Visitor(desk_app.test_client())  # another day, another browser
    resp = later.open(code)
    assert resp.status_code == 303 and resp.headers["Location"].endswith("/consult/case")
    page = later.get("/consult/case").get_data(as_text=True)
    assert "Please tell us which country." in page
    assert page.count("is-new") == 1, "the reply is marked new"
    assert desk_officer.display_name not in page, "the submitter sees 'the ministry', not the officer's name"
    again = later.get("/consult/case").get_data(as_text=True)
    assert "is-new" not in again, "what is new is new once"


def test_receipt_is_accepted_with_spaces_and_full_width_digits(desk_app):
    code = Visitor(desk_app.test_client()).new_case()
    typed = " ".join(code[i:i + 5] for i in range(0, 25, 5)).translate({ord(d): ord(d) + 0xFEE0 for d in "0123456789"})
    v = Visitor(desk_app.test_client())
    v.open(typed)
    assert "A customer abroad" in v.get("/consult/case").get_data(as_text=True)


def test_submitter_answers_and_adds_a_file_both_ways(desk_app, desk_officer):
    v = Visitor(desk_app.test_client())
    v.new_case()
    _officer_reply(desk_app, desk_officer.id, "Could you send the letter?",
                   files=[service.Upload("guidance.txt", io.BytesIO(b"METI guidance text"))])
    resp = v.reply("Here it is.", files=[(io.BytesIO(b"the letter, plain text"), "letter.txt")])
    assert resp.status_code == 303
    page = v.get("/consult/case").get_data(as_text=True)
    assert "Here it is." in page and "letter.txt" in page and "guidance.txt" in page
    import re

    links = re.findall(r'href="(/consult/case/files/[^"]+)"', page)
    assert len(links) == 2
    bodies = sorted(v.get(link).data for link in links)
    assert bodies == [b"METI guidance text", b"the letter, plain text"]
    case = _case(desk_app)
    assert case.status == "in_progress" and case.awaiting_ministry and case.message_count == 3


def test_file_only_message_is_fine_and_an_empty_one_is_refused(visitor):
    visitor.new_case()
    assert visitor.reply("", files=[(io.BytesIO(b"data"), "only-a-file.txt")]).status_code == 303
    empty = visitor.reply("   ")
    assert empty.status_code == 400


def test_file_names_are_neutral_unless_the_submitter_keeps_them(visitor, desk_app):
    resp = visitor.submit(files=[(io.BytesIO(b"x"), "Sato_Kogyo_contract.txt")])
    html = resp.get_data(as_text=True)
    assert "Sato_Kogyo_contract" not in html and "file-1.txt" in html
    with desk_app.app_context():
        from clearance.files import StoredFile

        assert [f.original_name for f in db.session.execute(select(StoredFile)).scalars()] == ["file-1.txt"]


def test_another_visitor_cannot_read_or_download_a_case(desk_app):
    owner = Visitor(desk_app.test_client())
    owner.new_case(files=[(io.BytesIO(b"secret file"), "a.txt")])
    page = owner.get("/consult/case").get_data(as_text=True)
    import re

    link = re.search(r'href="(/consult/case/files/[^"]+)"', page).group(1)
    stranger = Visitor(desk_app.test_client())
    assert stranger.get("/consult/case").status_code == 303
    assert stranger.get(link).status_code == 404


def test_closed_case_can_be_read_but_not_answered(desk_app, desk_officer):
    v = Visitor(desk_app.test_client())
    v.new_case()
    with desk_app.app_context():
        from clearance.auth.models import UserAccount

        case = db.session.execute(select(ConsultCase)).scalar_one()
        service.set_status(db.session, db.session.get(UserAccount, desk_officer.id), case, "closed")
        db.session.commit()
    page = v.get("/consult/case").get_data(as_text=True)
    assert said(page, "This consultation is closed. To raise something new, start a new consultation.")
    assert 'value="reply"' not in page
    token = CSRF.search(page).group(1)
    assert v.post("/consult/case", {"csrf_token": token, "action": "reply", "text": "more"}).status_code == 400
    with desk_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ConsultMessage)) == 1


def test_every_desk_form_refuses_a_missing_or_foreign_csrf_token(desk_app):
    v = Visitor(desk_app.test_client())
    code = v.new_case()
    other = Visitor(desk_app.test_client())
    foreign = other.csrf()
    for token in ("", foreign):
        assert v.post("/consult/case", {"csrf_token": token, "action": "reply", "text": "forged"}).status_code == 400
        v.post("/consult", {"csrf_token": token, "locale": "en", "next": "/consult"})
        assert v.post("/consult/case", {"csrf_token": token, "action": "leave"}).status_code == 303
        stranger = Visitor(desk_app.test_client())
        stranger.get("/consult")
        assert stranger.post("/consult/open", {"csrf_token": token, "receipt": code}).headers["Location"].endswith("/consult/open")
    page = v.get("/consult/case").get_data(as_text=True)
    assert "forged" not in page, "no forged reply was stored"
    assert 'lang="ja"' in page, "the forged language switch changed nothing"
    assert "A customer abroad" in page, "the forged 'leave' did not end the visit"


def test_new_form_keeps_the_text_when_the_session_expired(desk_app, frozen):
    v = Visitor(desk_app.test_client())
    html = v.get("/consult/new").get_data(as_text=True)
    import re

    form_token = re.search(r'name="form_token" type="hidden" value="([^"]+)"', html).group(1)
    token = CSRF.search(html).group(1)
    frozen.advance(minutes=31)
    resp = v.post("/consult/new", {"csrf_token": token, "form_token": form_token, "category": "other",
                                   "text": "A long story I wrote slowly"})
    assert resp.status_code == 400
    assert "A long story I wrote slowly" in resp.get_data(as_text=True)
    with desk_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ConsultCase)) == 0


def test_idle_desk_session_ends_after_30_minutes(desk_app, frozen):
    v = Visitor(desk_app.test_client())
    v.new_case()
    frozen.advance(minutes=29)
    assert v.get("/consult/case").status_code == 200
    frozen.advance(minutes=29)
    assert v.get("/consult/case").status_code == 200, "activity keeps it alive"
    frozen.advance(minutes=31)
    assert v.get("/consult/case").status_code == 303, "31 idle minutes end it"


def test_leaving_forgets_the_visit(visitor):
    visitor.new_case()
    token = visitor.csrf("/consult/case")
    resp = visitor.post("/consult/case", {"csrf_token": token, "action": "leave"})
    assert resp.status_code == 303
    assert "taiwa_desk=;" in resp.headers.get("Set-Cookie", "")
    left = visitor.get(resp.headers["Location"]).get_data(as_text=True)
    assert said(left, "You have left your consultation. Nothing about this visit was kept.")
    assert visitor.get("/consult/case").status_code == 303


def test_opening_a_case_issues_a_new_desk_session_id(desk_app):
    code = Visitor(desk_app.test_client()).new_case()
    v = Visitor(desk_app.test_client())
    v.get("/consult/open")
    before = v.client.get_cookie("taiwa_desk", path="/consult").value
    v.open(code)
    after = v.client.get_cookie("taiwa_desk", path="/consult").value
    assert before != after


def test_desk_cookie_is_scoped_strict_and_httponly(visitor):
    cookie = visitor.get("/consult").headers["Set-Cookie"]
    assert "Path=/consult" in cookie and "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert "Expires" not in cookie and "Max-Age" not in cookie, "a browser-session cookie, gone when the browser closes"


def test_desk_pages_create_no_general_session_row(desk_app):
    v = Visitor(desk_app.test_client())
    v.new_case()
    v.reply("more")
    v.post("/consult", {"csrf_token": v.csrf(), "locale": "en", "next": "/consult"})
    assert all(c.key != "taiwa_session" for c in v.client._cookies.values())
    with desk_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(WebSession)) == 0


def test_signed_in_user_is_anonymous_on_the_desk_and_their_session_is_not_touched(desk_app, factory, monkeypatch):
    member = factory.person(Role.COMPANY_MEMBER)
    client = desk_app.test_client()
    assert sign_in(client, member).status_code == 302
    with desk_app.app_context():
        before = db.session.execute(select(WebSession.id_hash, WebSession.last_seen_at)).all()
    # Ten minutes later: the general session would normally record this visit as its last-seen time.
    from datetime import timedelta

    import clearance.auth.sessions as general

    later = general.utcnow() + timedelta(minutes=10)
    monkeypatch.setattr(general, "utcnow", lambda: later)
    v = Visitor(client)
    page = v.get("/consult").get_data(as_text=True)
    assert member.display_name not in page and 'class="main-nav"' not in page
    v.new_case()
    with desk_app.app_context():
        after = db.session.execute(select(WebSession.id_hash, WebSession.last_seen_at)).all()
    assert after == before, "the general session was neither created, touched nor rotated by the desk"
    assert client.get("/portal").status_code == 200, "and it still works outside the desk"


def test_language_switch_is_kept_in_the_desk_session(visitor):
    assert 'lang="ja"' in visitor.get("/consult").get_data(as_text=True)
    visitor.post("/consult", {"csrf_token": visitor.csrf(), "locale": "en", "next": "/consult/new"})
    assert visitor.last.headers["Location"].endswith("/consult/new")
    page = visitor.get("/consult/new").get_data(as_text=True)
    assert 'lang="en"' in page and "New consultation" in page


def test_language_switch_never_redirects_off_the_desk(visitor):
    for bad in ("https://evil.example/", "//evil.example/", "/login", "/consult//evil.example"):
        visitor.post("/consult", {"csrf_token": visitor.csrf(), "locale": "en", "next": bad})
        assert visitor.last.headers["Location"].endswith("/consult"), bad


def test_login_page_links_to_the_desk(client):
    assert 'href="/consult?lang=ja"' in client.get("/login").get_data(as_text=True)
