"""Planned plays: the (device, item) unique key is kept item first.

A "now" to 1,000 devices writes 1,000 planned plays of one item. Keyed device first,
each new entry went into its own device's part of the index, among that device's
history: a page written a device, so an emergency's transaction grew with the months
behind it. Item first, the 1,000 entries sit side by side in a few pages. Every read
by device and item is the same lookup either way; a read of items among devices is
better. ``bench.plans --history 1000`` (SQLite, 1,000 devices, 1,000 past plays each,
against 30-50 ms on a new database): the "now" 102-104 -> 57-81 ms; scheduling a
broadcast to them 1.79-2.29 -> 0.61-0.74 s (its look-up of new items among past plays
had SQLite read every device's history; ``planned.record_plans`` now asks by key).

The rows are copied once on SQLite (its table is made again to change a constraint);
PostgreSQL builds the new index in place.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-03 05:00:00.000000
"""

from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("planned_plays") as batch:
        batch.drop_constraint("uq_planned_device_item", type_="unique")
        batch.create_unique_constraint("uq_planned_item_device", ["item_id", "device_id"])


def downgrade() -> None:
    with op.batch_alter_table("planned_plays") as batch:
        batch.drop_constraint("uq_planned_item_device", type_="unique")
        batch.create_unique_constraint("uq_planned_device_item", ["device_id", "item_id"])
