"""Migration 0013 (stored_file_blob): the table the desk's files are kept in appears on upgrade; a
downgrade writes every blob out to its file under the files dir (still ciphertext, still readable
through clearance.files), drops the table, and the upgrade can run again."""

from __future__ import annotations

import io

from sqlalchemy import inspect

from clearance.db import db
from tests.conftest import ROOT, base_overrides

REVISION = "0016_stored_file_blob"
MIGRATIONS = str(ROOT / "migrations")


def test_upgrade_downgrade_upgrade_keeps_the_desk_files(empty_db, tmp_path):
    from flask_migrate import downgrade, upgrade

    from app import create_app
    from clearance import files

    app = create_app({**base_overrides(tmp_path), "SQLALCHEMY_DATABASE_URI": empty_db,
                      "TAIWA_FILES_DIR": str(tmp_path / "files")})
    with app.app_context():
        upgrade(directory=MIGRATIONS, revision="heads")
        assert "stored_file_blob" in inspect(db.engine).get_table_names()
        with app.test_request_context():
            row = files.save_upload(db.session, io.BytesIO(b"desk letter"), filename="letter.txt",
                                    owner_table="consult_message", owner_id="1", in_database=True)
            db.session.commit()
            file_id, path = row.id, row.path
        db.session.remove()
        assert not path.exists()

        downgrade(directory=MIGRATIONS, revision="0005_files")
        db.session.remove()
        db.engine.dispose()
        assert "stored_file_blob" not in inspect(db.engine).get_table_names()
        assert path.exists() and oct(path.stat().st_mode & 0o777) == "0o600"
        assert b"desk letter" not in path.read_bytes()

        upgrade(directory=MIGRATIONS, revision="heads")
        with app.test_request_context():
            row = db.session.get(files.StoredFile, file_id)
            assert b"".join(files.open_download(row)) == b"desk letter"  # from the file, as before 0013
        db.session.remove()
        db.engine.dispose()
