"""The background report queue: enqueue in the request, render in a worker, poll for progress.

Workers: a daemon thread the web process starts when it enqueues a job (and
again whenever a status page finds a job waiting or abandoned), or any number
of `flask --app app reports-worker` processes. They all claim jobs with the
same conditional UPDATE, so a job is rendered once however many gunicorn
workers or hosts run; a claim whose heartbeat stops (a killed worker) is taken
over after CLAIM_TIMEOUT, at most MAX_ATTEMPTS times.

Progress is written in its own short transactions, so the status page sees it
while the report is still being built. Results are sealed at the report's
level and kept for RESULT_TTL; only the officer who asked may download them.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from flask import Flask
from flask_babel import force_locale
from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from clearance import audit, bounds
from clearance.audit import Kind
from clearance.auth.models import UserAccount
from clearance.db import db, new_id, utcnow
from dialogue.reports.models import ReportJob

log = logging.getLogger("taiwa.reports")

KINDS = ("reactions", "activity", "statement")
FORMATS = ("pdf", "xlsx", "csv")
CLAIM_TIMEOUT = timedelta(minutes=2)
HEARTBEAT_EVERY = 5.0  # seconds between progress writes that carry no new stage
MAX_ATTEMPTS = 3
RESULT_TTL = timedelta(hours=24)
#: stage codes the status page translates
STAGES = ("queued", "counting", "quoting", "listing", "charts", "gaps", "collecting", "rendering", "layout",
          "write", "saving", "done", "failed")


class JobRefused(ValueError):
    """Parameters the queue will not take (unknown kind or format, bad ids)."""


#: report_job.params is stored in clear (docs/SECURITY.md §2): only these keys, and values that are
#: dates, codes, ids or switches; never free text that could carry content
PARAM_KEYS = frozenset({"from", "to", "sector", "region", "include_classified", "appendix", "company_id",
                        "association_id"})
_TOKEN = re.compile(r"[A-Za-z0-9_.:-]{0,64}")


def _token(value: Any) -> bool:
    return isinstance(value, bool | int) or (isinstance(value, str) and _TOKEN.fullmatch(value) is not None)


def check_params(params: dict[str, Any]) -> None:
    """Refuse parameters that are not structure (JobRefused names the key, never the value)."""
    for key, value in params.items():
        values = value if isinstance(value, list) else [value]
        if key not in PARAM_KEYS or len(values) > 100 or not all(_token(v) for v in values):
            raise JobRefused(f"parameter {str(key)[:40]!r}")


def enqueue(session: Session, *, kind: str, fmt: str, params: dict[str, Any], user: UserAccount,
            locale: str) -> ReportJob:
    if kind not in KINDS or fmt not in FORMATS:
        raise JobRefused(f"{kind}/{fmt}")
    check_params(params)
    job = ReportJob(id=new_id(), kind=kind, format=fmt, params=json.dumps(params, sort_keys=True, default=str),
                    requested_by_id=user.id, locale=locale if locale in ("ja", "en") else "ja", status="queued",
                    progress=0, stage="queued")
    session.add(job)
    audit.append(session, realm="reports", kind=Kind.INFO, summary="Report requested", actor_id=user.id,
                 actor=user.email, data={"job": job.id, "kind": kind, "format": fmt})
    return job


def own_job(session: Session, user: UserAccount, job_id: str) -> ReportJob | None:
    """The job if this user asked for it; None (a 404) for anyone else's."""
    return session.execute(select(ReportJob).where(ReportJob.id == job_id[:36], ReportJob.requested_by_id == user.id)
                           ).scalar_one_or_none()


def recent(session: Session, user: UserAccount, limit: int = 20) -> list[ReportJob]:
    return list(session.execute(select(ReportJob).where(ReportJob.requested_by_id == user.id)
                                .order_by(ReportJob.created_at.desc()).limit(limit)).scalars())


def _claimable(now):
    stale = now - CLAIM_TIMEOUT
    return and_(ReportJob.attempts < MAX_ATTEMPTS,
                or_(ReportJob.status == "queued",
                    and_(ReportJob.status == "running", ReportJob.heartbeat_at < stale)))


def claim_next(engine) -> str | None:
    """Claim the oldest waiting (or abandoned) job; None when there is nothing to do."""
    with Session(engine) as session:
        now = utcnow()
        ids = session.execute(select(ReportJob.id).where(_claimable(now)).order_by(ReportJob.created_at).limit(5)
                              ).scalars().all()
        for job_id in ids:
            claimed = session.execute(
                update(ReportJob).where(ReportJob.id == job_id, _claimable(now))
                .values(status="running", claimed_at=now, heartbeat_at=now, attempts=ReportJob.attempts + 1,
                        stage="rendering", progress=1)
            ).rowcount
            session.commit()
            if claimed == 1:
                return job_id
    return None


def pending(engine) -> bool:
    with Session(engine) as session:
        return session.execute(select(ReportJob.id).where(_claimable(utcnow())).limit(1)).first() is not None


