"""Object scope as SQL: which rows of a company-owned table this user may see.

Pages add the returned expression to their query, so a row of another company is
never loaded and answers 404 exactly like a row that does not exist. This module
knows accounts and companies, nothing of what the rows are about.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, false, true

from clearance.permissions import COMPANY_ROLES, STAFF_ROLES


def own_company(user, company_column) -> ColumnElement[bool]:
    """Rows whose ``company_column`` is the user's company; nothing for anyone else.

    Company staff see their own company only. METI staff see no company-owned row
    through this filter: officers' pages query without it, behind their own permission.
    """
    if user is None or not getattr(user, "is_authenticated", False) or not user.active:
        return false()
    if user.role in COMPANY_ROLES and user.company_id:
        return company_column == user.company_id
    return false()


def staff_or_own_company(user, company_column) -> ColumnElement[bool]:
    """METI staff see every company's rows; company staff their own; anyone else nothing."""
    if user is not None and getattr(user, "is_authenticated", False) and user.active and user.role in STAFF_ROLES:
        return true()
    return own_company(user, company_column)
