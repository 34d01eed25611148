"""A broadcast's progress (tiến độ phát): scheduled → sent → playing → done, per device.

Everything here is derived from what the controller knows for certain — what it sent,
what each device reported holding (the plan version in its retained state) and playing
(the item its state names just after a start), what each device confirmed (its signed
evidence) — and from the clock, so a reader always gets
the truth as of *now* without a job having to move anything. The pure functions
(:func:`target_state`, :func:`broadcast_status`) are the state machine; the queries
read the rows they need in a bounded number of statements.

Invariant: a confirmation decides a device's state; nothing else overrides it (a
cancel after a play keeps the play: evidence is never withdrawn). A device is
"playing" when it said so, or by the clock when its word has not come (its planned
start has passed, it holds the item, it has not confirmed): an agent older than the
``playing_item_id`` state field reports a play only when it ends.

The stored ``Broadcast.status`` is only the last milestone cheap to keep on the ingest
path — "playing" from the first confirmation (``note_evidence``), "cancelled" — so a
list can be filtered by it; the status to show is :func:`progress_of`'s, which counts
every device and the clock.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from controller.db.models import Broadcast, BroadcastTarget, Device, PlaybackEvidence

# How long after its planned end a play may still be confirmed before the device is
# counted as owing it (agents confirm at the end; 4G links lag).
CONFIRM_GRACE = timedelta(minutes=2)
# How far back a plan still carries a broadcast (the settings' default plan history).
HELD_HISTORY = timedelta(hours=6)


class TargetState(StrEnum):
    """Where one device stands with one broadcast."""

    SCHEDULED = "scheduled"  # stored; the device has not reported holding it yet
    SENT = "sent"  # a 'now' command went out after the commit
    RECEIVED = "received"  # the device reported a plan version holding it
    PLAYING = "playing"  # the device said it sounds, or it is due now and held
    AWAITING = "awaiting"  # past its end plus grace, and still unconfirmed
    COMPLETED = "completed"
    PARTIAL = "partial"
    PREEMPTED = "preempted"
    FAILED = "failed"
    SKIPPED = "skipped"
    CANCELLED = "cancelled"  # cancelled before this device confirmed anything


class BroadcastStatus(StrEnum):
    """Where a broadcast stands as a whole."""

    SCHEDULED = "scheduled"
    SENT = "sent"
    PLAYING = "playing"
    DONE = "done"  # every device confirmed a complete play
    PARTIAL = "partial"  # some did, some did not (or not yet, past the grace)
    FAILED = "failed"  # no device played it through
    CANCELLED = "cancelled"


FINAL = frozenset({BroadcastStatus.DONE, BroadcastStatus.CANCELLED})
_OUTCOMES = {s.value: s for s in TargetState}


@dataclass(frozen=True, slots=True)
class Timing:
    """When a broadcast is due and until when it is expected to be confirmed."""

    start: datetime
    duration_s: float
    immediate: bool
    cancelled_at: datetime | None

    @property
    def confirm_by(self) -> datetime:
        """The planned end plus the grace for its confirmation to arrive."""
        return self.start + timedelta(seconds=self.duration_s) + CONFIRM_GRACE


def target_state(
    timing: Timing,
    now: datetime,
    outcome: str | None,
    received_at: datetime | None,
    started_at: datetime | None = None,
) -> TargetState:
    """One device's state: its confirmation if any, else what it and the clock said."""
    if outcome is not None:
        return _OUTCOMES.get(outcome, TargetState.FAILED)
    if timing.cancelled_at is not None:
        return TargetState.CANCELLED
    if started_at is not None and now < timing.confirm_by:
        return TargetState.PLAYING  # the device said so
    holds = timing.immediate or received_at is not None
    if now >= timing.confirm_by:
        return TargetState.AWAITING
    if now >= timing.start and holds:
        return TargetState.PLAYING
    if received_at is not None:
        return TargetState.RECEIVED
    return TargetState.SENT if timing.immediate else TargetState.SCHEDULED


