"""Sign-in, second factor, password reset and account actions as plain functions.

Views call these; so do the CLI and the tests. Nothing here reads the request.
"""

from __future__ import annotations

import hashlib
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from clearance import audit
from clearance.audit import Kind
from clearance.auth import passwords, throttle, totp
from clearance.auth.models import PasswordResetToken, RecoveryCode, UserAccount
from clearance.db import utcnow


class Outcome(StrEnum):
    OK = "ok"
    NEED_TOTP = "need_totp"  # password right; second factor next
    NEED_ENROL = "need_enrol"  # staff without TOTP yet: must enrol before anything else
    BAD_CREDENTIALS = "bad_credentials"
    ACCOUNT_LOCKED = "account_locked"
    CLIENT_LOCKED = "client_locked"


@dataclass(frozen=True)
class SignIn:
    outcome: Outcome
    user: UserAccount | None = None
    until: datetime | None = None


@dataclass(frozen=True)
class Client:
    """Who is asking, as far as throttling and the audit log need to know."""

    address: str
    user_agent: str = ""


def find_by_email(session: Session, email: str) -> UserAccount | None:
    return session.execute(
        select(UserAccount).where(UserAccount.email == email.strip().lower())
    ).scalar_one_or_none()


def _keys(secret: str, email: str, client: Client) -> tuple[str, str]:
    return (
        throttle.bucket_key(secret, "acct", email.strip().lower()),
        throttle.bucket_key(secret, "client", client.address),
    )


def sign_in(session: Session, email: str, password: str, client: Client, *, secret: str, limits: throttle.Limits) -> SignIn:
    """First factor. Unknown e-mail and wrong password answer the same, in the same time."""
    acct_key, client_key = _keys(secret, email, client)
    for key, outcome in ((client_key, Outcome.CLIENT_LOCKED), (acct_key, Outcome.ACCOUNT_LOCKED)):
        until = throttle.locked_until(session, key)
        if until:
            audit.append(session, realm="auth", kind=Kind.NEGATIVE, summary="Sign-in refused: locked",
                         data={"account": acct_key, "scope": outcome.value, "ip": client.address})
            session.commit()
            return SignIn(outcome, until=until)
    user = find_by_email(session, email)
    if user is None or not user.active:
        passwords.burn_time(password)
        ok = False
    else:
        ok = passwords.verify_password(user.password_hash, password)
    if not ok:
        return _failed(session, email, client, acct_key, client_key, limits, user)
    throttle.clear(session, acct_key)
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hash_password(password)
    if user.totp_enabled:
        session.commit()
        return SignIn(Outcome.NEED_TOTP, user)
    if user.must_use_totp:
        session.commit()
        return SignIn(Outcome.NEED_ENROL, user)
    complete_sign_in(session, user, client, method="password")
    return SignIn(Outcome.OK, user)


