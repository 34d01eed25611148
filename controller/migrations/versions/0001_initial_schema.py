"""Initial schema: devices, media, bulletins, broadcasts, evidence, rejected messages.

Revision ID: 0001
Revises: (none)
Create Date: 2026-11-22 05:12:42.924333
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "devices",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("public_key", sa.String(length=64), nullable=False),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("online", sa.Boolean(), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("plan_version", sa.Integer(), nullable=False),
        sa.Column("reported_plan_version", sa.Integer(), nullable=True),
        sa.Column("clock_offset_s", sa.Float(), nullable=True),
        sa.Column("pending_events", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "media_assets",
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("duration_s", sa.Float(), nullable=False),
        sa.Column("content_type", sa.String(length=64), nullable=False),
        sa.Column("extension", sa.String(length=8), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("sha256"),
    )
    op.create_table(
        "playback_evidence",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("device_id", sa.String(length=64), nullable=False),
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("item_id", sa.String(length=64), nullable=False),
        sa.Column("broadcast_id", sa.String(length=64), nullable=False),
        sa.Column("bulletin_id", sa.String(length=64), nullable=True),
        sa.Column("trigger", sa.String(length=16), nullable=False),
        sa.Column("priority", sa.String(length=16), nullable=False),
        sa.Column("source_level", sa.String(length=16), nullable=False),
        sa.Column("media_sha256", sa.String(length=64), nullable=True),
        sa.Column("planned_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("planned_duration_s", sa.Float(), nullable=False),
        sa.Column("actual_start", sa.DateTime(timezone=True), nullable=True),
        sa.Column("played_duration_s", sa.Float(), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.Column("plan_version", sa.Integer(), nullable=True),
        sa.Column("amplifier_on", sa.Boolean(), nullable=True),
        sa.Column("volume", sa.Integer(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("signed", sa.Text(), nullable=False),
        sa.Column("sig", sa.String(length=128), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("device_id", "event_id", name="uq_evidence_device_event"),
    )
    with op.batch_alter_table("playback_evidence", schema=None) as batch_op:
        batch_op.create_index(
            "ix_evidence_device_start", ["device_id", "planned_start"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_playback_evidence_broadcast_id"), ["broadcast_id"], unique=False
        )

    op.create_table(
        "rejected_messages",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("topic", sa.String(length=300), nullable=False),
        sa.Column("device_id", sa.String(length=64), nullable=True),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("detail", sa.String(length=1000), nullable=False),
        sa.Column("payload_sha256", sa.String(length=64), nullable=False),
        sa.Column("payload_excerpt", sa.String(length=600), nullable=False),
        sa.Column("payload_size", sa.Integer(), nullable=False),
        sa.Column("extra", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("rejected_messages", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_rejected_messages_received_at"), ["received_at"], unique=False
        )

    op.create_table(
        "bulletins",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("origin", sa.String(length=16), nullable=False),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("original_filename", sa.String(length=300), nullable=True),
        sa.Column("tts_engine", sa.String(length=32), nullable=True),
        sa.Column("chime", sa.Boolean(), nullable=False),
        sa.Column("priority", sa.String(length=16), nullable=False),
        sa.Column("source_level", sa.String(length=16), nullable=False),
        sa.Column("media_sha256", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["media_sha256"],
            ["media_assets.sha256"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "broadcasts",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("bulletin_id", sa.String(length=64), nullable=False),
        sa.Column("trigger", sa.String(length=16), nullable=False),
        sa.Column("priority", sa.String(length=16), nullable=False),
        sa.Column("planned_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("immediate", sa.Boolean(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["bulletin_id"],
            ["bulletins.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("broadcasts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_broadcasts_planned_start"), ["planned_start"], unique=False
        )

    op.create_table(
        "broadcast_targets",
        sa.Column("broadcast_id", sa.String(length=64), nullable=False),
        sa.Column("device_id", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["broadcast_id"],
            ["broadcasts.id"],
        ),
        sa.ForeignKeyConstraint(
            ["device_id"],
            ["devices.id"],
        ),
        sa.PrimaryKeyConstraint("broadcast_id", "device_id"),
    )


def downgrade() -> None:

    op.drop_table("broadcast_targets")
    with op.batch_alter_table("broadcasts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_broadcasts_planned_start"))

    op.drop_table("broadcasts")
    op.drop_table("bulletins")
    with op.batch_alter_table("rejected_messages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rejected_messages_received_at"))

    op.drop_table("rejected_messages")
    with op.batch_alter_table("playback_evidence", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_playback_evidence_broadcast_id"))
        batch_op.drop_index("ix_evidence_device_start")

    op.drop_table("playback_evidence")
    op.drop_table("media_assets")
    op.drop_table("devices")
