"""Load the fictional demo data set and write the demo accounts file.

`seed()` is what `flask --app app seed-demo` runs. It refuses production, never
loads twice, makes every random choice with a fixed seed (so every install gets
the same data), and commits once: the register, the demo accounts and one audit
entry go in together or not at all.
"""

from __future__ import annotations

import json
import os
import random
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from clearance import audit
from clearance.audit import Kind
from clearance.auth import passwords, service
from clearance.auth.models import UserAccount
from clearance.db import new_id, utcnow
from clearance.permissions import STAFF_ROLES
from dialogue.demo import data
from dialogue.demo.briefings import seed_briefings
from dialogue.demo.consult import seed_consult
from dialogue.demo.feedback import seed_feedback
from dialogue.demo.meetings import seed_meetings
from dialogue.demo.minutes import seed_minutes
from dialogue.demo.registry import seed_registry
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
from dialogue.registry.taxonomy import CRITICAL_MATERIALS, PREFECTURES, SECTORS, SIZE_CLASSES, TECH_FIELDS


class SeedRefused(RuntimeError):
    """The demo data may not be loaded here; the message says why."""


def seed(session: Session, config: Mapping[str, Any], accounts_file: Path, *, if_empty: bool) -> str:
    """Load the demo data set; return a one-line summary. Raises SeedRefused where it must not run."""
    if config.get("TAIWA_ENV") == "production":
        raise SeedRefused("Refusing to load demo data: TAIWA_ENV is production. Demo data and its "
                          "published passwords must never reach a production database.")
    companies = session.scalar(select(func.count()).select_from(Company)) or 0
    if companies:
        if if_empty:
            return f"Demo data not loaded: the register already has {companies} companies."
        raise SeedRefused(f"Refusing to load demo data: the register already has {companies} companies. "
                          "Use an empty database (or --if-empty to skip quietly).")
    emails = [a.email for a in data.ACCOUNTS]
    taken = session.scalars(select(UserAccount.email).where(UserAccount.email.in_(emails))).all()
    if taken:
        raise SeedRefused(f"Refusing to load demo data: demo accounts already exist ({', '.join(sorted(taken))}).")
    for acct in data.ACCOUNTS:  # fail loudly before anything is written
        problems = passwords.policy_problems(acct.password, data.password_context(acct))
        if problems:
            raise RuntimeError(f"demo password for {acct.email} fails the policy: {'; '.join(problems)}")

    _check_data()
    rng = random.Random(data.RANDOM_SEED)  # deterministic demo data, not secrets
    ids = _companies(session, rng)
    n_assoc, n_memberships = _associations(session, rng, ids)
    n_groups, n_links = _groups(session, rng, ids)
    rows = _accounts(session, ids)
    meetings = seed_meetings(session, rng)
    register = seed_registry(session, ids)  # its own random generator: the data above is unchanged
    receipts_file = Path(accounts_file).with_name("demo-receipts.json")
    consult = seed_consult(session, receipts_file)  # receipts of the demo consultations, mode 0600
    minutes = seed_minutes(session, random.Random(data.RANDOM_SEED + 7))  # after dialogues (and briefings)
    feedback = seed_feedback(session, random.Random(data.RANDOM_SEED + 8))  # after minutes: items from them too
    cleared_rows, briefings = seed_briefings(session, ids)  # last: clearances, briefings and the accounts showing them
    rows += cleared_rows

    counts = {
        "associations": n_assoc,
        "association_memberships": n_memberships,
        "companies": len(ids),
        "groups": n_groups,
        "group_links": n_links,
        "accounts": len(rows),
        **{f"meetings_{k}": v for k, v in meetings.items()},
        **{f"register_{k}": v for k, v in register.items()},
        **{f"consult_{k}": v for k, v in consult.items()},
        **{f"minutes_{k}": v for k, v in minutes.items()},
        **{f"feedback_{k}": v for k, v in feedback.items()},
        **{f"briefings_{k}": v for k, v in briefings.items()},
    }
    audit.append(session, realm="system", kind=Kind.CHANGE, summary="Demo data loaded", data=counts)

    tmp = _write_private_json(Path(accounts_file), rows)
    try:
        session.commit()
    except BaseException:
        session.rollback()
        tmp.unlink(missing_ok=True)
        raise
    os.replace(tmp, accounts_file)
    return (
        f"Demo data loaded: {n_assoc} associations ({n_memberships} memberships), {len(ids)} companies, "
        f"{n_groups} company groups ({n_links} supplier links), {len(rows)} demo accounts "
        f"(credentials in {accounts_file}), {consult['cases']} desk consultations (receipts in {receipts_file})."
    )


def _check_data() -> None:
    """Catch a typo in data.py before it becomes a half-valid register."""
    keys = [c.key for c in data.COMPANIES]
    _require(len(keys) == len(set(keys)), "duplicate company key")
    _require(len({c.name_ja for c in data.COMPANIES}) == len(keys), "duplicate company name")
    for c in data.COMPANIES:
        _require(c.prefecture in PREFECTURES, c.key)
        _require(c.size_class in SIZE_CLASSES, c.key)
        _require(1 <= len(c.sectors) <= 2 and set(c.sectors) <= set(SECTORS), c.key)
        _require(len(c.materials) <= 2 and set(c.materials) <= set(CRITICAL_MATERIALS), c.key)
        _require(c.tech_field is None or c.tech_field in TECH_FIELDS, c.key)
    known = set(keys)
    for g in data.GROUPS:
        _require(g.sector in SECTORS, g.name_en)
        members = [k for tier in g.tiers for k in tier]
        _require(set(members) <= known, f"{g.name_en}: unknown {set(members) - known}")
        _require(len(members) == len(set(members)), f"{g.name_en}: a company on two tiers")
        if g.kind == "supply_chain":
            _require(len(g.tiers) == 4 and all(g.tiers), f"{g.name_en}: needs members on tiers 1..4")
    for a in data.ACCOUNTS:
        _require(a.role in STAFF_ROLES or a.company in data.COMPANY_DOMAINS, a.email)


