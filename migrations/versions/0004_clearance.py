"""clearance: compartments, personal clearances, company certification, handler and release lists, briefings

Revision ID: 0004_clearance
Revises: 0001_foundation
Create Date: 2026-11-26

Attachments are stored_file rows (branch "files") named by owner_table/owner_id,
so this branch has no foreign key into it and no depends_on.
"""
import sqlalchemy as sa
from alembic import op

revision = "0004_clearance"
down_revision = "0001_foundation"
branch_labels = ("clearance",)
depends_on = None

_STATUSES = "'pending', 'rejected', 'valid', 'suspended', 'revoked', 'superseded'"


def _fk(table: str, column: str, target: str, target_col: str = "id", ondelete: str | None = None):
    return sa.ForeignKeyConstraint([column], [f"{target}.{target_col}"], name=f"fk_{table}_{column}_{target}",
                                   ondelete=ondelete)


def upgrade():
    op.create_table(
        "compartment",
        sa.Column("code", sa.String(16), nullable=False),
        sa.Column("name_ja", sa.String(120), nullable=False),
        sa.Column("name_en", sa.String(120), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.String(36), nullable=True),
        sa.CheckConstraint("length(code) BETWEEN 2 AND 16", name=op.f("ck_compartment_code_length")),
        sa.PrimaryKeyConstraint("code", name="pk_compartment"),
    )
    op.create_table(
        "label_compartment",
        sa.Column("owner_table", sa.String(64), nullable=False),
        sa.Column("owner_id", sa.String(36), nullable=False),
        sa.Column("code", sa.String(16), nullable=False),
        _fk("label_compartment", "code", "compartment", "code"),
        sa.PrimaryKeyConstraint("owner_table", "owner_id", "code", name="pk_label_compartment"),
    )
    op.create_index("ix_label_compartment_code", "label_compartment", ["code"])

    op.create_table(
        "personal_clearance",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("user_id", sa.String(36), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("agency", sa.String(120), nullable=False),
        sa.Column("notified_on", sa.Date(), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("undertaking_signed", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("in_force", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("requested_by", sa.String(36), nullable=False),
        sa.Column("requested_at", sa.DateTime(), nullable=False),
        sa.Column("decided_by", sa.String(36), nullable=True),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.Column("decision_reason", sa.Text(), nullable=True),
        sa.Column("status_changed_by", sa.String(36), nullable=True),
        sa.Column("status_changed_at", sa.DateTime(), nullable=True),
        sa.Column("status_reason", sa.Text(), nullable=True),
        sa.CheckConstraint("level BETWEEN 1 AND 2", name=op.f("ck_personal_clearance_level_range")),
        sa.CheckConstraint(f"status IN ({_STATUSES})", name=op.f("ck_personal_clearance_status_known")),
        sa.CheckConstraint("expires_on > notified_on", name=op.f("ck_personal_clearance_expiry_after_notice")),
        sa.CheckConstraint("NOT in_force OR status IN ('valid', 'suspended', 'revoked')",
                           name=op.f("ck_personal_clearance_in_force_decided")),
        _fk("personal_clearance", "user_id", "user_account", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name="pk_personal_clearance"),
    )
    op.create_index("ix_personal_clearance_user_id", "personal_clearance", ["user_id"])
    op.create_index("ix_personal_clearance_expires_at", "personal_clearance", ["expires_at"])
    op.create_index("uq_personal_clearance_in_force", "personal_clearance", ["user_id"], unique=True,
                    sqlite_where=sa.text("in_force"), postgresql_where=sa.text("in_force"))

    op.create_table(
        "clearance_compartment",
        sa.Column("clearance_id", sa.String(36), nullable=False),
        sa.Column("code", sa.String(16), nullable=False),
        _fk("clearance_compartment", "clearance_id", "personal_clearance", ondelete="CASCADE"),
        _fk("clearance_compartment", "code", "compartment", "code"),
        sa.PrimaryKeyConstraint("clearance_id", "code", name="pk_clearance_compartment"),
    )

    op.create_table(
        "company_certification",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("company_id", sa.String(36), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("agency", sa.String(120), nullable=False),
        sa.Column("certified_on", sa.Date(), nullable=False),
        sa.Column("contract_ref", sa.String(120), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("in_force", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("requested_by", sa.String(36), nullable=False),
        sa.Column("requested_at", sa.DateTime(), nullable=False),
        sa.Column("decided_by", sa.String(36), nullable=True),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.Column("decision_reason", sa.Text(), nullable=True),
        sa.Column("status_changed_by", sa.String(36), nullable=True),
        sa.Column("status_changed_at", sa.DateTime(), nullable=True),
        sa.Column("status_reason", sa.Text(), nullable=True),
        sa.CheckConstraint("level BETWEEN 1 AND 2", name=op.f("ck_company_certification_level_range")),
        sa.CheckConstraint(f"status IN ({_STATUSES})", name=op.f("ck_company_certification_status_known")),
        sa.CheckConstraint("expires_on > certified_on", name=op.f("ck_company_certification_expiry_after_certification")),
        sa.CheckConstraint("NOT in_force OR status IN ('valid', 'suspended', 'revoked')",
                           name=op.f("ck_company_certification_in_force_decided")),
        _fk("company_certification", "company_id", "company", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name="pk_company_certification"),
    )
    op.create_index("ix_company_certification_company_id", "company_certification", ["company_id"])
    op.create_index("ix_company_certification_expires_at", "company_certification", ["expires_at"])
    op.create_index("uq_company_certification_in_force", "company_certification", ["company_id"], unique=True,
                    sqlite_where=sa.text("in_force"), postgresql_where=sa.text("in_force"))

    op.create_table(
        "certification_department",
        sa.Column("certification_id", sa.String(36), nullable=False),
        sa.Column("department", sa.String(120), nullable=False),
        sa.ForeignKeyConstraint(["certification_id"], ["company_certification.id"], ondelete="CASCADE",
                                name="fk_certification_department_certification"),  # the long name exceeds 63
        sa.PrimaryKeyConstraint("certification_id", "department", name="pk_certification_department"),
    )

    op.create_table(
        "handler_entry",
        sa.Column("owner_table", sa.String(64), nullable=False),
        sa.Column("owner_id", sa.String(36), nullable=False),
        sa.Column("user_id", sa.String(36), nullable=False),
        sa.Column("added_by", sa.String(36), nullable=True),
        sa.Column("added_at", sa.DateTime(), nullable=False),
        _fk("handler_entry", "user_id", "user_account", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("owner_table", "owner_id", "user_id", name="pk_handler_entry"),
    )
    op.create_index("ix_handler_entry_user", "handler_entry", ["user_id", "owner_table"])

    op.create_table(
        "release_entry",
        sa.Column("owner_table", sa.String(64), nullable=False),
        sa.Column("owner_id", sa.String(36), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("target_id", sa.String(36), nullable=False),
        sa.CheckConstraint("kind IN ('all', 'company', 'group', 'user')", name=op.f("ck_release_entry_kind_known")),
        sa.PrimaryKeyConstraint("owner_table", "owner_id", "kind", "target_id", name="pk_release_entry"),
    )

    op.create_table(
        "briefing",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("body_ct", sa.LargeBinary(), nullable=True),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("technology_domain", sa.Integer(), nullable=True),
        sa.Column("designating_agency", sa.String(120), nullable=True),
        sa.Column("designation_number", sa.String(60), nullable=True),
        sa.Column("designated_on", sa.Date(), nullable=True),
        sa.Column("designation_expires_on", sa.Date(), nullable=True),
        sa.Column("designator_id", sa.String(36), nullable=True),
        sa.Column("created_by", sa.String(36), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("released_at", sa.DateTime(), nullable=True),
        sa.Column("released_by", sa.String(36), nullable=True),
        sa.Column("expires_at", sa.DateTime(), nullable=True),
        sa.Column("withdrawn_at", sa.DateTime(), nullable=True),
        sa.Column("withdrawn_by", sa.String(36), nullable=True),
        sa.Column("withdrawn_reason", sa.Text(), nullable=True),
        sa.Column("sort_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("level BETWEEN 0 AND 2", name=op.f("ck_briefing_level_range")),
        sa.CheckConstraint("status IN ('draft', 'released', 'withdrawn')", name=op.f("ck_briefing_status_known")),
        sa.CheckConstraint("technology_domain IS NULL OR technology_domain BETWEEN 1 AND 3",
                           name=op.f("ck_briefing_domain_range")),
        sa.CheckConstraint(
            "(level = 2) = (designating_agency IS NOT NULL AND designation_number IS NOT NULL "
            "AND designated_on IS NOT NULL AND designation_expires_on IS NOT NULL)",
            name=op.f("ck_briefing_designation_iff_level2"),
        ),
        _fk("briefing", "designator_id", "user_account", ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name="pk_briefing"),
    )
    op.create_index("ix_briefing_designator_id", "briefing", ["designator_id"])
    op.create_index("ix_briefing_sort_at", "briefing", ["sort_at"])
    op.create_index("ix_briefing_status_sort", "briefing", ["status", "sort_at"])

    op.create_table(
        "briefing_tag",
        sa.Column("briefing_id", sa.String(36), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("code", sa.String(40), nullable=False),
        sa.CheckConstraint("kind IN ('risk', 'sector', 'tech', 'material')", name=op.f("ck_briefing_tag_kind_known")),
        _fk("briefing_tag", "briefing_id", "briefing", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("briefing_id", "kind", "code", name="pk_briefing_tag"),
    )
    op.create_index("ix_briefing_tag_kind_code", "briefing_tag", ["kind", "code"])

    op.create_table(
        "briefing_access",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("briefing_id", sa.String(36), nullable=False),
        sa.Column("user_id", sa.String(36), nullable=False),
        sa.Column("user_name", sa.String(120), nullable=False),
        sa.Column("company_id", sa.String(36), nullable=True),
        sa.Column("route", sa.String(16), nullable=False),
        sa.Column("file_id", sa.String(36), nullable=True),
        sa.Column("accessed_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("route IN ('page', 'pdf', 'attachment')", name=op.f("ck_briefing_access_route_known")),
        _fk("briefing_access", "briefing_id", "briefing", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name="pk_briefing_access"),
    )
    op.create_index("ix_briefing_access_briefing", "briefing_access", ["briefing_id", "accessed_at"])
    op.create_index("ix_briefing_access_user_id", "briefing_access", ["user_id"])


def downgrade():
    for index, table in (
        ("ix_briefing_access_user_id", "briefing_access"),
        ("ix_briefing_access_briefing", "briefing_access"),
        ("ix_briefing_tag_kind_code", "briefing_tag"),
        ("ix_briefing_status_sort", "briefing"),
        ("ix_briefing_sort_at", "briefing"),
        ("ix_briefing_designator_id", "briefing"),
        ("ix_handler_entry_user", "handler_entry"),
        ("uq_company_certification_in_force", "company_certification"),
        ("ix_company_certification_expires_at", "company_certification"),
        ("ix_company_certification_company_id", "company_certification"),
        ("uq_personal_clearance_in_force", "personal_clearance"),
        ("ix_personal_clearance_expires_at", "personal_clearance"),
        ("ix_personal_clearance_user_id", "personal_clearance"),
        ("ix_label_compartment_code", "label_compartment"),
    ):
        op.drop_index(index, table_name=table)
    for table in ("briefing_access", "briefing_tag", "briefing", "release_entry", "handler_entry",
                  "certification_department", "company_certification", "clearance_compartment",
                  "personal_clearance", "label_compartment", "compartment"):
        op.drop_table(table)
