"""Set-up helpers for clearance and briefing tests: records written directly, as a fixture.

The rules for *changing* clearances (security officers, two-person rule) are
tested through clearance.people; these helpers only arrange the world a test
starts from.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta

from sqlalchemy import insert, select

from clearance.db import db, new_id, utcnow
from clearance.labels import Compartment
from clearance.people import (
    CertificationDepartment,
    ClearanceCompartment,
    CompanyCertification,
    PersonalClearance,
    copy_compartments,
    set_handlers,
    set_release,
)
from dialogue.briefings.models import Briefing, BriefingTag

DEPT = "技術開発本部"


def compartment(app, code: str, ja: str | None = None, en: str | None = None) -> str:
    with app.app_context():
        if db.session.get(Compartment, code) is None:
            db.session.add(Compartment(code=code, name_ja=ja or f"区画{code}", name_en=en or f"Compartment {code}"))
            db.session.commit()
    return code


def grant(app, user_id: str, level: int = 2, compartments: Iterable[str] = (), *, status: str = "valid",
          expires_at: datetime | None = None, undertaking: bool = True) -> str:
    """Put a personal clearance in force for user_id (replacing any)."""
    with app.app_context():
        for c in compartments:
            if db.session.get(Compartment, c) is None:
                db.session.add(Compartment(code=c, name_ja=f"区画{c}", name_en=f"Compartment {c}"))
        old = db.session.execute(select(PersonalClearance).where(PersonalClearance.user_id == user_id,
                                                                 PersonalClearance.in_force)).scalar_one_or_none()
        if old is not None:
            old.in_force = False
            old.status = "superseded" if old.status == "valid" else old.status
            db.session.flush()
        expires_at = expires_at or utcnow() + timedelta(days=365)
        rec = PersonalClearance(id=new_id(), user_id=user_id, level=level, agency="経済産業省",
                                notified_on=date(2020, 1, 1), expires_on=max(expires_at.date(), date(2020, 1, 2)),
                                expires_at=expires_at, undertaking_signed=undertaking, status=status, in_force=True,
                                reason="test fixture", requested_by="fixture")
        db.session.add(rec)
        db.session.flush()
        codes = sorted(set(compartments))
        if codes:
            db.session.execute(insert(ClearanceCompartment), [{"clearance_id": rec.id, "code": c} for c in codes])
        db.session.commit()
        return rec.id


def certify(app, company_id: str, level: int = 2, departments: Iterable[str] = (DEPT,), *, status: str = "valid",
            expires_at: datetime | None = None) -> str:
    with app.app_context():
        old = db.session.execute(select(CompanyCertification).where(CompanyCertification.company_id == company_id,
                                                                    CompanyCertification.in_force)).scalar_one_or_none()
        if old is not None:
            old.in_force = False
            old.status = "superseded" if old.status == "valid" else old.status
            db.session.flush()
        expires_at = expires_at or utcnow() + timedelta(days=365)
        rec = CompanyCertification(id=new_id(), company_id=company_id, level=level, agency="経済産業省",
                                   certified_on=date(2020, 1, 1), contract_ref="C-1",
                                   expires_on=max(expires_at.date(), date(2020, 1, 2)), expires_at=expires_at,
                                   status=status, in_force=True, reason="test fixture", requested_by="fixture")
        db.session.add(rec)
        db.session.flush()
        depts = sorted(set(departments))
        if depts:
            db.session.execute(insert(CertificationDepartment),
                               [{"certification_id": rec.id, "department": d} for d in depts])
        db.session.commit()
        return rec.id


def briefing(app, *, title: str = "Briefing", body: str = "Body text.", level: int = 0,
             compartments: Iterable[str] = (), status: str = "released", release: Iterable[tuple[str, str]] = (("all", ""),),
             handlers: Iterable[str] = (), designator_id: str | None = None, summary: str = "",
             expires_at: datetime | None = None, tags: Iterable[tuple[str, str]] = (), sort_at: datetime | None = None
             ) -> str:
    with app.app_context():
        for c in compartments:
            if db.session.get(Compartment, c) is None:
                db.session.add(Compartment(code=c, name_ja=f"区画{c}", name_en=f"Compartment {c}"))
        now = sort_at or utcnow()
        b = Briefing(id=new_id(), title=title, summary=summary, level=level, status=status, designator_id=designator_id,
                     created_at=now, updated_at=now, sort_at=now, released_at=now if status != "draft" else None,
                     expires_at=expires_at)
        if level == 2:
            b.designating_agency, b.designation_number = "経済産業省", "経安-2025-001"
            b.designated_on, b.designation_expires_on = date(2025, 6, 1), date(2030, 5, 31)
        b.body = body
        db.session.add(b)
        db.session.flush()
        copy_compartments(db.session, "briefing", b.id, compartments)
        set_release(db.session, "briefing", b.id, release)
        set_handlers(db.session, "briefing", b.id, handlers, None)
        for kind, code in tags:
            db.session.add(BriefingTag(briefing_id=b.id, kind=kind, code=code))
        db.session.commit()
        return b.id
