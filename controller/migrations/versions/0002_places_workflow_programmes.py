"""Places, the editorial workflow, ward programmes, queued bulletins and plan snapshots.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 05:44:42.420613
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "provinces",
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("code"),
    )
    op.create_table(
        "districts",
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("province_code", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["province_code"],
            ["provinces.code"],
        ),
        sa.PrimaryKeyConstraint("code"),
    )
    with op.batch_alter_table("districts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_districts_province_code"), ["province_code"], unique=False
        )

    op.create_table(
        "plan_snapshots",
        sa.Column("device_id", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("compiled_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("item_count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["device_id"],
            ["devices.id"],
        ),
        sa.PrimaryKeyConstraint("device_id"),
    )
    op.create_table(
        "bulletin_transitions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("bulletin_id", sa.String(length=64), nullable=False),
        sa.Column("from_status", sa.String(length=16), nullable=False),
        sa.Column("to_status", sa.String(length=16), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(
            ["bulletin_id"],
            ["bulletins.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("bulletin_transitions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_bulletin_transitions_bulletin_id"), ["bulletin_id"], unique=False
        )

    op.create_table(
        "wards",
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("district_code", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["district_code"],
            ["districts.code"],
        ),
        sa.PrimaryKeyConstraint("code"),
    )
    with op.batch_alter_table("wards", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_wards_district_code"), ["district_code"], unique=False)

    op.create_table(
        "programmes",
        sa.Column("ward_code", sa.String(length=16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["ward_code"],
            ["wards.code"],
        ),
        sa.PrimaryKeyConstraint("ward_code"),
    )
    op.create_table(
        "queued_bulletins",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("ward_code", sa.String(length=16), nullable=False),
        sa.Column("session_code", sa.String(length=64), nullable=False),
        sa.Column("bulletin_id", sa.String(length=64), nullable=False),
        sa.Column("first_date", sa.Date(), nullable=False),
        sa.Column("last_date", sa.Date(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("added_by", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["bulletin_id"],
            ["bulletins.id"],
        ),
        sa.ForeignKeyConstraint(
            ["ward_code"],
            ["wards.code"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("queued_bulletins", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_queued_bulletins_bulletin_id"), ["bulletin_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_queued_bulletins_ward_code"), ["ward_code"], unique=False
        )

    op.create_table(
        "residential_groups",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("ward_code", sa.String(length=16), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["ward_code"],
            ["wards.code"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("ward_code", "code", name="uq_group_ward_code"),
    )
    with op.batch_alter_table("residential_groups", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_residential_groups_ward_code"), ["ward_code"], unique=False
        )

    op.create_table(
        "zones",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("ward_code", sa.String(length=16), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("group_codes", sa.JSON(), nullable=False),
        sa.Column("extra", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["ward_code"],
            ["wards.code"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("ward_code", "code", name="uq_zone_ward_code"),
    )
    with op.batch_alter_table("zones", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_zones_ward_code"), ["ward_code"], unique=False)

    with op.batch_alter_table("bulletins", schema=None) as batch_op:
        # Bulletins made before the workflow existed were broadcastable: keep them so.
        batch_op.add_column(
            sa.Column("status", sa.String(length=16), nullable=False, server_default="approved")
        )
        batch_op.add_column(
            sa.Column("category", sa.String(length=64), nullable=False, server_default="general")
        )
        batch_op.add_column(sa.Column("ward_code", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("valid_from", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("valid_until", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("rejection_reason", sa.String(length=500), nullable=True))
        batch_op.create_index(batch_op.f("ix_bulletins_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_bulletins_ward_code"), ["ward_code"], unique=False)

    with op.batch_alter_table("devices", schema=None) as batch_op:
        batch_op.add_column(sa.Column("ward_code", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("group_code", sa.String(length=64), nullable=True))
        batch_op.create_index(batch_op.f("ix_devices_ward_code"), ["ward_code"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("devices", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_devices_ward_code"))
        batch_op.drop_column("group_code")
        batch_op.drop_column("ward_code")

    with op.batch_alter_table("bulletins", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bulletins_ward_code"))
        batch_op.drop_index(batch_op.f("ix_bulletins_status"))
        batch_op.drop_column("rejection_reason")
        batch_op.drop_column("valid_until")
        batch_op.drop_column("valid_from")
        batch_op.drop_column("ward_code")
        batch_op.drop_column("category")
        batch_op.drop_column("status")

    with op.batch_alter_table("zones", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_zones_ward_code"))

    op.drop_table("zones")
    with op.batch_alter_table("residential_groups", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_residential_groups_ward_code"))

    op.drop_table("residential_groups")
    with op.batch_alter_table("queued_bulletins", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_queued_bulletins_ward_code"))
        batch_op.drop_index(batch_op.f("ix_queued_bulletins_bulletin_id"))

    op.drop_table("queued_bulletins")
    op.drop_table("programmes")
    with op.batch_alter_table("wards", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_wards_district_code"))

    op.drop_table("wards")
    with op.batch_alter_table("bulletin_transitions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bulletin_transitions_bulletin_id"))

    op.drop_table("bulletin_transitions")
    op.drop_table("plan_snapshots")
    with op.batch_alter_table("districts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_districts_province_code"))

    op.drop_table("districts")
    op.drop_table("provinces")
