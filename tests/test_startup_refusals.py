"""Keys match the data, or the app does not start: one line on stderr, a non-zero exit, no traceback.

Issue 12, findings 1 and 8. Each case starts the real `flask` command (and gunicorn, for the
refusal before binding) in a subprocess on this test's migrated database, whose rows are sealed
under the session's key file; the key file handed to the subprocess is a copy the case damages.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from clearance.crypto import FileKeyProvider
from clearance.db import db
from clearance.permissions import Role
from clearance.startup import StartupError, ensure_dev_keys
from tests.conftest import BACKEND, free_port

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


@pytest.fixture
def instance(app, factory, tmp_path):
    """A sealed database (a TOTP secret and more) and a private copy of its key file."""
    factory.person(Role.OFFICER)  # its TOTP secret is sealed under main v1
    keys = tmp_path / "inst" / "keys.json"
    keys.parent.mkdir(mode=0o700)
    shutil.copy(app.config["TAIWA_KEY_FILE"], keys)
    keys.chmod(0o600)
    env = {k: v for k, v in os.environ.items() if not k.startswith("TAIWA_") and k != "DATABASE_URL"}
    env.update(
        DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"].replace("postgresql+psycopg://", "postgresql://"),
        TAIWA_SECRET_KEY=app.config["SECRET_KEY"], TAIWA_ARGON2="fast", TAIWA_ENV="test",
        TAIWA_KEY_FILE=str(keys), TAIWA_FILES_DIR=app.config["TAIWA_FILES_DIR"], TAIWA_PERIODIC="0",
        PYTHONDONTWRITEBYTECODE="1", FLASK_APP="app",
    )
    return app, keys, env


def _run(cmd: list[str], env: dict[str, str], timeout: float = 90) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False)


def _flask(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return _run([str(BIN / "flask"), *args], env)


def _refused(result: subprocess.CompletedProcess, *words: str) -> str:
    """Exit != 0, no traceback, and exactly one stderr line that is the refusal naming `words`."""
    assert result.returncode != 0, result
    assert "Traceback" not in result.stderr + result.stdout, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    refusals = [line for line in lines if line.startswith("taiwa: cannot start:")]
    assert len(refusals) == 1, result.stderr
    for word in words:
        assert word in refusals[0], refusals[0]
    assert "docs/OPERATIONS.md" in refusals[0] or "chmod 600" in refusals[0]
    return refusals[0]


def _rewrite(keys: Path, change) -> None:
    doc = json.loads(keys.read_text())
    change(doc)
    keys.write_text(json.dumps(doc))
    keys.chmod(0o600)


def test_the_untouched_key_file_starts(instance):
    _app, _keys, env = instance
    result = _flask(env, "key-status")
    assert result.returncode == 0, result.stderr
    assert "main v1" in result.stdout and "current" in result.stdout


def test_a_missing_key_file_refuses(instance):
    _app, keys, env = instance
    keys.unlink()
    _refused(_flask(env, "key-status"), str(keys), "not found", "Restore")


def test_a_key_file_with_valid_json_but_other_bytes_refuses(instance):
    """The issue's second case: same name main v1, other bytes. Before the key check it started and served."""
    _app, keys, env = instance

    def other_bytes(doc):
        doc["keys"][0]["key"] = base64.b64encode(os.urandom(32)).decode()

    _rewrite(keys, other_bytes)
    _refused(_flask(env, "key-status"), "main v1", "not the key this database was sealed with")


def test_a_fresh_key_file_for_an_existing_database_refuses(instance, tmp_path):
    """rm keys.json; a new key is minted elsewhere: it is named main v1 too, and must not be served."""
    _app, keys, env = instance
    keys.unlink()
    from clearance.crypto import ensure_dev_keyfile

    assert ensure_dev_keyfile(keys)
    _refused(_flask(env, "key-status"), "main v1", "not the key this database was sealed with")


def test_a_removed_version_that_still_seals_rows_refuses(instance):
    app, keys, env = instance
    provider = FileKeyProvider(keys)
    runner = app.test_cli_runner()
    with app.app_context():
        from clearance.crypto import keys as key_module

        saved = key_module._provider
        key_module.configure(provider)
        try:
            result = runner.invoke(args=["rotate-keys"])
        finally:
            key_module.configure(saved)
            db.session.remove()
    assert result.exit_code == 0, result.output
    assert provider.current() == ("main", 2)

    def drop_v2(doc):
        doc["keys"] = [k for k in doc["keys"] if k["version"] != 2]
        doc["current"] = {"key_id": "main", "version": 1}
        doc["rotation"] = None

    _rewrite(keys, drop_v2)
    _refused(_flask(env, "key-status"), "main v2", "is missing from", "records or files")


def test_a_removed_version_nothing_uses_any_more_is_retired_not_refused(instance):
    """After a finished rotation the old key may go without `retire-key`: no data needs it."""
    app, keys, env = instance
    with app.app_context():
        from clearance.crypto import keys as key_module

        saved = key_module._provider
        key_module.configure(FileKeyProvider(keys))
        try:
            assert app.test_cli_runner().invoke(args=["rotate-keys"]).exit_code == 0
        finally:
            key_module.configure(saved)
            db.session.remove()
    _rewrite(keys, lambda doc: doc.update(keys=[k for k in doc["keys"] if k["version"] != 1]))
    result = _flask(env, "key-status")
    assert result.returncode == 0, result.stderr
    with app.app_context():
        from clearance.audit import AuditEntry

        summaries = [e.summary for e in db.session.execute(db.select(AuditEntry).order_by(AuditEntry.seq)).scalars()]
    assert "key main v1 retired" in summaries


