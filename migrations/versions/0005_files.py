"""files: encrypted attachments (stored_file)

Revision ID: 0005_files
Revises: 0001_foundation
Create Date: 2026-11-26

"""
import sqlalchemy as sa
from alembic import op

revision = "0005_files"
down_revision = "0001_foundation"
branch_labels = ("files",)
depends_on = None


def upgrade():
    op.create_table(
        "stored_file",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("owner_table", sa.String(length=64), nullable=False),
        sa.Column("owner_id", sa.String(length=36), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("storage_name", sa.String(length=64), nullable=False),
        sa.Column("original_name_ct", sa.LargeBinary(), nullable=False),
        sa.Column("content_type", sa.String(length=120), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("level BETWEEN 0 AND 2", name=op.f("ck_stored_file_level_range")),
        sa.CheckConstraint("size >= 0", name=op.f("ck_stored_file_size_nonnegative")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stored_file")),
        sa.UniqueConstraint("storage_name", name=op.f("uq_stored_file_storage_name")),
    )
    with op.batch_alter_table("stored_file", schema=None) as batch_op:
        batch_op.create_index("ix_stored_file_owner", ["owner_table", "owner_id"], unique=False)


def downgrade():
    with op.batch_alter_table("stored_file", schema=None) as batch_op:
        batch_op.drop_index("ix_stored_file_owner")
    op.drop_table("stored_file")
