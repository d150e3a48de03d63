"""A small register for the dialogue tests: two companies with staff, a supply chain, an association."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest

from clearance.db import db, new_id, utcnow
from clearance.permissions import Role
from dialogue.registry.models import Association, CompanyGroup, GroupMember, association_member, company_sector
from tests.factories import Person


@dataclass
class World:
    officer: Person
    officer2: Person
    a: str  # company ids
    b: str
    c: str  # a third company with no accounts
    a_member: Person
    a_colleague: Person
    a_admin: Person
    b_member: Person
    chain: str  # supply chain: A tier 1, B tier 3, C tier 1
    association: str  # members A and B


@pytest.fixture
def world(app, factory) -> World:
    a = factory.company(name_ja="甲材料株式会社", name_en="Ko Materials", region="tohoku", prefecture="04",
                        size_class="small")
    b = factory.company(name_ja="乙部品株式会社", name_en="Otsu Components", region="kyushu", prefecture="40",
                        size_class="large")
    c = factory.company(name_ja="丙化学株式会社", name_en="Hei Chemicals", region="tohoku", prefecture="05",
                        size_class="mid")
    w = World(
        officer=factory.person(Role.OFFICER), officer2=factory.person(Role.OFFICER), a=a, b=b, c=c,
        a_member=factory.person(Role.COMPANY_MEMBER, company_id=a),
        a_colleague=factory.person(Role.COMPANY_MEMBER, company_id=a),
        a_admin=factory.person(Role.COMPANY_ADMIN, company_id=a),
        b_member=factory.person(Role.COMPANY_MEMBER, company_id=b),
        chain="", association="",
    )
    with app.app_context():
        chain = CompanyGroup(id=new_id(), kind="supply_chain", name_ja="試験サプライチェーン", name_en="Test chain",
                             sector="semiconductors")
        db.session.add(chain)
        db.session.flush()
        for cid, tier in ((a, 1), (b, 3), (c, 1)):
            db.session.add(GroupMember(id=new_id(), group_id=chain.id, company_id=cid, tier=tier))
        assoc = Association(id=new_id(), name_ja="試験工業会", name_en="Test Association", sector="semiconductors")
        db.session.add(assoc)
        db.session.flush()
        db.session.execute(association_member.insert(), [{"association_id": assoc.id, "company_id": a},
                                                         {"association_id": assoc.id, "company_id": b}])
        db.session.execute(company_sector.insert(), [{"company_id": a, "sector": "semiconductors"},
                                                     {"company_id": b, "sector": "automotive"},
                                                     {"company_id": c, "sector": "chemicals"}])
        db.session.commit()
        w.chain, w.association = chain.id, assoc.id
    return w


def soon(days: int = 14, hour: int = 14) -> datetime:
    """A wall-clock time in the future (Tokyo), on the hour."""
    return (utcnow() + timedelta(days=days)).replace(hour=hour, minute=0, second=0, microsecond=0)
