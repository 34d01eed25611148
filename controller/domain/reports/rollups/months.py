"""Device months: each device's days summed by local month, re-summed with the days.

A district's or province's device list is the one part of its report read device by
device: over a month, 2,000 devices by 30 days. Whole months of a period are read from
``report_device_months`` instead (a row per device and month), and only the days at
its edges from ``report_device_days``. A month row is always the sum of the device days
of that month present: whenever a run of days is re-summed (:mod:`.rebuild`), the
months it falls in are summed again from their device days, in the same transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

from sqlalchemy import Date, delete, func, insert, literal, select
from sqlalchemy.orm import Session

from controller.db.models.rollups import ReportDeviceDay, ReportDeviceMonth

MONTH_LEVEL = (ReportDeviceMonth,)
DEVICE_SUMS = (
    "planned", "confirmed", "played", "missed", "pending", "on_time", "timed",
    "sessions_planned", "sessions_played",
)  # fmt: skip


def month_end(month: date) -> date:
    """The last day of ``month``'s month."""
    following = (month.replace(day=1) + timedelta(days=32)).replace(day=1)
    return following - timedelta(days=1)


def months_touched(first: date, last: date) -> list[date]:
    """The first day of every month that ``first``..``last`` falls in, in order."""
    months: list[date] = []
    month = first.replace(day=1)
    while month <= last:
        months.append(month)
        month = month_end(month) + timedelta(days=1)
    return months


def split_by_months(first: date, last: date) -> tuple[list[date], list[tuple[date, date]]]:
    """Whole months within ``first``..``last``, and the runs of days outside them."""
    whole = [m for m in months_touched(first, last) if m >= first and month_end(m) <= last]
    if not whole:
        return [], [(first, last)] if first <= last else []
    edges: list[tuple[date, date]] = []
    if first < whole[0]:
        edges.append((first, whole[0] - timedelta(days=1)))
    after = month_end(whole[-1]) + timedelta(days=1)
    if after <= last:
        edges.append((after, last))
    return whole, edges


def sum_months(session: Session, wards: Sequence[str], first: date, last: date) -> None:
    """Sum again, from their device days, the months of ``wards`` that ``first``..``last`` touch."""
    t, m = ReportDeviceDay, ReportDeviceMonth
    keys = [t.ward_code, t.device_id, t.group_code]
    for month in months_touched(first, last):
        session.execute(delete(m).where(m.ward_code.in_(wards), m.month == month))
        summed = (
            select(
                t.ward_code,
                literal(month, Date),
                t.device_id,
                t.group_code,
                *[func.sum(getattr(t, name)) for name in DEVICE_SUMS],
                func.max(t.last_start),
            )
            .where(t.ward_code.in_(wards), t.local_date >= month, t.local_date <= month_end(month))
            .group_by(*keys)
        )
        columns = ["ward_code", "month", "device_id", "group_code", *DEVICE_SUMS, "last_start"]
        session.execute(insert(m).from_select(columns, summed))
