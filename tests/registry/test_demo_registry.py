"""The demo register extras: contact people sealed, association sectors, two correction requests."""

from __future__ import annotations

import json

from sqlalchemy import func, select, text

from clearance.audit import AuditEntry
from clearance.db import db
from dialogue.demo.seed import seed
from dialogue.registry.models import Association, Company, ContactPerson, CorrectionRequest, association_sector


def test_demo_has_contacts_sectors_and_corrections(app, tmp_path):
    with app.app_context():
        seed(db.session, app.config, tmp_path / "accounts.json", if_empty=False)
        assert db.session.scalar(select(func.count()).select_from(ContactPerson)) > 100
        every_association = db.session.scalar(select(func.count(func.distinct(ContactPerson.association_id))))
        assert every_association == db.session.scalar(select(func.count()).select_from(Association))
        raw = db.session.execute(text("SELECT name_ct FROM contact_person")).scalars().all()
        names = [c.name for c in db.session.scalars(select(ContactPerson))]
        assert all(" " in n for n in names)  # they open, and they read like names
        assert not any(n.split()[0].encode() in bytes(ct) for n, ct in zip(names, raw, strict=False))
        # every association's main sector is among its sectors; some have more
        mains = dict(db.session.execute(select(Association.id, Association.sector)).all())
        pairs = set(db.session.execute(select(association_sector.c.association_id, association_sector.c.sector)))
        assert all((aid, s) in pairs for aid, s in mains.items()) and len(pairs) > len(mains)
        statuses = sorted(db.session.scalars(select(CorrectionRequest.status)))
        assert statuses == ["pending", "rejected"]
        tech = db.session.scalar(select(func.count()).select_from(Company).where(Company.key_technologies != ""))
        assert tech >= 20
        # search finds a company by its key technology
        assert db.session.scalar(select(func.count()).select_from(Company)
                                 .where(Company.search_text.like("%炭素繊維%"))) >= 4
        counts = json.loads(db.session.execute(select(AuditEntry.data)
                                               .where(AuditEntry.summary == "Demo data loaded")).scalar_one())
        assert counts["register_correction_requests"] == 2
