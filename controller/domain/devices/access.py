"""Devices as a signed-in actor may see them: only those placed in the actor's wards.

A device placed in no ward is visible to unscoped actors (administrators) only: until
it is placed, no ward's officer is responsible for it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from controller.db.models import Device
from controller.domain.actors import Actor
from controller.domain.devices.service import get_device


def visible_devices(session: Session, actor: Actor) -> Sequence[Device]:
    """The devices in the actor's wards, by id."""
    query = select(Device).order_by(Device.id)
    if actor.wards is not None:
        query = query.where(Device.ward_code.in_(actor.wards))
    return session.scalars(query).all()


def visible_device(session: Session, device_id: str, actor: Actor, doing: str) -> Device:
    """The device, if it is in the actor's wards; NotFound, or Forbidden (403)."""
    device = get_device(session, device_id)
    actor.require_ward(device.ward_code, f"{doing} {device.id}")
    return device


def wards_of(session: Session, device_ids: Iterable[str]) -> dict[str, str | None]:
    """Where each of these (known) devices is placed: id -> ward code or None."""
    wanted = sorted(set(device_ids))
    if not wanted:
        return {}
    rows = session.execute(select(Device.id, Device.ward_code).where(Device.id.in_(wanted)))
    return {device_id: ward for device_id, ward in rows}


def require_in_scope(session: Session, actor: Actor, device_ids: Iterable[str], doing: str) -> None:
    """Refuse (403) unless every one of these devices is in the actor's wards."""
    if actor.wards is None:
        return
    for device_id, ward in sorted(wards_of(session, device_ids).items()):
        actor.require_ward(ward, f"{doing} (device {device_id})")
