"""Evidence integrity: planned plays, device chains, gaps; evidence made append-only.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 06:21:24.366902
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

TABLE = "playback_evidence"


def create_append_only_guard() -> None:
    """Triggers that refuse UPDATE and DELETE (and TRUNCATE) on the evidence table."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            """
            CREATE OR REPLACE FUNCTION wardcast_append_only() RETURNS trigger AS $$
            BEGIN
                RAISE EXCEPTION '% is append-only: evidence is never changed or removed',
                    TG_TABLE_NAME;
            END;
            $$ LANGUAGE plpgsql
            """
        )
        op.execute(
            f"CREATE TRIGGER {TABLE}_append_only BEFORE UPDATE OR DELETE ON {TABLE} "
            "FOR EACH ROW EXECUTE FUNCTION wardcast_append_only()"
        )
        op.execute(
            f"CREATE TRIGGER {TABLE}_no_truncate BEFORE TRUNCATE ON {TABLE} "
            "FOR EACH STATEMENT EXECUTE FUNCTION wardcast_append_only()"
        )
        return
    for action in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER {TABLE}_no_{action.lower()} BEFORE {action} ON {TABLE} "
            f"BEGIN SELECT RAISE(ABORT, '{TABLE} is append-only: evidence is never "
            "changed or removed'); END"
        )


def drop_append_only_guard() -> None:
    """Remove the triggers (downgrade only)."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP TRIGGER IF EXISTS {TABLE}_append_only ON {TABLE}")
        op.execute(f"DROP TRIGGER IF EXISTS {TABLE}_no_truncate ON {TABLE}")
        op.execute("DROP FUNCTION IF EXISTS wardcast_append_only()")
        return
    for action in ("update", "delete"):
        op.execute(f"DROP TRIGGER IF EXISTS {TABLE}_no_{action}")


def upgrade() -> None:

    op.create_table(
        "device_chains",
        sa.Column("device_id", sa.String(length=64), nullable=False),
        sa.Column("contiguous_seq", sa.Integer(), nullable=False),
        sa.Column("contiguous_digest", sa.String(length=64), nullable=False),
        sa.Column("highest_seq", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("device_id"),
    )
    op.create_table(
        "evidence_gaps",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("device_id", sa.String(length=64), nullable=False),
        sa.Column("from_seq", sa.Integer(), nullable=False),
        sa.Column("to_seq", sa.Integer(), nullable=False),
        sa.Column("detected_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("evidence_gaps", schema=None) as batch_op:
        batch_op.create_index("ix_gap_device_open", ["device_id", "resolved_at"], unique=False)

    op.create_table(
        "planned_plays",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("device_id", sa.String(length=64), nullable=False),
        sa.Column("item_id", sa.String(length=64), nullable=False),
        sa.Column("ward_code", sa.String(length=16), nullable=True),
        sa.Column("group_code", sa.String(length=64), nullable=True),
        sa.Column("broadcast_id", sa.String(length=64), nullable=False),
        sa.Column("bulletin_id", sa.String(length=64), nullable=True),
        sa.Column("session_key", sa.String(length=120), nullable=True),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("category", sa.String(length=64), nullable=True),
        sa.Column("source_level", sa.String(length=16), nullable=False),
        sa.Column("priority", sa.String(length=16), nullable=False),
        sa.Column("trigger", sa.String(length=16), nullable=False),
        sa.Column("planned_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("planned_duration_s", sa.Float(), nullable=False),
        sa.Column("first_planned_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("device_id", "item_id", name="uq_planned_device_item"),
    )
    with op.batch_alter_table("planned_plays", schema=None) as batch_op:
        batch_op.create_index(
            "ix_planned_device_start", ["device_id", "planned_start"], unique=False
        )
        batch_op.create_index("ix_planned_ward_start", ["ward_code", "planned_start"], unique=False)

    with op.batch_alter_table("playback_evidence", schema=None) as batch_op:
        batch_op.add_column(sa.Column("ward_code", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("group_code", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("session_key", sa.String(length=120), nullable=True))
        batch_op.add_column(sa.Column("relayed_s", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("relay_gap_s", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("fallback_s", sa.Float(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_playback_evidence_ward_code"), ["ward_code"], unique=False
        )
        batch_op.create_unique_constraint("uq_evidence_device_seq", ["device_id", "seq"])

    # Last, after the batch copy above (SQLite rebuilds the table, dropping triggers):
    # the database itself refuses to change or remove evidence. A later migration that
    # batch-alters playback_evidence must re-create these.
    create_append_only_guard()


def downgrade() -> None:
    drop_append_only_guard()

    with op.batch_alter_table("playback_evidence", schema=None) as batch_op:
        batch_op.drop_constraint("uq_evidence_device_seq", type_="unique")
        batch_op.drop_index(batch_op.f("ix_playback_evidence_ward_code"))
        batch_op.drop_column("fallback_s")
        batch_op.drop_column("relay_gap_s")
        batch_op.drop_column("relayed_s")
        batch_op.drop_column("session_key")
        batch_op.drop_column("group_code")
        batch_op.drop_column("ward_code")

    with op.batch_alter_table("planned_plays", schema=None) as batch_op:
        batch_op.drop_index("ix_planned_ward_start")
        batch_op.drop_index("ix_planned_device_start")

    op.drop_table("planned_plays")
    with op.batch_alter_table("evidence_gaps", schema=None) as batch_op:
        batch_op.drop_index("ix_gap_device_open")

    op.drop_table("evidence_gaps")
    op.drop_table("device_chains")
