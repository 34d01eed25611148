"""Emergency messages (CAP-shaped alert, update, cancel).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 05:51:28.547313
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "emergencies",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("identifier", sa.String(length=200), nullable=False),
        sa.Column("sender", sa.String(length=200), nullable=False),
        sa.Column("sent", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("msg_type", sa.String(length=16), nullable=False),
        sa.Column("references", sa.JSON(), nullable=False),
        sa.Column("expires", sa.DateTime(timezone=True), nullable=True),
        sa.Column("event", sa.String(length=200), nullable=False),
        sa.Column("urgency", sa.String(length=32), nullable=False),
        sa.Column("severity", sa.String(length=32), nullable=False),
        sa.Column("headline", sa.String(length=300), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("bulletin_id", sa.String(length=64), nullable=True),
        sa.Column("broadcast_id", sa.String(length=64), nullable=True),
        sa.Column("device_ids", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("sender", "identifier", "sent", name="uq_emergency_cap_key"),
    )
    with op.batch_alter_table("emergencies", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_emergencies_identifier"), ["identifier"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("emergencies", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_emergencies_identifier"))

    op.drop_table("emergencies")
