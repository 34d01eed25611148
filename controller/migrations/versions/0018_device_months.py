"""Report rollups: a device's month, its device days summed, for device lists over months.

A province-month's device list summed 60,000 device days (2,000 devices by 30 days) on
every call: the largest statement of the report. New table, filled here from the device
days already summed, so no day needs summing again and no report reads a month
without it.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-02 06:30:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

_SUMS = (
    "planned", "confirmed", "played", "missed", "pending", "on_time", "timed",
    "sessions_planned", "sessions_played",
)  # fmt: skip


def upgrade() -> None:
    op.create_table(
        "report_device_months",
        sa.Column("ward_code", sa.String(length=16), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("device_id", sa.String(length=64), nullable=False),
        sa.Column("group_code", sa.String(length=64), nullable=False),
        *[sa.Column(name, sa.Integer(), nullable=False) for name in _SUMS],
        sa.Column("last_start", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("ward_code", "month", "device_id", "group_code"),
        sqlite_with_rowid=False,
    )
    days = sa.table(
        "report_device_days",
        *[sa.column(n) for n in ("ward_code", "local_date", "device_id", "group_code")],
        *[sa.column(n) for n in (*_SUMS, "last_start")],
    )
    months = sa.table(
        "report_device_months",
        *[sa.column(n) for n in ("ward_code", "month", "device_id", "group_code")],
        *[sa.column(n) for n in (*_SUMS, "last_start")],
    )
    # SQLite keeps a date as 'YYYY-MM-DD' text; its month's first day is text too.
    month = (
        sa.func.date(days.c.local_date, "start of month")
        if op.get_bind().dialect.name == "sqlite"
        else sa.cast(sa.func.date_trunc("month", days.c.local_date), sa.Date)
    )
    keys = [days.c.ward_code, month, days.c.device_id, days.c.group_code]
    summed = sa.select(
        *keys, *[sa.func.sum(days.c[n]) for n in _SUMS], sa.func.max(days.c.last_start)
    ).group_by(*keys)
    op.execute(sa.insert(months).from_select([c.name for c in months.columns], summed))


def downgrade() -> None:
    op.drop_table("report_device_months")
