"""Rejection counters: refused messages per source and hour, received and kept.

New table only; ``rejected_messages`` is not touched (it now gets at most a few rows
per source an hour, the rest only counted here).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 15:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rejection_counters",
        sa.Column("hour", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source", sa.String(length=300), nullable=False),
        sa.Column("received", sa.Integer(), nullable=False),
        sa.Column("stored", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("hour", "source"),
    )


def downgrade() -> None:
    op.drop_table("rejection_counters")
