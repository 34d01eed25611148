"""Dirty ward-days: marked in the transaction that writes a change, cleared when re-summed.

Evidence and planned plays are written in one place each (``evidence.service``,
``plans.planned``); each marks the (ward, local day) it touches there, in the same
transaction, so a committed row always has its day marked and a rolled-back one never
leaves a mark behind. Marks are appended, never updated: ingest transactions running
side by side (batches, several controllers on one PostgreSQL) never wait on each
other's marks. Re-summing reads the marks and deletes exactly those it read, by id: a
mark committed while the day was being re-summed (its row perhaps not yet visible to
the re-sum) stays for next time.

A transaction that stores many events of one ward-day (a batch from the ingest) marks
it once.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from controller.db.models import Ward
from controller.db.models.rollups import ReportRollupDirty

_MARKED = "wardcast.rollups.marked"  # session.info: (transaction, {(ward, day)})
_ZONES = "wardcast.rollups.zones"  # session.info: {ward code: its time zone, or None}

Mark = tuple[int, str, date]
"""A dirty ward-day as read: the mark's id, ward code, local date."""


def local_day(session: Session, ward_code: str, instant: datetime) -> date | None:
    """``instant``'s date in the ward's own zone (None for a ward that does not exist)."""
    # Kept for the session: the identity map holds a Ward only while someone does, so
    # session.get would query again for every row of a batch (flushing it each time).
    zones: dict[str, str | None] = session.info.setdefault(_ZONES, {})
    if ward_code not in zones:
        ward = session.get(Ward, ward_code)
        zones[ward_code] = ward.timezone if ward is not None else None
    zone = zones[ward_code]
    if zone is None:
        return None
    if instant.tzinfo is None:  # SQLite hands back UTC without its zone
        instant = instant.replace(tzinfo=UTC)
    return instant.astimezone(ZoneInfo(zone)).date()


def mark(session: Session, ward_code: str | None, instant: datetime | None) -> None:
    """Mark the ward's local day holding ``instant`` dirty, in the caller's transaction."""
    if ward_code is None or instant is None:
        return
    day = local_day(session, ward_code, instant)
    if day is None:
        return
    # The innermost transaction: a savepoint rolled back takes its marks with it, so
    # what it marked must be marked again after it.
    transaction = session.get_nested_transaction() or session.get_transaction()
    held = session.info.get(_MARKED)
    if held is None or held[0] is not transaction:
        held = session.info[_MARKED] = (transaction, set())
    done: set[tuple[str, date]] = held[1]
    if (ward_code, day) not in done:
        mark_days(session, [(ward_code, day)])
        done.add((ward_code, day))


def mark_days(session: Session, days: Iterable[tuple[str, date]]) -> None:
    """Mark ward-days dirty (also the watermark scan's finds: rows written around the domain)."""
    rows = [{"ward_code": ward, "local_date": day} for ward, day in sorted(set(days))]
    if rows:
        session.execute(insert(ReportRollupDirty), rows)


def marks(
    session: Session,
    wards: Sequence[str] | None = None,
    first: date | None = None,
    last: date | None = None,
) -> list[Mark]:
    """Dirty ward-days, optionally only of ``wards`` and within ``first``..``last``."""
    d = ReportRollupDirty
    query = select(d.id, d.ward_code, d.local_date).order_by(d.id)
    if wards is not None:
        query = query.where(d.ward_code.in_(wards))
    if first is not None:
        query = query.where(d.local_date >= first)
    if last is not None:
        query = query.where(d.local_date <= last)
    return [(row.id, row.ward_code, row.local_date) for row in session.execute(query)]


def clear(session: Session, done: Iterable[Mark], chunk: int = 500) -> None:
    """Delete the marks re-summed, those read and no other."""
    ids = sorted({mark_id for mark_id, _, _ in done})
    for i in range(0, len(ids), chunk):
        session.execute(
            delete(ReportRollupDirty).where(ReportRollupDirty.id.in_(ids[i : i + chunk]))
        )
