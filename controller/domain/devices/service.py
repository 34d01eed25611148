"""Devices: registration with a public key, and what they report about themselves."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from controller.db.models import Device
from controller.domain.errors import Conflict, InvalidInput, NotFound
from wardcast_protocol.messages import DeviceState
from wardcast_protocol.signing import InvalidKey, check_public_key
from wardcast_protocol.topics import is_valid_device_id


def register_device(
    session: Session, device_id: str, name: str, public_key: str, now: datetime
) -> tuple[Device, bool]:
    """Register a device; returns (device, created).

    Registering again with the same key is a no-op (agents may retry); with a
    different key it is refused: replacing a device's key is a deliberate act.
    """
    if not is_valid_device_id(device_id):
        raise InvalidInput(f"device id {device_id!r} must be 1–64 letters, digits, '.', '_' or '-'")
    try:
        key = check_public_key(public_key)
    except InvalidKey as exc:
        raise InvalidInput(str(exc)) from exc
    existing = session.get(Device, device_id)
    if existing is not None:
        if existing.public_key != key:
            raise Conflict(f"device {device_id} is already registered with another key")
        return existing, False
    device = Device(id=device_id, name=name.strip(), public_key=key, registered_at=now)
    session.add(device)
    session.flush()
    return device, True


def get_device(session: Session, device_id: str) -> Device:
    """The device, or NotFound."""
    device = session.get(Device, device_id)
    if device is None:
        raise NotFound(f"no device {device_id!r}")
    return device


def list_devices(session: Session) -> Sequence[Device]:
    """Every device, by id."""
    return session.scalars(select(Device).order_by(Device.id)).all()


def require_devices(session: Session, device_ids: Sequence[str]) -> list[Device]:
    """Load these devices; refuse the whole request if any is unknown."""
    wanted = list(dict.fromkeys(device_ids))
    if not wanted:
        raise InvalidInput("choose at least one device")
    found = {d.id: d for d in session.scalars(select(Device).where(Device.id.in_(wanted)))}
    missing = [d for d in wanted if d not in found]
    if missing:
        raise NotFound(f"unknown device ids: {', '.join(missing)}")
    return [found[d] for d in wanted]


def public_key_of(session: Session, device_id: str) -> str | None:
    """The registered public key of a device, or None."""
    device = session.get(Device, device_id)
    return device.public_key if device else None


def mark_availability(session: Session, device_id: str, online: bool, now: datetime) -> bool:
    """Record online/offline; returns True when the device came online."""
    device = session.get(Device, device_id)
    if device is None:
        return False
    came_online = online and not device.online
    device.online = online
    device.last_seen_at = now
    return came_online


def record_state(session: Session, device_id: str, state: DeviceState, now: datetime) -> None:
    """Store what the agent says it runs, and how far its clock is from ours."""
    device = session.get(Device, device_id)
    if device is None:
        return
    device.reported_plan_version = state.plan_version
    device.pending_events = state.pending_events
    device.clock_offset_s = round((state.device_time - now).total_seconds(), 3)
    device.last_seen_at = now
