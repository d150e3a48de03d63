"""Refusing to start: one clear line on stderr and a non-zero exit, never a traceback.

StartupError is a click.ClickException, so the flask CLI prints it as one line ("Error: ...")
and exits 1 by itself. Gunicorn gets the same line from the hooks below (gunicorn.conf.py):

* on_starting (master, before binding the port): builds the app once with
  TAIWA_STARTUP_CHECK=strict (database reachable, migrated, keys match it) and exits 1 with
  the line if it cannot start;
* post_fork (each worker): the worker dies with its master (PR_SET_PDEATHSIG), so a
  `kill -9` of the master leaves no orphan holding the port; a worker whose app refuses
  reports the line as gunicorn's AppImportError, which halts the master instead of looping.

`python -m clearance.startup dev-keys` is `make run`'s key step: development keys are
created only for an empty database (docs/OPERATIONS.md, Keys).
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from collections.abc import Mapping
from typing import Any

import click

#: every refusal points here; the section names match docs/OPERATIONS.md
DOCS = "docs/OPERATIONS.md"


class StartupError(click.ClickException):
    """The app cannot start safely; the message (one line) tells the operator what to do."""

    exit_code = 1

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(message.split()))  # one line, whatever the parts were

    def line(self) -> str:
        return f"taiwa: cannot start: {self.message}"

    def show(self, file: Any = None) -> None:
        click.echo(self.line(), file=file or sys.stderr)


def check_mode(config: Mapping[str, Any]) -> str:
    """How much create_app checks against the database (TAIWA_STARTUP_CHECK):

    strict  the database must be reachable and migrated, and the keys must match it
            (the flask CLI, except `flask db ...`; the gunicorn master before it binds);
    keys    the keys are checked when the database answers and has the key_check table; an
            unreachable or unmigrated database is left to /healthz (tests, gunicorn workers,
            `flask db ...`, which must run on an unmigrated database).
    """
    mode = config.get("TAIWA_STARTUP_CHECK")
    if mode in ("strict", "keys"):
        return mode
    ctx = click.get_current_context(silent=True)
    if ctx is None:
        return "keys"
    while ctx is not None:
        if ctx.info_name == "db":  # Flask-Migrate's group, when the app is loaded inside it
            return "keys"
        ctx = ctx.parent
    # The flask CLI loads the app while it looks up the command name (app.cli holds `db`), when
    # click has already taken the arguments off the context: read the command from argv.
    return "keys" if _cli_command(sys.argv[1:]) == "db" else "strict"


def _cli_command(args: list[str]) -> str | None:
    """The first argument of `flask [options] COMMAND ...` that is not an option or its value."""
    takes_value = {"--app", "-A", "--env-file", "-e"}
    skip = False
    for arg in args:
        if skip:
            skip = False
        elif arg in takes_value:
            skip = True
        elif not arg.startswith("-"):
            return arg
    return None


# ---------------------------------------------------------------------------
# gunicorn hooks
# ---------------------------------------------------------------------------


def check_in_master(server: Any) -> None:
    """gunicorn on_starting: build the app once in the master, strictly; exit 1 with one line."""
    from gunicorn import util

    uri = getattr(server.app, "app_uri", None)
    if not uri:
        return
    saved = os.environ.get("TAIWA_STARTUP_CHECK")
    os.environ["TAIWA_STARTUP_CHECK"] = "strict"
    try:
        app = util.import_app(uri)
    except StartupError as exc:
        print(exc.line(), file=sys.stderr, flush=True)
        pidfile = getattr(server, "pidfile", None)
        if pidfile is not None:
            pidfile.unlink()
        os._exit(1)  # nothing to clean up yet: no socket, no worker
    finally:
        if saved is None:
            os.environ.pop("TAIWA_STARTUP_CHECK", None)
        else:
            os.environ["TAIWA_STARTUP_CHECK"] = saved
    # Workers open their own connections (preload_app is off): close the master's.
    extensions = getattr(app, "extensions", {})
    if "sqlalchemy" in extensions:
        from clearance.db import db

        with app.app_context():
            db.engine.dispose()


PR_SET_PDEATHSIG = 1


def die_with_parent(parent_pid: int, sig: int = signal.SIGKILL) -> None:
    """Ask Linux to kill this process when its parent dies (prctl PR_SET_PDEATHSIG).

    SIGKILL, not SIGTERM: a worker told to stop gracefully keeps the listening socket for up to
    graceful_timeout, which is what made the next `make run` fail. A request cut off this way
    was never acknowledged, and its transaction is rolled back by the database.
    """
    if sys.platform.startswith("linux"):
        import ctypes

        with contextlib.suppress(OSError, AttributeError):
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0)
    if os.getppid() != parent_pid:  # the parent died before prctl took effect
        os._exit(1)


def prepare_worker(server: Any, worker: Any) -> None:
    """gunicorn post_fork: die with the master; a refusal becomes gunicorn's one-line AppImportError."""
    die_with_parent(server.pid)
    load = worker.load_wsgi

    def load_wsgi() -> None:
        from gunicorn.errors import AppImportError

        try:
            load()
        except StartupError as exc:
            raise AppImportError(exc.line()) from None  # printed as one line; the master halts

    worker.load_wsgi = load_wsgi


# ---------------------------------------------------------------------------
# make run: development keys for an empty database only
# ---------------------------------------------------------------------------


def database_is_empty(url: str) -> bool:
    """True when the database has never been migrated (no alembic_version row).

    A SQLite file that does not exist yet is empty and is not created here. Raises
    StartupError when the database cannot be reached.
    """
    from sqlalchemy import create_engine, inspect, text
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import SQLAlchemyError

    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if not parsed.database or parsed.database == ":memory:":
            return True
        if not os.path.exists(parsed.database) or os.path.getsize(parsed.database) == 0:
            return True
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            if not inspect(conn).has_table("alembic_version"):
                return True
            return conn.execute(text("SELECT count(*) FROM alembic_version")).scalar_one() == 0
    except SQLAlchemyError as exc:
        raise StartupError(
            f"the database {parsed.render_as_string(hide_password=True)} cannot be reached "
            f"({type(exc.orig or exc).__name__}); start it or fix DATABASE_URL, see {DOCS}"
        ) from None
    finally:
        engine.dispose()


def ensure_dev_keys(config: Mapping[str, Any]) -> str:
    """Create instance/keys.json for an empty database; refuse when data exists without it."""
    from clearance.crypto import ensure_dev_keyfile

    if config.get("TAIWA_KEYS") or os.environ.get("TAIWA_KEYS"):
        return "keys from TAIWA_KEYS"
    path = config["TAIWA_KEY_FILE"]
    if os.path.lexists(path):
        return f"key file {path} present"
    url = config["SQLALCHEMY_DATABASE_URI"]
    if not database_is_empty(url):
        raise StartupError(
            f"key file {path} is missing but the database already holds data sealed with keys: a new key "
            f"could not open it, so none is created. Restore the key file from backup ({DOCS}, Keys); "
            "for a fresh development instance, move the database away first"
        )
    ensure_dev_keyfile(path)
    return f"created development key file {path} for an empty database"


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args != ["dev-keys"]:
        print("usage: python -m clearance.startup dev-keys", file=sys.stderr)
        return 2
    from clearance.config import load_config

    try:
        print(ensure_dev_keys(load_config()))
    except StartupError as exc:
        print(exc.line(), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
