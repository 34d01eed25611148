"""Playback evidence found by (item, device) and (broadcast, device); planned plays by time.

Whether a planned play was confirmed is asked by its device and item (the dashboard's
missed plays, an evidence bundle's list of what was owed and not confirmed), and whether
a target of a broadcast confirmed it by the broadcast and device (the orders owed to a
device back online). The table had indexes by device only, so SQLite answered each
question by walking that device's every event: a cost that grew with the months, once
per planned play. Item (or broadcast) first, a broadcast's confirmations, which arrive
together, also sit side by side. The index by broadcast alone is the new one's prefix.

And what is planned around now in every ward (an administrator's dashboard: playing
now, missed today) had no index by time alone but by ward and time: SQLite scanned
every planned play there ever was, on each refresh of the page.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-03 05:35:00.000000
"""

from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_evidence_item_device", "playback_evidence", ["item_id", "device_id"])
    op.create_index(
        "ix_evidence_broadcast_device", "playback_evidence", ["broadcast_id", "device_id"]
    )
    op.drop_index("ix_playback_evidence_broadcast_id", table_name="playback_evidence")
    op.create_index("ix_planned_start", "planned_plays", ["planned_start"])


def downgrade() -> None:
    op.drop_index("ix_planned_start", table_name="planned_plays")
    op.create_index("ix_playback_evidence_broadcast_id", "playback_evidence", ["broadcast_id"])
    op.drop_index("ix_evidence_broadcast_device", table_name="playback_evidence")
    op.drop_index("ix_evidence_item_device", table_name="playback_evidence")
