"""Two gunicorn processes on one PostgreSQL database serve the same signed-in user.

Sessions, throttles and the audit chain live in the database, so a session begun on
server A must work on server B, and a sign-out on B must end it on A. Runs in the
PostgreSQL pass of the suite (TAIWA_TEST_DB=postgres); SQLite is one file on one host,
not what several workers share in production.
"""

from __future__ import annotations

import http.client
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from http.cookiejar import CookieJar
from pathlib import Path

import pytest

from clearance.permissions import Role
from tests.conftest import BACKEND, free_port
from tests.factories import totp_code

ROOT = Path(__file__).resolve().parent.parent
GUNICORN = Path(sys.executable).parent / "gunicorn"
COOKIE = "taiwa_session"

pytestmark = pytest.mark.skipif(
    BACKEND != "postgres",
    reason="needs a shared PostgreSQL database (TAIWA_TEST_DB=postgres); the PostgreSQL run executes it",
)


@dataclass
class Server:
    name: str
    proc: subprocess.Popen
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:] if self.log.exists() else ""


def _start(name: str, env: dict[str, str], tmp_path: Path) -> Server:
    port = free_port()
    log = tmp_path / f"gunicorn-{name}.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [str(GUNICORN), "-c", "gunicorn.conf.py", "--workers", "1", "--bind", f"127.0.0.1:{port}", "app:create_app()"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )
    return Server(name, proc, port, log)


def _wait_healthy(server: Server, timeout: float = 45.0) -> None:
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            pytest.fail(f"gunicorn {server.name} exited with {server.proc.returncode}:\n{server.output()}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=2)
            conn.request("GET", "/healthz")
            resp = conn.getresponse()
            last = f"{resp.status} {resp.read()[:200]!r}"
            conn.close()
            if resp.status == 200:
                return
        except OSError as exc:
            last = repr(exc)
        time.sleep(0.2)
    pytest.fail(f"gunicorn {server.name} not healthy after {timeout}s (last: {last}):\n{server.output()}")


def _stop(server: Server) -> None:
    if server.proc.poll() is None:
        server.proc.terminate()
        try:
            server.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.proc.kill()
            server.proc.wait(timeout=5)


@pytest.fixture
def two_servers(app, db_url, tmp_path) -> Iterator[tuple[Server, Server]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TAIWA_") and k != "DATABASE_URL"}
    env.update(
        DATABASE_URL=db_url,
        TAIWA_SECRET_KEY=app.config["SECRET_KEY"],
        TAIWA_ARGON2="fast",
        TAIWA_KEY_FILE=app.config["TAIWA_KEY_FILE"],  # the test app's keys: TOTP secrets must decrypt
        TAIWA_ENV="test",
        TAIWA_PERIODIC="0",  # tests/test_periodic.py covers the runner
        PYTHONDONTWRITEBYTECODE="1",
    )
    servers: list[Server] = []
    try:
        for name in ("A", "B"):
            servers.append(_start(name, env, tmp_path))
        for server in servers:
            _wait_healthy(server)
        yield servers[0], servers[1]
    finally:
        for server in servers:
            _stop(server)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


def _csrf(html: str) -> str:
    m = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html) or re.search(
        r'name="csrf_token" value="([^"]+)"', html
    )
    assert m, "no CSRF token in the page"
    return m.group(1)


def _read(resp) -> str:
    return resp.read().decode("utf-8")


def _post(opener, url: str, fields: dict[str, str]):
    request = urllib.request.Request(url, data=urllib.parse.urlencode(fields).encode(), method="POST")  # noqa: S310 - http://127.0.0.1 only
    return opener.open(request, timeout=10)


def _bare_get(server: Server, path: str, cookie: str) -> tuple[int, str, str]:
    """GET with exactly this session cookie, redirects not followed: (status, Location, body)."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        conn.request("GET", path, headers={"Cookie": f"{COOKIE}={cookie}"})
        resp = conn.getresponse()
        return resp.status, resp.getheader("Location") or "", resp.read().decode("utf-8")
    finally:
        conn.close()


def test_session_from_server_a_works_on_server_b_and_sign_out_ends_it_everywhere(two_servers, factory):
    a, b = two_servers
    assert a.proc.pid != b.proc.pid
    assert a.proc.poll() is None and b.proc.poll() is None, "both gunicorn masters must be running"
    officer = factory.person(Role.OFFICER)

    # Sign in on A: password, then the TOTP code (urllib follows the redirects, the jar keeps the cookie).
    jar = CookieJar()
    on_a = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    token = _csrf(_read(on_a.open(a.url + "/login", timeout=10)))
    resp = _post(on_a, a.url + "/login", {"csrf_token": token, "email": officer.email, "password": officer.password})
    assert resp.geturl().endswith("/login/totp"), resp.geturl()
    token = _csrf(_read(resp))
    resp = _post(on_a, a.url + "/login/totp", {"csrf_token": token, "code": totp_code(officer.totp_secret)})
    assert resp.geturl().endswith("/officer"), resp.geturl()
    assert officer.display_name in _read(resp)
    cookies = {c.name: c.value for c in jar}
    assert COOKIE in cookies, f"no session cookie after sign-in: {sorted(cookies)}"
    session_cookie = cookies[COOKIE]

    # The same cookie on B: the overview, with the user's name.
    status, _, body = _bare_get(b, "/officer", session_cookie)
    assert status == 200, status
    assert officer.display_name in body

    # Sign out on B (its CSRF token belongs to the shared server-side session).
    on_b = urllib.request.build_opener(_NoRedirect)
    request = urllib.request.Request(  # noqa: S310 - http://127.0.0.1 only
        b.url + "/logout",
        data=urllib.parse.urlencode({"csrf_token": _csrf(body)}).encode(),
        headers={"Cookie": f"{COOKIE}={session_cookie}"},
        method="POST",
    )
    with pytest.raises(urllib.error.HTTPError) as redirected:
        on_b.open(request, timeout=10)
    assert redirected.value.code == 302 and redirected.value.headers["Location"].endswith("/login")

    # A no longer knows the session: the protected page sends us to sign in.
    status, location, _ = _bare_get(a, "/officer", session_cookie)
    assert status == 302, status
    assert urllib.parse.urlsplit(location).path == "/login", location
    assert a.proc.poll() is None and b.proc.poll() is None
