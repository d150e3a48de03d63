"""The demo data set: what it contains, that its accounts work, and when it refuses to load."""

from __future__ import annotations

import json
import stat
from collections import Counter, defaultdict

import pytest
from sqlalchemy import delete, func, select

from clearance import audit
from clearance.audit import AuditEntry
from clearance.auth import passwords
from clearance.auth.models import RecoveryCode, UserAccount
from clearance.db import db
from clearance.permissions import STAFF_ROLES, Role
from dialogue.demo import data
from dialogue.demo.seed import SeedRefused, seed
from dialogue.registry import corporate_number
from dialogue.registry.models import (
    Association,
    Company,
    CompanyGroup,
    GroupLink,
    GroupMember,
    association_member,
    company_material,
    company_sector,
)
from dialogue.registry.taxonomy import PREFECTURES, REGIONS, SECTORS
from tests.factories import Person, sign_in


@pytest.fixture
def seeded(app, tmp_path):
    """Seed once; give back the app and the accounts written to the JSON file."""
    path = tmp_path / "instance" / "demo-accounts.json"
    with app.app_context():
        result = seed(db.session, app.config, path, if_empty=False)
    assert result.startswith("Demo data loaded:")
    app.demo_accounts_path = path
    app.demo_accounts = json.loads(path.read_text(encoding="utf-8"))
    return app


def _count(model_or_table) -> int:
    return db.session.scalar(select(func.count()).select_from(model_or_table))


def test_register_has_the_promised_shape(seeded):
    with seeded.app_context():
        assert _count(Association) >= 14
        assert _count(CompanyGroup) >= 25
        assert _count(Company) >= 100

        companies = db.session.scalars(select(Company)).all()
        assert {c.region for c in companies} == set(REGIONS)  # all nine, not only the six of the deck
        for c in companies:
            assert PREFECTURES[c.prefecture][2] == c.region
            assert c.key_products
        sizes = Counter(c.size_class for c in companies)
        assert 0.55 <= (sizes["mid"] + sizes["small"]) / len(companies) <= 0.75  # 中堅・中小 are the majority

        numbers = [c.corporate_number for c in companies]
        assert len(numbers) == len(set(numbers))
        assert all(corporate_number.is_valid(n) for n in numbers)

        sectors = db.session.execute(select(company_sector.c.company_id, company_sector.c.sector)).all()
        assert {s for _, s in sectors} == set(SECTORS)
        per_company = Counter(cid for cid, _ in sectors)
        assert set(per_company) == {c.id for c in companies} and set(per_company.values()) <= {1, 2}
        materials = Counter(db.session.scalars(select(company_material.c.company_id)))
        assert materials and max(materials.values()) <= 2

        memberships = Counter(db.session.scalars(select(association_member.c.association_id)))
        assert len(memberships) == _count(Association) and min(memberships.values()) >= 4


def test_supply_chains_run_from_materials_to_finished_goods(seeded):
    with seeded.app_context():
        groups = db.session.scalars(select(CompanyGroup)).all()
        chains = [g for g in groups if g.kind == "supply_chain"]
        tech = [g for g in groups if g.kind == "technology"]
        assert len(chains) >= 15 and len(tech) >= 6
        for g in chains:
            tiers = {m.company_id: m.tier for m in g.members}
            assert 5 <= len(tiers) <= 9, g.name_en
            assert set(tiers.values()) == {1, 2, 3, 4}, g.name_en
            links = db.session.scalars(select(GroupLink).where(GroupLink.group_id == g.id)).all()
            assert links, g.name_en
            for link in links:  # supplier one tier upstream of its customer
                assert tiers[link.customer_id] == tiers[link.supplier_id] + 1, g.name_en
            linked = {x for link in links for x in (link.supplier_id, link.customer_id)}
            assert linked == set(tiers), f"{g.name_en}: a member with no supplier or customer"
        for g in tech:
            assert len(g.members) >= 3 and all(m.tier is None for m in g.members), g.name_en
            assert _count(select(GroupLink).where(GroupLink.group_id == g.id).subquery()) == 0


