"""Broadcast targets: no index by device.

Every read of a broadcast's targets now starts from the broadcast (its progress, the
owed orders of a device back online, the plans' scheduled broadcasts ahead, a device's
milestones) and finds them by the key (broadcast, device). The index by device alone
served the one read that walked every broadcast a device was ever sent, on each
compile (``plans.items.scheduled_items``, changed); it still cost each broadcast a page
written per device, among that device's history (figures in docs/scale.md, "A ward
after months").

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-03 05:40:00.000000
"""

from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_broadcast_targets_device_id", table_name="broadcast_targets")


def downgrade() -> None:
    op.create_index("ix_broadcast_targets_device_id", "broadcast_targets", ["device_id"])
