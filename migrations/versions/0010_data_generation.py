"""freshness: the data generation counter behind cached page bodies

Revision ID: 0010_data_generation
Revises: 0001_foundation
Create Date: 2026-11-26

Hand-written. One row ("data") that every committed change to the records moves
(clearance/freshness.py); a cached body is keyed by it.
"""

import sqlalchemy as sa
from alembic import op

revision = "0010_data_generation"
down_revision = "0001_foundation"
branch_labels = ("freshness",)
depends_on = None


def upgrade():
    table = op.create_table(
        "data_generation",
        sa.Column("name", sa.String(32), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_data_generation"),
    )
    op.bulk_insert(table, [{"name": "data", "value": 0}])


def downgrade():
    op.drop_table("data_generation")
