"""Writing, releasing, relabelling and reading briefings: labels, encryption, markings, PDFs, access logs."""

from __future__ import annotations

import io
import json
import re
from datetime import timedelta

import pytest
from pypdf import PdfReader
from sqlalchemy import select, text

from clearance import files
from clearance.audit import AuditEntry
from clearance.db import db, utcnow
from clearance.labels import Label
from clearance.people import handlers_of
from clearance.permissions import Role
from dialogue.briefings.models import Briefing
from dialogue.reports import pdf as pdfmod
from tests.clearance.helpers import DEPT, briefing, certify, compartment, grant
from tests.factories import audit_summaries, csrf, sign_in


def _officer(app, factory, level=2, codes=("SEMI",)):
    officer = factory.person(Role.OFFICER, locale="en")  # assertions read the English msgids
    grant(app, officer.id, level, codes)
    return officer


def _form(**kw) -> dict:
    data = {"title": "Export control circumvention via third countries", "summary": "Routing through resellers",
            "body": "## 概要\nResellers in third countries.", "level": "1", "risk_types": ["economic_coercion"],
            "sectors": ["semiconductors"], "release_all": "y"}
    data.update(kw)
    return data


def _member(app, factory, level=2, codes=("SEMI",), company=None):
    company = company or factory.company()
    certify(app, company, 2, [DEPT])
    m = factory.person(Role.COMPANY_MEMBER, company_id=company, department=DEPT, locale="en")
    grant(app, m.id, level, codes)
    return m


# ---------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------


def test_officer_writes_a_level_two_briefing_as_its_designator_and_handler(app, factory):
    officer = _officer(app, factory)
    compartment(app, "SEMI")
    client = app.test_client()
    sign_in(client, officer)
    resp = client.post("/briefings/new", data={"csrf_token": csrf(client, "/briefings/new"), **_form(
        level="2", compartments=["SEMI"], designating_agency="経済産業省", designation_number="経安-2026-007",
        designated_on="2026-01-10", designation_expires_on="2031-01-09")})
    assert resp.status_code == 302, resp.get_data(as_text=True)[:2000]
    bid = resp.headers["Location"].rsplit("/", 1)[-1]
    with app.app_context():
        b = db.session.get(Briefing, bid)
        assert (b.level, b.status, b.designator_id, b.designation_number) == (2, "draft", officer.id, "経安-2026-007")
        assert handlers_of(db.session, "briefing", bid) == {officer.id}
        assert b"Resellers" not in b.body_ct  # sealed
    page = client.get(f"/briefings/{bid}").get_data(as_text=True)
    assert "経安-2026-007" in page and page.count("重要経済安保情報 // SEMI") >= 2  # banner top and bottom


def test_specially_designated_secrets_are_refused_with_an_explanation(app, factory):
    officer = _officer(app, factory)
    client = app.test_client()
    sign_in(client, officer)
    resp = client.post("/briefings/new", data={"csrf_token": csrf(client, "/briefings/new"), **_form(level="3")})
    assert resp.status_code == 400
    page = resp.get_data(as_text=True)
    assert "特定秘密" in page and "not handled in Taiwa" in page
    body_marker = client.post("/briefings/new", data={"csrf_token": csrf(client, "/briefings/new"), **_form(
        body="## 極秘の節 [特定秘密]\ntext")})
    assert body_marker.status_code == 400 and "特定秘密" in body_marker.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(Briefing)) is None


def test_nobody_writes_above_their_own_clearance(app, factory):
    officer = _officer(app, factory, level=1, codes=())
    client = app.test_client()
    sign_in(client, officer)
    resp = client.post("/briefings/new", data={"csrf_token": csrf(client, "/briefings/new"), **_form(
        level="2", designating_agency="経済産業省", designation_number="1", designated_on="2026-01-10",
        designation_expires_on="2027-01-10")})
    assert resp.status_code == 400
    assert "Your own clearance does not cover this label" in resp.get_data(as_text=True)


def test_level_two_needs_a_complete_designation(app, factory):
    officer = _officer(app, factory)
    client = app.test_client()
    sign_in(client, officer)
    resp = client.post("/briefings/new", data={"csrf_token": csrf(client, "/briefings/new"), **_form(level="2")})
    assert resp.status_code == 400 and "designation" in resp.get_data(as_text=True).lower()


