"""Planned plays say whether a command planned them; a "now" adds no entry by device.

A "now" to a thousand devices writes a planned play on each. Every index keyed by
item, ward or time takes its thousand entries side by side; the one by (device, time)
took a page a device, each among that device's history, so an emergency's transaction
grew with the months (``bench.plans --history 3000``: a "now", call to publish, 61-93
ms against ~30 on a new database). That index serves one read, a compile's plays ahead
of its devices, which never wants a "now"'s (a plan's to withdraw are its own). Rows
planned by a command are now marked, and the index holds the others alone.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-03 08:35:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "planned_plays",
        sa.Column("commanded", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    plays = sa.table(
        "planned_plays", sa.column("broadcast_id", sa.String), sa.column("commanded", sa.Boolean)
    )
    broadcasts = sa.table(
        "broadcasts", sa.column("id", sa.String), sa.column("immediate", sa.Boolean)
    )
    commanded = sa.select(broadcasts.c.id).where(broadcasts.c.immediate.is_(True))
    op.execute(plays.update().where(plays.c.broadcast_id.in_(commanded)).values(commanded=True))
    op.drop_index("ix_planned_device_start", table_name="planned_plays")
    op.create_index(
        "ix_planned_device_start",
        "planned_plays",
        ["device_id", "planned_start"],
        sqlite_where=sa.text("commanded = 0"),
        postgresql_where=sa.text("commanded = false"),
    )


def downgrade() -> None:
    op.drop_index("ix_planned_device_start", table_name="planned_plays")
    op.create_index("ix_planned_device_start", "planned_plays", ["device_id", "planned_start"])
    with op.batch_alter_table("planned_plays") as batch:
        batch.drop_column("commanded")
