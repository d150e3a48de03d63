"""One world per run of the leak package: built once (it takes seconds), read by every test in it."""

from __future__ import annotations

import shutil
import time

import pytest

from tests.conftest import BACKEND, _reset_postgres, base_overrides
from tests.leak import world as leak_world


@pytest.fixture(scope="package")
def world(database_template, keydir, tmp_path_factory):
    from app import create_app
    from clearance.db import db

    tmp = tmp_path_factory.mktemp("leak")
    if BACKEND == "postgres":
        _reset_postgres(database_template)
        url = database_template
    else:
        target = tmp / "leak.db"
        shutil.copy(database_template, target)
        url = f"sqlite:///{target}"
    app = create_app({**base_overrides(keydir), "SQLALCHEMY_DATABASE_URI": url,
                      "TAIWA_FILES_DIR": str(tmp / "files")})
    started = time.monotonic()
    w = leak_world.build(app, tmp)
    leak_world.snapshot_messages(w)
    leak_world.sign_in_all(w)
    w.tmp = tmp
    w.build_seconds = time.monotonic() - started
    yield w
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