def test_handlers_must_be_eligible_and_the_form_says_who_and_why(app, factory):
    officer = _officer(app, factory)
    uncleared = factory.person(Role.COMPANY_MEMBER, display_name="未審査 次郎", department=DEPT)
    client = app.test_client()
    sign_in(client, officer)
    resp = client.post("/briefings/new", data={"csrf_token": csrf(client, "/briefings/new"), **_form(
        level="2", designating_agency="経済産業省", designation_number="1", designated_on="2026-01-10",
        designation_expires_on="2027-01-10", handlers=uncleared.email)})
    assert resp.status_code == 400
    page = resp.get_data(as_text=True)
    assert "未審査 次郎" in page and "No personal clearance is recorded" in page
    unknown = client.post("/briefings/new", data={"csrf_token": csrf(client, "/briefings/new"), **_form(
        handlers="ghost@example.jp")})
    assert unknown.status_code == 400 and "ghost@example.jp" in unknown.get_data(as_text=True)


# ---------------------------------------------------------------------------
# Lifecycle
# ---------------------------------------------------------------------------


def test_readers_see_only_released_unexpired_briefings_officers_see_all(app, factory):
    officer = _officer(app, factory)
    member = _member(app, factory)
    ids = {
        "draft": briefing(app, title="Draft note", status="draft"),
        "released": briefing(app, title="Released note"),
        "withdrawn": briefing(app, title="Withdrawn note", status="withdrawn"),
        "expired": briefing(app, title="Expired note", expires_at=utcnow() - timedelta(minutes=1)),
    }
    reader = app.test_client()
    sign_in(reader, member)
    listing = reader.get("/briefings").get_data(as_text=True)
    assert "Released note" in listing
    for state in ("draft", "withdrawn", "expired"):
        assert f"{state.capitalize()} note" not in listing
        assert reader.get(f"/briefings/{ids[state]}").status_code == 404
    with app.app_context():
        clauses = [json.loads(e.data)["clause"] for e in db.session.scalars(
            select(AuditEntry).where(AuditEntry.summary == "Read denied", AuditEntry.actor_id == member.id))]
    assert sorted(clauses) == ["lifecycle_draft", "lifecycle_expired", "lifecycle_withdrawn"]
    staff = app.test_client()
    sign_in(staff, officer)
    listing = staff.get("/briefings").get_data(as_text=True)
    assert all(f"{s.capitalize()} note" in listing for s in ids)


def test_release_then_withdraw_with_a_reason(app, factory):
    officer = _officer(app, factory)
    member = _member(app, factory)
    bid = briefing(app, title="Helium supply outlook", status="draft", designator_id=officer.id)
    staff, reader = app.test_client(), app.test_client()
    sign_in(staff, officer)
    sign_in(reader, member)
    assert reader.get(f"/briefings/{bid}").status_code == 404
    token = csrf(staff, f"/briefings/{bid}")
    assert staff.post(f"/briefings/{bid}/release", data={"csrf_token": token}).status_code == 302
    assert reader.get(f"/briefings/{bid}").status_code == 200
    assert staff.post(f"/briefings/{bid}/withdraw", data={"csrf_token": token, "reason": ""}).status_code == 302
    assert reader.get(f"/briefings/{bid}").status_code == 200  # no reason, nothing withdrawn
    staff.post(f"/briefings/{bid}/withdraw", data={"csrf_token": token, "reason": "Superseded by a newer note"})
    assert reader.get(f"/briefings/{bid}").status_code == 404
    assert {"Briefing released", "Briefing withdrawn"} <= set(audit_summaries(app))


# ---------------------------------------------------------------------------
# Labels and encryption
# ---------------------------------------------------------------------------


def test_lowering_the_level_in_sql_makes_the_body_unreadable_and_nothing_is_shown(app, factory):
    officer = _officer(app, factory)
    bid = briefing(app, title="Lowered behind our back", body="Stockpile levels at 40 days.", level=2,
                   compartments=["SEMI"], handlers=[officer.id])
    with app.app_context():
        db.session.execute(text("UPDATE briefing SET level = 1, designating_agency = NULL, designation_number = NULL,"
                                " designated_on = NULL, designation_expires_on = NULL WHERE id = :id"), {"id": bid})
        db.session.commit()
    client = app.test_client()
    sign_in(client, officer)
    resp = client.get(f"/briefings/{bid}")
    assert resp.status_code == 500
    assert "Stockpile" not in resp.get_data(as_text=True)
    assert "Decryption failed" in audit_summaries(app)


