"""meetings: dialogues, series, agenda, hosts, invitations, RSVP tokens, topics, feeds, notifications, reach

Also one optional sealed attachment on outbox mail (mail_message.attachment_*).

Revision ID: 0003_meetings
Revises: 0001_foundation
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_meetings"
down_revision = "0001_foundation"
branch_labels = ("meetings",)
depends_on = None

_FORMATS = "'association', 'supply_chain', 'technology', 'company'"
_STATUSES = "'planned', 'invited', 'held', 'closed', 'cancelled', 'postponed'"
_REPLIES = "'pending', 'accepted', 'declined', 'delegated', 'withdrawn', 'waitlisted'"


def _fk(table: str, column: str, target: str, ondelete: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], [f"{target}.id"], name=f"fk_{table}_{column}_{target}", ondelete=ondelete)


def upgrade():
    op.create_table(
        "dialogue_series",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("rule", sa.String(300), nullable=False),
        sa.Column("time_zone", sa.String(64), nullable=False),
        sa.Column("created_by", sa.String(36), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        _fk("dialogue_series", "created_by", "user_account", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name="pk_dialogue_series"),
    )
    op.create_table(
        "dialogue",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("format", sa.String(16), nullable=False),
        sa.Column("association_id", sa.String(36), nullable=True),
        sa.Column("group_id", sa.String(36), nullable=True),
        sa.Column("company_id", sa.String(36), nullable=True),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("region", sa.String(16), nullable=True),
        sa.Column("venue", sa.String(300), nullable=False),
        sa.Column("online_url", sa.String(500), nullable=False),
        sa.Column("starts_at", sa.DateTime(), nullable=False),
        sa.Column("ends_at", sa.DateTime(), nullable=False),
        sa.Column("time_zone", sa.String(64), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("status_reason", sa.Text(), nullable=False),
        sa.Column("answer_by", sa.DateTime(), nullable=True),
        sa.Column("seat_limit", sa.Integer(), nullable=True),
        sa.Column("series_id", sa.String(36), nullable=True),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(36), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(f"format IN ({_FORMATS})", name="ck_dialogue_format_known"),
        sa.CheckConstraint(f"status IN ({_STATUSES})", name="ck_dialogue_status_known"),
        sa.CheckConstraint("level BETWEEN 0 AND 2", name="ck_dialogue_level_range"),
        sa.CheckConstraint("ends_at > starts_at", name="ck_dialogue_ends_after_start"),
        sa.CheckConstraint("seat_limit IS NULL OR seat_limit > 0", name="ck_dialogue_seat_limit_positive"),
        sa.CheckConstraint(
            "(format = 'association' AND association_id IS NOT NULL AND group_id IS NULL AND company_id IS NULL)"
            " OR (format IN ('supply_chain', 'technology') AND group_id IS NOT NULL AND association_id IS NULL"
            " AND company_id IS NULL)"
            " OR (format = 'company' AND company_id IS NOT NULL AND association_id IS NULL AND group_id IS NULL)",
            name="ck_dialogue_counterpart_matches_format",
        ),
        _fk("dialogue", "association_id", "association", "RESTRICT"),
        _fk("dialogue", "group_id", "company_group", "RESTRICT"),
        _fk("dialogue", "company_id", "company", "RESTRICT"),
        _fk("dialogue", "series_id", "dialogue_series", "SET NULL"),
        _fk("dialogue", "created_by", "user_account", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name="pk_dialogue"),
    )
    with op.batch_alter_table("dialogue") as b:
        b.create_index("ix_dialogue_association_id", ["association_id"])
        b.create_index("ix_dialogue_group_id", ["group_id"])
        b.create_index("ix_dialogue_company_id", ["company_id"])
        b.create_index("ix_dialogue_region", ["region"])
        b.create_index("ix_dialogue_starts_at", ["starts_at"])
        b.create_index("ix_dialogue_series_id", ["series_id"])
        b.create_index("ix_dialogue_status_starts", ["status", "starts_at"])

    op.create_table(
        "dialogue_host",
        sa.Column("dialogue_id", sa.String(36), nullable=False),
        sa.Column("user_id", sa.String(36), nullable=False),
        _fk("dialogue_host", "dialogue_id", "dialogue", "CASCADE"),
        _fk("dialogue_host", "user_id", "user_account", "CASCADE"),
        sa.PrimaryKeyConstraint("dialogue_id", "user_id", name="pk_dialogue_host"),
    )
    with op.batch_alter_table("dialogue_host") as b:
        b.create_index("ix_dialogue_host_user_id", ["user_id"])

    op.create_table(
        "agenda_item",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("dialogue_id", sa.String(36), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(300), nullable=False),
        _fk("agenda_item", "dialogue_id", "dialogue", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name="pk_agenda_item"),
        sa.UniqueConstraint("dialogue_id", "position", name="uq_agenda_item_position"),
    )

    op.create_table(
        "invitation",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("dialogue_id", sa.String(36), nullable=False),
        sa.Column("company_id", sa.String(36), nullable=False),
        sa.Column("user_id", sa.String(36), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("invited_at", sa.DateTime(), nullable=False),
        sa.Column("replied_at", sa.DateTime(), nullable=True),
        sa.Column("waitlisted_at", sa.DateTime(), nullable=True),
        sa.Column("delegated_to_id", sa.String(36), nullable=True),
        sa.Column("invited_by", sa.String(36), nullable=True),
        sa.CheckConstraint(f"status IN ({_REPLIES})", name="ck_invitation_status_known"),
        _fk("invitation", "dialogue_id", "dialogue", "CASCADE"),
        _fk("invitation", "company_id", "company", "CASCADE"),
        _fk("invitation", "user_id", "user_account", "CASCADE"),
        _fk("invitation", "delegated_to_id", "invitation", "SET NULL"),
        _fk("invitation", "invited_by", "user_account", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name="pk_invitation"),
        sa.UniqueConstraint("dialogue_id", "user_id", name="uq_invitation_pair"),
    )
    with op.batch_alter_table("invitation") as b:
        b.create_index("ix_invitation_user_id", ["user_id"])
        b.create_index("ix_invitation_dialogue_status", ["dialogue_id", "status"])
        b.create_index("ix_invitation_company_dialogue", ["company_id", "dialogue_id"])

    op.create_table(
        "rsvp_token",
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("invitation_id", sa.String(36), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("used_at", sa.DateTime(), nullable=True),
        _fk("rsvp_token", "invitation_id", "invitation", "CASCADE"),
        sa.PrimaryKeyConstraint("token_hash", name="pk_rsvp_token"),
    )
    with op.batch_alter_table("rsvp_token") as b:
        b.create_index("ix_rsvp_token_invitation_id", ["invitation_id"])

    op.create_table(
        "advance_topic",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("dialogue_id", sa.String(36), nullable=False),
        sa.Column("company_id", sa.String(36), nullable=False),
        sa.Column("author_id", sa.String(36), nullable=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("body_ct", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("kind IN ('topic', 'question')", name="ck_advance_topic_kind_known"),
        _fk("advance_topic", "dialogue_id", "dialogue", "CASCADE"),
        _fk("advance_topic", "company_id", "company", "CASCADE"),
        _fk("advance_topic", "author_id", "user_account", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name="pk_advance_topic"),
    )
    with op.batch_alter_table("advance_topic") as b:
        b.create_index("ix_advance_topic_dialogue_company", ["dialogue_id", "company_id"])

    op.create_table(
        "calendar_feed",
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("user_id", sa.String(36), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.Column("last_used_at", sa.DateTime(), nullable=True),
        _fk("calendar_feed", "user_id", "user_account", "CASCADE"),
        sa.PrimaryKeyConstraint("token_hash", name="pk_calendar_feed"),
    )
    with op.batch_alter_table("calendar_feed") as b:
        b.create_index("ix_calendar_feed_user_id", ["user_id"])

    op.create_table(
        "meeting_preference",
        sa.Column("user_id", sa.String(36), nullable=False),
        sa.Column("time_zone", sa.String(64), nullable=False),
        _fk("meeting_preference", "user_id", "user_account", "CASCADE"),
        sa.PrimaryKeyConstraint("user_id", name="pk_meeting_preference"),
    )

    op.create_table(
        "company_reach",
        sa.Column("company_id", sa.String(36), nullable=False),
        sa.Column("first_at", sa.DateTime(), nullable=False),
        sa.Column("last_at", sa.DateTime(), nullable=False),
        sa.Column("dialogues", sa.Integer(), nullable=False),
        _fk("company_reach", "company_id", "company", "CASCADE"),
        sa.PrimaryKeyConstraint("company_id", name="pk_company_reach"),
    )
    with op.batch_alter_table("company_reach") as b:
        b.create_index("ix_company_reach_last_at", ["last_at"])

    op.create_table(
        "notification",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("user_id", sa.String(36), nullable=False),
        sa.Column("kind", sa.String(24), nullable=False),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("link", sa.String(300), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("read_at", sa.DateTime(), nullable=True),
        _fk("notification", "user_id", "user_account", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name="pk_notification"),
    )
    with op.batch_alter_table("notification") as b:
        b.create_index("ix_notification_user_created", ["user_id", "created_at"])

    with op.batch_alter_table("mail_message") as b:
        b.add_column(sa.Column("attachment_name", sa.String(100), nullable=True))
        b.add_column(sa.Column("attachment_type", sa.String(100), nullable=True))
        b.add_column(sa.Column("attachment_ct", sa.LargeBinary(), nullable=True))


def downgrade():
    with op.batch_alter_table("mail_message") as b:
        b.drop_column("attachment_ct")
        b.drop_column("attachment_type")
        b.drop_column("attachment_name")
    for table in ("notification", "company_reach", "meeting_preference", "calendar_feed", "advance_topic",
                  "rsvp_token", "invitation", "agenda_item", "dialogue_host", "dialogue", "dialogue_series"):
        op.drop_table(table)
