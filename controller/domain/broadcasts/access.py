"""Broadcasts within an actor's wards: what they may schedule, and which they may read.

An officer schedules a bulletin they may read to devices of their own wards only. A
broadcast is visible to whoever serves any of its targets, and shows them only the
targets in their wards (another ward's confirmations are that ward's evidence).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import Exists, exists, select
from sqlalchemy.orm import Session

from controller.db.models import Broadcast, BroadcastTarget, Bulletin, Device
from controller.domain.actors import Actor, Forbidden, Role
from controller.domain.broadcasts.progress import target_wards
from controller.domain.content.access import require_visible
from controller.domain.devices.service import Placement
from controller.domain.errors import NotFound

_READERS = (Role.OFFICER, Role.APPROVER)


def check_schedule(actor: Actor, bulletin: Bulletin, devices: Iterable[Placement]) -> None:
    """Refuse (403) a broadcast the actor may not make: role, bulletin, or a device's ward."""
    actor.require(Role.OFFICER, "scheduling broadcasts")
    require_visible(actor, bulletin, "broadcasting")
    for device in devices:
        actor.require_ward(device.ward_code, f"broadcasting to device {device.id}")


def check_cancel(session: Session, actor: Actor, broadcast: Broadcast) -> None:
    """Refuse (403) a cancel by anyone but an officer or approver of every target's ward.

    A broadcast reaching two wards is cancelled for both or not at all, so only
    someone answering for all of them may cancel it.
    """
    actor.require_any(_READERS, "cancelling broadcasts")
    if actor.wards is None:
        return
    wards = target_wards(session, broadcast.id)
    actor.require_wards(set(wards.values()), f"cancelling broadcast {broadcast.id}")


def _in_scope(wards: frozenset[str]) -> Exists:
    """SQL: the broadcast has a target placed in one of these wards."""
    return exists().where(
        BroadcastTarget.broadcast_id == Broadcast.id,
        BroadcastTarget.device_id == Device.id,
        Device.ward_code.in_(wards),
    )


def visible_broadcasts(
    session: Session, actor: Actor, limit: int = 100, offset: int = 0
) -> Sequence[Broadcast]:
    """Broadcasts reaching the actor's wards, latest planned first."""
    actor.require_any(_READERS, "reading broadcasts")
    query = select(Broadcast)
    if actor.wards is not None:
        query = query.where(_in_scope(actor.wards))
    query = query.order_by(Broadcast.planned_start.desc(), Broadcast.id)
    return session.scalars(query.limit(limit).offset(offset)).all()


def visible_broadcast(session: Session, broadcast_id: str, actor: Actor) -> Broadcast:
    """The broadcast, if it reaches one of the actor's wards; NotFound or Forbidden."""
    actor.require_any(_READERS, "reading broadcasts")
    broadcast = session.get(Broadcast, broadcast_id)
    if broadcast is None:
        raise NotFound(
            f"no broadcast {broadcast_id!r}", code="broadcast.unknown", params={"id": broadcast_id}
        )
    if not visible_targets(session, broadcast, actor):
        raise Forbidden(
            f"broadcast {broadcast.id} reaches none of {actor.name}'s wards",
            code="broadcast.outside_wards",
        )
    return broadcast


def visible_targets(session: Session, broadcast: Broadcast, actor: Actor) -> set[str]:
    """The ids of the broadcast's targets in the actor's wards."""
    wards = target_wards(session, broadcast.id)
    if actor.wards is None:
        return set(wards)
    return {d for d, ward in wards.items() if actor.sees_ward(ward)}
