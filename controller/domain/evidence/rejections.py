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
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
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
    counter = _counter(session, hour, source_of(message.topic, message.device_id), limits)
    counter.received += 1
    if counter.stored >= limits.per_source_per_hour or _hour_is_full(session, hour, limits):
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
    return session.scalars(query.limit(limit)).all()
