"""registry: association sectors, contact people, correction requests, import staging, search columns

Revision ID: 0002_registry
Revises: 0001_foundation
Create Date: 2026-11-27

Hand-written. Columns are added with plain ALTER TABLE ADD COLUMN (no batch
"move and copy"): on SQLite, recreating `company` with foreign keys on would
cascade-delete every row that points at it.
"""

import unicodedata

import sqlalchemy as sa
from alembic import op

revision = "0002_registry"
down_revision = "0001_foundation"
branch_labels = ("registry",)
depends_on = None


def _fold(*parts):
    # Frozen copy of dialogue.registry.search.search_key at the time of this revision.
    return "\x1f".join(unicodedata.normalize("NFKC", p).casefold() for p in parts if p)


def upgrade():
    op.create_table(
        "association_sector",
        sa.Column("association_id", sa.String(length=36), nullable=False),
        sa.Column("sector", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(["association_id"], ["association.id"],
                                name=op.f("fk_association_sector_association_id_association"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("association_id", "sector", name=op.f("pk_association_sector")),
    )
    op.create_index(op.f("ix_association_sector_sector"), "association_sector", ["sector"], unique=False)

    op.add_column("company", sa.Column("key_technologies", sa.Text(), nullable=False, server_default=""))
    op.add_column("company", sa.Column("search_text", sa.Text(), nullable=False, server_default=""))
    op.add_column("company", sa.Column("updated_at", sa.DateTime(), nullable=True))
    op.add_column("association", sa.Column("search_text", sa.Text(), nullable=False, server_default=""))
    op.add_column("company_group", sa.Column("search_text", sa.Text(), nullable=False, server_default=""))

    op.create_table(
        "contact_person",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("company_id", sa.String(length=36), nullable=True),
        sa.Column("association_id", sa.String(length=36), nullable=True),
        sa.Column("name_ct", sa.LargeBinary(), nullable=False),
        sa.Column("department_ct", sa.LargeBinary(), nullable=True),
        sa.Column("title_ct", sa.LargeBinary(), nullable=True),
        sa.Column("email_ct", sa.LargeBinary(), nullable=True),
        sa.Column("phone_ct", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint("(company_id IS NULL) <> (association_id IS NULL)", name=op.f("ck_contact_person_one_owner")),
        sa.ForeignKeyConstraint(["company_id"], ["company.id"], name=op.f("fk_contact_person_company_id_company"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["association_id"], ["association.id"],
                                name=op.f("fk_contact_person_association_id_association"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contact_person")),
    )
    op.create_index(op.f("ix_contact_person_company_id"), "contact_person", ["company_id"], unique=False)
    op.create_index(op.f("ix_contact_person_association_id"), "contact_person", ["association_id"], unique=False)

    op.create_table(
        "correction_request",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("company_id", sa.String(length=36), nullable=False),
        sa.Column("requested_by_id", sa.String(length=36), nullable=True),
        sa.Column("proposed", sa.Text(), nullable=False),
        sa.Column("original", sa.Text(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.Column("decided_by_id", sa.String(length=36), nullable=True),
        sa.Column("decision_reason", sa.Text(), nullable=False),
        sa.CheckConstraint("status IN ('pending', 'approved', 'rejected', 'withdrawn')",
                           name=op.f("ck_correction_request_status_known")),
        sa.CheckConstraint("(status = 'pending') = (decided_at IS NULL)",
                           name=op.f("ck_correction_request_decided_when_closed")),
        sa.CheckConstraint("status <> 'rejected' OR length(decision_reason) > 0",
                           name=op.f("ck_correction_request_rejection_has_reason")),
        sa.ForeignKeyConstraint(["company_id"], ["company.id"], name=op.f("fk_correction_request_company_id_company"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["requested_by_id"], ["user_account.id"],
                                name=op.f("fk_correction_request_requested_by_id_user_account"), ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["decided_by_id"], ["user_account.id"],
                                name=op.f("fk_correction_request_decided_by_id_user_account"), ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_correction_request")),
    )
    op.create_index(op.f("ix_correction_request_company_id"), "correction_request", ["company_id"], unique=False)
    op.create_index(op.f("ix_correction_request_status"), "correction_request", ["status"], unique=False)

    op.create_table(
        "register_import",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("encoding", sa.String(length=16), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("payload_ct", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["user_account.id"], name=op.f("fk_register_import_user_id_user_account"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_register_import")),
    )
    op.create_index(op.f("ix_register_import_user_id"), "register_import", ["user_id"], unique=False)

    # Existing rows: every association's main sector is one of its sectors, and everything is searchable.
    conn = op.get_bind()
    conn.execute(sa.text("INSERT INTO association_sector (association_id, sector) SELECT id, sector FROM association"))
    for table, columns in (
        ("company", ("corporate_number", "name_ja", "name_en", "key_products", "key_technologies")),
        ("association", ("name_ja", "name_en")),
        ("company_group", ("name_ja", "name_en", "subject_ja", "subject_en")),
    ):
        # Table and column names are the constants above, never input.
        rows = conn.execute(sa.text(f"SELECT id, {', '.join(columns)} FROM {table}")).all()  # noqa: S608
        for row in rows:
            conn.execute(sa.text(f"UPDATE {table} SET search_text = :s WHERE id = :id"),  # noqa: S608
                         {"s": _fold(*row[1:]), "id": row[0]})


def downgrade():
    op.drop_index(op.f("ix_register_import_user_id"), table_name="register_import")
    op.drop_table("register_import")
    op.drop_index(op.f("ix_correction_request_status"), table_name="correction_request")
    op.drop_index(op.f("ix_correction_request_company_id"), table_name="correction_request")
    op.drop_table("correction_request")
    op.drop_index(op.f("ix_contact_person_association_id"), table_name="contact_person")
    op.drop_index(op.f("ix_contact_person_company_id"), table_name="contact_person")
    op.drop_table("contact_person")
    # Native DROP COLUMN (SQLite >= 3.35, PostgreSQL): no table rebuild, so no cascades.
    for table, column in (("company_group", "search_text"), ("association", "search_text"),
                          ("company", "updated_at"), ("company", "search_text"), ("company", "key_technologies")):
        op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
    op.drop_index(op.f("ix_association_sector_sector"), table_name="association_sector")
    op.drop_table("association_sector")
