"""consult: the anonymous consultation desk

Every time column here is a DATE (a day in Japan): the desk keeps no instant
of what its visitors do. Attachments reference stored_file by id without a
foreign key, so this branch does not depend on the files branch.

Revision ID: 0006_consult
Revises: 0001_foundation
Create Date: 2026-11-26

"""
import sqlalchemy as sa
from alembic import op

revision = "0006_consult"
down_revision = "0001_foundation"
branch_labels = ("consult",)
depends_on = None


def upgrade():
    op.create_table(
        "consult_secret",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("purpose", sa.String(length=32), nullable=False),
        sa.Column("value_ct", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consult_secret")),
        sa.UniqueConstraint("purpose", name=op.f("uq_consult_secret_purpose")),
    )
    op.create_table(
        "consult_case",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("ref", sa.String(length=16), nullable=False),
        sa.Column("lookup_id", sa.String(length=32), nullable=False),
        sa.Column("receipt_hash", sa.String(length=255), nullable=False),
        sa.Column("submitter_key_wrapped", sa.LargeBinary(), nullable=False),
        sa.Column("submitter_state_ct", sa.LargeBinary(), nullable=True),
        sa.Column("facts_ct", sa.LargeBinary(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("assignee_id", sa.String(length=36), nullable=True),
        sa.Column("created_on", sa.Date(), nullable=False),
        sa.Column("last_activity_on", sa.Date(), nullable=False),
        sa.Column("ack_due_on", sa.Date(), nullable=False),
        sa.Column("acknowledged_on", sa.Date(), nullable=True),
        sa.Column("closed_on", sa.Date(), nullable=True),
        sa.Column("awaiting_ministry", sa.Boolean(), nullable=False),
        sa.Column("notify_pending", sa.Boolean(), nullable=False),
        sa.Column("reminded_on", sa.Date(), nullable=True),
        sa.Column("message_count", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "status IN ('new', 'acknowledged', 'in_progress', 'answered', 'closed')",
            name=op.f("ck_consult_case_status_known"),
        ),
        sa.CheckConstraint("(status = 'closed') = (closed_on IS NOT NULL)", name=op.f("ck_consult_case_closed_has_date")),
        sa.CheckConstraint("message_count >= 0", name=op.f("ck_consult_case_message_count_nonnegative")),
        sa.ForeignKeyConstraint(["assignee_id"], ["user_account.id"], name=op.f("fk_consult_case_assignee_id_user_account"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consult_case")),
        sa.UniqueConstraint("lookup_id", name=op.f("uq_consult_case_lookup_id")),
        sa.UniqueConstraint("ref", name=op.f("uq_consult_case_ref")),
    )
    with op.batch_alter_table("consult_case", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_consult_case_assignee_id"), ["assignee_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_consult_case_created_on"), ["created_on"], unique=False)
        batch_op.create_index(batch_op.f("ix_consult_case_status"), ["status"], unique=False)

    op.create_table(
        "consult_message",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("case_id", sa.String(length=36), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("author", sa.String(length=16), nullable=False),
        sa.Column("officer_id", sa.String(length=36), nullable=True),
        sa.Column("written_on", sa.Date(), nullable=False),
        sa.Column("body_ct", sa.LargeBinary(), nullable=False),
        sa.CheckConstraint("author IN ('submitter', 'ministry')", name=op.f("ck_consult_message_author_known")),
        sa.CheckConstraint("author = 'ministry' OR officer_id IS NULL",
                           name=op.f("ck_consult_message_submitter_names_nobody")),
        sa.ForeignKeyConstraint(["case_id"], ["consult_case.id"], name=op.f("fk_consult_message_case_id_consult_case"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["officer_id"], ["user_account.id"],
                                name=op.f("fk_consult_message_officer_id_user_account"), ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consult_message")),
        sa.UniqueConstraint("case_id", "seq", name="uq_consult_message_case_seq"),
    )
    with op.batch_alter_table("consult_message", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_consult_message_case_id"), ["case_id"], unique=False)

    op.create_table(
        "consult_attachment",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("case_id", sa.String(length=36), nullable=False),
        sa.Column("message_id", sa.String(length=36), nullable=False),
        sa.Column("stored_file_id", sa.String(length=36), nullable=False),
        sa.Column("removed_ct", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["consult_case.id"],
                                name=op.f("fk_consult_attachment_case_id_consult_case"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["message_id"], ["consult_message.id"],
                                name=op.f("fk_consult_attachment_message_id_consult_message"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consult_attachment")),
        sa.UniqueConstraint("stored_file_id", name=op.f("uq_consult_attachment_stored_file_id")),
    )
    with op.batch_alter_table("consult_attachment", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_consult_attachment_case_id"), ["case_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_consult_attachment_message_id"), ["message_id"], unique=False)

    op.create_table(
        "consult_case_label",
        sa.Column("case_id", sa.String(length=36), nullable=False),
        sa.Column("label", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["consult_case.id"],
                                name=op.f("fk_consult_case_label_case_id_consult_case"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("case_id", "label", name=op.f("pk_consult_case_label")),
    )
    op.create_table(
        "consult_desk_member",
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("added_on", sa.Date(), nullable=False),
        sa.Column("added_by_id", sa.String(length=36), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["user_account.id"],
                                name=op.f("fk_consult_desk_member_user_id_user_account"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_consult_desk_member")),
    )
    op.create_table(
        "consult_desk_session",
        sa.Column("id_hash", sa.String(length=64), nullable=False),
        sa.Column("purge_on", sa.Date(), nullable=False),
        sa.Column("data_ct", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id_hash", name=op.f("pk_consult_desk_session")),
    )
    with op.batch_alter_table("consult_desk_session", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_consult_desk_session_purge_on"), ["purge_on"], unique=False)

    op.create_table(
        "consult_day_tally",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("cases_submitted", sa.Integer(), nullable=False),
        sa.Column("messages_from_submitters", sa.Integer(), nullable=False),
        sa.Column("files_from_submitters", sa.Integer(), nullable=False),
        sa.Column("receipts_accepted", sa.Integer(), nullable=False),
        sa.Column("receipts_refused", sa.Integer(), nullable=False),
        sa.Column("throttled", sa.Integer(), nullable=False),
        sa.Column("bot_refused", sa.Integer(), nullable=False),
        sa.Column("decryption_failures", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_consult_day_tally")),
    )
    op.create_table(
        "consult_feedback_candidate",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("theme", sa.String(length=32), nullable=False),
        sa.Column("sector", sa.String(length=32), nullable=True),
        sa.Column("tier", sa.String(length=4), nullable=True),
        sa.Column("size_class", sa.String(length=8), nullable=True),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("text_ct", sa.LargeBinary(), nullable=False),
        sa.Column("created_by_id", sa.String(length=36), nullable=True),
        sa.Column("taken_over", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["created_by_id"], ["user_account.id"],
                                name=op.f("fk_consult_feedback_candidate_created_by_id_user_account"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consult_feedback_candidate")),
    )


def downgrade():
    for table in ("consult_feedback_candidate", "consult_day_tally", "consult_desk_session", "consult_desk_member",
                  "consult_case_label", "consult_attachment", "consult_message", "consult_case", "consult_secret"):
        op.drop_table(table)