def _failed(session, email, client, acct_key, client_key, limits, user) -> SignIn:
    locked_acct = throttle.record_failure(session, acct_key, limits.account_max, limits.window)
    locked_client = throttle.record_failure(session, client_key, limits.client_max, limits.window)
    # For unknown accounts only a keyed hash of what was typed: people paste passwords into the wrong field.
    typed = email[:254] if user is not None else acct_key
    audit.append(session, realm="auth", kind=Kind.NEGATIVE, summary="Sign-in failed",
                 actor_id=user.id if user else None, actor=user.email if user else "unknown",
                 data={"email": typed, "ip": client.address, "known": user is not None})
    if locked_acct or locked_client:
        audit.append(session, realm="auth", kind=Kind.NEGATIVE, summary="Sign-in locked out after repeated failures",
                     actor_id=user.id if user else None, actor=user.email if user else "unknown",
                     data={"scope": "account" if locked_acct else "client", "ip": client.address,
                           "minutes": int(limits.window.total_seconds() // 60)})
    session.commit()
    if locked_client:
        return SignIn(Outcome.CLIENT_LOCKED, until=utcnow() + limits.window)
    if locked_acct:
        return SignIn(Outcome.ACCOUNT_LOCKED, until=utcnow() + limits.window)
    return SignIn(Outcome.BAD_CREDENTIALS)


def complete_sign_in(session: Session, user: UserAccount, client: Client, *, method: str) -> None:
    user.last_login_at = utcnow()
    audit.append(session, realm="auth", kind=Kind.POSITIVE, summary="Signed in", actor_id=user.id, actor=user.email,
                 data={"method": method, "ip": client.address})
    session.commit()


def second_factor(
    session: Session, user: UserAccount, code: str, client: Client, *, secret: str, limits: throttle.Limits
) -> Outcome:
    """Check a TOTP code or a recovery code. Failures count towards the account lock-out."""
    acct_key, client_key = _keys(secret, user.email, client)
    if throttle.locked_until(session, acct_key):
        return Outcome.ACCOUNT_LOCKED
    cleaned = unicodedata.normalize("NFKC", code).strip()
    method = None
    if cleaned.replace(" ", "").isdecimal():
        step = totp.accept(user.totp_secret or "", cleaned, user.totp_last_step)
        if step is not None:
            # Conditional update: of two concurrent requests with the same code only one wins.
            won = session.execute(
                update(UserAccount)
                .where(UserAccount.id == user.id)
                .where((UserAccount.totp_last_step.is_(None)) | (UserAccount.totp_last_step < step))
                .values(totp_last_step=step)
            ).rowcount
            method = "totp" if won == 1 else None
    elif use_recovery_code(session, user, cleaned):
        method = "recovery_code"
    if method is None:
        failed = _failed(session, user.email, client, acct_key, client_key, limits, user)
        return Outcome.ACCOUNT_LOCKED if failed.outcome is Outcome.ACCOUNT_LOCKED else Outcome.BAD_CREDENTIALS
    throttle.clear(session, acct_key)
    session.refresh(user)
    complete_sign_in(session, user, client, method=method)
    return Outcome.OK


def use_recovery_code(session: Session, user: UserAccount, code: str) -> bool:
    normal = totp.normalise_recovery(code)
    if len(normal) != 14:
        return False
    for rc in session.execute(
        select(RecoveryCode).where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
    ).scalars():
        if passwords.verify_secret(rc.code_hash, normal):
            rc.used_at = utcnow()
            audit.append(session, realm="auth", kind=Kind.CHANGE, summary="Recovery code used",
                         actor_id=user.id, actor=user.email, data={"remaining": remaining_recovery_codes(session, user) - 1})
            return True
    return False


def remaining_recovery_codes(session: Session, user: UserAccount) -> int:
    return session.execute(
        select(func.count()).select_from(RecoveryCode).where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
    ).scalar_one()


def confirm_enrolment(session: Session, user: UserAccount, secret_b32: str, code: str) -> list[str] | None:
    """Switch TOTP on once one code checks out; returns fresh recovery codes (shown once)."""
    step = totp.accept(secret_b32, code, None)
    if step is None:
        return None
    user.totp_secret = secret_b32
    user.totp_enabled_at = utcnow()
    user.totp_last_step = step
    codes = replace_recovery_codes(session, user)
    audit.append(session, realm="account", kind=Kind.CHANGE, summary="Two-step sign-in enabled",
                 actor_id=user.id, actor=user.email)
    _notify_enrolment(session, user)
    return codes


def _notify_enrolment(session: Session, user: UserAccount) -> None:
    """Whoever enrols needs only the password: tell the owner at once, so an enrolment by someone
    else (a leaked welcome mail, a phished password) does not go unnoticed."""
    from flask import has_request_context
    from flask_babel import force_locale
    from flask_babel import gettext as _

    from clearance.outbox import enqueue

    if not has_request_context():
        return
    with force_locale(user.locale or "ja"):
        enqueue(session, to=user.email, subject=_("Taiwa: two-step sign-in was turned on"),
                body=_("Two-step sign-in was just turned on for your Taiwa account with a new authenticator app. "
                       "If this was not you, contact the Taiwa administrators immediately: "
                       "someone knows your password."))


def replace_recovery_codes(session: Session, user: UserAccount) -> list[str]:
    session.execute(
        update(RecoveryCode).where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None)).values(used_at=utcnow())
    )
    codes = totp.new_recovery_codes()
    for c in codes:
        session.add(RecoveryCode(user_id=user.id, code_hash=passwords.hash_secret(c)))
    return codes


def disable_totp(session: Session, user: UserAccount) -> bool:
    """Company staff may switch TOTP off; METI staff may not."""
    if user.is_staff:
        return False
    user.totp_secret_ct = None
    user.totp_enabled_at = None
    user.totp_last_step = None
    session.execute(
        update(RecoveryCode).where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None)).values(used_at=utcnow())
    )
    audit.append(session, realm="account", kind=Kind.CHANGE, summary="Two-step sign-in disabled",
                 actor_id=user.id, actor=user.email)
    return True