def test_accounts_file_is_private_and_covers_every_role(seeded):
    mode = stat.S_IMODE(seeded.demo_accounts_path.stat().st_mode)
    assert mode == 0o600
    rows = seeded.demo_accounts
    assert {r["role"] for r in rows} == {r.value for r in Role}
    roles = Counter(r["role"] for r in rows)
    assert roles[Role.OFFICER] >= 3 and roles[Role.SECURITY_OFFICER] >= 2 and roles[Role.ADMIN] >= 1
    assert roles[Role.COMPANY_ADMIN] + roles[Role.COMPANY_MEMBER] >= 8
    for r in rows:
        assert set(r) == {"role", "email", "password", "totp_secret", "description"}
        assert ".example." in r["email"] and r["description"]
    assert rows[0]["email"] == "officer@meti.example.go.jp" and "Demo officer" in rows[0]["description"]
    # nothing left behind from the atomic write
    assert sorted(p.name for p in seeded.demo_accounts_path.parent.iterdir()) == ["demo-accounts.json",
                                                                                 "demo-receipts.json"]


def test_every_demo_password_signs_in_and_passes_the_policy(seeded):
    rows = {r["email"]: r for r in seeded.demo_accounts}
    with seeded.app_context():
        users = db.session.scalars(select(UserAccount)).all()
        assert {u.email for u in users} == set(rows)
        companies_with_users = set()
        for u in users:
            r = rows[u.email]
            assert u.role == r["role"]
            assert passwords.verify_password(u.password_hash, r["password"]), u.email
            assert passwords.policy_problems(r["password"], (u.email.split("@")[0], *u.display_name.split())) == []
            assert "taiwa" not in r["password"] and "meti" not in r["password"]
            assert u.totp_secret == r["totp_secret"], u.email  # decrypts, and matches the file
            assert (u.totp_enabled_at is not None) == (r["totp_secret"] is not None)
            if u.role in STAFF_ROLES:
                assert u.company_id is None and u.totp_secret and len(u.totp_secret) == 32
                assert u.email.endswith("@meti.example.go.jp")
                codes = _count(select(RecoveryCode).where(RecoveryCode.user_id == u.id).subquery())
                assert codes == 10
            else:
                assert u.company_id and u.department
                companies_with_users.add(u.company_id)
        assert len(companies_with_users) >= 4
        company_users = [u for u in users if u.role not in STAFF_ROLES]
        assert any(u.totp_enabled for u in company_users) and any(not u.totp_enabled for u in company_users)
        assert [u.active for u in users].count(False) == 1


def test_demo_officer_signs_in_through_the_login_pages(seeded):
    r = seeded.demo_accounts[0]
    person = Person("", r["email"], "", r["role"], None, r["password"], r["totp_secret"])
    client = seeded.test_client()
    resp = sign_in(client, person)
    assert resp.status_code == 302
    assert client.get("/officer").status_code == 200


def test_company_accounts_reach_the_portal_unless_deactivated(seeded):
    def person(r):
        return Person("", r["email"], "", r["role"], None, r["password"], r["totp_secret"])

    company = [r for r in seeded.demo_accounts if r["role"] in (Role.COMPANY_ADMIN, Role.COMPANY_MEMBER)]
    with_totp = next(r for r in company if r["totp_secret"])
    without = next(r for r in company if not r["totp_secret"] and not r["description"].startswith("Deactivated"))
    for r in (with_totp, without):
        client = seeded.test_client()
        sign_in(client, person(r))
        assert client.get("/portal").status_code == 200, r["email"]
    gone = next(r for r in company if r["description"].startswith("Deactivated"))
    client = seeded.test_client()
    sign_in(client, person(gone))
    assert client.get("/portal").status_code == 302  # back to the sign-in page


def test_load_is_audited(seeded):
    with seeded.app_context():
        entry = db.session.scalars(select(AuditEntry).where(AuditEntry.summary == "Demo data loaded")).one()
        assert entry.realm == "system" and entry.kind == "change" and entry.actor == "system"
        counts = json.loads(entry.data)
        assert counts["companies"] == _count(Company) and counts["groups"] == _count(CompanyGroup)
        assert audit.verify(db.session) is None


