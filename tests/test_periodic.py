"""The maintenance commands on their schedule: `flask periodic`, and gunicorn starting it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from clearance import outbox
from clearance.db import db
from clearance.periodic import DAY, HOUR, JOBS, MINUTE, Job, due
from tests.conftest import free_port

ROOT = Path(__file__).resolve().parent.parent


def test_a_job_is_due_when_its_interval_has_passed_or_it_never_ran():
    jobs = (Job("send-mail", MINUTE), Job("consult-purge", DAY))
    now = 1_000_000.0
    assert due(jobs, {}, now) == list(jobs)
    assert due(jobs, {"send-mail": now - 30, "consult-purge": now - HOUR}, now) == []
    assert due(jobs, {"send-mail": now - 61, "consult-purge": now - HOUR}, now) == [jobs[0]]


def test_every_scheduled_job_is_a_registered_command(app):
    names = set(app.cli.list_commands(None))
    assert {j.command for j in JOBS} <= names


def test_periodic_once_delivers_queued_mail_and_remembers_when(mail_app, tmp_path):
    mail_app.config["TAIWA_PERIODIC_DIR"] = str(tmp_path)
    with mail_app.app_context():
        outbox.enqueue(db.session, to="kacho@example.jp", subject="定期処理の確認", body="本文")
        db.session.info.pop("outbox_pending", None)  # as if delivery after commit had failed
        db.session.commit()
    result = mail_app.test_cli_runner().invoke(args=["periodic", "--once"])
    assert result.exit_code == 0, result.output
    assert any("定期処理の確認" in m["subject"] for m in mail_app.mailbox.messages), result.output
    state = json.loads((tmp_path / "periodic-state.json").read_text())
    assert {j.command for j in JOBS} <= set(state)
    again = mail_app.test_cli_runner().invoke(args=["periodic", "--once"])  # nothing due: no second run
    assert again.exit_code == 0 and json.loads((tmp_path / "periodic-state.json").read_text()) == state


def test_gunicorn_starts_the_runner_and_stops_it_on_exit(app, db_url, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("TAIWA_") and k != "DATABASE_URL"}
    env.update(DATABASE_URL=db_url, TAIWA_SECRET_KEY=app.config["SECRET_KEY"], TAIWA_ARGON2="fast",
               TAIWA_KEY_FILE=app.config["TAIWA_KEY_FILE"], TAIWA_ENV="test", TAIWA_PERIODIC_DIR=str(tmp_path),
               PYTHONDONTWRITEBYTECODE="1")
    log = tmp_path / "gunicorn.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([str(Path(sys.executable).parent / "gunicorn"), "-c", "gunicorn.conf.py", "--workers",
                                 "1", "--bind", f"127.0.0.1:{free_port()}", "app:create_app()"],
                                cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    state = tmp_path / "periodic-state.json"
    try:
        deadline = time.monotonic() + 60
        while not state.exists() and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.2)
        assert state.exists(), log.read_text(errors="replace")[-3000:]
        assert "send-mail" in json.loads(state.read_text())
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    time.sleep(0.5)
    runners = subprocess.run(["pgrep", "-f", f"periodic.*{tmp_path}|flask --app app periodic"], capture_output=True,
                             text=True).stdout.split()
    children = [pid for pid in runners if Path(f"/proc/{pid}/environ").exists()
                and str(tmp_path).encode() in Path(f"/proc/{pid}/environ").read_bytes()]
    assert children == [], "the periodic runner outlived gunicorn"


def test_a_last_run_in_the_future_after_the_clock_stepped_back_is_due():
    jobs = (Job("consult-purge", DAY),)
    assert due(jobs, {"consult-purge": 2_000_000.0}, 1_000_000.0) == list(jobs)


def test_a_failing_job_leaves_no_transaction_open(app):
    """The runner keeps one application context for its life; a job that fails after writing must
    not leave its half-done transaction (and its locks) in the runner's session for the next jobs."""
    from clearance.db import utcnow
    from clearance.periodic import run_job

    dead = "00000000-0000-0000-0000-00000000dead"

    @app.cli.command("explode-after-write")
    def explode() -> None:
        db.session.execute(outbox.MailMessage.__table__.insert().values(
            id=dead, to_addr="x@example.jp", subject="half-way", created_at=utcnow()))
        raise RuntimeError("half-way")

    with app.app_context():  # as `flask periodic` runs its jobs
        assert run_job(app, Job("explode-after-write", MINUTE)) is False
        outbox.enqueue(db.session, to="y@example.jp", subject="after", body="b")
        db.session.commit()
        assert db.session.get(outbox.MailMessage, dead) is None
