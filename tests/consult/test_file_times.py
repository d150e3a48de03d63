"""Nothing on disk dates a desk visit more precisely than the day (issue 11, "also found").

A file written at upload time has a ctime no one can set back, and its shard folder's mtime
moves: the second of an anonymous upload stayed on disk although the database keeps days
only. Desk files now live in the database (stored_file_blob) and desk requests spool in
memory, so an upload changes nothing under the files dir: every entry there keeps the times
it had before the visit.
"""

from __future__ import annotations

import io
import os
import re
import time
from pathlib import Path

from sqlalchemy import select

from clearance import files
from clearance.db import db
from tests.consult import samples
from tests.consult.conftest import Visitor

BIG = 700 * 1024  # over the spool's in-memory segment (256 KiB) and werkzeug's 500 KB spill: exercises the spool


def _times_under(root: Path) -> dict[str, tuple[float, ...]]:
    """(ctime, mtime, atime) of the files dir itself and of every file and folder under it.
    A folder's atime is left out: this very listing reads the folders (and so may move it)."""
    if not root.exists():
        return {}
    out = {}
    for path in [root, *root.rglob("*")]:
        st = os.stat(path, follow_symlinks=False)
        times = (st.st_ctime, st.st_mtime) if path.is_dir() else (st.st_ctime, st.st_mtime, st.st_atime)
        out[str(path.relative_to(root))] = times
    return out


def _after(times: dict[str, tuple[float, ...]], since: float) -> dict[str, tuple[float, ...]]:
    return {p: t for p, t in times.items() if max(t) >= since}


def test_a_desk_visit_with_files_leaves_no_time_under_the_files_dir(app_factory, tmp_path, factory):
    root = tmp_path / "desk-files"
    app = app_factory(TAIWA_CONSULT_MIN_FORM_SECONDS=0, TAIWA_FILES_DIR=str(root))
    # An ordinary (non-desk) upload first, so the files dir and a shard folder already exist, as in production.
    with app.test_request_context():
        files.save_upload(db.session, io.BytesIO(b"officer's notes"), filename="notes.txt",
                          owner_table="briefing", owner_id="x")
        db.session.commit()
    visitor = Visitor(app.test_client())
    visitor.get("/consult/new")
    before = _times_under(root)
    assert before, "the files dir exists before the visit"
    time.sleep(1.1)  # coarse file systems: anything the visit touches would be dated after `since`
    since = time.time()

    big = b"x" * BIG  # text: passes the desk's cleaning unchanged
    receipt = visitor.new_case(files=[(io.BytesIO(big), "big.txt"), (io.BytesIO(samples.png_with_text()), "scan.png")],
                               keep_names="y")
    visitor.reply("More.", files=[(io.BytesIO(b"a letter"), "letter.txt")])
    after = _times_under(root)

    assert _after(after, since) == {}, "the visit left its time on disk"
    assert after == before  # not one entry added, removed or re-dated
    # The files are there all the same: stored in the database, sealed, and they come back.
    with app.app_context():
        rows = db.session.execute(select(files.StoredFile).where(files.StoredFile.owner_table == "consult_message")
                                  ).scalars().all()
        assert len(rows) == 3
        for row in rows:
            assert not row.path.exists()
            blob = db.session.get(files.StoredFileBlob, row.id)
            assert blob is not None and big[:64] not in blob.content and b"a letter" not in blob.content
            assert row.created_at.time().isoformat() == "00:00:00"
    visitor.open(receipt)
    page = visitor.get("/consult/case").get_data(as_text=True)
    bodies = sorted(len(visitor.get(link).data) for link in re.findall(r'href="(/consult/case/files/[^"]+)"', page))
    assert len(bodies) == 3 and BIG in bodies