def test_refuses_production(app, tmp_path):
    path = tmp_path / "demo-accounts.json"
    with app.app_context():
        with pytest.raises(SeedRefused, match="production"):
            seed(db.session, {**app.config, "TAIWA_ENV": "production"}, path, if_empty=True)
        assert _count(Company) == 0 and _count(UserAccount) == 0
    assert not path.exists()


def test_if_empty_makes_it_idempotent_and_a_second_load_is_refused(seeded, tmp_path):
    other = tmp_path / "again.json"
    with seeded.app_context():
        before = (_count(Company), _count(Association), _count(CompanyGroup), _count(UserAccount))
        message = seed(db.session, seeded.config, other, if_empty=True)
        assert "already has" in message
        with pytest.raises(SeedRefused, match="already has"):
            seed(db.session, seeded.config, other, if_empty=False)
        assert (_count(Company), _count(Association), _count(CompanyGroup), _count(UserAccount)) == before
        assert _count(select(AuditEntry).where(AuditEntry.summary == "Demo data loaded").subquery()) == 1
    assert not other.exists()


def _snapshot() -> dict:
    cn = dict(db.session.execute(select(Company.id, Company.corporate_number)).all())
    names = {g.id: g.name_ja for g in db.session.scalars(select(CompanyGroup))}
    assoc = dict(db.session.execute(select(Association.id, Association.name_ja)).all())
    members = defaultdict(set)
    for aid, cid in db.session.execute(select(association_member)).all():
        members[assoc[aid]].add(cn[cid])
    return {
        "companies": sorted(
            db.session.execute(select(Company.corporate_number, Company.name_ja, Company.prefecture)).all()
        ),
        "associations": dict(members),
        "tiers": sorted((names[m.group_id], cn[m.company_id], m.tier or 0)
                        for m in db.session.scalars(select(GroupMember))),
        "links": sorted((names[x.group_id], cn[x.supplier_id], cn[x.customer_id])
                        for x in db.session.scalars(select(GroupLink))),
    }


def test_every_install_gets_the_same_data(seeded, tmp_path):
    with seeded.app_context():
        first = _snapshot()
        from dialogue.feedback.models import FeedbackItem, PolicyMeasure
        from dialogue.meetings.models import Dialogue, DialogueSeries
        from dialogue.minutes.models import Minutes

        for model in (Minutes, FeedbackItem, PolicyMeasure):  # minutes hold their dialogue (RESTRICT)
            db.session.execute(delete(model))
        for model in (Dialogue, DialogueSeries):  # they hold the register rows (ON DELETE RESTRICT)
            db.session.execute(delete(model))
        db.session.execute(delete(UserAccount))
        for model in (GroupLink, GroupMember, CompanyGroup, Association, Company):
            db.session.execute(delete(model))
        db.session.commit()
        seed(db.session, seeded.config, tmp_path / "second.json", if_empty=True)
        assert _snapshot() == first
    second = json.loads((tmp_path / "second.json").read_text(encoding="utf-8"))
    assert second == seeded.demo_accounts


def test_cli_command(app, tmp_path):
    path = tmp_path / "cli.json"
    result = app.test_cli_runner().invoke(args=["seed-demo", "--accounts-file", str(path), "--if-empty"])
    assert result.exit_code == 0, result.output
    assert "Demo data loaded" in result.output and path.exists()
    again = app.test_cli_runner().invoke(args=["seed-demo", "--accounts-file", str(path)])
    assert again.exit_code == 2


def test_markdown_table_lists_every_account():
    table = data.accounts_markdown()
    lines = table.strip().splitlines()
    assert lines[0] == "| role | e-mail | password | TOTP secret | description |"
    assert len(lines) == 2 + len(data.ACCOUNTS)
    assert "`officer@meti.example.go.jp`" in lines[2] and "`kumo-hashi-sakura-2026`" in lines[2]
