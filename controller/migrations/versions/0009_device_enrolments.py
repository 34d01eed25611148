"""Device enrolment: one-time codes (sha256) and each device's broker login (PBKDF2 hash).

New table only; ``devices`` is not touched (a device gets its row, with its key, when
it enrols).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 14:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "device_enrolments",
        sa.Column("device_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("code_sha256", sa.String(length=64), nullable=True),
        sa.Column("code_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("code_issued_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("code_issued_by", sa.String(length=100), nullable=False),
        sa.Column("enrolled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("mqtt_password_hash", sa.String(length=200), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_by", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("device_id"),
    )


def downgrade() -> None:
    op.drop_table("device_enrolments")