class _Progress:
    """Writes progress in its own transactions; throttled, except when the stage changes."""

    def __init__(self, engine, job_id: str) -> None:
        self.engine, self.job_id = engine, job_id
        self.last_stage, self.last_at = "", 0.0

    def __call__(self, pct: int, stage: str) -> None:
        now = time.monotonic()
        if stage == self.last_stage and now - self.last_at < HEARTBEAT_EVERY:
            return
        self.last_stage, self.last_at = stage, now
        with Session(self.engine) as s:
            s.execute(update(ReportJob).where(ReportJob.id == self.job_id, ReportJob.status == "running")
                      .values(progress=max(1, min(99, pct)), stage=stage, heartbeat_at=utcnow()))
            s.commit()


def run_job(app: Flask, job_id: str) -> None:
    """Build and store one claimed job. Errors are recorded as a short code, never as exception text."""
    from dialogue.reports import render

    with app.app_context():
        engine = db.engine
        progress = _Progress(engine, job_id)
        with Session(engine) as session:
            job = session.get(ReportJob, job_id)
            user = session.get(UserAccount, job.requested_by_id)
            if user is None or not user.active:
                _fail(engine, job_id, "requester_inactive")
                return
            try:
                with app.test_request_context(), force_locale(job.locale):
                    data, name, label, pages = render.build(session, job.kind, job.format, json.loads(job.params),
                                                            user, job.locale, progress)
            except render.ReportInputError as exc:
                session.rollback()
                _fail(engine, job_id, exc.code)
                return
            except Exception:
                session.rollback()
                log.exception("report job %s failed", job_id)
                _fail(engine, job_id, "internal")
                return
            progress(98, "saving")
            job = session.get(ReportJob, job_id)
            if job.status != "running":
                return  # taken over after a stall; the other worker owns it now
            job.level = int(label.level)
            job.label_code = label.code()
            job.result = data
            job.result_name = name[:200]
            job.pages = pages
            job.status, job.stage, job.progress, job.finished_at = "done", "done", 100, utcnow()
            # The render itself is audited as the reader's read of what went into it (see render.build).
            session.commit()


def _fail(engine, job_id: str, code: str) -> None:
    with Session(engine) as s:
        s.execute(update(ReportJob).where(ReportJob.id == job_id)
                  .values(status="failed", stage="failed", error=code[:100], finished_at=utcnow()))
        s.commit()


def run_pending(app: Flask, *, limit: int | None = None) -> int:
    """Render claimable jobs until none are left (or `limit`); returns how many were run."""
    done = 0
    with app.app_context():
        engine = db.engine
    while limit is None or done < limit:
        with app.app_context():
            job_id = claim_next(engine)
        if job_id is None:
            break
        run_job(app, job_id)
        done += 1
    return done


def purge_expired(engine) -> int:
    """Drop results older than RESULT_TTL (the job row stays, as a record that it was made)."""
    with Session(engine) as s:
        n = s.execute(update(ReportJob).where(ReportJob.finished_at < utcnow() - RESULT_TTL,
                                              ReportJob.result_ct.is_not(None)).values(result_ct=None)).rowcount
        s.commit()
        return n


_lock = threading.Lock()
_thread: threading.Thread | None = None


def kick(app: Flask) -> None:
    """Make sure this process has a worker thread running while there is work (no-op when one runs).

    TAIWA_REPORTS_WORKER: "thread" (default), "inline" (render now, in this request: tests), or
    "external" (leave everything to `flask reports-worker`)."""
    global _thread
    mode = app.config.get("TAIWA_REPORTS_WORKER", "thread")
    if mode == "external":
        return
    if mode == "inline":
        run_pending(app)
        return
    with _lock:
        if _thread is not None and _thread.is_alive():
            return
        _thread = threading.Thread(target=_thread_main, args=(app,), name="taiwa-reports", daemon=True)
        _thread.start()


def _thread_main(app: Flask) -> None:
    try:
        run_pending(app)
        with app.app_context():
            purge_expired(db.engine)
    except Exception:  # the thread must never take the process down; the next kick retries
        log.exception("report worker thread stopped")


def worker_loop(app: Flask, *, once: bool = False, idle: float = 2.0, should_stop: Callable[[], bool] = lambda: False
                ) -> int:
    """`flask reports-worker`: poll the queue; returns how many jobs it ran."""
    total = 0
    while not should_stop():
        total += run_pending(app)
        if once:
            break
        time.sleep(idle)
    return total


def params_filters(params: dict[str, Any]):
    """Analysis filters from stored job parameters (the same parsing as the pages)."""
    from werkzeug.datastructures import MultiDict

    from dialogue.feedback.analysis import parse_filters

    md = MultiDict()
    for key, value in params.items():
        for v in value if isinstance(value, list) else [value]:
            md.add(key, str(v))
    return parse_filters(md)


def _day(value: Any) -> date | None:
    """A stored period bound: a job queued before the bounds existed (9999-12-31) runs as unbounded."""
    return bounds.bounded_date(value)
