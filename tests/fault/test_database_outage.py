"""The database stops under load and comes back (issue 12, finding 4).

A throwaway PostgreSQL cluster this test starts itself, a real gunicorn on it, a
signed-in company member writing feedback and reading pages. The cluster stops:
every page is the app's own 503 page (Japanese or English from Accept-Language,
with Retry-After), /healthz is 503, and the log gains one line for the outage and
no traceback. The cluster starts again: pages answer 200 within seconds, with the
same session cookie, and every write acknowledged before the stop is there.
"""

from __future__ import annotations

import http.client
import os
import re
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path

import pytest
from sqlalchemy import select

from clearance.permissions import Role
from tests.conftest import ROOT, _migrate, base_overrides, free_port
from tests.factories import Factory
from tests.fault.pg_cluster import Cluster, bindir

pytestmark = pytest.mark.skipif(bindir() is None, reason="needs Debian's postgresql binaries (make test installs them)")

GUNICORN = Path(sys.executable).parent / "gunicorn"
ACCESS_LINE = re.compile(r'^\S+ "(GET|POST|HEAD) \S+" \d{3} ')
FEEDBACK = {"kind": "request", "subtopic": "leakage_guidance", "instrument": ""}


class Browser:
    """One visitor with a cookie, over real HTTP."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.cookie = ""

    def request(self, method: str, path: str, data: dict | None = None, headers: dict | None = None,
                timeout: float = 10.0) -> tuple[int, dict[str, str], str]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        h = {"Accept": "text/html", **(headers or {})}
        if self.cookie:
            h["Cookie"] = self.cookie
        body = None
        if data is not None:
            body = urllib.parse.urlencode(data)
            h["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            conn.request(method, path, body=body, headers=h)
            resp = conn.getresponse()
            text = resp.read().decode("utf-8", "replace")
            found = re.search(r"taiwa_session=([^;]*)", resp.getheader("Set-Cookie") or "")
            if found:
                self.cookie = f"taiwa_session={found.group(1)}" if found.group(1) else ""
            return resp.status, {k.lower(): v for k, v in resp.getheaders()}, text
        finally:
            conn.close()

    def csrf(self, path: str) -> str:
        status, _, html = self.request("GET", path)
        assert status == 200, f"GET {path}: {status}"
        return re.search(r'name="csrf_token"(?: type="hidden")? value="([^"]+)"', html).group(1)


@pytest.fixture
def cluster() -> Cluster:
    c = Cluster(free_port())
    c.init()
    c.start()
    c.createdb("taiwa")
    yield c
    c.destroy()


def _wait(predicate, timeout: float, what: str, step: float = 0.1):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(step)
    pytest.fail(f"{what} not within {timeout} s (last: {last!r})")


def test_database_stopped_and_started_again_under_load(cluster, keydir, tmp_path):
    url = cluster.url("taiwa")
    _migrate(url, keydir)
    from app import create_app
    from clearance.db import db

    app = create_app({**base_overrides(keydir), "SQLALCHEMY_DATABASE_URI": url, "TAIWA_FILES_DIR": str(tmp_path / "files")})
    member = Factory(app).person(Role.COMPANY_MEMBER)

    log = tmp_path / "gunicorn.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("TAIWA_") and k != "DATABASE_URL"}
    env.update(DATABASE_URL=url, TAIWA_SECRET_KEY=app.config["SECRET_KEY"], TAIWA_ARGON2="fast",
               TAIWA_KEY_FILE=app.config["TAIWA_KEY_FILE"], TAIWA_ENV="test", TAIWA_PERIODIC="0",
               TAIWA_FILES_DIR=str(tmp_path / "files"), TAIWA_MIN_FREE_MB="1", PYTHONDONTWRITEBYTECODE="1")
    port = free_port()
    with log.open("wb") as out:
        server = subprocess.Popen([str(GUNICORN), "-c", "gunicorn.conf.py", "--workers", "1", "--threads", "4",
                                   "--bind", f"127.0.0.1:{port}", "app:create_app()"],
                                  cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        visitor = Browser(port)
        _wait(lambda: _status(visitor, "/healthz") == 200, 45, "gunicorn healthy")
        status, headers, _ = visitor.request("POST", "/login", {"csrf_token": visitor.csrf("/login"),
                                                                "email": member.email, "password": member.password})
        assert status == 302 and visitor.cookie, "sign-in failed"

        acknowledged: list[str] = []
        outcomes: list[int] = []
        stop_load = threading.Event()

        def write_load() -> None:
            n = 0
            while not stop_load.is_set():
                n += 1
                try:
                    token = visitor.csrf("/portal/feedback/new")
                    status, headers, _ = visitor.request(
                        "POST", "/portal/feedback/new", {"csrf_token": token, **FEEDBACK,
                                                         "text": f"負荷試験の要望 {n} 番: 指針を示してほしい。"})
                except (AssertionError, AttributeError):
                    status, headers = 503, {}  # the form page itself was the outage page
                except OSError:
                    status, headers = 0, {}
                outcomes.append(status)
                if status == 302:
                    acknowledged.append(headers["location"].rsplit("/", 1)[-1])
                time.sleep(0.02)

        writer = threading.Thread(target=write_load, daemon=True)
        writer.start()
        _wait(lambda: len(acknowledged) >= 5, 30, "five acknowledged writes")

        offset = log.stat().st_size
        cluster.stop("fast")
        stopped_at = time.monotonic()
        time.sleep(1.0)
        n_before_outage = len(acknowledged)

        reader = Browser(port)
        reader.cookie = visitor.cookie
        for lang, words in (("ja", "一時的に"), ("en", "temporarily unavailable")):
            for path in ("/portal", "/login", "/portal/feedback/new"):
                status, headers, html = reader.request("GET", path, headers={"Accept-Language": lang})
                assert status == 503, (path, status, html[:300])
                assert headers.get("retry-after", "").isdigit(), headers
                assert f'<html lang="{lang}">' in html and words in html, html[:600]
                assert "Internal Server Error" not in html
        status, headers, body = reader.request("GET", "/healthz", headers={"Accept": "application/json"})
        assert status == 503 and '"database":false' in body.replace(" ", "")
        status, headers, html = reader.request("GET", "/consult", headers={"Accept-Language": "en"})
        assert status == 503 and "temporarily unavailable" in html
        time.sleep(1.0)  # a few more seconds of load against the stopped database

        cluster.start()
        started_at = time.monotonic()
        _wait(lambda: reader.request("GET", "/portal")[0] == 200, 10, "the portal back after the restart")
        recovered_in = time.monotonic() - started_at
        acked_during = len(acknowledged)
        _wait(lambda: len(acknowledged) >= acked_during + 3, 15, "writes acknowledged again")
        stop_load.set()
        writer.join(timeout=15)

        assert reader.cookie == visitor.cookie, "the outage must not end the session"
        outage_log = log.read_bytes()[offset:].decode("utf-8", "replace")
        app_lines = [line for line in outage_log.splitlines() if line.strip() and not ACCESS_LINE.match(line)]
        assert "Traceback" not in outage_log, outage_log[-3000:]
        assert sum("database unavailable" in line for line in app_lines) == 1, app_lines
        assert sum("database available again" in line for line in app_lines) == 1, app_lines
        assert len(app_lines) <= 4, app_lines
        assert 503 in outcomes and set(outcomes) <= {302, 503, 0}, sorted(set(outcomes))
        print(f"outage {time.monotonic() - stopped_at:.1f} s; back {recovered_in:.2f} s after the start; "
              f"{n_before_outage} writes before, {len(acknowledged)} acknowledged in all; "
              f"{outcomes.count(503)} answered 503")
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()

    from dialogue.feedback.models import FeedbackItem

    with app.app_context():
        stored = set(db.session.scalars(select(FeedbackItem.id)))
        assert set(acknowledged) <= stored, "an acknowledged write was lost"
        db.session.remove()
        db.engine.dispose()


def _status(browser: Browser, path: str) -> int:
    try:
        return browser.request("GET", path)[0]
    except OSError:
        return 0
