"""An emergency's live delivery (tiến độ khẩn cấp): per device, sent → playing → confirmed.

The officer who pressed "send" at 5 a.m. in a flood watches this: which loudspeakers
have the command, which should be sounding, which confirmed a play and which failed.
It reads the emergency's broadcast through ``broadcasts.progress`` (the same state
machine the broadcast page shows), narrowed to the reader's wards.

:class:`EmergencyWatch` reads it in a short session of its own, for a live stream;
``EmergencyProgress.fingerprint`` says whether anything changed and ``over`` when
nothing more will. The stream's pacing is not the domain's: it waits asynchronously,
in ``controller.api.sse`` (the API's ``/events`` and the console's page share it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from controller.db.models import Broadcast, Emergency
from controller.db.session import Database
from controller.domain.actors import Actor, Forbidden, Role
from controller.domain.broadcasts.progress import TargetProgress, progress_of
from controller.domain.broadcasts.states import BroadcastStatus, TargetState
from controller.domain.devices.access import wards_of
from controller.domain.errors import NotFound
from wardcast_protocol.clock import Clock

# The coarse stages a progress view shows, from the finer per-device states.
_STAGES = {
    TargetState.SCHEDULED: "sent",
    TargetState.SENT: "sent",
    TargetState.RECEIVED: "received",
    TargetState.PLAYING: "playing",
    TargetState.AWAITING: "unconfirmed",
    TargetState.COMPLETED: "confirmed",
    TargetState.PARTIAL: "stopped",
    TargetState.PREEMPTED: "stopped",
    TargetState.FAILED: "failed",
    TargetState.SKIPPED: "failed",
    TargetState.CANCELLED: "stopped",
    TargetState.EXPIRED: "failed",  # its order expired unplayed
}
_PENDING = {TargetState.SCHEDULED, TargetState.SENT, TargetState.RECEIVED, TargetState.PLAYING}
_STOPPED = ("cancelled", "superseded")


@dataclass(frozen=True, slots=True)
class EmergencyProgress:
    """Where an emergency's delivery stands at ``at``, device by device."""

    emergency_id: str
    identifier: str
    state: str  # the emergency's: playing, recorded, superseded, cancelled
    broadcast_id: str | None
    status: str  # its broadcast's, or the emergency's state when nothing sounded
    over: bool
    at: datetime
    devices: tuple[TargetProgress, ...]

    def stages(self) -> dict[str, int]:
        """How many devices are at each coarse stage."""
        counts: dict[str, int] = {}
        for device in self.devices:
            stage = stage_of(device.state)
            counts[stage] = counts.get(stage, 0) + 1
        return counts

    def fingerprint(self) -> tuple[object, ...]:
        """What a watcher compares: it changed if and only if this changed."""
        return (
            self.state,
            self.status,
            self.over,
            tuple((d.device_id, d.state) for d in self.devices),
        )


def stage_of(state: TargetState) -> str:
    """The coarse stage (sent, received, playing, confirmed, stopped, failed, unconfirmed)."""
    return _STAGES[state]


def emergency_progress(
    session: Session, emergency_id: str, actor: Actor, now: datetime
) -> EmergencyProgress:
    """The emergency's delivery now, for the devices in the actor's wards."""
    actor.require_any((Role.OFFICER, Role.APPROVER), "following emergencies")
    emergency = session.get(Emergency, emergency_id)
    if emergency is None:
        raise NotFound(f"no emergency {emergency_id!r}")
    mine = set(emergency.device_ids)
    if actor.wards is not None:
        wards = wards_of(session, emergency.device_ids)
        mine = {d for d in emergency.device_ids if actor.sees_ward(wards.get(d))}
        if not mine:
            raise Forbidden(f"emergency {emergency.id} reached none of {actor.name}'s wards")
    broadcast = session.get(Broadcast, emergency.broadcast_id) if emergency.broadcast_id else None
    if broadcast is None:
        # Test and Cancel messages sound nothing: nothing to follow, and over at once.
        return EmergencyProgress(
            emergency.id,
            emergency.identifier,
            emergency.state,
            None,
            emergency.state,
            True,
            now,
            (),
        )
    progress = progress_of(session, broadcast, now, mine)
    pending = any(t.state in _PENDING for t in progress.targets)
    stopped = emergency.state in _STOPPED or progress.status is BroadcastStatus.CANCELLED
    return EmergencyProgress(
        emergency_id=emergency.id,
        identifier=emergency.identifier,
        state=emergency.state,
        broadcast_id=broadcast.id,
        status=progress.status.value,
        over=stopped or not pending,
        at=now,
        devices=progress.targets,
    )


class EmergencyWatch:
    """Reads an emergency's progress in a fresh session each time (for a long stream).

    The stream itself (pacing, heartbeats, its end) is the web layer's
    ``controller.api.sse.changes``, shared by the API and the console: it awaits
    between reads and runs only each :meth:`read` in a worker thread.
    """

    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    def read(self, emergency_id: str, actor: Actor) -> EmergencyProgress:
        """The progress now; each call its own short transaction."""
        with self._db.session() as session:
            return emergency_progress(session, emergency_id, actor, self._clock.now())
