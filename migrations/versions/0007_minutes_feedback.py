"""minutes and feedback: minutes, revisions, corrections, addenda; feedback items, measures; report jobs

Revision ID: 0007_minutes_feedback
Revises: 0001_foundation
Create Date: 2026-11-27

Hand-written. Minutes and feedback items point at dialogues (branch "meetings");
their labels use label_compartment (branch "clearance"), so both are depends_on.
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_minutes_feedback"
down_revision = "0001_foundation"
branch_labels = ("minutes",)
depends_on = ("0003_meetings",)

_CATEGORIES = "'promotion', 'protection', 'partnership'"
_INSTRUMENTS = ("'export_control', 'technology_management', 'investment_screening', 'data_security', "
                "'cybersecurity', 'rd', 'talent', 'infrastructure', 'finance', 'budget_tax', 'international', "
                "'dialogue'")
_MINUTES_STATUSES = "'draft', 'internal_review', 'participant_review', 'approved', 'locked'"


def _fk(table: str, column: str, target: str, ondelete: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], [f"{target}.id"], name=f"fk_{table}_{column}_{target}", ondelete=ondelete)


def upgrade():
    op.create_table(
        "minutes",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("dialogue_id", sa.String(36), nullable=False),
        sa.Column("status", sa.String(24), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("current_revision", sa.Integer(), nullable=False),
        sa.Column("created_by_id", sa.String(36), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("submitted_by_id", sa.String(36), nullable=True),
        sa.Column("submitted_at", sa.DateTime(), nullable=True),
        sa.Column("reviewed_by_id", sa.String(36), nullable=True),
        sa.Column("reviewed_at", sa.DateTime(), nullable=True),
        sa.Column("correction_deadline", sa.DateTime(), nullable=True),
        sa.Column("approved_by_id", sa.String(36), nullable=True),
        sa.Column("approved_at", sa.DateTime(), nullable=True),
        sa.Column("locked_by_id", sa.String(36), nullable=True),
        sa.Column("locked_at", sa.DateTime(), nullable=True),
        sa.Column("return_note", sa.String(1000), nullable=False),
        sa.CheckConstraint(f"status IN ({_MINUTES_STATUSES})", name="ck_minutes_status_known"),
        sa.CheckConstraint("level BETWEEN 0 AND 2", name="ck_minutes_level_range"),
        sa.CheckConstraint("current_revision >= 1", name="ck_minutes_has_revision"),
        sa.CheckConstraint(
            "reviewed_by_id IS NULL OR submitted_by_id IS NULL OR reviewed_by_id <> submitted_by_id",
            name="ck_minutes_second_officer_reviews",
        ),
        sa.CheckConstraint("status <> 'locked' OR locked_at IS NOT NULL", name="ck_minutes_locked_has_time"),
        _fk("minutes", "dialogue_id", "dialogue", "RESTRICT"),
        _fk("minutes", "created_by_id", "user_account", "SET NULL"),
        _fk("minutes", "submitted_by_id", "user_account", "SET NULL"),
        _fk("minutes", "reviewed_by_id", "user_account", "SET NULL"),
        _fk("minutes", "approved_by_id", "user_account", "SET NULL"),
        _fk("minutes", "locked_by_id", "user_account", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name="pk_minutes"),
        sa.UniqueConstraint("dialogue_id", name="uq_minutes_dialogue_id"),
    )
    op.create_index("ix_minutes_status", "minutes", ["status"])

    op.create_table(
        "minutes_revision",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("minutes_id", sa.String(36), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.String(36), nullable=True),
        sa.Column("author_name", sa.String(120), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("restored_from", sa.Integer(), nullable=True),
        sa.Column("note", sa.String(300), nullable=False),
        sa.Column("content_ct", sa.LargeBinary(), nullable=False),
        sa.CheckConstraint("level BETWEEN 0 AND 2", name="ck_minutes_revision_level_range"),
        _fk("minutes_revision", "minutes_id", "minutes", "CASCADE"),
        _fk("minutes_revision", "author_id", "user_account", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name="pk_minutes_revision"),
        sa.UniqueConstraint("minutes_id", "number", name="uq_minutes_revision_number"),
    )

    op.create_table(
        "minutes_correction",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("minutes_id", sa.String(36), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("section_key", sa.String(40), nullable=True),
        sa.Column("author_id", sa.String(36), nullable=True),
        sa.Column("author_name", sa.String(120), nullable=False),
        sa.Column("company_id", sa.String(36), nullable=True),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("body_ct", sa.LargeBinary(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("response_ct", sa.LargeBinary(), nullable=True),
        sa.Column("resolved_by_id", sa.String(36), nullable=True),
        sa.Column("resolved_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("status IN ('open', 'accepted', 'declined')", name="ck_minutes_correction_status_known"),
        sa.CheckConstraint("(status = 'open') = (resolved_at IS NULL)", name="ck_minutes_correction_resolved_has_time"),
        _fk("minutes_correction", "minutes_id", "minutes", "CASCADE"),
        _fk("minutes_correction", "author_id", "user_account", "SET NULL"),
        _fk("minutes_correction", "company_id", "company", "SET NULL"),
        _fk("minutes_correction", "resolved_by_id", "user_account", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name="pk_minutes_correction"),
    )
    op.create_index("ix_minutes_correction_minutes_status", "minutes_correction", ["minutes_id", "status"])
    op.create_index("ix_minutes_correction_author_id", "minutes_correction", ["author_id"])
    op.create_index("ix_minutes_correction_company_id", "minutes_correction", ["company_id"])

    op.create_table(
        "minutes_addendum",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("minutes_id", sa.String(36), nullable=False),
        sa.Column("author_id", sa.String(36), nullable=True),
        sa.Column("author_name", sa.String(120), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("public", sa.Boolean(), nullable=False),
        sa.Column("body_ct", sa.LargeBinary(), nullable=False),
        sa.CheckConstraint("level BETWEEN 0 AND 2", name="ck_minutes_addendum_level_range"),
        sa.CheckConstraint("NOT public OR level = 0", name="ck_minutes_addendum_public_is_level_0"),
        _fk("minutes_addendum", "minutes_id", "minutes", "CASCADE"),
        _fk("minutes_addendum", "author_id", "user_account", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name="pk_minutes_addendum"),
    )
    op.create_index("ix_minutes_addendum_minutes_id", "minutes_addendum", ["minutes_id"])

    op.create_table(
        "policy_measure",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("title_ja", sa.String(200), nullable=False),
        sa.Column("title_en", sa.String(200), nullable=False),
        sa.Column("category", sa.String(16), nullable=False),
        sa.Column("instrument", sa.String(32), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("announced_on", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(f"category IN ({_CATEGORIES})", name="ck_policy_measure_category_known"),
        sa.CheckConstraint(f"instrument IN ({_INSTRUMENTS})", name="ck_policy_measure_instrument_known"),
        sa.PrimaryKeyConstraint("id", name="pk_policy_measure"),
        sa.UniqueConstraint("title_ja", name="uq_policy_measure_title_ja"),
    )

    op.create_table(
        "feedback_item",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("ref", sa.String(20), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("text_ct", sa.LargeBinary(), nullable=False),
        sa.Column("category", sa.String(16), nullable=False),
        sa.Column("subtopic", sa.String(40), nullable=False),
        sa.Column("instrument", sa.String(32), nullable=False),
        sa.Column("tier", sa.Integer(), nullable=True),
        sa.Column("region", sa.String(16), nullable=True),
        sa.Column("size_class", sa.String(8), nullable=True),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.String(36), nullable=True),
        sa.Column("association_id", sa.String(36), nullable=True),
        sa.Column("submitted_by_id", sa.String(36), nullable=True),
        sa.Column("dialogue_id", sa.String(36), nullable=True),
        sa.Column("minutes_id", sa.String(36), nullable=True),
        sa.Column("minutes_key", sa.String(40), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("answer_ct", sa.LargeBinary(), nullable=True),
        sa.Column("answered_by_id", sa.String(36), nullable=True),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.Column("status_changed_at", sa.DateTime(), nullable=False),
        sa.Column("answered_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint("source IN ('dialogue', 'company', 'anonymous')", name="ck_feedback_item_source_known"),
        sa.CheckConstraint("kind IN ('request', 'opinion')", name="ck_feedback_item_kind_known"),
        sa.CheckConstraint(f"category IN ({_CATEGORIES})", name="ck_feedback_item_category_known"),
        sa.CheckConstraint(f"instrument IN ({_INSTRUMENTS})", name="ck_feedback_item_instrument_known"),
        sa.CheckConstraint("status IN ('received', 'under_review', 'reflected', 'answered')",
                           name="ck_feedback_item_status_known"),
        sa.CheckConstraint("size_class IS NULL OR size_class IN ('large', 'mid', 'small')",
                           name="ck_feedback_item_size_known"),
        sa.CheckConstraint("tier IS NULL OR tier BETWEEN 1 AND 4", name="ck_feedback_item_tier_range"),
        sa.CheckConstraint("level BETWEEN 0 AND 2", name="ck_feedback_item_level_range"),
        sa.CheckConstraint("source <> 'anonymous' OR (company_id IS NULL AND submitted_by_id IS NULL)",
                           name="ck_feedback_item_anonymous_names_nobody"),
        sa.CheckConstraint("source <> 'company' OR company_id IS NOT NULL", name="ck_feedback_item_company_item_has_company"),
        sa.CheckConstraint("(status = 'answered') = (answer_ct IS NOT NULL)", name="ck_feedback_item_answered_has_answer"),
        _fk("feedback_item", "company_id", "company", "SET NULL"),
        _fk("feedback_item", "association_id", "association", "SET NULL"),
        _fk("feedback_item", "submitted_by_id", "user_account", "SET NULL"),
        _fk("feedback_item", "answered_by_id", "user_account", "SET NULL"),
        _fk("feedback_item", "dialogue_id", "dialogue", "SET NULL"),
        _fk("feedback_item", "minutes_id", "minutes", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name="pk_feedback_item"),
        sa.UniqueConstraint("ref", name="uq_feedback_item_ref"),
    )
    for column in ("source", "category", "subtopic", "instrument", "region", "size_class", "company_id",
                   "association_id", "dialogue_id", "minutes_id", "status", "received_at"):
        op.create_index(f"ix_feedback_item_{column}", "feedback_item", [column])

    op.create_table(
        "feedback_sector",
        sa.Column("item_id", sa.String(36), nullable=False),
        sa.Column("sector", sa.String(32), nullable=False),
        _fk("feedback_sector", "item_id", "feedback_item", "CASCADE"),
        sa.PrimaryKeyConstraint("item_id", "sector", name="pk_feedback_sector"),
    )
    op.create_index("ix_feedback_sector_sector", "feedback_sector", ["sector"])

    op.create_table(
        "feedback_measure",
        sa.Column("item_id", sa.String(36), nullable=False),
        sa.Column("measure_id", sa.String(36), nullable=False),
        _fk("feedback_measure", "item_id", "feedback_item", "CASCADE"),
        _fk("feedback_measure", "measure_id", "policy_measure", "CASCADE"),
        sa.PrimaryKeyConstraint("item_id", "measure_id", name="pk_feedback_measure"),
    )
    op.create_index("ix_feedback_measure_measure_id", "feedback_measure", ["measure_id"])

    op.create_table(
        "feedback_counter",
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("year", name="pk_feedback_counter"),
    )

    op.create_table(
        "report_job",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("kind", sa.String(24), nullable=False),
        sa.Column("format", sa.String(8), nullable=False),
        sa.Column("params", sa.Text(), nullable=False),
        sa.Column("requested_by_id", sa.String(36), nullable=False),
        sa.Column("locale", sa.String(8), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("progress", sa.Integer(), nullable=False),
        sa.Column("stage", sa.String(32), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("claimed_at", sa.DateTime(), nullable=True),
        sa.Column("heartbeat_at", sa.DateTime(), nullable=True),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("label_code", sa.String(200), nullable=False),
        sa.Column("result_ct", sa.LargeBinary(), nullable=True),
        sa.Column("result_name", sa.String(200), nullable=False),
        sa.Column("pages", sa.Integer(), nullable=True),
        sa.Column("error", sa.String(100), nullable=False),
        sa.CheckConstraint("status IN ('queued', 'running', 'done', 'failed')", name="ck_report_job_status_known"),
        sa.CheckConstraint("progress BETWEEN 0 AND 100", name="ck_report_job_progress_range"),
        sa.CheckConstraint("level BETWEEN 0 AND 2", name="ck_report_job_level_range"),
        sa.CheckConstraint("format IN ('pdf', 'xlsx', 'csv')", name="ck_report_job_format_known"),
        _fk("report_job", "requested_by_id", "user_account", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name="pk_report_job"),
    )
    op.create_index("ix_report_job_status_created", "report_job", ["status", "created_at"])
    op.create_index("ix_report_job_requested_by_id", "report_job", ["requested_by_id"])


def downgrade():
    for table in ("report_job", "feedback_counter", "feedback_measure", "feedback_sector", "feedback_item",
                  "policy_measure", "minutes_addendum", "minutes_correction", "minutes_revision", "minutes"):
        op.drop_table(table)
