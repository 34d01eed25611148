"""Report rollups: per-day sums of planned plays and evidence, derived and rebuildable.

New tables only; playback_evidence (append-only, with triggers) is not touched.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22 06:30:20.755202
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "report_bulletins_rollup",
        sa.Column("ward_code", sa.String(length=16), nullable=False),
        sa.Column("local_date", sa.Date(), nullable=False),
        sa.Column("device_id", sa.String(length=64), nullable=False),
        sa.Column("group_code", sa.String(length=64), nullable=False),
        sa.Column("bulletin_id", sa.String(length=64), nullable=False),
        sa.Column("category", sa.String(length=64), nullable=False),
        sa.Column("planned", sa.Integer(), nullable=False),
        sa.Column("confirmed", sa.Integer(), nullable=False),
        sa.Column("played", sa.Integer(), nullable=False),
        sa.Column("completed", sa.Integer(), nullable=False),
        sa.Column("missed", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "ward_code", "local_date", "device_id", "group_code", "bulletin_id", "category"
        ),
        sqlite_with_rowid=False,
    )
    with op.batch_alter_table("report_bulletins_rollup", schema=None) as batch_op:
        batch_op.create_index(
            "ix_report_bulletins_device_date", ["device_id", "local_date"], unique=False
        )

    op.create_table(
        "report_plays_rollup",
        sa.Column("ward_code", sa.String(length=16), nullable=False),
        sa.Column("local_date", sa.Date(), nullable=False),
        sa.Column("device_id", sa.String(length=64), nullable=False),
        sa.Column("group_code", sa.String(length=64), nullable=False),
        sa.Column("source_level", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("planned", sa.Integer(), nullable=False),
        sa.Column("withdrawn", sa.Integer(), nullable=False),
        sa.Column("confirmed", sa.Integer(), nullable=False),
        sa.Column("played", sa.Integer(), nullable=False),
        sa.Column("missed", sa.Integer(), nullable=False),
        sa.Column("pending", sa.Integer(), nullable=False),
        sa.Column("on_time", sa.Integer(), nullable=False),
        sa.Column("timed", sa.Integer(), nullable=False),
        sa.Column("planned_s", sa.Float(), nullable=False),
        sa.Column("played_s", sa.Float(), nullable=False),
        sa.Column("relayed_s", sa.Float(), nullable=False),
        sa.Column("completed", sa.Integer(), nullable=False),
        sa.Column("partial", sa.Integer(), nullable=False),
        sa.Column("preempted", sa.Integer(), nullable=False),
        sa.Column("failed", sa.Integer(), nullable=False),
        sa.Column("skipped", sa.Integer(), nullable=False),
        sa.Column("unplanned", sa.Integer(), nullable=False),
        sa.Column("unplanned_played", sa.Integer(), nullable=False),
        sa.Column("last_start", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint(
            "ward_code", "local_date", "device_id", "group_code", "source_level", "kind"
        ),
        sqlite_with_rowid=False,
    )
    with op.batch_alter_table("report_plays_rollup", schema=None) as batch_op:
        batch_op.create_index(
            "ix_report_plays_device_date", ["device_id", "local_date"], unique=False
        )

    op.create_table(
        "report_rollup_days",
        sa.Column("ward_code", sa.String(length=16), nullable=False),
        sa.Column("local_date", sa.Date(), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("tolerance_s", sa.Float(), nullable=False),
        sa.Column("deadline_s", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("ward_code", "local_date"),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "report_rollup_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("evidence_watermark", sa.Integer(), nullable=False),
        sa.Column("planned_watermark", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "report_sessions_rollup",
        sa.Column("ward_code", sa.String(length=16), nullable=False),
        sa.Column("local_date", sa.Date(), nullable=False),
        sa.Column("session_key", sa.String(length=120), nullable=False),
        sa.Column("device_id", sa.String(length=64), nullable=False),
        sa.Column("group_code", sa.String(length=64), nullable=False),
        sa.Column("items_planned", sa.Integer(), nullable=False),
        sa.Column("items_played", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "ward_code", "local_date", "session_key", "device_id", "group_code"
        ),
        sqlite_with_rowid=False,
    )
    with op.batch_alter_table("report_sessions_rollup", schema=None) as batch_op:
        batch_op.create_index(
            "ix_report_sessions_device_date", ["device_id", "local_date"], unique=False
        )
    op.create_table(
        "report_device_days",
        sa.Column("ward_code", sa.String(length=16), nullable=False),
        sa.Column("local_date", sa.Date(), nullable=False),
        sa.Column("device_id", sa.String(length=64), nullable=False),
        sa.Column("group_code", sa.String(length=64), nullable=False),
        sa.Column("planned", sa.Integer(), nullable=False),
        sa.Column("confirmed", sa.Integer(), nullable=False),
        sa.Column("played", sa.Integer(), nullable=False),
        sa.Column("missed", sa.Integer(), nullable=False),
        sa.Column("pending", sa.Integer(), nullable=False),
        sa.Column("on_time", sa.Integer(), nullable=False),
        sa.Column("timed", sa.Integer(), nullable=False),
        sa.Column("sessions_planned", sa.Integer(), nullable=False),
        sa.Column("sessions_played", sa.Integer(), nullable=False),
        sa.Column("last_start", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("ward_code", "local_date", "device_id", "group_code"),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "report_ward_days",
        sa.Column("ward_code", sa.String(length=16), nullable=False),
        sa.Column("local_date", sa.Date(), nullable=False),
        sa.Column("source_level", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("planned", sa.Integer(), nullable=False),
        sa.Column("withdrawn", sa.Integer(), nullable=False),
        sa.Column("confirmed", sa.Integer(), nullable=False),
        sa.Column("played", sa.Integer(), nullable=False),
        sa.Column("missed", sa.Integer(), nullable=False),
        sa.Column("pending", sa.Integer(), nullable=False),
        sa.Column("on_time", sa.Integer(), nullable=False),
        sa.Column("timed", sa.Integer(), nullable=False),
        sa.Column("planned_s", sa.Float(), nullable=False),
        sa.Column("played_s", sa.Float(), nullable=False),
        sa.Column("relayed_s", sa.Float(), nullable=False),
        sa.Column("completed", sa.Integer(), nullable=False),
        sa.Column("partial", sa.Integer(), nullable=False),
        sa.Column("preempted", sa.Integer(), nullable=False),
        sa.Column("failed", sa.Integer(), nullable=False),
        sa.Column("skipped", sa.Integer(), nullable=False),
        sa.Column("unplanned", sa.Integer(), nullable=False),
        sa.Column("unplanned_played", sa.Integer(), nullable=False),
        sa.Column("max_relayed_s", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("ward_code", "local_date", "source_level", "kind"),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "report_ward_sessions",
        sa.Column("ward_code", sa.String(length=16), nullable=False),
        sa.Column("local_date", sa.Date(), nullable=False),
        sa.Column("planned", sa.Integer(), nullable=False),
        sa.Column("played", sa.Integer(), nullable=False),
        sa.Column("device_planned", sa.Integer(), nullable=False),
        sa.Column("device_played", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("ward_code", "local_date"),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "report_ward_bulletins",
        sa.Column("ward_code", sa.String(length=16), nullable=False),
        sa.Column("local_date", sa.Date(), nullable=False),
        sa.Column("bulletin_id", sa.String(length=64), nullable=False),
        sa.Column("category", sa.String(length=64), nullable=False),
        sa.Column("planned", sa.Integer(), nullable=False),
        sa.Column("played", sa.Integer(), nullable=False),
        sa.Column("missed", sa.Integer(), nullable=False),
        sa.Column("targeted_groups", sa.Integer(), nullable=False),
        sa.Column("covered_groups", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("ward_code", "local_date", "bulletin_id", "category"),
        sqlite_with_rowid=False,
    )


def downgrade() -> None:
    for name in (
        "report_ward_bulletins",
        "report_ward_sessions",
        "report_ward_days",
        "report_device_days",
    ):
        op.drop_table(name)
    with op.batch_alter_table("report_sessions_rollup", schema=None) as batch_op:
        batch_op.drop_index("ix_report_sessions_device_date")

    op.drop_table("report_sessions_rollup")
    op.drop_table("report_rollup_state")
    op.drop_table("report_rollup_days")
    with op.batch_alter_table("report_plays_rollup", schema=None) as batch_op:
        batch_op.drop_index("ix_report_plays_device_date")

    op.drop_table("report_plays_rollup")
    with op.batch_alter_table("report_bulletins_rollup", schema=None) as batch_op:
        batch_op.drop_index("ix_report_bulletins_device_date")

    op.drop_table("report_bulletins_rollup")
