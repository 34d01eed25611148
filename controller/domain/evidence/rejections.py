"""Refused messages, kept for review without letting a flood fill the database.

Every refused message is *counted* (per source and hour, :class:`RejectionCounter`);
only the first few of each source in an hour, and a few hundred in all, are *kept* as
``rejected_messages`` rows with their reason and an excerpt. A device resending the same
refused payload is kept once. The table itself is capped: past ``total_rows`` the oldest
rows go, and counters older than ``counter_days`` are pruned with them, so 10,000 junk
payloads add at most ``per_source_per_hour`` rows, and a year of attacks a bounded table.

A source is the device the topic names, else the topic itself. When an hour already
counts ``sources_per_hour`` sources, further ones share the ``*`` counter: a sender that
invents a new device id per message still adds one counter row, not one each.

A flood must not cost a database transaction per message either (a commit is 2–9 ms on
an SD card or a busy disk: 10,000 junk payloads took a minute). Once a source is known
to have used up its rows for the hour, its further refusals are tallied in memory, per
database, and written as one counter update every ``flush_every`` messages or
``flush_s`` seconds, and before :func:`list_counters` reads them. A crash loses at most
that tally, never a kept row. (Only a source seen full is tallied so: a sender inventing
a device id per message costs a write each, but an enrolled device can publish only on
its own topics, so that sender is refused by the broker before it gets here.)
"""

from __future__ import annotations

import hashlib
import threading
import time
import weakref
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session

from controller.db.models import RejectedMessageLog, RejectionCounter

OVERFLOW_SOURCE = "*"


@dataclass(frozen=True)
class RejectionLimits:
    """How much of a flood is kept; the rest is only counted."""

    per_source_per_hour: int = 20
    per_hour: int = 500
    sources_per_hour: int = 200
    total_rows: int = 50_000
    counter_days: int = 90
    prune_every: int = 100  # rows stored between two prunes
    flush_every: int = 500  # refusals of full sources tallied in memory between writes
    flush_s: float = 5.0  # and at most this long


DEFAULT_LIMITS = RejectionLimits()


@dataclass(frozen=True)
class RefusedMessage:
    """A message refused at the door: where it came from, why, and its bytes."""

    topic: str
    device_id: str | None
    reason: str
    detail: str
    payload: bytes


def source_of(topic: str, device_id: str | None) -> str:
    """Who a refusal is counted against: the device the topic names, else the topic."""
    return device_id if device_id else f"topic:{topic}"[:300]


Key = tuple[datetime, str]  # (hour, source)


