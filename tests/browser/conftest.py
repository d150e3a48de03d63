"""Browser fixtures: the real app on a local port, and headless Chromium driving it.

* ``live_server``: the app (built with ``app_factory``, so on this test's database)
  served by werkzeug's threaded server on 127.0.0.1 and a free port; shut down at teardown.
* ``browser``: one Debian Chromium per session (never downloaded: /usr/bin/chromium).
* ``page``: a fresh context per test, locale en-US (to prove Japanese is our default, not
  the browser's), 1280×800. Every request the page makes is recorded; console errors,
  uncaught page errors and Content-Security-Policy violations are collected.
  ``page.guard.assert_clean()`` fails the test on any of them, or on any request that
  leaves the app's origin; the fixture checks it again at teardown.

Screenshots go to $TAIWA_SCREENSHOT_DIR when set (e.g. docs/screenshots), else to the
test's temporary directory, so an ordinary run leaves the repository untouched.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from werkzeug.serving import make_server

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
VIEWPORT = {"width": 1280, "height": 800}
MOBILE = {"width": 390, "height": 844}
TIMEOUT_MS = 15_000


@dataclass
class LiveServer:
    app: object
    url: str

    def origin(self) -> str:
        parts = urlsplit(self.url)
        return f"{parts.scheme}://{parts.netloc}"


@pytest.fixture
def live_server(app_factory) -> Iterator[LiveServer]:
    app = app_factory()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="taiwa-live-server", daemon=True)
    thread.start()
    try:
        yield LiveServer(app, f"http://127.0.0.1:{server.server_port}")
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


@pytest.fixture(scope="session")
def playwright_instance():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        yield pw


@pytest.fixture(scope="session")
def browser(playwright_instance):
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (make system-packages-test)")
    browser = playwright_instance.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@dataclass
class PageGuard:
    """What a page did that it should not have: foreign requests, console errors, CSP violations."""

    origin: str
    requests: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    csp_violations: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    allowed_errors: list[re.Pattern] = field(default_factory=list)

    def allow_console_error(self, pattern: str) -> None:
        """Expected noise, e.g. Chromium's 'Failed to load resource … 404' on the 404 page."""
        self.allowed_errors.append(re.compile(pattern))

    def on_request(self, request) -> None:
        self.requests.append(request.url)

    def on_console(self, msg) -> None:
        text = msg.text
        if "Content Security Policy" in text:
            self.csp_violations.append(text)
        elif msg.type == "error":
            self.console_errors.append(text)

    def on_page_error(self, error) -> None:
        self.page_errors.append(str(error))

    def foreign_requests(self) -> list[str]:
        return [
            url for url in self.requests
            if not url.startswith(self.origin + "/") and url != self.origin and not url.startswith("data:")
        ]

    def problems(self) -> list[str]:
        unexpected = [e for e in self.console_errors if not any(p.search(e) for p in self.allowed_errors)]
        out = [f"request to another origin: {u}" for u in self.foreign_requests()]
        out += [f"CSP violation: {v}" for v in self.csp_violations]
        out += [f"console error: {e}" for e in unexpected]
        out += [f"page error: {e}" for e in self.page_errors]
        return out

    def assert_clean(self) -> None:
        assert self.requests, "the page made no requests at all: was anything recorded?"
        problems = self.problems()
        assert not problems, "\n".join(problems)


@pytest.fixture
def page(browser, live_server, request):
    context = browser.new_context(
        locale="en-US",
        viewport=VIEWPORT,
        device_scale_factor=1,
        base_url=live_server.url,
        service_workers="block",
    )
    context.set_default_timeout(TIMEOUT_MS)
    pg = context.new_page()
    guard = PageGuard(origin=live_server.origin())
    pg.on("request", guard.on_request)
    pg.on("console", guard.on_console)
    pg.on("pageerror", guard.on_page_error)
    pg.guard = guard
    try:
        yield pg
    finally:
        context.close()
    # Backstop for tests that forgot: fail (as an error) if the page misbehaved.
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.passed:
        problems = guard.problems()
        assert not problems, "\n".join(problems)


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, f"rep_{rep.when}", rep)


@pytest.fixture
def shoot(tmp_path):
    """shoot(page, "name") → a full-page PNG in $TAIWA_SCREENSHOT_DIR (or the test's tmp dir).
    publish=False keeps it in the tmp dir always (docs/screenshots holds at most eight)."""
    published = Path(os.environ.get("TAIWA_SCREENSHOT_DIR") or tmp_path)
    published.mkdir(parents=True, exist_ok=True)

    def take(pg, name: str, *, publish: bool = True) -> Path:
        path = (published if publish else tmp_path) / f"{name}.png"
        pg.screenshot(path=str(path), full_page=True, animations="disabled", caret="hide")
        return path

    return take
