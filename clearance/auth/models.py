"""Accounts and the secrets that sign them in."""

from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import BigInteger, Boolean, CheckConstraint, DateTime, ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from clearance.crypto import EncryptedField
from clearance.db import db, new_id, utcnow
from clearance.permissions import COMPANY_ROLES, STAFF_ROLES, Permission, Role, role_has

_ROLE_LIST = ", ".join(f"'{r.value}'" for r in Role)
_COMPANY_LIST = ", ".join(f"'{r.value}'" for r in COMPANY_ROLES)


class UserAccount(UserMixin, db.Model):
    """An account: METI staff or company staff. Anonymous visitors have none."""

    __tablename__ = "user_account"
    __table_args__ = (
        CheckConstraint(f"role IN ({_ROLE_LIST})", name="role_known"),
        # Company staff belong to exactly one company; METI staff to none.
        CheckConstraint(
            f"(role IN ({_COMPANY_LIST})) = (company_id IS NOT NULL)", name="company_matches_role"
        ),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    #: lower-cased at write; the sign-in name
    email: Mapped[str] = mapped_column(String(254), unique=True, nullable=False)
    display_name: Mapped[str] = mapped_column(String(120), nullable=False)
    role: Mapped[str] = mapped_column(String(32), nullable=False)
    company_id: Mapped[str | None] = mapped_column(ForeignKey("company.id"), index=True)
    #: department inside the company or ministry (clearance decisions use it later)
    department: Mapped[str | None] = mapped_column(String(120))
    password_hash: Mapped[str] = mapped_column(String(255), nullable=False)
    password_changed_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    #: TOTP secret sealed by clearance.crypto; NULL until enrolment is confirmed
    totp_secret_ct: Mapped[bytes | None] = mapped_column(LargeBinary)
    totp_enabled_at: Mapped[datetime | None] = mapped_column(DateTime)
    #: last accepted TOTP time step: a code from this step or earlier is a replay
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)
    #: preferred UI language; NULL follows the default (Japanese)
    locale: Mapped[str | None] = mapped_column(String(8))
    active: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime)

    totp_secret = EncryptedField("totp_secret_ct")

    @property
    def is_active(self) -> bool:  # Flask-Login: deactivated accounts are signed out at once
        return self.active

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES

    @property
    def totp_enabled(self) -> bool:
        return self.totp_enabled_at is not None

    @property
    def must_use_totp(self) -> bool:
        """TOTP is mandatory for all METI staff and optional for company staff."""
        return self.is_staff or self.totp_enabled

    def can(self, permission: Permission) -> bool:
        return self.active and role_has(self.role, permission)


class RecoveryCode(db.Model):
    """One-time recovery code for the second factor, kept only as an Argon2id hash."""

    __tablename__ = "recovery_code"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(255), nullable=False)
    used_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)


class PasswordResetToken(db.Model):
    """Single-use, expiring reset token; only its SHA-256 is stored (the token has 256 bits)."""

    __tablename__ = "password_reset_token"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    expires_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    used_at: Mapped[datetime | None] = mapped_column(DateTime)


class WebSession(db.Model):
    """Server-side session. The cookie holds a random id; only its SHA-256 is stored here."""

    __tablename__ = "web_session"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str | None] = mapped_column(String(36), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    last_seen_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, index=True)
    #: JSON; never holds passwords, codes or receipts
    data: Mapped[str] = mapped_column(Text, nullable=False, default="{}")


class ThrottleBucket(db.Model):
    """Failure counter for one key (a hashed account name or a hashed client address)."""

    __tablename__ = "throttle_bucket"

    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    window_started_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime)