def test_only_the_designator_lowers_a_label_with_a_reason_and_everything_is_resealed(app, factory):
    designator = _officer(app, factory, codes=("SEMI", "QNT"))
    colleague = _officer(app, factory, codes=("SEMI", "QNT"))
    bid = briefing(app, title="Cryogenic component sourcing", body="Dilution refrigerator lead times.", level=2,
                   compartments=["SEMI", "QNT"], handlers=[designator.id, colleague.id], designator_id=designator.id)
    with app.app_context():
        stored_id = files.save_upload(db.session, io.BytesIO(b"lead,time\nfridge,18 months\n"),
                                      filename="lead-times.csv", owner_table="briefing", owner_id=bid, level=2).id
        db.session.commit()
    lower = {"level": "1", "compartments": ["SEMI"], "reason": "Now published in the annual report"}

    other = app.test_client()
    sign_in(other, colleague)
    page = f"/briefings/{bid}/label"
    resp = other.post(page, data={"csrf_token": csrf(other, page), **lower})
    assert resp.status_code == 400 and "Only the officer who designated" in resp.get_data(as_text=True)

    owner = app.test_client()
    sign_in(owner, designator)
    no_reason = owner.post(page, data={"csrf_token": csrf(owner, page), **lower, "reason": ""})
    assert no_reason.status_code == 400
    assert owner.post(page, data={"csrf_token": csrf(owner, page), **lower}).status_code == 302
    with app.app_context():
        b = db.session.get(Briefing, bid)
        assert b.level == 1 and b.designation_number is None
        assert b.body == "Dilution refrigerator lead times."  # resealed, opens at the new level
        (attachment,) = files.files_of(db.session, "briefing", bid)
        assert attachment.level == 1 and attachment.id != stored_id
        entry = db.session.scalars(select(AuditEntry).where(AuditEntry.summary == "Briefing label lowered")).one()
        data = json.loads(entry.data)
        assert (data["from"], data["to"], data["reason"]) == ("2:QNT+SEMI", "1:SEMI", lower["reason"])
        assert entry.actor_id == designator.id
        attachment_id = attachment.id
    download = owner.get(f"/briefings/{bid}/files/{attachment_id}")
    assert download.status_code == 200 and download.get_data() == b"lead,time\nfridge,18 months\n"


def test_any_cleared_writer_may_raise_a_label(app, factory):
    colleague = _officer(app, factory)
    bid = briefing(app, title="Port data note", level=0, release=[("all", "")])
    client = app.test_client()
    sign_in(client, colleague)
    page = f"/briefings/{bid}/label"
    resp = client.post(page, data={"csrf_token": csrf(client, page), "level": "1", "compartments": ["SEMI"],
                                   "reason": "Contains supplier names"})
    assert resp.status_code == 302
    with app.app_context():
        assert db.session.get(Briefing, bid).level == 1
    assert "Briefing label raised" in audit_summaries(app)


# ---------------------------------------------------------------------------
# Reading: markings, sanitising, PDF, access log
# ---------------------------------------------------------------------------


def test_portion_marks_appear_only_when_parts_differ(app, factory):
    officer = factory.person(Role.OFFICER)  # Japanese interface: Japanese marks
    grant(app, officer.id, 2, ["SEMI"])
    mixed = briefing(app, title="Mixed", level=1, body="# 題\n## 背景 [公開]\nOpen part.\n## 分析\nSensitive part.")
    uniform = briefing(app, title="Uniform", level=1, body="# 題\nAll one level.")
    client = app.test_client()
    sign_in(client, officer)
    page = client.get(f"/briefings/{mixed}").get_data(as_text=True)
    assert re.search(r'portion-0"><span class="portion-mark">\(公開\)</span><div class="portion-body"><p>Open part',
                     page)
    assert re.search(r'portion-1"><span class="portion-mark">\(取扱注意\)</span><div class="portion-body"><p>Sensitive',
                     page)
    assert "portion-mark" not in client.get(f"/briefings/{uniform}").get_data(as_text=True)
    english = app.test_client()
    sign_in(english, _officer(app, factory))
    page = english.get(f"/briefings/{mixed}").get_data(as_text=True)
    assert '<span class="portion-mark">(P)</span>' in page and '<span class="portion-mark">(OS)</span>' in page


