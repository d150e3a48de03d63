"""Migration 0009 (invitation "revoked"): existing invitations and their RSVP links survive the
table rebuild on SQLite (foreign keys on), the new state is allowed, and downgrading keeps them."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from clearance.db import db, new_id
from tests.conftest import ROOT, base_overrides

REVISION = "0009_invitation_revoked"
MIGRATIONS = str(ROOT / "migrations")


def _seed(session) -> tuple[str, str]:
    """One officer, company, dialogue, two invitations (one delegated to the other) and a live RSVP token."""
    from clearance.auth.models import UserAccount
    from dialogue.registry.models import Company

    officer = UserAccount(id=new_id(), email="o@example.jp", display_name="O", role="officer", password_hash="x")
    member = UserAccount(id=new_id(), email="m@example.jp", display_name="M", role="company_member", password_hash="x")
    company = Company(id=new_id(), corporate_number="1000000000003", name_ja="甲", name_en="Ko", size_class="small",
                      prefecture="13", region="kanto")
    session.add_all([officer, company])
    session.flush()
    member.company_id = company.id
    start = datetime(2031, 5, 1, 5, 0)
    session.add(member)
    session.flush()
    dialogue_id, first, second = new_id(), new_id(), new_id()
    # Core inserts: the ORM models already know the columns this migration and later ones (0012) change.
    session.execute(text("INSERT INTO dialogue (id, format, company_id, title, purpose, venue, online_url, starts_at, "
                         "ends_at, time_zone, level, status, status_reason, sequence, created_at, updated_at) "
                         "VALUES (:i, 'company', :c, 't', '', '', '', :s, :e, 'Asia/Tokyo', 0, 'invited', '', 0, "
                         ":s, :s)"),
                    {"i": dialogue_id, "c": company.id, "s": start, "e": start + timedelta(hours=1)})
    session.execute(text("INSERT INTO invitation (id, dialogue_id, company_id, user_id, status, invited_at) "
                         "VALUES (:i, :d, :c, :u, 'pending', :t)"),
                    {"i": second, "d": dialogue_id, "c": company.id, "u": officer.id, "t": start})
    session.execute(text("INSERT INTO invitation (id, dialogue_id, company_id, user_id, status, invited_at, "
                         "delegated_to_id) VALUES (:i, :d, :c, :u, 'delegated', :t, :to)"),
                    {"i": first, "d": dialogue_id, "c": company.id, "u": member.id, "t": start, "to": second})
    session.execute(text("INSERT INTO rsvp_token (token_hash, invitation_id, created_at, expires_at) "
                         "VALUES (:h, :i, :t, :t)"), {"h": "a" * 64, "i": second, "t": start})
    session.commit()
    return first, second


def test_upgrade_keeps_invitations_and_rsvp_links_and_allows_revoked(empty_db, tmp_path):
    from flask_migrate import downgrade, upgrade

    from app import create_app

    app = create_app({**base_overrides(tmp_path), "SQLALCHEMY_DATABASE_URI": empty_db})
    with app.app_context():
        script = ScriptDirectory(MIGRATIONS)
        for head in script.get_heads():
            # every other branch at its head; the meetings branch stays below this revision (0012 follows it)
            if REVISION not in {r.revision for r in script.iterate_revisions(head, "base")}:
                upgrade(directory=MIGRATIONS, revision=head)
        upgrade(directory=MIGRATIONS, revision="0003_meetings")
        first, second = _seed(db.session)
        db.session.close()

        upgrade(directory=MIGRATIONS, revision="heads")
        s = db.session
        assert s.execute(text("SELECT count(*) FROM rsvp_token")).scalar_one() == 1
        assert s.execute(text("SELECT delegated_to_id FROM invitation WHERE id = :i"), {"i": first}).scalar_one() \
            == second
        s.execute(text("UPDATE invitation SET status = 'revoked', revoked_at = :t WHERE id = :i"),
                  {"i": second, "t": datetime(2031, 4, 1)})
        s.commit()
        with pytest.raises(IntegrityError):
            s.execute(text("UPDATE invitation SET status = 'lost' WHERE id = :i"), {"i": second})
        s.rollback()
        s.close()  # PostgreSQL: an open read would block the ALTER TABLE

        downgrade(directory=MIGRATIONS, revision="0003_meetings")
        assert s.execute(text("SELECT status FROM invitation WHERE id = :i"), {"i": second}).scalar_one() \
            == "withdrawn"
        assert s.execute(text("SELECT count(*) FROM rsvp_token")).scalar_one() == 1
        s.close()
        upgrade(directory=MIGRATIONS, revision="heads")
        db.session.remove()
        db.engine.dispose()
