"""Mail outbox: messages are written in the caller's transaction and sent after commit.

A rollback therefore sends nothing. Delivery claims each row with a conditional
UPDATE so two workers never send the same message twice, and blanks the body
once sent (reset links must not outlive their delivery in the database).
"""

from __future__ import annotations

import logging
import smtplib
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import formataddr, make_msgid
from typing import Any

from sqlalchemy import DateTime, Integer, LargeBinary, String, and_, or_, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Mapped, Session, mapped_column

from clearance.crypto import DecryptionError, EncryptedField
from clearance.db import db, new_id, utcnow

log = logging.getLogger("taiwa.mail")
MAX_ATTEMPTS = 8
CLAIM_TIMEOUT = timedelta(minutes=5)


class MailMessage(db.Model):
    __tablename__ = "mail_message"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    to_addr: Mapped[str] = mapped_column(String(254), nullable=False)
    subject: Mapped[str] = mapped_column(String(200), nullable=False)
    #: sealed body; blanked after delivery
    body_ct: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False, index=True)
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    last_error: Mapped[str | None] = mapped_column(String(300))
    #: one optional text attachment (e.g. an .ics invitation), sealed like the body and blanked after delivery
    attachment_name: Mapped[str | None] = mapped_column(String(100))
    #: full MIME type with parameters, e.g. "text/calendar; method=REQUEST"
    attachment_type: Mapped[str | None] = mapped_column(String(100))
    attachment_ct: Mapped[bytes | None] = mapped_column(LargeBinary)

    body = EncryptedField("body_ct")
    attachment = EncryptedField("attachment_ct")


@dataclass(frozen=True)
class Attachment:
    """A text attachment: file name, MIME type (``text/<subtype>`` plus parameters) and content."""

    filename: str
    mime_type: str
    content: str


def enqueue(session: Session, *, to: str, subject: str, body: str, attachment: Attachment | None = None) -> MailMessage:
    """Queue a message in the caller's transaction."""
    msg = MailMessage(id=new_id(), to_addr=to, subject=subject[:200])
    msg.body = body
    if attachment is not None:
        if not attachment.mime_type.startswith("text/"):
            raise ValueError("only text attachments are supported")
        msg.attachment_name = attachment.filename[:100]
        msg.attachment_type = attachment.mime_type[:100]
        msg.attachment = attachment.content
    session.add(msg)
    session.info["outbox_pending"] = True
    return msg


def deliver_pending(engine: Engine, config: Mapping[str, Any], limit: int = 50) -> int:
    """Send queued messages in fresh transactions; returns how many were sent."""
    sent = 0
    with Session(engine) as session:
        now = utcnow()
        ids = session.execute(
            select(MailMessage.id)
            .where(
                MailMessage.sent_at.is_(None),
                MailMessage.attempts < MAX_ATTEMPTS,
                or_(MailMessage.claimed_at.is_(None), MailMessage.claimed_at < now - CLAIM_TIMEOUT),
            )
            .order_by(MailMessage.created_at)
            .limit(limit)
        ).scalars().all()
        for msg_id in ids:
            claimed = session.execute(
                update(MailMessage)
                .where(
                    and_(
                        MailMessage.id == msg_id,
                        MailMessage.sent_at.is_(None),
                        or_(MailMessage.claimed_at.is_(None), MailMessage.claimed_at < now - CLAIM_TIMEOUT),
                    )
                )
                .values(claimed_at=now, attempts=MailMessage.attempts + 1)
            ).rowcount
            session.commit()
            if claimed != 1:
                continue  # another worker has it
            msg = session.get(MailMessage, msg_id)
            try:
                _send(msg, config)
            except DecryptionError as exc:
                # Fail closed: a body that does not decrypt is never sent (not even in part)
                # and never retried; the audit log says which message, never what it said.
                msg.attempts = MAX_ATTEMPTS
                msg.claimed_at = None
                msg.last_error = "DecryptionError"
                log.error("mail %s not sent: its body does not decrypt", msg_id)
                from clearance import audit

                where = exc.where or ("mail_message", "body", msg_id)
                audit.append(session, realm="crypto", kind=audit.Kind.NEGATIVE, summary="Decryption failed",
                             data={"table": where[0], "column": where[1], "row_id": where[2],
                                   "reason": str(exc)[:200]})
            except Exception as exc:  # one bad message must not stop the others, nor fail the request
                msg.claimed_at = None
                msg.last_error = type(exc).__name__
                log.warning("mail %s not sent: %s", msg_id, type(exc).__name__)
            else:
                msg.sent_at = utcnow()
                msg.body_ct = None
                msg.attachment_ct = None
                msg.last_error = None
                sent += 1
            session.commit()
    return sent


def deliver_in_background(engine: Engine, config: Mapping[str, Any]) -> threading.Thread:
    """Deliver after the response instead of inside it. Used where the time an answer takes must not
    depend on whether a mail was queued (password reset: otherwise timing tells which addresses exist)."""
    worker = threading.Thread(target=deliver_pending, args=(engine, dict(config)), name="taiwa-mail", daemon=True)
    worker.start()
    return worker


def _send(msg: MailMessage, config: Mapping[str, Any]) -> None:
    email = EmailMessage()
    email["From"] = formataddr(("Taiwa 対話", config["TAIWA_MAIL_FROM"]))
    email["To"] = msg.to_addr
    email["Subject"] = msg.subject
    email["Message-ID"] = make_msgid(domain=config["TAIWA_MAIL_FROM"].split("@")[-1])
    email.set_content(msg.body or "")
    if msg.attachment_ct is not None:
        subtype, *params = [p.strip() for p in (msg.attachment_type or "text/plain").split(";")]
        email.add_attachment(
            msg.attachment or "", subtype=subtype.split("/", 1)[1], filename=msg.attachment_name,
            params=dict(p.split("=", 1) for p in params if "=" in p),
        )
    host = config.get("TAIWA_SMTP_HOST")
    if not host:
        # Development without an SMTP server: the log stands in for the mailbox.
        log.info("mail to %s: %s\n%s", msg.to_addr, msg.subject, msg.body)
        return
    with smtplib.SMTP(host, int(config.get("TAIWA_SMTP_PORT", 25)), timeout=10) as smtp:
        if config.get("TAIWA_SMTP_STARTTLS"):
            smtp.starttls()
        if config.get("TAIWA_SMTP_USER"):
            smtp.login(config["TAIWA_SMTP_USER"], config["TAIWA_SMTP_PASSWORD"])
        smtp.send_message(email)
