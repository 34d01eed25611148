"""Dirty ward-days: marked in the transaction that writes a change, cleared when re-summed.

Evidence and planned plays are written in one place each (``evidence.service``,
``plans.planned``); each marks the (ward, local day) it touches there, in the same
transaction, so a committed row always has its day marked and a rolled-back one never
leaves a mark behind. Re-summing reads the marks with their ``version`` and clears
each one only at that version: a mark made while the day was being re-summed (its
row perhaps not yet visible to the re-sum) bumps the version and stays for next time.

A mark is one upsert; a transaction that stores many events of one ward-day (a batch
from the ingest) marks it once.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, delete, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from controller.db.models import Ward
from controller.db.models.rollups import ReportRollupDirty
from controller.domain.reports.sqlfn import is_sqlite

_MARKED = "wardcast.rollups.marked"  # session.info: (transaction, {(ward, day)})

Mark = tuple[str, date, int]
"""A dirty ward-day as read: ward code, local date, version."""


def local_day(session: Session, ward_code: str, instant: datetime) -> date | None:
    """``instant``'s date in the ward's own zone (None for a ward that does not exist)."""
    ward = session.get(Ward, ward_code)  # the session's identity map: one query per ward
    if ward is None:
        return None
    if instant.tzinfo is None:  # SQLite hands back UTC without its zone
        instant = instant.replace(tzinfo=UTC)
    return instant.astimezone(ZoneInfo(ward.timezone)).date()


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
        _upsert(session, ward_code, day)
        done.add((ward_code, day))


def _upsert(session: Session, ward_code: str, day: date) -> None:
    d = ReportRollupDirty
    insert = sqlite.insert(d) if is_sqlite(session) else postgresql.insert(d)
    statement = insert.values(ward_code=ward_code, local_date=day, version=1)
    session.execute(
        statement.on_conflict_do_update(
            index_elements=["ward_code", "local_date"], set_={"version": d.version + 1}
        )
    )


def mark_days(session: Session, days: Iterable[tuple[str, date]]) -> None:
    """Mark ward-days dirty (the watermark scan's finds: rows written around the domain)."""
    for ward_code, day in sorted(set(days)):
        _upsert(session, ward_code, day)


def marks(
    session: Session,
    wards: Sequence[str] | None = None,
    first: date | None = None,
    last: date | None = None,
) -> list[Mark]:
    """Dirty ward-days, optionally only of ``wards`` and within ``first``..``last``."""
    d = ReportRollupDirty
    query = select(d.ward_code, d.local_date, d.version)
    if wards is not None:
        query = query.where(d.ward_code.in_(wards))
    if first is not None:
        query = query.where(d.local_date >= first)
    if last is not None:
        query = query.where(d.local_date <= last)
    return [(row.ward_code, row.local_date, row.version) for row in session.execute(query)]


def clear(session: Session, done: Iterable[Mark], chunk: int = 200) -> None:
    """Clear the marks re-summed, each only at the version read (a newer one stays)."""
    d = ReportRollupDirty
    pending = list(done)
    for i in range(0, len(pending), chunk):
        conditions: list[Any] = [
            and_(d.ward_code == ward, d.local_date == day, d.version == version)
            for ward, day, version in pending[i : i + chunk]
        ]
        session.execute(delete(d).where(or_(*conditions)))
