"""Broadcast targets carry their broadcast's time, and are found by device from a time on.

A compile of some devices' plans (an officer scheduling to a ward, a device back
online) needs the scheduled broadcasts ahead that target them. Since 0020 it read every
broadcast ahead, then all their targets, and kept its devices: on one controller for a
nation, each ward's compile read every other ward's broadcasts ahead (3,000 broadcasts
ahead of 50 devices each: 134 ms for a ward of 20 devices, growing with the nation).
Each target of a scheduled broadcast now holds its time, and a partial index (device,
time) holds those alone: a compile seeks each of its devices from now on. A "now" has
no time there and adds no entry (the write per device that 0020 removed stays removed).

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-03 08:15:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None

WHERE = sa.text("planned_start IS NOT NULL")


def upgrade() -> None:
    op.add_column(
        "broadcast_targets", sa.Column("planned_start", sa.DateTime(timezone=True), nullable=True)
    )
    targets = sa.table(
        "broadcast_targets",
        sa.column("broadcast_id", sa.String),
        sa.column("planned_start", sa.DateTime(timezone=True)),
    )
    broadcasts = sa.table(
        "broadcasts",
        sa.column("id", sa.String),
        sa.column("planned_start", sa.DateTime(timezone=True)),
        sa.column("immediate", sa.Boolean),
    )
    scheduled_start = (
        sa.select(broadcasts.c.planned_start)
        .where(broadcasts.c.id == targets.c.broadcast_id, broadcasts.c.immediate.is_(False))
        .scalar_subquery()
    )
    op.execute(targets.update().values(planned_start=scheduled_start))
    op.create_index(
        "ix_broadcast_targets_device_ahead",
        "broadcast_targets",
        ["device_id", "planned_start"],
        sqlite_where=WHERE,
        postgresql_where=WHERE,
    )


def downgrade() -> None:
    op.drop_index("ix_broadcast_targets_device_ahead", table_name="broadcast_targets")
    with op.batch_alter_table("broadcast_targets") as batch:
        batch.drop_column("planned_start")
