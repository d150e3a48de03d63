"""Portal notifications (お知らせ): what happened that concerns this account."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from clearance.crypto import EncryptedField
from clearance.db import db, new_id, utcnow


class Notification(db.Model):
    """One message in a user's portal list. Text is stored rendered in the recipient's language.

    Construct with ``id=new_id()`` first: the title is sealed to the row."""

    __tablename__ = "notification"
    __table_args__ = (Index("ix_notification_user_created", "user_id", "created_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), nullable=False)
    #: invitation | update | cancelled | postponed | promoted | delegated | feedback | minutes
    kind: Mapped[str] = mapped_column(String(24), nullable=False)
    #: what the ministry tells this person (it may quote a dialogue's title), sealed; lists read 50 at most
    title_ct: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    #: an app-relative path ("/portal/…"); never an absolute URL
    link: Mapped[str] = mapped_column(String(300), nullable=False, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    read_at: Mapped[datetime | None] = mapped_column(DateTime)

    title = EncryptedField("title_ct")
