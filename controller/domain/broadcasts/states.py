"""A broadcast's state machine (trạng thái phát): one device's state, the whole status.

Pure: from a broadcast's timing, the clock and what each device said or confirmed, it
names where a device stands (:func:`target_state`) and where the broadcast stands as a
whole (:func:`broadcast_status`). Apart from :mod:`progress` (which reads the rows) and
:mod:`milestones` (which writes the cheap stored status) so the rules can be read, and
tested, without a database.

Invariant: a confirmation decides a device's state; nothing else overrides it (a
cancel after a play keeps the play: evidence is never withdrawn). A device is
"playing" when it said so, or by the clock when its word has not come (its planned
start has passed, it holds the item, it has not confirmed): an agent older than the
``playing_item_id`` state field reports a play only when it ends.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

# How long after its planned end a play may still be confirmed before the device is
# counted as owing it (agents confirm at the end; 4G links lag).
CONFIRM_GRACE = timedelta(minutes=2)


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
    EXPIRED = "expired"  # a 'now' whose order expired before the device said it started


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
    # A "now": when its command expires (the agents refuse it from then on).
    expires_at: datetime | None = None

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
    if timing.expires_at is not None and started_at is None and now >= timing.expires_at:
        # Not started before its order expired (held back by a broker outage, a device
        # offline): the agent refuses it from then on, so it is not played, not
        # "playing" by the clock. A confirmation that still comes overrides this.
        return TargetState.EXPIRED
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
