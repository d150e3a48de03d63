"""A small world for the feedback, minutes and report tests: officers, two companies with staff,
held dialogues with invitations, written straight into the database (arrangement, not behaviour)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import insert

from clearance.auth.models import UserAccount
from clearance.db import db, new_id, utcnow
from clearance.people import copy_compartments
from clearance.permissions import Role
from dialogue.meetings.models import AgendaItem, Dialogue, Invitation, dialogue_host
from dialogue.registry.models import company_sector
from tests.factories import Person

DEPT = "技術開発本部"


@dataclass
class World:
    officer: Person
    officer2: Person
    a: str
    b: str
    a_member: Person
    a_colleague: Person
    b_member: Person
    dialogue: str  # held, A's member and colleague invited (member accepted)
    other: str  # held, only B's member invited


def held_dialogue(app, host_id: str, invitees: list[tuple[str, str, str]], *, title: str = "半導体サプライチェーン対話",
                  level: int = 0, compartments=(), agenda=("脅威・リスク情報の共有", "サプライチェーンの現状"),
                  company_id: str | None = None, days_ago: int = 3) -> str:
    """invitees: (user_id, company_id, reply status)."""
    with app.app_context():
        start = (utcnow() - timedelta(days=days_ago)).replace(microsecond=0)
        d = Dialogue(id=new_id(), format="company", company_id=company_id or invitees[0][1], title=title,
                     purpose="", region="kanto", venue="経済産業省 本館", starts_at=start,
                     ends_at=start + timedelta(hours=2), time_zone="Asia/Tokyo", level=level, status="held",
                     created_by=host_id)
        db.session.add(d)
        db.session.flush()
        copy_compartments(db.session, "dialogue", d.id, compartments)
        db.session.execute(insert(dialogue_host), [{"dialogue_id": d.id, "user_id": host_id}])
        for pos, text in enumerate(agenda, start=1):
            db.session.add(AgendaItem(id=new_id(), dialogue=d, position=pos, title=text))
        for user_id, company, status in invitees:
            db.session.add(Invitation(id=new_id(), dialogue_id=d.id, company_id=company, user_id=user_id,
                                      status=status, invited_by=host_id))
        db.session.commit()
        return d.id


def make_world(app, factory) -> World:
    a = factory.company(name_ja="甲材料株式会社", name_en="Ko Materials", region="tohoku", prefecture="04",
                        size_class="small")
    b = factory.company(name_ja="乙部品株式会社", name_en="Otsu Components", region="kyushu", prefecture="40",
                        size_class="large")
    with app.app_context():
        db.session.execute(insert(company_sector), [{"company_id": a, "sector": "semiconductors"},
                                                    {"company_id": a, "sector": "chemicals"},
                                                    {"company_id": b, "sector": "automotive"}])
        db.session.commit()
    officer = factory.person(Role.OFFICER, display_name="議事 一郎")
    officer2 = factory.person(Role.OFFICER, display_name="確認 二郎")
    a_member = factory.person(Role.COMPANY_MEMBER, company_id=a, department=DEPT)
    a_colleague = factory.person(Role.COMPANY_MEMBER, company_id=a, department=DEPT)
    b_member = factory.person(Role.COMPANY_MEMBER, company_id=b, department=DEPT)
    dialogue = held_dialogue(app, officer.id, [(a_member.id, a, "accepted"), (a_colleague.id, a, "declined")])
    other = held_dialogue(app, officer.id, [(b_member.id, b, "accepted")], title="自動車部品の対話", company_id=b)
    return World(officer, officer2, a, b, a_member, a_colleague, b_member, dialogue, other)


@pytest.fixture
def world(app, factory) -> World:
    return make_world(app, factory)


def user(user_id: str) -> UserAccount:
    return db.session.get(UserAccount, user_id)
