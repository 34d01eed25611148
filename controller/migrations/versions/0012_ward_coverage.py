"""Report rollups: a ward's coverage per day and bulletin, summed with the others.

New table, and every summed day forgotten: the backfill job (run at start) sums them
again, this table with them, so no report reads a day summed without it.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 19:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "report_ward_coverage",
        sa.Column("ward_code", sa.String(length=16), nullable=False),
        sa.Column("local_date", sa.Date(), nullable=False),
        sa.Column("bulletin_id", sa.String(length=64), nullable=False),
        sa.Column("targeted_groups", sa.Integer(), nullable=False),
        sa.Column("covered_groups", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("ward_code", "local_date", "bulletin_id"),
        sqlite_with_rowid=False,
    )
    op.execute("DELETE FROM report_rollup_days")


def downgrade() -> None:
    op.drop_table("report_ward_coverage")
