"""Province bridges: each bridged province broker's login at the centre's broker.

A nation runs a mosquitto per province bridged to the centre (docs/scale.md); each
bridge logs in with its own login, kept like a device's: Mosquitto's hash only.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-01 16:30:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "province_bridges",
        sa.Column("province_code", sa.String(length=16), nullable=False),
        sa.Column("mqtt_password_hash", sa.String(length=200), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["province_code"], ["provinces.code"]),
        sa.PrimaryKeyConstraint("province_code"),
    )


def downgrade() -> None:
    op.drop_table("province_bridges")
