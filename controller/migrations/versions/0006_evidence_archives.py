"""Evidence archives: one row per verified bundle an administrator archived.

New table only; playback_evidence (append-only, with triggers) is not touched.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22 07:10:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "evidence_archives",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("ward_code", sa.String(length=16), nullable=False),
        sa.Column("period_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("period_to", sa.DateTime(timezone=True), nullable=False),
        sa.Column("label", sa.String(length=64), nullable=False),
        sa.Column("path", sa.String(length=1000), nullable=False),
        sa.Column("bundle_sha256", sa.String(length=64), nullable=False),
        sa.Column("bundle_digest", sa.String(length=64), nullable=False),
        sa.Column("row_count", sa.Integer(), nullable=False),
        sa.Column("device_count", sa.Integer(), nullable=False),
        sa.Column("missing_count", sa.Integer(), nullable=False),
        sa.Column("broken_link_count", sa.Integer(), nullable=False),
        sa.Column("verified_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("archived_by", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(["ward_code"], ["wards.code"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("path"),
    )
    with op.batch_alter_table("evidence_archives", schema=None) as batch_op:
        batch_op.create_index("ix_archive_ward_period", ["ward_code", "period_from"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("evidence_archives", schema=None) as batch_op:
        batch_op.drop_index("ix_archive_ward_period")

    op.drop_table("evidence_archives")
