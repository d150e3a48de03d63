"""Logs: gunicorn writes no access line for the desk or static assets, Werkzeug's development
server neither, and gunicorn's error lines name no desk path."""

from __future__ import annotations

import logging
from types import SimpleNamespace

import pytest

from clearance.anonymity import AnonymousPathsLogger, QuietRequestsFilter, is_anonymous_path, is_quiet_path


@pytest.mark.parametrize(("path", "anonymous"), [
    ("/consult", True), ("/consult/new", True), ("/consult/case/files/x", True),
    ("/consultant", False), ("/officer/consult", False), ("/login", False), (None, False),
])
def test_which_paths_are_anonymous(path, anonymous):
    assert is_anonymous_path(path) is anonymous


def test_static_assets_are_quiet_but_not_anonymous():
    assert is_quiet_path("/static/css/consult.css") and not is_anonymous_path("/static/css/consult.css")


def _gunicorn_logger(stream):
    cfg = SimpleNamespace(
        loglevel="info", errorlog="-", accesslog="-", access_log_format='%(h)s "%(m)s %(U)s" %(s)s',
        syslog=False, capture_output=False, logconfig=None, logconfig_dict={}, logconfig_json=None,
        disable_redirect_access_to_syslog=False, syslog_addr=None, syslog_prefix=None, syslog_facility="user",
        user=0, group=0, dogstatsd_tags="", statsd_host=None, statsd_prefix="", permit_unconventional_http_method=False,
    )
    log = AnonymousPathsLogger(cfg)
    for handler in log.access_log.handlers + log.error_log.handlers:
        handler.stream = stream
    return log


def _access(log, path):
    resp = SimpleNamespace(status="200 OK", status_code=200, response_length=10, headers=[], sent=10)
    req = SimpleNamespace(headers=[("USER-AGENT", "zzUA")], method="GET", path=path, query="", uri=path,
                          version=(1, 1))
    environ = {"PATH_INFO": path, "REQUEST_METHOD": "GET", "REMOTE_ADDR": "192.0.2.55", "QUERY_STRING": "",
               "SERVER_PROTOCOL": "HTTP/1.1", "RAW_URI": path}
    from datetime import timedelta

    log.access(resp, req, environ, timedelta(milliseconds=5))


def test_gunicorn_logs_no_access_line_for_the_desk(tmp_path):
    import io

    stream = io.StringIO()
    log = _gunicorn_logger(stream)
    for path in ("/consult", "/consult/new", "/static/css/consult.css", "/login"):
        _access(log, path)
    out = stream.getvalue()
    assert "/login" in out and "192.0.2.55" in out, "other pages are logged as before"
    assert "/consult" not in out and "/static" not in out


def test_gunicorn_error_lines_do_not_name_desk_paths():
    import io

    stream = io.StringIO()
    log = _gunicorn_logger(stream)
    log.error("Error handling request %s", "/consult/case?x=1")
    log.warning("Invalid request from %s for /consult/new", "ip")
    assert "/consult" not in stream.getvalue() and "[anonymous path]" in stream.getvalue()


def test_werkzeug_request_lines_for_the_desk_are_dropped():
    f = QuietRequestsFilter()

    def record(line):
        return logging.LogRecord("werkzeug", logging.INFO, "x", 1, '%s - - [%s] "%s" %s %s', (
            "192.0.2.9", "26/Nov/2026 10:00:00", line, 200, "-"), None)

    assert not f.filter(record("GET /consult/new HTTP/1.1"))
    assert not f.filter(record("POST /consult HTTP/1.1"))
    assert not f.filter(record("GET /static/css/taiwa.css HTTP/1.1"))
    assert f.filter(record("GET /login HTTP/1.1"))


def test_gunicorn_conf_names_the_privacy_logger():
    from pathlib import Path

    conf = (Path(__file__).resolve().parents[2] / "gunicorn.conf.py").read_text()
    assert 'logger_class = "clearance.anonymity.AnonymousPathsLogger"' in conf
