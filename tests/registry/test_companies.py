"""Companies, associations and contact people: create, edit, delete, audited; personal data sealed."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text

from clearance.audit import AuditEntry
from clearance.db import db
from clearance.permissions import Role
from dialogue.registry.models import Association, Company, ContactPerson, association_member, company_sector
from tests.factories import audit_summaries
from tests.registry.conftest import new_number, post


def company_form(number: str, **kw) -> dict:
    return {"corporate_number": number, "name_ja": "新規登録株式会社", "name_en": "Shinki Toroku Co., Ltd.",
            "size_class": "mid", "prefecture": "40", "sectors": ["semiconductors", "chemicals"],
            "tech_field": "computing", "materials": ["semiconductors"], "key_products": "SiCウェハ",
            "key_technologies": "結晶成長"} | kw


def test_officer_creates_edits_and_deletes_a_company(officer_client, app, add_association):
    assoc = add_association("登録試験協会")
    number = new_number()
    resp = post(officer_client, "/registry/companies/new", company_form(number, associations=[assoc]))
    assert resp.status_code == 302
    cid = resp.headers["Location"].rsplit("/", 1)[1]
    with app.app_context():
        c = db.session.get(Company, cid)
        assert (c.region, c.size_class, c.tech_field) == ("kyushu", "mid", "computing")  # region from prefecture
        assert set(db.session.scalars(select(company_sector.c.sector).where(company_sector.c.company_id == cid))) == \
            {"semiconductors", "chemicals"}
        assert db.session.execute(select(association_member).where(association_member.c.company_id == cid)).first()
    resp = post(officer_client, f"/registry/companies/{cid}/edit",
                company_form(number, name_en="Renamed Co., Ltd.", prefecture="01", sectors=["steel"]))
    assert resp.status_code == 302
    with app.app_context():
        c = db.session.get(Company, cid)
        assert (c.name_en, c.region) == ("Renamed Co., Ltd.", "hokkaido")
        assert db.session.execute(select(association_member).where(association_member.c.company_id == cid)).first() \
            is None  # the memberships checkbox list was sent empty
        update = db.session.execute(select(AuditEntry).where(AuditEntry.summary == "Company updated")).scalar_one()
        assert "Renamed Co., Ltd." in update.data and "Shinki Toroku Co., Ltd." in update.data
    assert officer_client.get(f"/registry/companies/{cid}/delete").status_code == 200  # the confirmation page
    assert post(officer_client, f"/registry/companies/{cid}/delete").status_code == 302
    assert officer_client.get(f"/registry/companies/{cid}").status_code == 404
    assert {"Company created", "Company updated", "Company deleted"} <= set(audit_summaries(app))


def test_duplicate_corporate_number_is_refused(officer_client, add_company):
    number = new_number()
    add_company("先客株式会社", number=number)
    resp = post(officer_client, "/registry/companies/new", company_form(number))
    assert resp.status_code == 400 and 'id="corporate_number-error"' in resp.get_data(as_text=True)


@pytest.mark.parametrize("change", [
    {"sectors": []}, {"size_class": "huge"}, {"prefecture": "48"}, {"tech_field": "magic"},
    {"materials": ["unobtainium"]}, {"name_ja": ""}, {"name_en": "x" * 201}, {"key_products": "x" * 2001},
    {"associations": ["no-such-association"]}, {"corporate_number": "１２３"},
])
def test_bad_company_input_is_a_400_and_saves_nothing(officer_client, app, change):
    resp = post(officer_client, "/registry/companies/new", company_form(new_number(), **change))
    assert resp.status_code == 400
    with app.app_context():
        assert db.session.execute(select(Company).where(Company.name_ja == "新規登録株式会社")).first() is None


def test_company_with_accounts_is_not_deleted(officer_client, factory, add_company, app):
    cid = add_company("在籍者あり株式会社")
    factory.person(Role.COMPANY_MEMBER, company_id=cid)
    resp = post(officer_client, f"/registry/companies/{cid}/delete")
    assert resp.status_code == 302
    with app.app_context():
        assert db.session.get(Company, cid) is not None
    assert "Company deleted" not in audit_summaries(app)


def test_contact_people_are_encrypted_and_never_audited_in_clear(officer_client, add_company, app):
    cid = add_company("連絡先株式会社")
    person = {"name": "山田 花子", "department": "経営企画部", "title": "部長", "email": "Hanako.Yamada@example.jp",
              "phone": "03-1234-5678"}
    assert post(officer_client, f"/registry/companies/{cid}/contacts/new", person).status_code == 302
    page = officer_client.get(f"/registry/companies/{cid}").get_data(as_text=True)
    assert "山田 花子" in page and "hanako.yamada@example.jp" in page
    with app.app_context():
        raw = db.session.execute(text("SELECT name_ct, department_ct, title_ct, email_ct, phone_ct "
                                      "FROM contact_person")).one()
        for value, column in zip(person.values(), raw, strict=True):
            assert value.encode() not in bytes(column) and value.lower().encode() not in bytes(column)
        contact = db.session.execute(select(ContactPerson)).scalar_one()
        assert contact.name == "山田 花子" and contact.email == "hanako.yamada@example.jp"
        entries = db.session.scalars(select(AuditEntry.data).where(AuditEntry.realm == "register")).all()
        assert entries and not any("山田" in d or "example.jp" in d or "1234" in d for d in entries)
        cp_id = contact.id
    edited = person | {"title": "執行役員"}
    assert post(officer_client, f"/registry/contacts/{cp_id}/edit", edited).status_code == 302
    assert "執行役員" in officer_client.get(f"/registry/companies/{cid}").get_data(as_text=True)
    assert post(officer_client, f"/registry/contacts/{cp_id}/delete").status_code == 302
    assert "山田 花子" not in officer_client.get(f"/registry/companies/{cid}").get_data(as_text=True)
    assert {"Contact person added", "Contact person updated", "Contact person deleted"} <= set(audit_summaries(app))


def test_contact_ciphertext_is_bound_to_its_row(officer_client, add_company, app):
    """A sealed name copied to another row does not open there (the AD names the row id)."""
    from clearance.crypto import DecryptionError

    cid = add_company("束縛確認株式会社")
    for name in ("甲 太郎", "乙 次郎"):
        post(officer_client, f"/registry/companies/{cid}/contacts/new", {"name": name})
    with app.app_context():
        first, second = db.session.scalars(select(ContactPerson).order_by(ContactPerson.created_at)).all()
        second.name_ct = first.name_ct
        with pytest.raises(DecryptionError):
            _ = second.name
        db.session.rollback()


def test_bad_contact_input(officer_client, add_company):
    cid = add_company("入力確認株式会社")
    assert post(officer_client, f"/registry/companies/{cid}/contacts/new", {"name": ""}).status_code == 400
    assert post(officer_client, f"/registry/companies/{cid}/contacts/new",
                {"name": "x", "email": "not-an-address"}).status_code == 400
    assert post(officer_client, "/registry/companies/nope/contacts/new", {"name": "x"}).status_code == 404


def test_associations_crud_members_and_contacts(officer_client, app, add_company):
    resp = post(officer_client, "/registry/associations/new",
                {"name_ja": "新設工業会", "name_en": "New Industry Association", "sectors": ["steel", "robots"]})
    aid = resp.headers["Location"].rsplit("/", 1)[1]
    with app.app_context():
        assert db.session.get(Association, aid).sector == "robots"  # the first in taxonomy order
    number = new_number()
    cid = add_company("会員候補株式会社", number=number)
    full_width = number.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    assert post(officer_client, f"/registry/associations/{aid}/members", {"corporate_number": full_width}
                ).status_code == 302
    page = officer_client.get(f"/registry/associations/{aid}").get_data(as_text=True)
    assert "会員候補株式会社" in page
    assert post(officer_client, f"/registry/associations/{aid}/contacts/new", {"name": "事務局 一郎"}).status_code == 302
    assert "事務局 一郎" in officer_client.get(f"/registry/associations/{aid}").get_data(as_text=True)
    # Editing keeps the main sector while it is still ticked.
    post(officer_client, f"/registry/associations/{aid}/edit",
         {"name_ja": "新設工業会", "name_en": "New Industry Association", "sectors": ["steel", "robots", "chemicals"]})
    with app.app_context():
        assert db.session.get(Association, aid).sector == "robots"
    assert post(officer_client, f"/registry/associations/{aid}/members/{cid}/remove").status_code == 302
    assert post(officer_client, f"/registry/associations/{aid}/members/{cid}/remove").status_code == 404
    assert post(officer_client, f"/registry/associations/{aid}/delete").status_code == 302
    with app.app_context():
        assert db.session.get(Company, cid) is not None  # the company stays
        assert db.session.execute(select(ContactPerson)).first() is None  # the association's contacts go
    assert {"Association created", "Association member added", "Association member removed",
            "Association deleted"} <= set(audit_summaries(app))


@pytest.mark.parametrize("role", [Role.SECURITY_OFFICER, Role.ADMIN])
def test_readers_cannot_write(signed_in, add_company, role, app):
    client, _ = signed_in(role)
    cid = add_company("閲覧専用株式会社")
    assert client.get(f"/registry/companies/{cid}").status_code == 200
    assert 'href="/registry/companies/new"' not in client.get("/registry/companies").get_data(as_text=True)
    for path in ("/registry/companies/new", f"/registry/companies/{cid}/edit", f"/registry/companies/{cid}/delete"):
        assert client.get(path).status_code == 403, path
    assert post(client, f"/registry/companies/{cid}/delete").status_code == 403
    assert post(client, "/registry/companies/new", company_form(new_number())).status_code == 403
    with app.app_context():
        assert db.session.get(Company, cid) is not None


def test_post_without_csrf_is_refused(officer_client, add_company, app):
    cid = add_company("偽造防止株式会社")
    assert officer_client.post(f"/registry/companies/{cid}/delete", data={}).status_code == 400
    with app.app_context():
        assert db.session.get(Company, cid) is not None


def test_nav_has_the_register_for_staff_only(signed_in):
    officer, _ = signed_in(Role.OFFICER)
    assert 'href="/registry/companies"' in officer.get("/officer").get_data(as_text=True)
    member, _ = signed_in(Role.COMPANY_MEMBER)
    assert 'href="/registry/companies"' not in member.get("/portal").get_data(as_text=True)


def test_every_register_page_renders_in_english_too(signed_in, add_company, add_association, add_group, app):
    client, _ = signed_in(Role.OFFICER, locale="en")
    assoc = add_association("英語確認協会", "English Check Association")
    a = add_company("英語確認株式会社", name_en="English Check Co., Ltd.", association_ids=(assoc,))
    b = add_company("英語確認二株式会社", name_en="English Check Two Co., Ltd.")
    gid = add_group("英語確認チェーン", members={a: 1, b: 2}, links=[(a, b)])
    post(client, f"/registry/companies/{a}/contacts/new", {"name": "Jane Doe"})
    pages = ["/registry/companies", f"/registry/companies/{a}", f"/registry/companies/{a}/edit",
             f"/registry/companies/{a}/delete", f"/registry/companies/{a}/contacts/new", "/registry/associations",
             f"/registry/associations/{assoc}", f"/registry/associations/{assoc}/edit", "/registry/groups",
             f"/registry/groups/{gid}", f"/registry/groups/{gid}/edit", "/registry/corrections",
             "/registry/companies/import", "/registry/companies/new", "/registry/groups/new", "/registry/associations/new"]
    for path in pages:
        resp = client.get(path)
        html = resp.get_data(as_text=True)
        assert resp.status_code == 200, path
        assert '<html lang="en">' in html, path
    html = client.get("/registry/companies").get_data(as_text=True)
    assert html.index("English Check Co., Ltd.") < html.index("英語確認株式会社")  # English name first


def test_register_tables_head_an_organisations_name_not_a_persons(officer_client, add_company):
    """「氏名」 is a person's name; companies, associations and groups have a 「名称」."""
    add_company()
    for path in ("/registry/companies", "/registry/associations", "/registry/groups"):
        html = officer_client.get(path).get_data(as_text=True)
        assert '<th scope="col">名称</th>' in html and "氏名" not in html, path
