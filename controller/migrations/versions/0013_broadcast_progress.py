"""Broadcast progress and editing: what was targeted, who cancelled, what devices hold.

- broadcasts: the target as the officer gave it (ward, zones, groups, devices), and
  the cancellation (when, by whom, why);
- broadcast_targets: when the device reported holding the broadcast in its plan, and
  an index by device (the state hook finds a device's broadcasts by it);
- bulletins: the voice and speed a text bulletin was spoken with.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01 13:30:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("broadcasts") as batch:
        batch.add_column(sa.Column("target_spec", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("cancelled_by", sa.String(length=100), nullable=True))
        batch.add_column(sa.Column("cancel_reason", sa.String(length=300), nullable=True))
    with op.batch_alter_table("broadcast_targets") as batch:
        batch.add_column(sa.Column("received_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index("ix_broadcast_targets_device_id", "broadcast_targets", ["device_id"])
    with op.batch_alter_table("bulletins") as batch:
        batch.add_column(sa.Column("tts_voice", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("tts_speed_wpm", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("bulletins") as batch:
        batch.drop_column("tts_speed_wpm")
        batch.drop_column("tts_voice")
    op.drop_index("ix_broadcast_targets_device_id", table_name="broadcast_targets")
    with op.batch_alter_table("broadcast_targets") as batch:
        batch.drop_column("received_at")
    with op.batch_alter_table("broadcasts") as batch:
        batch.drop_column("cancel_reason")
        batch.drop_column("cancelled_by")
        batch.drop_column("cancelled_at")
        batch.drop_column("target_spec")