def test_briefing_text_cannot_run_script_or_fetch_anything(app, factory):
    officer = _officer(app, factory)
    bid = briefing(app, title="Hostile markdown", body=(
        "<script>alert(1)</script>\n\n[x](javascript:alert(1)) ![i](https://evil.example/p.png) "
        "<img src=x onerror=alert(1)> [ok](https://www.meti.go.jp/)"))
    client = app.test_client()
    sign_in(client, officer)
    page = client.get(f"/briefings/{bid}").get_data(as_text=True)
    body = page.split('aria-label="Briefing text"', 1)[1] if 'aria-label="Briefing text"' in page else page
    assert "<script>" not in body and "javascript:" not in body.replace("[x](javascript:alert(1))", "")
    assert "<img" not in body and "onerror=alert" not in body.replace("&lt;img src=x onerror=alert(1)&gt;", "")
    assert '<a href="https://www.meti.go.jp/" rel="noopener noreferrer nofollow">ok</a>' in body


def test_pdf_carries_banners_on_every_page_the_designation_and_the_readers_watermark(app, factory):
    member = _member(app, factory, codes=("SEMI",))
    long_body = "\n\n".join(f"Paragraph {i}: findings on supplier concentration and logistics." * 3 for i in range(80))
    bid = briefing(app, title="Wafer supply concentration", body=long_body, level=2, compartments=["SEMI"],
                   handlers=[member.id])
    client = app.test_client()
    sign_in(client, member)
    resp = client.get(f"/briefings/{bid}/pdf")
    assert resp.status_code == 200 and resp.mimetype == "application/pdf"
    assert resp.headers["Cache-Control"] == "no-store"
    reader = PdfReader(io.BytesIO(resp.data))
    pages = [p.extract_text() for p in reader.pages]
    assert len(pages) >= 2
    for number, page in enumerate(pages, start=1):
        flat = page.replace("\n", " ")
        assert flat.count("重要経済安保情報 // SEMI") >= 2, f"page {number}: banner top and bottom"
        assert member.id in flat and member.display_name.replace(" ", "") in flat.replace(" ", ""), number
        assert f"{number} / {len(pages)}" in flat
    assert "経安-2025-001" in pages[0] and "Designation" in pages[0]


def test_public_pdf_needs_no_watermark_but_classified_output_requires_a_reader(app):
    with app.test_request_context():
        public = pdfmod.render_pdf("pdf/base.html", {}, label=Label(), reader=None, title="t")
        assert public.startswith(b"%PDF")
        with pytest.raises(pdfmod.PdfError):
            pdfmod.render_pdf("pdf/base.html", {}, label=Label.of(1), reader=None, title="t")


@pytest.mark.parametrize("url", [
    "file:///etc/passwd",
    "http://127.0.0.1:5432/",
    "https://evil.example/x.css",
    pdfmod.BASE_URL + "static/../../etc/passwd",
    pdfmod.BASE_URL + "static/%2e%2e/%2e%2e/etc/passwd",
    pdfmod.BASE_URL + "fonts/../../etc/passwd",
    pdfmod.BASE_URL + "instance/keys.json",
    "data:text/css,body{}",
])
def test_the_pdf_fetcher_serves_only_the_apps_static_files(url):
    fetcher = pdfmod._fetcher_class()()
    with pytest.raises(ValueError):
        fetcher.fetch(url)


def test_the_pdf_fetcher_serves_stylesheet_and_embedded_fonts():
    fetcher = pdfmod._fetcher_class()()
    assert b"@page" in fetcher.fetch(pdfmod.BASE_URL + "static/css/pdf.css").read()
    font = fetcher.fetch(pdfmod.BASE_URL + "fonts/ipaexg.ttf")
    assert font.content_type == "font/ttf" and font.read(4) == b"\x00\x01\x00\x00"  # TrueType, not CFF


def test_officers_see_who_read_each_briefing_and_when(app, factory):
    officer = _officer(app, factory)
    member = _member(app, factory)
    bid = briefing(app, title="Magnet export licensing", level=1)
    reader = app.test_client()
    sign_in(reader, member)
    reader.get(f"/briefings/{bid}")
    reader.get(f"/briefings/{bid}/pdf")
    staff = app.test_client()
    sign_in(staff, officer)
    page = staff.get(f"/briefings/{bid}/readers").get_data(as_text=True)
    assert page.count(member.display_name) == 2 and "PDF" in page
    # the officer's own opening of the page counts too
    assert "3 times by 2 people" in staff.get(f"/briefings/{bid}").get_data(as_text=True)


