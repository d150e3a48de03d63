"""A correction request is what a company tells the ministry, and its rejection reason what the ministry
tells the company: both are sealed. A correction that names a new contact person never puts that
person's details into the database in clear, while both sides still read everything on their pages."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from clearance.db import db
from clearance.permissions import Role
from dialogue.registry.models import CorrectionRequest
from tests.crypto import population
from tests.registry.conftest import post
from tests.registry.test_portal_profile import correction_form, request_id_from


@pytest.fixture
def company_b(add_company, signed_in) -> dict:
    """The company of correction_form(), with an admin signed in."""
    b = add_company("乙化学株式会社", name_en="Otsu Chemicals", sectors=("chemicals",), key_products="極秘の新素材")
    client_b, _ = signed_in(Role.COMPANY_ADMIN, company_id=b)
    return {"b": b, "client_b": client_b}


def test_a_correction_and_its_rejection_never_appear_in_the_raw_database(company_b, app, signed_in, smtp):
    products, person, reason = population.canary("P"), population.canary("C"), population.canary("R")
    note = f"担当者が変わりました: {person} 山田花子 yamada.hanako@otsu.example.co.jp 03-1234-5678"
    client_b = company_b["client_b"]
    rid = request_id_from(post(client_b, "/portal/profile/corrections/new",
                               correction_form(key_products=f"{products} 高純度フッ化水素", note=note)))
    officer, _ = signed_in(Role.OFFICER)
    assert products in officer.get(f"/registry/corrections/{rid}").get_data(as_text=True)
    assert rid in officer.get("/registry/corrections").get_data(as_text=True)  # the list decrypts its page
    assert post(officer, f"/registry/corrections/{rid}/reject",
                {"reason": f"{reason} 主要製品は公開資料で確認できませんでした"}).status_code == 302

    # both sides read it all
    page = client_b.get(f"/portal/profile/corrections/{rid}").get_data(as_text=True)
    assert person in page and reason in page
    staff_page = officer.get(f"/registry/corrections/{rid}").get_data(as_text=True)
    assert person in staff_page and reason in staff_page
    with app.app_context():
        req = db.session.get(CorrectionRequest, rid)
        assert req.status == "rejected" and reason in req.decision_reason and products in req.proposed
        row = db.session.execute(text("SELECT proposed_ct, original_ct, note_ct, decision_reason_ct "
                                      "FROM correction_request WHERE id = :i"), {"i": rid}).one()
        assert all(value is not None for value in row)
        # nothing of it in the database file, its WAL, or a dump (the audit log names fields, not values)
        assert population.hits(db.engine, [products, person, reason]) == []
        db.session.remove()
        db.engine.dispose()


def test_a_rejection_still_needs_a_reason_in_the_database(company_b, app):
    rid = request_id_from(post(company_b["client_b"], "/portal/profile/corrections/new",
                               correction_form(size_class="large", note="規模の変更")))
    with app.app_context(), pytest.raises(IntegrityError):
        db.session.execute(text("UPDATE correction_request SET status = 'rejected', decided_at = created_at "
                                "WHERE id = :i"), {"i": rid})
        db.session.commit()
