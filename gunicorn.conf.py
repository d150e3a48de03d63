"""Gunicorn settings for production (and `make run`).

Sessions, throttles and the audit chain live in the database (or Redis), so any
number of workers and hosts may serve the same users.
"""

import multiprocessing
import os
import signal

bind = os.environ.get("TAIWA_BIND", f"127.0.0.1:{os.environ.get('PORT', '5000')}")
workers = int(os.environ.get("TAIWA_WORKERS", min(4, multiprocessing.cpu_count() * 2)))
threads = int(os.environ.get("TAIWA_THREADS", "2"))
worker_class = "gthread"
timeout = 60
graceful_timeout = 20
keepalive = 5
max_requests = 5000  # recycle workers now and then to bound slow leaks
max_requests_jitter = 500
limit_request_line = 8190
limit_request_fields = 100
limit_request_field_size = 8190
accesslog = "-"
# No query strings or user agents in the access log: password-reset tokens live in paths we redact below.
access_log_format = '%(h)s "%(m)s %(U)s" %(s)s %(B)s %(M)sms'
# The anonymous consultation desk (/consult) and static assets get no access line at all: see clearance/anonymity.py.
logger_class = "clearance.anonymity.AnonymousPathsLogger"
errorlog = "-"
forwarded_allow_ips = os.environ.get("TAIWA_FORWARDED_ALLOW_IPS", "127.0.0.1")
umask = 0o077  # the database, uploads and logs we create are readable by this account only
preload_app = False  # each worker opens its own database connections


# Refusals to start are one line and a non-zero exit (clearance/startup.py): the master builds the
# app once, strictly, before it binds the port; a worker dies with its master (no orphan holds the
# port after a kill -9) and a worker whose app refuses halts the master instead of looping.
def on_starting(server):
    from clearance.startup import check_in_master

    check_in_master(server)


def post_fork(server, worker):
    from clearance.startup import prepare_worker

    prepare_worker(server, worker)


# The maintenance commands (mail retries, session purge, reminders, retention) on their schedule:
# one `flask periodic` beside the workers, started and stopped with the master. TAIWA_PERIODIC=0
# leaves it to cron or to another host (clearance/periodic.py takes a lock file anyway).
_periodic = None


def when_ready(server):
    global _periodic
    if os.environ.get("TAIWA_PERIODIC", "1") != "0":
        import subprocess
        import sys

        flask = os.path.join(os.path.dirname(sys.executable), "flask")
        from clearance.startup import die_with_parent

        master = os.getpid()
        # Dies with the master too (SIGTERM: it finishes the job at hand), so a kill -9 leaves no orphan.
        _periodic = subprocess.Popen(  # noqa: S603 - our own command
            [flask, "--app", "app", "periodic"], preexec_fn=lambda: die_with_parent(master, signal.SIGTERM)
        )
        server.log.info("periodic jobs started (pid %s)", _periodic.pid)


def on_exit(server):
    if _periodic is not None and _periodic.poll() is None:
        _periodic.terminate()
        try:
            _periodic.wait(timeout=10)
        except Exception:  # best effort at shutdown
            _periodic.kill()
