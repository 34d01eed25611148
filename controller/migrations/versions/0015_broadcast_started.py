"""Broadcast targets: when the device said the broadcast started sounding on it.

Agents now say which item sounds in their retained state, just after a start; the
controller keeps the first such word per broadcast and device, so "playing" is what
the device reported, not only what the clock suggests.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-01 14:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("broadcast_targets") as batch:
        batch.add_column(sa.Column("started_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("broadcast_targets") as batch:
        batch.drop_column("started_at")
