"""Playback evidence: stored exactly once, with the device's signed original.

The MQTT layer hands over events whose signature already checked out; this module
decides whether they are new, stores them, and answers queries. There is no update
or delete path here on purpose: evidence is append-only.

Evidence answers a plan: an event is stored only for an item this controller planned
or commanded for that device (``plans.planned``). Anything else, however well
signed, becomes a security record (``evidence.security``), never evidence.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Sequence
from datetime import datetime
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from controller.db.models import Device, PlaybackEvidence, RejectedMessageLog
from controller.domain.broadcasts.milestones import note_evidence
from controller.domain.errors import InvalidInput
from controller.domain.evidence import chain, rejections, security
from controller.domain.plans.planned import planned_play
from controller.domain.reports.rollups import dirty as rollups
from wardcast_protocol.envelope import Verified
from wardcast_protocol.messages import PlaybackEvent, Trigger

log = logging.getLogger(__name__)


class Stored(StrEnum):
    """What happened to a received event."""

    NEW = "new"
    DUPLICATE = "duplicate"
    REFUSED = "refused"  # signed and whole, but for no item planned for the device


class SequenceReused(InvalidInput):
    """A different event with a sequence number already stored: the chain forked."""


def record_event(
    session: Session, verified: Verified[PlaybackEvent], device_id: str, now: datetime
) -> Stored:
    """Store a verified event once; a repeat (QoS 1 duplicate, resend) is a no-op.

    An event for an item the controller never planned or commanded for this device is
    ``REFUSED``: kept as a security record with its chain fields (so the chain stays
    whole and no resend is asked for), never as evidence. The caller acknowledges in
    every case — as stored, or as refused — because the device may forget the event
    only when the controller has it, and it has it either way.
    """
    event = verified.body
    if event.device_id != device_id:
        raise InvalidInput(f"event names device {event.device_id!r} on {device_id!r}'s topic")
    exists = session.scalar(
        select(PlaybackEvidence.id).where(
            PlaybackEvidence.device_id == device_id, PlaybackEvidence.event_id == event.event_id
        )
    )
    if exists is not None:
        return Stored.DUPLICATE
    if security.refused_event(session, device_id, event.event_id):
        return Stored.REFUSED
    taken = session.scalar(
        select(PlaybackEvidence.event_id).where(
            PlaybackEvidence.device_id == device_id, PlaybackEvidence.seq == event.seq
        )
    ) or security.refused_seq_event(session, device_id, event.seq)
    if taken is not None:
        raise SequenceReused(
            f"seq {event.seq} of {device_id} is already event {taken}; "
            f"{event.event_id} would fork the chain"
        )
    plan = planned_play(session, device_id, event.item_id)
    why = security.why_not_evidence(plan, event)
    if why is not None:
        if not security.refuse_event(session, verified, device_id, why, now):
            return Stored.REFUSED  # a concurrent delivery recorded it first
        _advance_chain(session, verified, device_id, now)
        return Stored.REFUSED
    device = session.get(Device, device_id)
    relay = event.relay
    row = PlaybackEvidence(
        device_id=device_id,
        ward_code=device.ward_code if device else None,
        group_code=device.group_code if device else None,
        session_key=event.session_key,
        relayed_s=relay.relayed_s if relay else None,
        relay_gap_s=relay.gap_s if relay else None,
        fallback_s=relay.fallback_s if relay else None,
        event_id=event.event_id,
        seq=event.seq,
        prev_hash=event.prev_hash,
        digest=verified.digest,
        item_id=event.item_id,
        broadcast_id=event.broadcast_id,
        bulletin_id=event.bulletin_id,
        trigger=event.trigger.value,
        priority=event.priority.value,
        source_level=event.source_level.value,
        media_sha256=event.media_sha256,
        planned_start=event.planned_start,
        planned_duration_s=event.planned_duration_s,
        actual_start=event.actual_start,
        played_duration_s=event.played_duration_s,
        outcome=event.outcome.value,
        reason=event.reason,
        plan_version=event.plan_version,
        amplifier_on=event.amplifier_on,
        volume=event.volume,
        recorded_at=event.recorded_at,
        received_at=now,
        signed=verified.signed,
        sig=verified.sig,
    )
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        # Lost a race with another delivery of the same event: it is stored.
        return Stored.DUPLICATE
    # The report sums of the days this event counts in are out of date from this
    # commit on: marked in the same transaction, re-summed by a job before a report asks.
    rollups.mark(session, row.ward_code, event.planned_start)
    if plan is not None:
        rollups.mark(session, plan.ward_code, plan.planned_start)
    if event.trigger is not Trigger.PROGRAMME:  # a programme's items have no broadcast row
        note_evidence(session, event.broadcast_id, now)  # its broadcast's status moves on
    _advance_chain(session, verified, device_id, now)
    return Stored.NEW


def _advance_chain(
    session: Session, verified: Verified[PlaybackEvent], device_id: str, now: datetime
) -> None:
    """Account for a new link of the device's chain (evidence or refused), flag breaks."""
    report = chain.advance(session, device_id, verified.body.seq, now)
    for seq in report.broken_links:
        record_rejection(
            session,
            f"device/{device_id}/chain",
            device_id,
            "chain_broken",
            f"event seq {seq} does not name the digest of seq {seq - 1}: altered or forked",
            verified.signed.encode("utf-8"),
            now,
        )
    if report.new_gaps:
        log.warning("evidence gap for %s: seqs %s", device_id, report.new_gaps)


def record_rejection(
    session: Session,
    topic: str,
    device_id: str | None,
    reason: str,
    detail: str,
    payload: bytes,
    now: datetime,
) -> None:
    """Count a refused message, and keep its reason and an excerpt for security review.

    Kept only within the per-source and per-hour limits of ``evidence.rejections``
    (the rest is counted, so a flood is bounded); the same payload refused again (a
    device resending what we will not store) is kept once.
    """
    message = rejections.RefusedMessage(topic, device_id, reason, detail, payload)
    rejections.record(session, message, now)


def query_evidence(
    session: Session,
    device_id: str | None,
    start: datetime | None,
    end: datetime | None,
    broadcast_id: str | None = None,
    limit: int = 500,
    offset: int = 0,
    wards: Collection[str] | None = None,
) -> Sequence[PlaybackEvidence]:
    """Evidence rows by device and planned-start period, oldest first; only of ``wards``
    when given (the ward each device stood in when it reported the play)."""
    if start is not None and end is not None and end < start:
        raise InvalidInput("the period ends before it starts")
    query = select(PlaybackEvidence)
    if wards is not None:
        query = query.where(PlaybackEvidence.ward_code.in_(wards))
    if device_id is not None:
        query = query.where(PlaybackEvidence.device_id == device_id)
    if broadcast_id is not None:
        query = query.where(PlaybackEvidence.broadcast_id == broadcast_id)
    if start is not None:
        query = query.where(PlaybackEvidence.planned_start >= start)
    if end is not None:
        query = query.where(PlaybackEvidence.planned_start < end)
    query = query.order_by(PlaybackEvidence.planned_start, PlaybackEvidence.id)
    return session.scalars(query.limit(limit).offset(offset)).all()


def list_rejections(session: Session, limit: int = 100) -> Sequence[RejectedMessageLog]:
    """Most recent refused messages first."""
    query = select(RejectedMessageLog).order_by(RejectedMessageLog.id.desc()).limit(limit)
    return session.scalars(query).all()
