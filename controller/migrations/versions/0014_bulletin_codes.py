"""Bulletins: a stable code chosen by people, what programmes and queues refer to.

Nullable (bulletins made before have none), indexed; uniqueness within a ward is the
content service's check, since a bulletin for every ward has no ward to be unique in.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01 14:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("bulletins") as batch:
        batch.add_column(sa.Column("code", sa.String(length=64), nullable=True))
        batch.create_index("ix_bulletins_code", ["code"])


def downgrade() -> None:
    with op.batch_alter_table("bulletins") as batch:
        batch.drop_index("ix_bulletins_code")
        batch.drop_column("code")