def broadcast_status(
    timing: Timing, now: datetime, states: Sequence[TargetState]
) -> BroadcastStatus:
    """The whole broadcast's status from its devices' states (pure)."""
    if timing.cancelled_at is not None:
        return BroadcastStatus.CANCELLED
    played = sum(s is TargetState.COMPLETED for s in states)
    heard = played + sum(s is TargetState.PARTIAL for s in states)
    pending = {TargetState.SCHEDULED, TargetState.SENT, TargetState.RECEIVED}
    unconfirmed = sum(s in pending or s is TargetState.PLAYING for s in states)
    if states and not unconfirmed and not any(s is TargetState.AWAITING for s in states):
        if played == len(states):
            return BroadcastStatus.DONE
        return BroadcastStatus.PARTIAL if heard else BroadcastStatus.FAILED
    if now >= timing.confirm_by:
        # Owed and not confirmed: say so; a late confirmation still improves it.
        return BroadcastStatus.PARTIAL if heard else BroadcastStatus.FAILED
    sounding = any(s is TargetState.PLAYING for s in states)
    if now >= timing.start or unconfirmed < len(states) or sounding:
        return BroadcastStatus.PLAYING
    if timing.immediate or (states and all(s is TargetState.RECEIVED for s in states)):
        return BroadcastStatus.SENT
    return BroadcastStatus.SCHEDULED


@dataclass(frozen=True, slots=True)
class TargetProgress:
    """One device of a broadcast: where it is, and what it confirmed."""

    device_id: str
    ward_code: str | None
    group_code: str | None
    state: TargetState
    received_at: datetime | None
    started_at: datetime | None  # when the device reported it sounding
    actual_start: datetime | None
    played_duration_s: float | None
    confirmed_at: datetime | None
    reason: str | None


@dataclass(frozen=True, slots=True)
class BroadcastProgress:
    """A broadcast's status as of ``at``, with its devices (those the reader may see)."""

    broadcast_id: str
    status: BroadcastStatus
    at: datetime
    targets: tuple[TargetProgress, ...]

    def counts(self) -> dict[str, int]:
        """How many devices are in each state (only the states present)."""
        counts: dict[str, int] = {}
        for target in self.targets:
            counts[target.state.value] = counts.get(target.state.value, 0) + 1
        return counts


def timing_of(broadcast: Broadcast) -> Timing:
    """The broadcast's timing, as the state machine reads it."""
    return Timing(
        start=broadcast.planned_start,
        duration_s=broadcast.bulletin.media.duration_s,
        immediate=broadcast.immediate,
        cancelled_at=broadcast.cancelled_at,
    )


def progress_of(
    session: Session, broadcast: Broadcast, now: datetime, visible: Iterable[str] | None = None
) -> BroadcastProgress:
    """The broadcast's progress now; ``visible`` narrows the devices listed (not the status)."""
    timing = timing_of(broadcast)
    evidence = {
        row.device_id: row
        for row in session.scalars(
            select(PlaybackEvidence)
            .where(PlaybackEvidence.broadcast_id == broadcast.id)
            .order_by(PlaybackEvidence.id)
        )
    }
    places = {
        d.id: (d.ward_code, d.group_code)
        for d in session.execute(
            select(Device.id, Device.ward_code, Device.group_code)
            .join(BroadcastTarget, BroadcastTarget.device_id == Device.id)
            .where(BroadcastTarget.broadcast_id == broadcast.id)
        )
    }
    shown = None if visible is None else set(visible)
    states: list[TargetState] = []
    targets: list[TargetProgress] = []
    for target in sorted(broadcast.targets, key=lambda t: t.device_id):
        row = evidence.get(target.device_id)
        state = target_state(
            timing, now, row.outcome if row else None, target.received_at, target.started_at
        )
        states.append(state)
        if shown is not None and target.device_id not in shown:
            continue
        ward, group = places.get(target.device_id, (None, None))
        targets.append(
            TargetProgress(
                device_id=target.device_id,
                ward_code=ward,
                group_code=group,
                state=state,
                received_at=target.received_at,
                started_at=target.started_at,
                actual_start=row.actual_start if row else None,
                played_duration_s=row.played_duration_s if row else None,
                confirmed_at=row.received_at if row else None,
                reason=row.reason if row else None,
            )
        )
    status = broadcast_status(timing, now, states)
    return BroadcastProgress(broadcast.id, status, now, tuple(targets))