def _require(ok: bool, what: str) -> None:
    if not ok:
        raise ValueError(f"dialogue/demo/data.py: {what}")


def _companies(session: Session, rng: random.Random) -> dict[str, str]:
    """Insert the companies with their sectors and materials; return key -> id."""
    ids: dict[str, str] = {}
    numbers: set[str] = set()
    sectors, materials = [], []
    for spec in data.COMPANIES:
        number = corporate_number.make(f"{rng.randrange(10**11, 10**12):012d}")
        while number in numbers:
            number = corporate_number.make(f"{rng.randrange(10**11, 10**12):012d}")
        numbers.add(number)
        cid = ids[spec.key] = new_id()
        session.add(
            Company(
                id=cid,
                corporate_number=number,
                name_ja=spec.name_ja,
                name_en=spec.name_en,
                size_class=spec.size_class,
                prefecture=spec.prefecture,
                region=PREFECTURES[spec.prefecture][2],
                tech_field=spec.tech_field,
                key_products=spec.key_products,
            )
        )
        sectors += [{"company_id": cid, "sector": s} for s in spec.sectors]
        materials += [{"company_id": cid, "material": m} for m in spec.materials]
    session.flush()
    session.execute(insert(company_sector), sectors)
    if materials:
        session.execute(insert(company_material), materials)
    return ids


def _associations(session: Session, rng: random.Random, ids: dict[str, str]) -> tuple[int, int]:
    rows = []
    for spec in data.ASSOCIATIONS:
        how, code = spec.draws_from
        if how == "sector":
            pool = [c.key for c in data.COMPANIES if code in c.sectors]
        elif how == "material":
            pool = [c.key for c in data.COMPANIES if code in c.materials]
        else:
            pool = [c.key for c in data.COMPANIES if c.size_class != "large"]
        chosen = sorted(rng.sample(pool, min(spec.size, len(pool))))
        aid = new_id()
        session.add(Association(id=aid, name_ja=spec.name_ja, name_en=spec.name_en, sector=spec.sector))
        rows += [{"association_id": aid, "company_id": ids[k]} for k in chosen]
    session.flush()
    session.execute(insert(association_member), rows)
    return len(data.ASSOCIATIONS), len(rows)


def _groups(session: Session, rng: random.Random, ids: dict[str, str]) -> tuple[int, int]:
    """Insert the groups, their members and, in supply chains, supplier → customer links tier t → t+1."""
    links = []
    for spec in data.GROUPS:
        group = CompanyGroup(
            id=new_id(), kind=spec.kind, name_ja=spec.name_ja, name_en=spec.name_en, sector=spec.sector,
            subject_ja=spec.subject_ja, subject_en=spec.subject_en,
        )
        session.add(group)
        chain = spec.kind == "supply_chain"
        for tier_no, tier in enumerate(spec.tiers, start=1):
            for key in tier:
                session.add(GroupMember(id=new_id(), group_id=group.id, company_id=ids[key],
                                        tier=tier_no if chain else None))
        if not chain:
            continue
        for upstream, downstream in zip(spec.tiers, spec.tiers[1:], strict=False):
            edges: set[tuple[str, str]] = set()
            for customer in downstream:  # every customer buys from one or two suppliers
                for supplier in rng.sample(upstream, min(len(upstream), rng.randint(1, 2))):
                    edges.add((supplier, customer))
            for supplier in upstream:  # and every supplier sells to someone
                if not any(s == supplier for s, _ in edges):
                    edges.add((supplier, rng.choice(downstream)))
            links += [
                GroupLink(id=new_id(), group_id=group.id, supplier_id=ids[s], customer_id=ids[c])
                for s, c in sorted(edges)
            ]
    session.flush()
    session.add_all(links)
    session.flush()
    return len(data.GROUPS), len(links)


def _accounts(session: Session, ids: dict[str, str]) -> list[dict]:
    secrets = data.totp_secrets()
    now = utcnow()
    staff = []
    for acct in data.ACCOUNTS:
        user = UserAccount(
            id=new_id(),  # before totp_secret: the ciphertext is bound to the row id
            email=acct.email.lower(),
            display_name=acct.display_name,
            role=acct.role.value,
            company_id=ids[acct.company] if acct.company else None,
            department=acct.department,
            password_hash=passwords.hash_password(acct.password),
            locale=acct.locale,
            active=acct.active,
        )
        if acct.totp:
            user.totp_secret = secrets[acct.email]
            user.totp_enabled_at = now
        elif acct.role in STAFF_ROLES:
            raise RuntimeError(f"{acct.email}: TOTP is mandatory for METI staff")
        session.add(user)
        if acct.role in STAFF_ROLES:
            staff.append(user)
    session.flush()
    for user in staff:
        service.replace_recovery_codes(session, user)  # hashed; the demo never needs them
    return data.account_rows()


def _write_private_json(target: Path, rows: list[dict]) -> Path:
    """Write rows to a 0600 temporary file beside target; the caller renames it into place."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(rows, fh, ensure_ascii=False, indent=2)
            fh.write("\n")
            fh.flush()
            os.fsync(fh.fileno())
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise
    return Path(name)
