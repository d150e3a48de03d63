"""Report jobs: long reports render in the background; the page polls this row for progress.

The queue is the table itself. A worker claims a job with a conditional UPDATE
(as clearance/outbox.py claims mail), so any number of gunicorn workers, threads
or `flask reports-worker` processes can run side by side without rendering one
job twice; a claim that stops sending heartbeats is taken over after a timeout.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from clearance.crypto import EncryptedField
from clearance.db import db, new_id, utcnow

JOB_STATUSES = ("queued", "running", "done", "failed")


class ReportJob(db.Model):
    """One requested report: what, for whom, how far along, and the sealed result."""

    __tablename__ = "report_job"
    __table_args__ = (
        CheckConstraint("status IN ('queued', 'running', 'done', 'failed')", name="status_known"),
        CheckConstraint("progress BETWEEN 0 AND 100", name="progress_range"),
        CheckConstraint("level BETWEEN 0 AND 2", name="level_range"),
        CheckConstraint("format IN ('pdf', 'xlsx', 'csv')", name="format_known"),
        Index("ix_report_job_status_created", "status", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    #: reactions | activity | statement | minutes | summary
    kind: Mapped[str] = mapped_column(String(24), nullable=False)
    format: Mapped[str] = mapped_column(String(8), nullable=False, default="pdf")
    #: JSON of the report's parameters (filters, ids); never content
    params: Mapped[str] = mapped_column(Text, nullable=False, default="{}")
    #: the reader: only they may download the result, and their name is its watermark
    requested_by_id: Mapped[str] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), nullable=False,
                                                 index=True)
    #: UI language the report is rendered in
    locale: Mapped[str] = mapped_column(String(8), nullable=False, default="ja")
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="queued")
    progress: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    #: what the worker is doing now, a code from jobs.STAGES
    stage: Mapped[str] = mapped_column(String(32), nullable=False, default="queued")
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime)
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)
    #: the result's classification level (the join of its sources); part of the seal
    level: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    #: the result's label as text ("2:SEMI"), for the download page
    label_code: Mapped[str] = mapped_column(String(200), nullable=False, default="0")
    result_ct: Mapped[bytes | None] = mapped_column(LargeBinary)
    result_name: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    pages: Mapped[int | None] = mapped_column(Integer)
    #: a short code, never an exception text that could quote content
    error: Mapped[str] = mapped_column(String(100), nullable=False, default="")

    result = EncryptedField("result_ct", level="level", binary=True)
