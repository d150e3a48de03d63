"""Factories: build what a test needs in one line, with valid defaults."""

from __future__ import annotations

import itertools
import re
import time
from dataclasses import dataclass

import pyotp

from clearance.auth import passwords
from clearance.auth.models import UserAccount
from clearance.db import db, new_id, utcnow
from clearance.permissions import COMPANY_ROLES, Role
from dialogue.registry import corporate_number
from dialogue.registry.models import Company

_seq = itertools.count(1)
PASSWORD = "correct horse battery staple"


@dataclass(frozen=True)
class Person:
    """Plain values about a test account (no ORM object outlives its app context)."""

    id: str
    email: str
    display_name: str
    role: str
    company_id: str | None
    password: str
    totp_secret: str | None


class Factory:
    def __init__(self, app) -> None:
        self.app = app

    def company(self, **kw) -> str:
        """Create a company and return its id."""
        n = next(_seq)
        with self.app.app_context():
            c = Company(
                id=new_id(),
                corporate_number=corporate_number.make(f"{n + 10**6:012d}"),
                name_ja=kw.pop("name_ja", f"テスト工業{n}株式会社"),
                name_en=kw.pop("name_en", f"Test Industries {n}"),
                size_class=kw.pop("size_class", "small"),
                prefecture=kw.pop("prefecture", "13"),
                region=kw.pop("region", "kanto"),
                **kw,
            )
            db.session.add(c)
            db.session.commit()
            return c.id

    def person(self, role: Role = Role.OFFICER, *, totp: bool | None = None, company_id: str | None = None,
               password: str = PASSWORD, active: bool = True, **kw) -> Person:
        n = next(_seq)
        if role in COMPANY_ROLES and company_id is None:
            company_id = self.company()
        totp = role not in COMPANY_ROLES if totp is None else totp
        secret = pyotp.random_base32(32) if totp else None
        with self.app.app_context():
            user = UserAccount(
                id=new_id(),
                email=kw.pop("email", f"user{n}@example.jp"),
                display_name=kw.pop("display_name", f"試験 太郎{n}"),
                role=role.value,
                company_id=company_id if role in COMPANY_ROLES else None,
                password_hash=passwords.hash_password(password),
                active=active,
                **kw,
            )
            if secret:
                user.totp_secret = secret
                user.totp_enabled_at = utcnow()
            db.session.add(user)
            db.session.commit()
            return Person(user.id, user.email, user.display_name, user.role, user.company_id, password, secret)


_last_step: dict[str, int] = {}


def totp_code(secret: str) -> str:
    """A fresh code; moves to the next step if this secret's current one was already used."""
    step = int(time.time() // 30)
    if _last_step.get(secret, -1) >= step:
        step = _last_step[secret] + 1
    _last_step[secret] = step
    return pyotp.TOTP(secret).generate_otp(step)


def csrf(client, path: str = "/login", *, status: int = 200) -> str:
    """The CSRF token of the form on ``path``; the page must answer ``status`` (an error page
    carries a token too, in its header, so reading one without the check hides a 500)."""
    resp = client.get(path)
    assert resp.status_code == status, f"GET {path}: {resp.status_code}, expected {status}"
    html = resp.get_data(as_text=True)
    m = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html) or re.search(
        r'name="csrf_token" value="([^"]+)"', html
    )
    assert m, f"no CSRF token on {path}"
    return m.group(1)


def sign_in(client, person: Person, *, code: str | None = None):
    """Sign in through the real pages; returns the last response."""
    resp = client.post("/login", data={"csrf_token": csrf(client), "email": person.email, "password": person.password})
    if resp.status_code == 302 and resp.headers["Location"].endswith("/login/totp"):
        token = csrf(client, "/login/totp")
        resp = client.post("/login/totp", data={"csrf_token": token, "code": code or totp_code(person.totp_secret)})
    return resp


def audit_summaries(app) -> list[str]:
    from sqlalchemy import select

    from clearance.audit import AuditEntry

    with app.app_context():
        return list(db.session.execute(select(AuditEntry.summary).order_by(AuditEntry.seq)).scalars())
