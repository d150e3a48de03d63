"""The company portal's profile: own company only, corrections requested, reviewed, applied and audited."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from clearance.audit import AuditEntry
from clearance.db import db
from clearance.permissions import Role
from dialogue.registry.models import Company, CorrectionRequest
from tests.factories import audit_summaries
from tests.registry.conftest import post


@pytest.fixture
def two_companies(add_company, signed_in):
    a = add_company("甲工業株式会社", name_en="Kou Industries", sectors=("steel",), key_products="特殊鋼")
    b = add_company("乙化学株式会社", name_en="Otsu Chemicals", sectors=("chemicals",), key_products="極秘の新素材")
    client_a, person_a = signed_in(Role.COMPANY_MEMBER, company_id=a)
    client_b, person_b = signed_in(Role.COMPANY_ADMIN, company_id=b)
    return {"a": a, "b": b, "client_a": client_a, "client_b": client_b, "person_a": person_a, "person_b": person_b}


def correction_form(**changes) -> dict:
    base = {"name_ja": "乙化学株式会社", "name_en": "Otsu Chemicals", "size_class": "small", "prefecture": "13",
            "sectors": ["chemicals"], "tech_field": "", "materials": [], "key_products": "極秘の新素材",
            "key_technologies": "", "note": ""}
    return base | changes


def request_id_from(resp) -> str:
    assert resp.status_code == 302, resp.get_data(as_text=True)[:1500]
    return resp.headers["Location"].rstrip("/").rsplit("/", 1)[1]


def test_company_sees_its_own_profile_only(two_companies):
    html = two_companies["client_a"].get("/portal/profile").get_data(as_text=True)
    assert "甲工業株式会社" in html and "乙化学株式会社" not in html and "極秘の新素材" not in html


def test_company_a_cannot_reach_company_b_by_guessing_urls(two_companies, app):
    b, client_a, client_b = two_companies["b"], two_companies["client_a"], two_companies["client_b"]
    rid = request_id_from(post(client_b, "/portal/profile/corrections/new",
                               correction_form(name_en="Otsu Chemical Industries", note="英語名の変更")))
    # B sees its request; A gets exactly what a non-existent id gets.
    assert client_b.get(f"/portal/profile/corrections/{rid}").status_code == 200
    missing = client_a.get("/portal/profile/corrections/00000000-0000-0000-0000-000000000000")
    guessed = client_a.get(f"/portal/profile/corrections/{rid}")
    assert guessed.status_code == missing.status_code == 404
    # Same page, byte for byte, apart from the path echoed in the language switch and the CSRF token
    # (signed with a timestamp, so it changes from one second to the next).
    def normalised(resp, path_id: str) -> str:
        html = resp.get_data(as_text=True).replace(path_id, "ID")
        return re.sub(r'name="csrf_token" value="[^"]+"', 'name="csrf_token" value="T"', html)

    assert normalised(guessed, rid) == normalised(missing, "00000000-0000-0000-0000-000000000000")
    assert post(client_a, f"/portal/profile/corrections/{rid}/withdraw").status_code == 404
    # The officers' register pages are closed to company staff, whichever id they try.
    for path in (f"/registry/companies/{b}", f"/registry/companies/{b}/edit", f"/registry/corrections/{rid}",
                 "/registry/companies", "/registry/companies.csv"):
        assert client_a.get(path).status_code == 403, path
    assert post(client_a, f"/registry/corrections/{rid}/approve").status_code == 403
    # There is no URL that takes a company id in the portal at all: the profile page ignores one.
    html = client_a.get(f"/portal/profile?company_id={b}").get_data(as_text=True)
    assert "乙化学株式会社" not in html
    with app.app_context():
        assert db.session.get(CorrectionRequest, rid).status == "pending"  # A's withdraw did nothing


def test_company_a_cannot_file_a_correction_for_company_b(two_companies, app):
    client_a, b = two_companies["client_a"], two_companies["b"]
    resp = post(client_a, "/portal/profile/corrections/new",
                correction_form(name_ja="甲工業株式会社", name_en="Kou Industries", sectors=["steel"],
                                key_products="特殊鋼", note="x", company_id=b))
    rid = request_id_from(resp)
    with app.app_context():
        assert db.session.get(CorrectionRequest, rid).company_id == two_companies["a"]


def test_correction_request_is_reviewed_and_applied(two_companies, app, signed_in, smtp):
    client_b = two_companies["client_b"]
    rid = request_id_from(post(client_b, "/portal/profile/corrections/new",
                               correction_form(name_en="Otsu Chemical Industries Co., Ltd.", size_class="mid",
                                               materials=["critical_minerals"], note="社名の英語表記を更新")))
    page = client_b.get(f"/portal/profile/corrections/{rid}").get_data(as_text=True)
    assert "Otsu Chemical Industries Co., Ltd." in page
    with app.app_context():
        req = db.session.get(CorrectionRequest, rid)
        assert set(req.proposed and __import__("json").loads(req.proposed)) == {"name_en", "size_class", "materials"}
        assert db.session.get(Company, two_companies["b"]).name_en == "Otsu Chemicals"  # not applied yet

    officer, _ = signed_in(Role.OFFICER)
    listing = officer.get("/registry/corrections").get_data(as_text=True)
    assert rid in listing
    assert post(officer, f"/registry/corrections/{rid}/approve").status_code == 302
    with app.app_context():
        company = db.session.get(Company, two_companies["b"])
        assert (company.name_en, company.size_class) == ("Otsu Chemical Industries Co., Ltd.", "mid")
        req = db.session.get(CorrectionRequest, rid)
        assert req.status == "approved" and req.decided_by_id and req.decided_at
        update = db.session.execute(select(AuditEntry).where(AuditEntry.summary == "Company updated")).scalar_one()
        assert f"correction:{rid}" in update.data and "Otsu Chemicals" in update.data
    assert {"Correction requested", "Company updated", "Correction approved"} <= set(audit_summaries(app))
    # The company sees the outcome; deciding twice is refused.
    assert "badge-approved" in client_b.get("/portal/profile").get_data(as_text=True)
    post(officer, f"/registry/corrections/{rid}/approve")
    assert audit_summaries(app).count("Correction approved") == 1


def test_rejection_needs_a_reason_and_the_company_reads_it(two_companies, app, signed_in):
    client_b = two_companies["client_b"]
    rid = request_id_from(post(client_b, "/portal/profile/corrections/new",
                               correction_form(prefecture="27", note="本社移転")))
    officer, _ = signed_in(Role.OFFICER)
    assert post(officer, f"/registry/corrections/{rid}/reject", {"reason": "  "}).status_code == 400
    assert post(officer, f"/registry/corrections/{rid}/reject",
                {"reason": "登記簿上の本店所在地は東京都のままです。"}).status_code == 302
    page = client_b.get(f"/portal/profile/corrections/{rid}").get_data(as_text=True)
    assert "登記簿上の本店所在地は東京都のままです。" in page and "badge-rejected" in page
    with app.app_context():
        assert db.session.get(Company, two_companies["b"]).prefecture == "13"


def test_decision_mail_goes_to_the_requester(mail_app, factory, add_company_for):
    company = add_company_for(mail_app, "通知株式会社")
    member = factory.person(Role.COMPANY_MEMBER, company_id=company)
    officer = factory.person(Role.OFFICER)
    from tests.factories import sign_in

    c = mail_app.test_client()
    sign_in(c, member)
    rid = request_id_from(post(c, "/portal/profile/corrections/new",
                               correction_form(name_ja="通知株式会社", name_en="Tsuchi", key_products="",
                                               note="電話番号が変わりました")))
    o = mail_app.test_client()
    sign_in(o, officer)
    post(o, f"/registry/corrections/{rid}/reject", {"reason": "電話番号は担当者情報で管理します"})
    msg = mail_app.mailbox.last_to(member.email)
    assert "電話番号は担当者情報で管理します" in msg.get_content()


def test_empty_or_invalid_requests_are_refused(two_companies, app):
    client_b = two_companies["client_b"]
    resp = post(client_b, "/portal/profile/corrections/new", correction_form())
    assert resp.status_code == 400  # nothing changed, no note
    resp = post(client_b, "/portal/profile/corrections/new", correction_form(sectors=[], note="x"))
    assert resp.status_code == 400
    resp = post(client_b, "/portal/profile/corrections/new", correction_form(prefecture="99", note="x"))
    assert resp.status_code == 400
    resp = post(client_b, "/portal/profile/corrections/new", correction_form(note="n" * 5000))
    assert resp.status_code == 400
    with app.app_context():
        assert db.session.execute(select(CorrectionRequest)).first() is None


def test_withdrawn_request_cannot_be_approved(two_companies, app, signed_in):
    client_b = two_companies["client_b"]
    rid = request_id_from(post(client_b, "/portal/profile/corrections/new", correction_form(note="取り下げ予定")))
    assert post(client_b, f"/portal/profile/corrections/{rid}/withdraw").status_code == 302
    officer, _ = signed_in(Role.OFFICER)
    post(officer, f"/registry/corrections/{rid}/approve")
    with app.app_context():
        assert db.session.get(CorrectionRequest, rid).status == "withdrawn"


def test_portal_links_to_colleague_management_for_company_admins(two_companies):
    admin_page = two_companies["client_b"].get("/portal/profile").get_data(as_text=True)
    member_page = two_companies["client_a"].get("/portal/profile").get_data(as_text=True)
    assert 'href="/admin/accounts"' in admin_page
    assert 'href="/admin/accounts"' not in member_page
    assert 'href="/portal/profile"' in two_companies["client_a"].get("/portal").get_data(as_text=True)


def test_staff_have_no_portal_profile(signed_in):
    for role in (Role.OFFICER, Role.ADMIN, Role.SECURITY_OFFICER):
        client, _ = signed_in(role)
        assert client.get("/portal/profile").status_code == 403


def test_security_officer_reads_but_cannot_decide(two_companies, signed_in, app):
    rid = request_id_from(post(two_companies["client_b"], "/portal/profile/corrections/new",
                               correction_form(note="確認")))
    client, _ = signed_in(Role.SECURITY_OFFICER)
    page = client.get(f"/registry/corrections/{rid}").get_data(as_text=True)
    assert "確認" in page and not re.search(r'action="[^"]+/approve"', page)
    assert post(client, f"/registry/corrections/{rid}/approve").status_code == 403


def test_two_officers_deciding_at_once_close_the_request_once(two_companies, app, factory):
    """The second decision finds the request no longer pending and changes nothing."""
    from datetime import datetime

    from clearance.auth.models import UserAccount
    from dialogue.registry import corrections
    from dialogue.registry.service import RegisterError

    rid = request_id_from(post(two_companies["client_b"], "/portal/profile/corrections/new",
                               correction_form(size_class="large", note="同時")))
    first, second = factory.person(Role.OFFICER), factory.person(Role.OFFICER)
    with app.test_request_context():
        stale = db.session.get(CorrectionRequest, rid)  # the second officer's page loaded it as pending
        _ = stale.company
        db.session.expunge_all()
        db.session.close()
        with db.engine.begin() as conn:  # meanwhile the first officer rejects it
            conn.execute(CorrectionRequest.__table__.update().where(CorrectionRequest.__table__.c.id == rid)
                         .values(status="rejected", decided_by_id=first.id,
                                 decision_reason_ct=CorrectionRequest.decision_reason.seal_column("先に却下", rid),
                                 decided_at=datetime(2026, 1, 1)))
        db.session.add(stale)
        assert stale.status == "pending"
        with pytest.raises(RegisterError):
            corrections.approve(db.session, db.session.get(UserAccount, second.id), stale)
        db.session.rollback()
        assert db.session.get(Company, two_companies["b"]).size_class == "small"
        req = db.session.get(CorrectionRequest, rid)
        assert (req.status, req.decision_reason) == ("rejected", "先に却下")
