"""Province brokers: the address a province's devices are given at enrolment.

A nation runs a mosquitto per province bridged to the centre (docs/scale.md): each
province's broker URL (and the CA its devices pin) is kept here, and each enrolment
row keeps the broker URL its device was given, so a device enrolled at a broker that
is no longer its province's is found (``wardcast broker moved-devices``).

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-01 18:45:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "province_brokers",
        sa.Column("province_code", sa.String(length=16), nullable=False),
        sa.Column("device_url", sa.String(length=300), nullable=False),
        sa.Column("ca_pem", sa.Text(), nullable=True),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["province_code"], ["provinces.code"]),
        sa.PrimaryKeyConstraint("province_code"),
    )
    with op.batch_alter_table("device_enrolments") as batch:
        batch.add_column(sa.Column("broker_url", sa.String(length=300), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("device_enrolments") as batch:
        batch.drop_column("broker_url")
    op.drop_table("province_brokers")
