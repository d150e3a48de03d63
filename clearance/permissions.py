"""Roles, permissions and the one table that joins them.

Every view declares the permission it needs with ``@requires``; the request
guard in ``clearance.guard`` refuses any endpoint that declares nothing and is
not on ``PUBLIC_ENDPOINTS``.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from typing import TypeVar

F = TypeVar("F", bound=Callable[..., object])


class Role(StrEnum):
    OFFICER = "officer"  # 担当官: runs dialogues
    SECURITY_OFFICER = "security_officer"  # 保全担当官: records clearances
    ADMIN = "admin"  # システム管理者: accounts, keys, audit log
    COMPANY_MEMBER = "company_member"  # 企業担当者
    COMPANY_ADMIN = "company_admin"  # 企業管理者: their own company's accounts


STAFF_ROLES = frozenset({Role.OFFICER, Role.SECURITY_OFFICER, Role.ADMIN})
COMPANY_ROLES = frozenset({Role.COMPANY_MEMBER, Role.COMPANY_ADMIN})


class Permission(StrEnum):
    ACCOUNT_SELF = "account.self"  # own profile, password, 2FA, sessions
    STAFF_HOME = "staff.home"
    PORTAL_HOME = "portal.home"
    REGISTER_READ = "register.read"
    REGISTER_WRITE = "register.write"
    ACCOUNTS_MANAGE = "accounts.manage"  # the account pages; scope below decides which accounts
    USERS_MANAGE = "users.manage"  # scope: every account
    COMPANY_USERS_MANAGE = "company_users.manage"  # scope: own company's accounts
    AUDIT_READ = "audit.read"
    CLEARANCE_MANAGE = "clearance.manage"
    DIALOGUES_READ = "dialogues.read"  # officers' dialogue pages
    DIALOGUES_WRITE = "dialogues.write"  # plan, invite, change status
    PORTAL_DIALOGUES = "portal.dialogues"  # company staff: own company's invitations
    BRIEFINGS_READ = "briefings.read"  # threat briefings; clearance.policy decides which ones
    BRIEFINGS_WRITE = "briefings.write"  # write, release, withdraw briefings; see who read them
    FEEDBACK_READ = "feedback.read"  # officers: feedback items and their analysis
    FEEDBACK_WRITE = "feedback.write"  # officers: triage, answer, link to policy measures
    FEEDBACK_SUBMIT = "feedback.submit"  # company staff: send feedback, see own company's items and answers
    MINUTES_READ = "minutes.read"  # officers: minutes; clearance.policy decides which sections
    MINUTES_WRITE = "minutes.write"  # officers: write, review, approve, lock, add addenda
    PORTAL_MINUTES = "portal.minutes"  # company staff: minutes of dialogues they were invited to
    REPORTS_READ = "reports.read"  # officers: PDF and spreadsheet reports
    CONSULT_DESK = "consult.desk"  # officers: the anonymous desk's inbox; only those on its roster see cases


ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.OFFICER: frozenset(
        {Permission.ACCOUNT_SELF, Permission.STAFF_HOME, Permission.REGISTER_READ, Permission.REGISTER_WRITE,
         Permission.DIALOGUES_READ, Permission.DIALOGUES_WRITE, Permission.BRIEFINGS_READ, Permission.BRIEFINGS_WRITE,
         Permission.FEEDBACK_READ, Permission.FEEDBACK_WRITE, Permission.MINUTES_READ, Permission.MINUTES_WRITE,
         Permission.REPORTS_READ, Permission.CONSULT_DESK}
    ),
    Role.SECURITY_OFFICER: frozenset(
        {Permission.ACCOUNT_SELF, Permission.STAFF_HOME, Permission.REGISTER_READ, Permission.CLEARANCE_MANAGE,
         Permission.DIALOGUES_READ, Permission.BRIEFINGS_READ}
    ),
    Role.ADMIN: frozenset(
        {
            Permission.ACCOUNT_SELF,
            Permission.STAFF_HOME,
            Permission.REGISTER_READ,
            Permission.ACCOUNTS_MANAGE,
            Permission.USERS_MANAGE,
            Permission.AUDIT_READ,
        }
    ),
    Role.COMPANY_MEMBER: frozenset(
        {Permission.ACCOUNT_SELF, Permission.PORTAL_HOME, Permission.PORTAL_DIALOGUES, Permission.BRIEFINGS_READ,
         Permission.FEEDBACK_SUBMIT, Permission.PORTAL_MINUTES}
    ),
    Role.COMPANY_ADMIN: frozenset(
        {Permission.ACCOUNT_SELF, Permission.PORTAL_HOME, Permission.ACCOUNTS_MANAGE, Permission.COMPANY_USERS_MANAGE,
         Permission.PORTAL_DIALOGUES, Permission.BRIEFINGS_READ, Permission.FEEDBACK_SUBMIT, Permission.PORTAL_MINUTES}
    ),
}

# Reachable without signing in. Keep this list short; tests fail on anything unlisted and unprotected.
PUBLIC_ENDPOINTS = frozenset(
    {
        "static",
        "health.healthz",
        "auth.login",
        "auth.password_forgot",
        "auth.password_reset",
        "i18n.set_language",
        "calendar.feed",  # personal iCalendar feed: the secret token in the query is the credential
        "calendar.rsvp",  # e-mailed RSVP link: single-use, expiring token
        # The anonymous consultation desk: no account by design; a receipt opens one case.
        "consult.index",
        "consult.new",
        "consult.confirm",
        "consult.open_case",
        "consult.case",
        "consult.download",
    }
)

# Reachable only between the password step and the second factor of a sign-in.
PRE_AUTH_ENDPOINTS = frozenset({"auth.login_totp", "auth.login_enrol", "auth.login_cancel"})


def role_has(role: str | None, permission: Permission) -> bool:
    try:
        return permission in ROLE_PERMISSIONS[Role(role)]
    except ValueError:
        return False


def requires(permission: Permission) -> Callable[[F], F]:
    """Declare the permission a view needs; the guard enforces it before the view runs."""

    def mark(view: F) -> F:
        view.required_permission = permission  # type: ignore[attr-defined]
        return view

    return mark


def required_permission(view: Callable[..., object]) -> Permission | None:
    return getattr(view, "required_permission", None)


_ROLE_LABELS: dict[str, dict[str, str]] = {}


def role_labels() -> dict[str, str]:
    """Role names in the current language (built once per language: the header shows one on every page)."""
    from flask_babel import get_locale
    from flask_babel import gettext as _

    locale = str(get_locale())
    labels = _ROLE_LABELS.get(locale)
    if labels is None:
        labels = _ROLE_LABELS[locale] = {
            Role.OFFICER: _("Officer"),
            Role.SECURITY_OFFICER: _("Security officer"),
            Role.ADMIN: _("Administrator"),
            Role.COMPANY_MEMBER: _("Company member"),
            Role.COMPANY_ADMIN: _("Company administrator"),
        }
    return labels