@dataclass
class _Tally:
    """Refusals of sources already at their limit, counted in memory until written."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    # (hour, source) -> the counter row its refusals go to (the source, or "*").
    full: dict[Key, str] = field(default_factory=dict)
    pending: dict[Key, int] = field(default_factory=dict)
    waiting: int = 0
    written_at: float = field(default_factory=time.monotonic)

    def take(self) -> dict[Key, int]:
        """The pending counts, handed over for writing."""
        taken, self.pending, self.waiting = self.pending, {}, 0
        self.written_at = time.monotonic()
        return taken


_TALLIES: weakref.WeakKeyDictionary[Engine | Connection, _Tally] = weakref.WeakKeyDictionary()
_TALLIES_LOCK = threading.Lock()


def _tally_of(session: Session) -> _Tally:
    """The tally of the database ``session`` writes to (one per controller runtime)."""
    bind = session.get_bind()
    with _TALLIES_LOCK:
        tally = _TALLIES.get(bind)
        if tally is None:
            tally = _TALLIES[bind] = _Tally()
        return tally


def _write(session: Session, counts: dict[Key, int]) -> None:
    for (hour, source), received in counts.items():
        session.execute(
            update(RejectionCounter)
            .where(RejectionCounter.hour == hour, RejectionCounter.source == source)
            .values(received=RejectionCounter.received + received)
        )


def _tallied(session: Session, hour: datetime, source: str, limits: RejectionLimits) -> bool:
    """Count the refusal in memory if its source is known full; write the tally when due."""
    tally = _tally_of(session)
    with tally.lock:
        counted_as = tally.full.get((hour, source))
        if counted_as is None:
            return False
        key = (hour, counted_as)
        tally.pending[key] = tally.pending.get(key, 0) + 1
        tally.waiting += 1
        due = (
            tally.waiting >= limits.flush_every
            or time.monotonic() - tally.written_at >= limits.flush_s
        )
        counts = tally.take() if due else {}
        for old in [k for k in tally.full if k[0] < hour]:
            del tally.full[old]  # an hour that is over: its sources start afresh
    if counts:
        _write(session, counts)
    return True


def _mark_full(session: Session, hour: datetime, source: str, counted_as: str) -> None:
    tally = _tally_of(session)
    with tally.lock:
        tally.full[(hour, source)] = counted_as


def hour_of(now: datetime) -> datetime:
    """The start of ``now``'s hour: the counters' bucket."""
    return now.replace(minute=0, second=0, microsecond=0)


def _counter(
    session: Session, hour: datetime, source: str, limits: RejectionLimits
) -> RejectionCounter:
    """The counter row for (hour, source), created if the hour has room for a new source."""
    row = session.get(RejectionCounter, (hour, source))
    if row is not None:
        return row
    sources = session.scalar(
        select(func.count()).select_from(RejectionCounter).where(RejectionCounter.hour == hour)
    )
    if (sources or 0) >= limits.sources_per_hour:
        overflow = session.get(RejectionCounter, (hour, OVERFLOW_SOURCE))
        if overflow is not None:
            return overflow
        source = OVERFLOW_SOURCE
    row = RejectionCounter(hour=hour, source=source, received=0, stored=0)
    session.add(row)
    return row


def _hour_is_full(session: Session, hour: datetime, limits: RejectionLimits) -> bool:
    stored = session.scalar(
        select(func.coalesce(func.sum(RejectionCounter.stored), 0)).where(
            RejectionCounter.hour == hour
        )
    )
    return int(stored or 0) >= limits.per_hour


def record(
    session: Session,
    message: RefusedMessage,
    now: datetime,
    limits: RejectionLimits = DEFAULT_LIMITS,
) -> bool:
    """Count a refused message and keep it as a row if its source and hour have room.

    Returns whether a row was added (False: over a limit, or the same payload again).
    """
    hour = hour_of(now)
    source = source_of(message.topic, message.device_id)
    if _tallied(session, hour, source, limits):
        return False
    counter = _counter(session, hour, source, limits)
    counter.received += 1
    if counter.stored >= limits.per_source_per_hour:
        _mark_full(session, hour, source, counter.source)
        return False
    if _hour_is_full(session, hour, limits):
        _mark_full(session, hour, source, counter.source)
        return False
    reason = message.reason[:32]
    digest = hashlib.sha256(message.payload).hexdigest()
    seen = session.scalar(
        select(RejectedMessageLog.id).where(
            RejectedMessageLog.payload_sha256 == digest,
            RejectedMessageLog.reason == reason,
            RejectedMessageLog.device_id == message.device_id,
        )
    )
    if seen is not None:
        return False  # the same refusal again: the record is the reason, not a counter
    counter.stored += 1
    row = RejectedMessageLog(
        received_at=now,
        topic=message.topic[:300],
        device_id=message.device_id,
        reason=reason,
        detail=message.detail[:1000],
        payload_sha256=digest,
        payload_excerpt=message.payload[:400].decode("utf-8", errors="replace"),
        payload_size=len(message.payload),
    )
    session.add(row)
    session.flush()
    if row.id % limits.prune_every == 0:
        prune(session, now, limits)
    return True


def prune(session: Session, now: datetime, limits: RejectionLimits = DEFAULT_LIMITS) -> None:
    """Drop the oldest rows past ``total_rows``, and counters past ``counter_days``."""
    newest = session.scalar(select(func.max(RejectedMessageLog.id)))
    if newest is not None and newest > limits.total_rows:
        session.execute(
            delete(RejectedMessageLog).where(RejectedMessageLog.id <= newest - limits.total_rows)
        )
    oldest_hour = hour_of(now) - timedelta(days=limits.counter_days)
    session.execute(delete(RejectionCounter).where(RejectionCounter.hour < oldest_hour))


def list_counters(
    session: Session, since: datetime | None = None, limit: int = 100
) -> Sequence[RejectionCounter]:
    """Counters, newest hour first, and within an hour the busiest source first."""
    query = select(RejectionCounter)
    if since is not None:
        query = query.where(RejectionCounter.hour >= hour_of(since))
    query = query.order_by(
        RejectionCounter.hour.desc(), RejectionCounter.received.desc(), RejectionCounter.source
    )
    flush(session)
    return session.scalars(query.limit(limit)).all()


def flush(session: Session) -> None:
    """Write the refusals tallied in memory (a reader then sees every one)."""
    tally = _tally_of(session)
    with tally.lock:
        counts = tally.take()
    if counts:
        _write(session, counts)
        session.flush()
