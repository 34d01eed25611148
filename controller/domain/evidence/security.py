"""Security records (hồ sơ an ninh): refusals, kept for review and never as evidence.

Two kinds arrive here, both signed by a registered device and so attributable:

- a device's ``SecurityReport``: its agent refused a message (a command for another
  device, replayed, expired, from its future, delivered retained, or one that failed
  verification) and says so. Stored once per (device, report id), then acknowledged,
  so the agent stops resending it;
- an event the controller refuses as evidence: well signed, but for an item this
  controller never planned or commanded for that device (a replayed command played
  by an agent that did not check, or a forged play). It is stored here with its
  chain fields, so the device's chain stays whole across it, and acknowledged as
  *refused*: the agent forgets it, nothing is asked for again, nothing is lost.

Rows are only ever added; ``list_security_records`` reads them newest first.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from controller.db.models import PlannedPlay, SecurityRecord
from wardcast_protocol.envelope import Verified
from wardcast_protocol.messages import PlaybackEvent, SecurityReport

log = logging.getLogger(__name__)

DEVICE = "device"
"""Origin of a record a device reported (its agent refused something)."""
CONTROLLER = "controller"
"""Origin of a record the controller made (it refused what a device sent)."""

UNPLANNED_ITEM = "unplanned_item"
OTHER_BROADCAST = "other_broadcast"


def why_not_evidence(planned: PlannedPlay | None, event: PlaybackEvent) -> tuple[str, str] | None:
    """Why ``event`` cannot be evidence, as (reason, detail); None when it answers a plan.

    Evidence answers a plan: the controller planned or commanded ``event.item_id`` on
    this device (``planned`` is that row, withdrawn or not: a play of an item a later
    plan dropped is still a play the device was asked for), for the same broadcast.
    """
    return why_not_answer(None if planned is None else planned.broadcast_id, event)


def why_not_answer(planned_broadcast: str | None, event: PlaybackEvent) -> tuple[str, str] | None:
    """``why_not_evidence`` from the planned play's broadcast alone (None: no planned play)."""
    if planned_broadcast is None:
        return UNPLANNED_ITEM, (
            f"no plan or command of this controller named item {event.item_id!r} for this device"
        )
    if planned_broadcast != event.broadcast_id:
        return OTHER_BROADCAST, (
            f"item {event.item_id!r} was planned for broadcast {planned_broadcast!r}, "
            f"the event claims {event.broadcast_id!r}"
        )
    return None


def refused_event(session: Session, device_id: str, event_id: str) -> bool:
    """True when this event was refused (and recorded) before."""
    found = session.scalar(
        select(SecurityRecord.id).where(
            SecurityRecord.device_id == device_id, SecurityRecord.event_id == event_id
        )
    )
    return found is not None


def refused_seq_event(session: Session, device_id: str, seq: int) -> str | None:
    """The id of a refused event holding ``seq`` in the device's chain, if any."""
    return session.scalar(
        select(SecurityRecord.event_id).where(
            SecurityRecord.device_id == device_id, SecurityRecord.seq == seq
        )
    )


def refuse_event(
    session: Session,
    verified: Verified[PlaybackEvent],
    device_id: str,
    why: tuple[str, str],
    now: datetime,
) -> bool:
    """Keep a refused event as a security record; False if a concurrent delivery did first."""
    event = verified.body
    reason, detail = why
    row = SecurityRecord(
        received_at=now,
        device_id=device_id,
        origin=CONTROLLER,
        reason=reason,
        detail=f"event {event.event_id} ({event.outcome.value}) refused as evidence: {detail}"[
            :1000
        ],
        occurred_at=event.recorded_at,
        item_id=event.item_id,
        broadcast_id=event.broadcast_id,
        event_id=event.event_id,
        seq=event.seq,
        prev_hash=event.prev_hash,
        digest=verified.digest,
        signed=verified.signed,
        sig=verified.sig,
    )
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        return False
    log.warning("security: %s event %s refused: %s", device_id, event.event_id, detail)
    return True


def record_report(
    session: Session, verified: Verified[SecurityReport], device_id: str, now: datetime
) -> bool:
    """Store a device's report once; True if new (a resend of a stored one is a no-op)."""
    report = verified.body
    seen = session.scalar(
        select(SecurityRecord.id).where(
            SecurityRecord.device_id == device_id, SecurityRecord.report_id == report.report_id
        )
    )
    if seen is not None:
        return False
    row = SecurityRecord(
        received_at=now,
        device_id=device_id,
        origin=DEVICE,
        reason=report.reason,
        detail=report.detail,
        occurred_at=report.at,
        topic=report.topic,
        command_id=report.command_id,
        item_id=report.item_id,
        report_id=report.report_id,
        signed=verified.signed,
        sig=verified.sig,
    )
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        return False  # another delivery of the same report won the race: it is stored
    log.warning(
        "security: %s refused a message on %s: %s (%s)",
        device_id,
        report.topic,
        report.reason,
        report.detail[:200],
    )
    return True


def list_security_records(
    session: Session,
    device_id: str | None = None,
    origin: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> Sequence[SecurityRecord]:
    """Security records, newest first, optionally for one device or one origin."""
    query = select(SecurityRecord)
    if device_id is not None:
        query = query.where(SecurityRecord.device_id == device_id)
    if origin is not None:
        query = query.where(SecurityRecord.origin == origin)
    query = query.order_by(SecurityRecord.id.desc()).limit(limit).offset(offset)
    return session.scalars(query).all()