def test_list_is_labelled_at_the_join_of_what_it_shows_and_searches(app, factory):
    member = _member(app, factory, codes=("SEMI", "QNT"))
    briefing(app, title="Quantum fridge parts", level=1, compartments=["QNT"], tags=[("risk", "technology_leakage")])
    briefing(app, title="Wafer pricing", level=2, compartments=["SEMI"], handlers=[member.id],
             tags=[("sector", "semiconductors")])
    briefing(app, title="General port notice", level=0)
    client = app.test_client()
    sign_in(client, member)
    page = client.get("/briefings").get_data(as_text=True)
    assert page.count("重要経済安保情報 // QNT / SEMI") == 2  # top and bottom: level 2, both compartments
    assert "Quantum fridge" in client.get("/briefings?q=fridge").get_data(as_text=True)
    assert "Wafer" not in client.get("/briefings?q=fridge").get_data(as_text=True)
    assert "Quantum" not in client.get("/briefings?sector=semiconductors").get_data(as_text=True)
    assert "Wafer" not in client.get("/briefings?risk=technology_leakage").get_data(as_text=True)
    assert "General port" in client.get("/briefings?level=0").get_data(as_text=True)
    assert client.get("/briefings?q=%25&page=abc&level=9&risk=x").status_code == 200  # odd input, no 500


def test_list_pages_without_counting_everything(app, factory):
    member = _member(app, factory)
    for i in range(45):
        briefing(app, title=f"Note {i:02d}", sort_at=utcnow() - timedelta(minutes=i))
    client = app.test_client()
    sign_in(client, member)
    first = client.get("/briefings").get_data(as_text=True)
    assert "Note 00" in first and "Note 20" not in first and 'rel="next"' in first
    third = client.get("/briefings?page=3").get_data(as_text=True)
    assert "Note 44" in third and 'rel="next"' not in third


def test_attachments_are_stored_at_the_briefings_level_and_odd_files_are_refused(app, factory):
    officer = _officer(app, factory)
    bid = briefing(app, title="Attach here", level=1, designator_id=officer.id)
    client = app.test_client()
    sign_in(client, officer)
    token = csrf(client, f"/briefings/{bid}")
    ok = client.post(f"/briefings/{bid}/attachments", data={"csrf_token": token,
                     "file": (io.BytesIO(b"a,b\n1,2\n"), "figures.csv")}, content_type="multipart/form-data")
    assert ok.status_code == 302
    bad = client.post(f"/briefings/{bid}/attachments", data={"csrf_token": token,
                      "file": (io.BytesIO(b"<html><script>x</script>"), "evil.html")},
                      content_type="multipart/form-data")
    assert bad.status_code == 302
    with app.app_context():
        (stored,) = files.files_of(db.session, "briefing", bid)
        assert stored.level == 1 and stored.original_name == "figures.csv"
    assert "figures.csv" in client.get(f"/briefings/{bid}").get_data(as_text=True)


def test_the_title_search_pages_through_sealed_titles_chunk_by_chunk(app, factory, monkeypatch):
    """Titles are sealed: the search decrypts readable candidates a chunk at a time, in list order, and
    stops at TITLE_SEARCH_SCAN of them (docs/SECURITY.md §2)."""
    from clearance.auth.models import UserAccount
    from dialogue.briefings import service as briefings

    monkeypatch.setattr(briefings, "_SCAN_CHUNK", 3)
    member = _member(app, factory)
    for i in range(30):
        briefing(app, title=f"{'Harbour' if i % 3 == 0 else 'Other'} note {i:02d}",
                 sort_at=utcnow() - timedelta(minutes=i))
    client = app.test_client()
    sign_in(client, member)
    first = client.get("/briefings?q=harbour").get_data(as_text=True)  # 10 matches, 20 a page: one page
    assert "Harbour note 00" in first and "Harbour note 27" in first and "Other note" not in first
    assert 'rel="next"' not in first
    with app.app_context():
        v = briefings.viewer(db.session, db.session.get(UserAccount, member.id))

        def titles(page: int) -> tuple[list[str], bool]:
            p = briefings.list_page(db.session, v, utcnow(), briefings.Filters(q="HARBOUR"), page, per_page=2)
            return [r.title for r in p.items], p.has_next

        assert titles(1) == (["Harbour note 00", "Harbour note 03"], True)
        assert titles(5) == (["Harbour note 24", "Harbour note 27"], False)
        monkeypatch.setattr(briefings, "TITLE_SEARCH_SCAN", 12)  # only the 12 newest candidates are searched
        assert titles(2) == (["Harbour note 06", "Harbour note 09"], False)
