"""A broadcast's stored milestones (mốc): held, playing, cancelled — written as they happen.

The stored ``Broadcast.status`` and each target's ``received_at``/``started_at`` are
only what is cheap to keep on the paths that learn them — the state hook (a device
holds its plan, or says an item sounds), ingest (the first confirmation makes a
broadcast "playing") and a cancel — so a list can be filtered by them. The status to
show is :func:`~controller.domain.broadcasts.progress.progress_of`'s; these are
apart from it because they write, inside other features' transactions, where the
order rows are locked in matters.

Invariant: inside an ingest batch (``DEFERRED_NOTES`` set) a broadcast's row is locked
only at the batch's end, after every chain row, as the batch path does; taking it
earlier deadlocked two replicas on a broadcast's first confirmations.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from controller.db.models import Broadcast, BroadcastTarget
from controller.domain.broadcasts.progress import progress_of
from controller.domain.broadcasts.states import BroadcastStatus

# How far back a plan still carries a broadcast (the settings' default plan history).
HELD_HISTORY = timedelta(hours=6)


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
