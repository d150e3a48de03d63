"""files: stored_file_blob, the ciphertext of files kept in the database (the desk's uploads)

Revision ID: 0016_stored_file_blob
Revises: 0005_files
Create Date: 2026-11-30

Hand-written. Issue 11 ("the desk's upload time stays on disk"): a file written under the files
dir at upload time gets a ctime (which no one can set back) and changes its shard folder's mtime,
so the second of an anonymous upload stayed on disk although the database dates it by the day.
The desk's files are now kept in the database instead, in the same STREAM ciphertext under the
same context (docs/CONSULT.md, "Files and time"). On the "files" branch, after 0005.

Desk files written before this revision stay on disk and keep working (reads fall back to the
file). Downgrade writes every blob out to its file under the files dir, then drops the table.
"""

from pathlib import Path

import sqlalchemy as sa
from alembic import op

revision = "0016_stored_file_blob"
down_revision = "0005_files"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "stored_file_blob",
        sa.Column("stored_file_id", sa.String(length=36), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["stored_file_id"], ["stored_file.id"],
                                name=op.f("fk_stored_file_blob_stored_file_id_stored_file"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("stored_file_id", name=op.f("pk_stored_file_blob")),
    )


def downgrade():
    bind = op.get_bind()
    rows = bind.execute(sa.text(
        "SELECT b.stored_file_id, f.storage_name FROM stored_file_blob b "
        "JOIN stored_file f ON f.id = b.stored_file_id ORDER BY b.stored_file_id")).all()
    if rows:
        from clearance.files import files_dir

        root = Path(files_dir())
        for file_id, name in rows:
            content = bind.execute(sa.text("SELECT content FROM stored_file_blob WHERE stored_file_id = :i"),
                                   {"i": file_id}).scalar_one()
            target = root / name[:2] / name
            target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            with open(target, "wb") as out:  # ciphertext, as on disk for every other file
                out.write(bytes(content))
            target.chmod(0o600)
    op.drop_table("stored_file_blob")
