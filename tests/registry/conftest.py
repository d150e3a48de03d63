"""Register test helpers: signed-in clients per role and one-line builders for register rows."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import pytest

from clearance.db import db
from clearance.permissions import Role
from dialogue.registry import corporate_number, service
from dialogue.registry.models import Company
from tests.factories import csrf, sign_in

_numbers = itertools.count(7_000_000)


def new_number() -> str:
    """A valid corporate number no other test helper hands out."""
    return corporate_number.make(f"{next(_numbers):012d}")


@pytest.fixture
def signed_in(app, factory) -> Callable:
    """signed_in(Role.X, company_id=None) -> (client, person)."""

    def make(role: Role = Role.OFFICER, **kw):
        person = factory.person(role, **kw)
        client = app.test_client()
        assert sign_in(client, person).status_code == 302
        return client, person

    return make


@pytest.fixture
def officer_client(signed_in):
    return signed_in(Role.OFFICER)[0]


def post(client, path: str, data: dict | None = None, **kw):
    """POST with a fresh CSRF token from the signed-in session (every page carries one)."""
    body = {"csrf_token": csrf(client, "/account/"), **(data or {})}
    return client.post(path, data=body, **kw)


@pytest.fixture
def add_company(app) -> Callable[..., str]:
    """add_company(name_ja=…, sectors=("semiconductors",), …) -> id, through the service like the forms."""

    def make(name_ja: str = "", *, name_en: str = "", number: str | None = None, size_class: str = "small",
             prefecture: str = "13", sectors: tuple[str, ...] = ("chemicals",), tech_field: str | None = None,
             materials: tuple[str, ...] = (), key_products: str = "", key_technologies: str = "",
             association_ids: tuple[str, ...] = ()) -> str:
        number = number or new_number()
        with app.test_request_context():
            c = service.create_company(db.session, None, service.CompanyData(
                corporate_number=number, name_ja=name_ja or f"試験{number}株式会社",
                name_en=name_en or f"Test {number} Co., Ltd.", size_class=size_class, prefecture=prefecture,
                sectors=sectors, tech_field=tech_field, materials=materials, key_products=key_products,
                key_technologies=key_technologies, association_ids=association_ids))
            db.session.commit()
            return c.id

    return make


@pytest.fixture
def add_association(app) -> Callable[..., str]:
    def make(name_ja: str, name_en: str = "", sectors: tuple[str, ...] = ("chemicals",)) -> str:
        with app.test_request_context():
            a = service.create_association(db.session, None, service.AssociationData(
                name_ja, name_en or name_ja + " (en)", sectors))
            db.session.commit()
            return a.id

    return make


@pytest.fixture
def add_group(app) -> Callable[..., str]:
    def make(name_ja: str, kind: str = "supply_chain", sector: str = "semiconductors",
             members: dict[str, int | None] | None = None, links: list[tuple[str, str]] = ()) -> str:
        with app.test_request_context():
            g = service.create_group(db.session, None, service.GroupData(kind, name_ja, name_ja + " (en)", sector))
            for company_id, tier in (members or {}).items():
                service.set_group_member(db.session, None, g, db.session.get(Company, company_id), tier)
            for supplier, customer in links:
                service.add_group_link(db.session, None, g, supplier, customer)
            db.session.commit()
            return g.id

    return make


def in_japanese(app, text) -> str:
    """A (lazy) UI string as the Japanese page shows it, whatever the catalog says today."""
    from flask_babel import force_locale

    with app.test_request_context(), force_locale("ja"):
        return str(text)


@pytest.fixture
def add_company_for():
    """add_company_for(app, name_ja) -> id, for tests that build their own app (mail_app)."""

    def make(app, name_ja: str) -> str:
        with app.test_request_context():
            c = service.create_company(db.session, None, service.CompanyData(
                corporate_number=new_number(), name_ja=name_ja, name_en=name_ja + " (en)", size_class="small",
                prefecture="13", sectors=("chemicals",)))
            db.session.commit()
            return c.id

    return make
