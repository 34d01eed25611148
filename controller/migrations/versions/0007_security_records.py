"""Security records: refusals reported by devices, and events refused by the controller.

New table only; playback_evidence is not touched (a refused event never becomes evidence).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 11:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "security_records",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("device_id", sa.String(length=64), nullable=False),
        sa.Column("origin", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("detail", sa.String(length=1000), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("topic", sa.String(length=300), nullable=True),
        sa.Column("command_id", sa.String(length=64), nullable=True),
        sa.Column("item_id", sa.String(length=64), nullable=True),
        sa.Column("broadcast_id", sa.String(length=64), nullable=True),
        sa.Column("report_id", sa.String(length=64), nullable=True),
        sa.Column("event_id", sa.String(length=64), nullable=True),
        sa.Column("seq", sa.Integer(), nullable=True),
        sa.Column("prev_hash", sa.String(length=64), nullable=True),
        sa.Column("digest", sa.String(length=64), nullable=True),
        sa.Column("signed", sa.Text(), nullable=False),
        sa.Column("sig", sa.String(length=128), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("device_id", "report_id", name="uq_security_device_report"),
        sa.UniqueConstraint("device_id", "event_id", name="uq_security_device_event"),
    )
    with op.batch_alter_table("security_records", schema=None) as batch_op:
        batch_op.create_index("ix_security_device_seq", ["device_id", "seq"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_security_records_received_at"), ["received_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("security_records", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_security_records_received_at"))
        batch_op.drop_index("ix_security_device_seq")

    op.drop_table("security_records")
