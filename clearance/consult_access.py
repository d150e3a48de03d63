"""Who may see consultation-desk cases: the one rule, as SQL filters.

Two doors, nothing else:

* an officer whose role grants CONSULT_DESK *and* who is on the desk roster
  (consult_desk_member) sees every case of the desk — the roster is how the
  ministry names the few officers who staff it, so an ordinary officer sees
  nothing;
* an anonymous visitor sees the one case whose receipt they gave in this
  desk session, and nothing else.

Functions take the columns to filter on, so the kernel knows nothing of the
desk's tables beyond the roster it owns.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import ColumnElement, Date, ForeignKey, String, exists, false, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from clearance.db import db
from clearance.permissions import Permission


class DeskMember(db.Model):
    """An officer on the consultation desk roster (相談窓口担当)."""

    __tablename__ = "consult_desk_member"

    user_id: Mapped[str] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True)
    added_on: Mapped[date] = mapped_column(Date, nullable=False)
    #: the administrator who put them on the roster
    added_by_id: Mapped[str | None] = mapped_column(String(36))


def on_roster(user) -> ColumnElement[bool]:
    """True (in SQL) when `user` may work desk cases; false() for everyone else."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.can(Permission.CONSULT_DESK):
        return false()
    return exists(select(DeskMember.user_id).where(DeskMember.user_id == user.id))


def cases_for_officer(user, case_id_column) -> ColumnElement[bool]:
    """Filter on a case id column: every case for a roster officer, none for anybody else."""
    return on_roster(user) & case_id_column.isnot(None)


def case_for_submitter(opened_case_id: str | None, case_id_column) -> ColumnElement[bool]:
    """Filter on a case id column: the case opened with a receipt in this desk session, or nothing."""
    if not opened_case_id:
        return false()
    return case_id_column == opened_case_id


def is_desk_officer(session: Session, user) -> bool:
    return bool(session.execute(select(on_roster(user))).scalar())


def roster(session: Session) -> list[str]:
    return list(session.execute(select(DeskMember.user_id)).scalars())
