"""Report rollups marked dirty where evidence and plans are written.

New table only: the (ward, local day) pairs whose sums are out of date, appended in the
same transaction as the evidence row or planned play that changed them.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 18:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "report_rollup_dirty",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("ward_code", sa.String(length=16), nullable=False),
        sa.Column("local_date", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_report_rollup_dirty_ward_date", "report_rollup_dirty", ["ward_code", "local_date"]
    )


def downgrade() -> None:
    op.drop_index("ix_report_rollup_dirty_ward_date", table_name="report_rollup_dirty")
    op.drop_table("report_rollup_dirty")