def set_password(session: Session, user: UserAccount, new_password: str) -> list[str]:
    """Apply the policy; on success hash and store. Returns the policy problems (empty on success)."""
    problems = passwords.policy_problems(new_password, (user.email.split("@")[0], *user.display_name.split()))
    if problems:
        return problems
    user.password_hash = passwords.hash_password(new_password)
    user.password_changed_at = utcnow()
    return []


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_password_reset(session: Session, email: str, ttl: timedelta) -> tuple[UserAccount, str] | None:
    """Create a single-use token for an active account; None (silently) for anything else."""
    user = find_by_email(session, email)
    if user is None or not user.active:
        audit.append(session, realm="auth", kind=Kind.INFO, summary="Password reset asked for an unknown address")
        return None
    token = secrets.token_urlsafe(32)
    session.add(PasswordResetToken(token_hash=token_digest(token), user_id=user.id, expires_at=utcnow() + ttl))
    audit.append(session, realm="auth", kind=Kind.INFO, summary="Password reset requested",
                 actor_id=user.id, actor=user.email)
    return user, token


def valid_reset(session: Session, token: str) -> PasswordResetToken | None:
    if not token or len(token) > 100:
        return None
    row = session.get(PasswordResetToken, token_digest(token))
    if row is None or row.used_at is not None or row.expires_at < utcnow():
        return None
    return row


def finish_password_reset(
    session: Session, token: str, new_password: str, *, secret: str
) -> tuple[UserAccount | None, list[str]]:
    """Use the token once: new password, all sessions ended, lock-out lifted."""
    row = valid_reset(session, token)
    if row is None:
        return None, []
    user = session.get(UserAccount, row.user_id)
    problems = set_password(session, user, new_password)
    if problems:
        return user, problems
    row.used_at = utcnow()
    revoke_reset_tokens(session, user)
    throttle.clear(session, throttle.bucket_key(secret, "acct", user.email))
    audit.append(session, realm="auth", kind=Kind.CHANGE, summary="Password reset completed",
                 actor_id=user.id, actor=user.email)
    return user, []


def revoke_reset_tokens(session: Session, user: UserAccount) -> None:
    """Any other outstanding reset or welcome link dies with a password change."""
    session.execute(
        update(PasswordResetToken)
        .where(PasswordResetToken.user_id == user.id, PasswordResetToken.used_at.is_(None))
        .values(used_at=utcnow())
    )


def check_current_password(
    session: Session, user: UserAccount, password: str, client: Client, *, secret: str, limits: throttle.Limits
) -> bool:
    """Re-authentication inside a session (password change, 2FA off, new recovery codes). Failures count
    towards the same lock-out as sign-in, so a stolen session cannot be used to guess the password."""
    acct_key, client_key = _keys(secret, user.email, client)
    if throttle.locked_until(session, acct_key) or throttle.locked_until(session, client_key):
        return False
    if passwords.verify_password(user.password_hash, password):
        return True
    _failed(session, user.email, client, acct_key, client_key, limits, user)
    return False


def audit_event(session: Session, user: UserAccount | None, realm: str, kind: Kind, summary: str,
                data: dict[str, Any] | None = None) -> None:
    audit.append(session, realm=realm, kind=kind, summary=summary, data=data,
                 actor_id=user.id if user else None, actor=user.email if user else "anonymous")