def test_a_truncated_key_file_refuses(instance):
    _app, keys, env = instance
    keys.write_bytes(keys.read_bytes()[:60])
    _refused(_flask(env, "key-status"), str(keys), "not valid JSON")


def test_a_key_file_readable_by_others_refuses(instance):
    _app, keys, env = instance
    keys.chmod(0o644)
    _refused(_flask(env, "key-status"), str(keys), "0644", "chmod 600")


def test_an_unmigrated_database_refuses(instance, tmp_path):
    _app, _keys, env = instance
    result = _flask({**env, "DATABASE_URL": f"sqlite:///{tmp_path / 'never-migrated.db'}"}, "key-status")
    _refused(result, "not migrated", "flask db upgrade heads")


def test_but_flask_db_upgrade_runs_on_it(instance, tmp_path):
    _app, _keys, env = instance
    result = _flask({**env, "DATABASE_URL": f"sqlite:///{tmp_path / 'new.db'}"}, "db", "current")
    assert result.returncode == 0, result.stderr


def test_an_unreachable_database_refuses_the_cli(instance):
    _app, _keys, env = instance
    url = f"postgresql://postgres@127.0.0.1:{free_port()}/nowhere"
    _refused(_flask({**env, "DATABASE_URL": url}, "key-status"), "cannot be reached", "DATABASE_URL")


def test_a_missing_secret_key_refuses(monkeypatch, tmp_path):
    """In process (the worktree's instance/secret_key may exist): the CLI shows exactly this one line."""
    import clearance.config
    from app import create_app

    monkeypatch.setattr(clearance.config, "INSTANCE", tmp_path)
    monkeypatch.delenv("TAIWA_SECRET_KEY", raising=False)
    with pytest.raises(StartupError) as refused:
        create_app({"SECRET_KEY": None, "TAIWA_KEY_FILE": str(tmp_path / "k.json"), "TAIWA_CREATE_DEV_KEYS": True})
    assert "\n" not in refused.value.line() and "secret key" in refused.value.line()
    out = CliRunner().invoke(_raiser(refused.value))
    assert out.exit_code == 1 and out.output.strip() == refused.value.line()


def _raiser(exc):
    import click

    @click.command()
    def cmd() -> None:
        raise exc

    return cmd


def test_gunicorn_refuses_before_binding_with_the_line(instance):
    _app, keys, env = instance
    keys.chmod(0o644)
    port = free_port()
    result = _run([str(BIN / "gunicorn"), "-c", "gunicorn.conf.py", "--workers", "1", "--bind", f"127.0.0.1:{port}",
                   "app:create_app()"], env, timeout=60)
    _refused(result, "0644")
    assert "Listening at" not in result.stderr and "Booting worker" not in result.stderr


def test_a_worker_whose_app_refuses_halts_gunicorn_with_one_line():
    """The master already checked, but a worker can still meet a changed key file: gunicorn's
    AppImportError is printed as one line and halts the master (exit 4) instead of respawning."""
    from gunicorn.errors import AppImportError

    from clearance.startup import prepare_worker

    class Worker:
        def load_wsgi(self):
            raise StartupError("key main v1 in key file x is not the key this database was sealed with")

    class Server:
        pid = os.getppid()

    worker = Worker()
    prepare_worker(Server(), worker)
    with pytest.raises(AppImportError) as refused:
        worker.load_wsgi()
    assert str(refused.value).startswith("taiwa: cannot start: key main v1")


# -- make run: development keys for an empty database only -------------------------------------------------------


def test_dev_keys_are_created_for_an_empty_database(tmp_path):
    keys = tmp_path / "keys.json"
    cfg = {"TAIWA_KEY_FILE": str(keys), "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'none.db'}"}
    assert "created" in ensure_dev_keys(cfg) and keys.exists()
    assert not (tmp_path / "none.db").exists()  # probing never creates the database
    assert "present" in ensure_dev_keys(cfg)


def test_dev_keys_are_refused_for_a_database_with_data(instance):
    """`make run` after `rm instance/keys.json`: before the fix it minted a new key and served."""
    app, keys, env = instance
    keys.unlink()
    result = _run([sys.executable, "-m", "clearance.startup", "dev-keys"], env)
    _refused(result, str(keys), "is missing", "Restore the key file")
    assert not keys.exists()


@pytest.mark.skipif(BACKEND != "postgres", reason="the PostgreSQL pass covers a server database")
def test_dev_keys_probe_an_empty_postgres_database(empty_db, tmp_path):
    keys = tmp_path / "keys.json"
    assert "created" in ensure_dev_keys({"TAIWA_KEY_FILE": str(keys), "SQLALCHEMY_DATABASE_URI": empty_db.replace(
        "postgresql://", "postgresql+psycopg://")})