def note_plan_held(session: Session, device_id: str, now: datetime) -> int:
    """The device reports the plan version we last sent: it holds its scheduled broadcasts.

    Called from the state hook only when the reported version reaches the controller's:
    every scheduled, uncancelled broadcast targeting the device is then in its plan.
    """
    scheduled = select(Broadcast.id).where(
        Broadcast.immediate.is_(False),
        Broadcast.cancelled_at.is_(None),
        # Older ones are no longer in any plan: a device back after days did not get them.
        Broadcast.planned_start >= now - HELD_HISTORY,
    )
    result = session.execute(
        update(BroadcastTarget)
        .where(
            BroadcastTarget.device_id == device_id,
            BroadcastTarget.received_at.is_(None),
            BroadcastTarget.broadcast_id.in_(scheduled),
        )
        .values(received_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


DEFERRED_NOTES = "wardcast.deferred_broadcast_notes"
"""``session.info`` key: while set (to a set), ``note_evidence`` only collects ids."""


def note_deferred(session: Session, now: datetime) -> None:
    """Note every broadcast collected while deferred (once each), and stop deferring."""
    for broadcast_id in sorted(session.info.pop(DEFERRED_NOTES, set())):
        note_evidence(session, broadcast_id, now)


def note_playing(session: Session, device_id: str, item_id: str, at: datetime) -> None:
    """The device says ``item_id`` sounds on it: the first such word is kept.

    A broadcast's item id is the broadcast's id; a programme item names no broadcast
    row and changes nothing. A device that plays it holds it, whatever its plan said.
    """
    target = session.get(BroadcastTarget, (item_id, device_id))
    if target is None:
        return
    if target.started_at is None:
        target.started_at = at
    if target.received_at is None:
        target.received_at = at


def note_evidence(session: Session, broadcast_id: str, now: datetime) -> None:
    """A confirmation was stored: a broadcast still "scheduled" or "sent" is "playing".

    Runs once per stored event inside ingest's transaction, so it is one indexed
    UPDATE and nothing else (counting a thousand devices' confirmations per event
    would make ingest quadratic). Whether all have confirmed — done, partial or failed —
    is :func:`progress_of`'s to say when someone asks; a programme item names no
    broadcast row and the UPDATE matches nothing.

    In an ingest batch stored one by one (``DEFERRED_NOTES`` set) only the id is kept,
    noted at the batch's end: the UPDATE locks the broadcast's row, and taking it
    before the event's chain row inverted the batch path's order (chain rows, then
    broadcasts). Two replicas then deadlocked on a broadcast's first confirmations.
    """
    deferred = session.info.get(DEFERRED_NOTES)
    if deferred is not None:
        deferred.add(broadcast_id)
        return
    session.execute(
        update(Broadcast)
        .where(
            Broadcast.id == broadcast_id,
            Broadcast.status.in_((BroadcastStatus.SCHEDULED.value, BroadcastStatus.SENT.value)),
        )
        .values(status=BroadcastStatus.PLAYING.value)
        .execution_options(synchronize_session=False)
    )


def mark_cancelled(
    session: Session, broadcast_id: str, by: str, now: datetime, reason: str | None
) -> Broadcast | None:
    """Record a broadcast's cancellation (once; a second cancel keeps the first's record)."""
    broadcast = session.get(Broadcast, broadcast_id)
    if broadcast is None or broadcast.cancelled_at is not None:
        return broadcast
    if progress_of(session, broadcast, now).status is BroadcastStatus.DONE:
        return broadcast  # every device played it through: there was nothing to cancel
    broadcast.cancelled_at, broadcast.cancelled_by = now, by
    broadcast.cancel_reason = (reason or "")[:300] or None
    broadcast.status = BroadcastStatus.CANCELLED.value
    return broadcast
