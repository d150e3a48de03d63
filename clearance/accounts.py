"""Account administration: who may manage whom, and the actions themselves.

Administrators manage every account; company admins only their own company's
staff accounts. Nobody changes their own role or deactivates themselves.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from clearance import audit
from clearance.audit import Kind
from clearance.auth import passwords, throttle
from clearance.auth.models import PasswordResetToken, UserAccount
from clearance.auth.service import token_digest
from clearance.db import utcnow
from clearance.permissions import COMPANY_ROLES, Permission, Role


class NotAllowed(Exception):
    """The actor may not do this to that account."""


def manageable(actor: UserAccount) -> Select:
    """The accounts this actor may list and manage, as a query (SQL does the filtering)."""
    q = select(UserAccount)
    if actor.can(Permission.USERS_MANAGE):
        return q
    if actor.can(Permission.COMPANY_USERS_MANAGE) and actor.company_id:
        return q.where(UserAccount.company_id == actor.company_id)
    return q.where(False)


def assignable_roles(actor: UserAccount) -> list[Role]:
    if actor.can(Permission.USERS_MANAGE):
        return list(Role)
    if actor.can(Permission.COMPANY_USERS_MANAGE):
        return [Role.COMPANY_MEMBER, Role.COMPANY_ADMIN]
    return []


def may_manage(actor: UserAccount, target: UserAccount) -> bool:
    if target.id == actor.id:
        return False
    if actor.can(Permission.USERS_MANAGE):
        return True
    return bool(actor.can(Permission.COMPANY_USERS_MANAGE) and actor.company_id and target.company_id == actor.company_id)


def load_manageable(session: Session, actor: UserAccount, account_id: str) -> UserAccount | None:
    """The account if the actor may manage it; otherwise None, exactly as if it did not exist."""
    return session.execute(manageable(actor).where(UserAccount.id == account_id)).scalar_one_or_none()


@dataclass(frozen=True)
class NewAccount:
    email: str
    display_name: str
    role: Role
    company_id: str | None
    department: str | None = None


def create_account(session: Session, actor: UserAccount, new: NewAccount, ttl) -> tuple[UserAccount, str]:
    """Create an account with no usable password; returns it and a set-password token for the welcome mail."""
    if new.role not in assignable_roles(actor):
        raise NotAllowed("role")
    company_id = new.company_id if new.role in COMPANY_ROLES else None
    if not actor.can(Permission.USERS_MANAGE):
        company_id = actor.company_id  # company admins create accounts in their own company only
    if new.role in COMPANY_ROLES and not company_id:
        raise NotAllowed("company")
    user = UserAccount(
        email=new.email.strip().lower(), display_name=new.display_name.strip(), role=new.role.value,
        company_id=company_id, department=(new.department or None),
        password_hash=passwords.hash_secret(secrets.token_urlsafe(32)),  # unusable until set via the link
    )
    session.add(user)
    session.flush()
    token = secrets.token_urlsafe(32)
    session.add(PasswordResetToken(token_hash=token_digest(token), user_id=user.id, expires_at=utcnow() + ttl))
    audit.append(session, realm="admin", kind=Kind.CHANGE, summary="Account created", actor_id=actor.id, actor=actor.email,
                 data={"account": user.id, "email": user.email, "role": user.role, "company": company_id})
    return user, token


def change_role(session: Session, actor: UserAccount, target: UserAccount, role: Role) -> None:
    if not may_manage(actor, target) or role not in assignable_roles(actor):
        raise NotAllowed("role")
    if (role in COMPANY_ROLES) != (target.company_id is not None):
        raise NotAllowed("company")
    old = target.role
    target.role = role.value
    audit.append(session, realm="admin", kind=Kind.CHANGE, summary="Role changed", actor_id=actor.id, actor=actor.email,
                 data={"account": target.id, "from": old, "to": role.value})


def set_active(session: Session, actor: UserAccount, target: UserAccount, active: bool) -> None:
    if not may_manage(actor, target):
        raise NotAllowed("self")
    target.active = active
    audit.append(session, realm="admin", kind=Kind.CHANGE,
                 summary="Account reactivated" if active else "Account deactivated",
                 actor_id=actor.id, actor=actor.email, data={"account": target.id})


def unlock(session: Session, actor: UserAccount, target: UserAccount, secret: str) -> None:
    if not may_manage(actor, target):
        raise NotAllowed("self")
    throttle.clear(session, throttle.bucket_key(secret, "acct", target.email))
    audit.append(session, realm="admin", kind=Kind.CHANGE, summary="Sign-in lock lifted",
                 actor_id=actor.id, actor=actor.email, data={"account": target.id})


def reset_second_factor(session: Session, actor: UserAccount, target: UserAccount) -> None:
    """For a lost phone: the person enrols again at their next sign-in (staff) or may re-enrol (company)."""
    if not may_manage(actor, target):
        raise NotAllowed("self")
    target.totp_secret_ct = None
    target.totp_enabled_at = None
    target.totp_last_step = None
    audit.append(session, realm="admin", kind=Kind.CHANGE, summary="Two-step sign-in reset by an administrator",
                 actor_id=actor.id, actor=actor.email, data={"account": target.id})
