"""`kill -9` of the gunicorn master: its workers go with it, the next start binds at once, and no
acknowledged write is lost (issue 12, finding 5).

Before the fix, orphaned workers kept the listening socket for ~20 s (their graceful timeout), so
the next `make run` failed with "Connection in use". The real gunicorn command of `make run` runs
here on a free port, on this test's database (SQLite file or PostgreSQL), with a copy of its keys.
"""

from __future__ import annotations

import http.client
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path

import pytest
from sqlalchemy import func, select

from clearance import audit
from clearance.audit import AuditEntry
from clearance.db import db
from clearance.permissions import Role
from tests.conftest import free_port

ROOT = Path(__file__).resolve().parent.parent
GUNICORN = Path(sys.executable).parent / "gunicorn"


def _env(app, periodic_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TAIWA_") and k != "DATABASE_URL"}
    env.update(
        DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"].replace("postgresql+psycopg://", "postgresql://"),
        TAIWA_SECRET_KEY=app.config["SECRET_KEY"], TAIWA_ARGON2="fast", TAIWA_ENV="test",
        TAIWA_KEY_FILE=app.config["TAIWA_KEY_FILE"], TAIWA_FILES_DIR=app.config["TAIWA_FILES_DIR"],
        TAIWA_PERIODIC_DIR=str(periodic_dir), PYTHONDONTWRITEBYTECODE="1",
    )
    return env


def _start(env: dict[str, str], port: int, log: Path) -> subprocess.Popen:
    with log.open("ab") as out:
        return subprocess.Popen(
            [str(GUNICORN), "-c", "gunicorn.conf.py", "--workers", "2", "--bind", f"127.0.0.1:{port}", "app:create_app()"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )


def _healthy(port: int, proc: subprocess.Popen, log: Path, timeout: float = 60.0) -> float:
    """Seconds until /healthz answers 200; fails if gunicorn exits first."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if proc.poll() is not None:
            pytest.fail(f"gunicorn exited with {proc.returncode}:\n{log.read_text(errors='replace')[-3000:]}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return time.monotonic() - start
        except OSError:
            pass
        time.sleep(0.1)
    pytest.fail(f"not healthy after {timeout}s:\n{log.read_text(errors='replace')[-3000:]}")


def _children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


class Signer:
    """Signs a company member in again and again; counts the sign-ins the server acknowledged."""

    def __init__(self, port: int, email: str, password: str) -> None:
        self.port, self.email, self.password = port, email, password
        self.acknowledged = 0
        self.stop = threading.Event()

    def once(self) -> bool:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            conn.request("GET", "/login")
            resp = conn.getresponse()
            html = resp.read().decode()
            cookie = (resp.getheader("Set-Cookie") or "").split(";", 1)[0]
            token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)
            body = urllib.parse.urlencode({"csrf_token": token, "email": self.email, "password": self.password})
            conn.request("POST", "/login", body=body, headers={
                "Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie})
            resp = conn.getresponse()
            resp.read()
            return resp.status == 302 and "/login" not in (resp.getheader("Location") or "/login")
        except (OSError, AttributeError, http.client.HTTPException):
            return False
        finally:
            conn.close()

    def run(self) -> None:
        while not self.stop.is_set():
            if self.once():
                self.acknowledged += 1


def _signed_in(app, email: str) -> int:
    with app.app_context():
        try:
            return db.session.execute(
                select(func.count()).select_from(AuditEntry)
                .where(AuditEntry.actor == email, AuditEntry.realm == "auth", AuditEntry.kind == "positive")
            ).scalar_one()
        finally:
            db.session.remove()


def test_kill_9_of_the_master_during_writes_then_the_next_start_serves_at_once(app, factory, tmp_path):
    member = factory.person(Role.COMPANY_MEMBER)
    env, port, log = _env(app, tmp_path), free_port(), tmp_path / "gunicorn.log"
    first = _start(env, port, log)
    second = None
    try:
        _healthy(port, first, log)
        children = _children(first.pid)
        workers = [pid for pid in children if b"gunicorn" in Path(f"/proc/{pid}/cmdline").read_bytes()]
        runner = [pid for pid in children if pid not in workers]  # `flask periodic`, started by the master
        assert len(workers) == 2 and len(runner) == 1, children

        signer = Signer(port, member.email, member.password)
        thread = threading.Thread(target=signer.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 30
        while signer.acknowledged < 5 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert signer.acknowledged >= 5, log.read_text(errors="replace")[-3000:]

        os.kill(first.pid, signal.SIGKILL)  # mid-stream: sign-ins are being written right now
        first.wait(timeout=10)
        gone_by = time.monotonic() + 2.0
        while any(_alive(w) for w in workers) and time.monotonic() < gone_by:
            time.sleep(0.02)
        assert not any(_alive(w) for w in workers), "workers outlived their master (they hold the port)"
        gone_by = time.monotonic() + 15.0  # SIGTERM: it may finish the job at hand
        while _alive(runner[0]) and time.monotonic() < gone_by:
            time.sleep(0.05)
        assert not _alive(runner[0]), "the periodic runner outlived its master"
        signer.stop.set()
        thread.join(timeout=15)
        acknowledged = signer.acknowledged

        # The next start, at once, on the same port: it binds on the first try.
        second = _start(env, port, log)
        took = _healthy(port, second, log)
        text = log.read_text(errors="replace")
        assert "Connection in use" not in text and "Can't connect" not in text, text[-3000:]
        assert took < 45, took  # app start-up only (two workers importing on a busy machine); no wait for the port

        # Nothing acknowledged was lost, and the audit chain is intact.
        assert _signed_in(app, member.email) >= acknowledged > 0
        with app.app_context():
            try:
                assert audit.verify(db.session) is None
            finally:
                db.session.remove()
        assert Signer(port, member.email, member.password).once()
    finally:
        for proc in (first, second):
            if proc is not None:
                _stop(proc)
