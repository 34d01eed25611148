"""Devices: registration with a public key, and what they report about themselves.

Whether a device is online is judged, never taken from one message: its last
availability must say "online" *and* it must have been heard from recently
(``is_online``). A retained "online" is as old as the device's own timestamp on it,
not as old as the moment the controller happened to subscribe, so a broker's stale
retained copy can never make a silent device look alive.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from controller.db.among import among
from controller.db.models import Device, DeviceEnrolment
from controller.domain.broadcasts.milestones import note_plan_held, note_playing
from controller.domain.errors import Conflict, InvalidInput, NotFound
from wardcast_protocol.messages import DeviceState
from wardcast_protocol.signing import InvalidKey, check_device_key
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
        key = check_device_key(public_key)
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


class Placement(Protocol):
    """A device's id and where it stands: a ``Device`` or a ``Placed`` row."""

    @property
    def id(self) -> str:
        """The device's id."""

    @property
    def ward_code(self) -> str | None:
        """The ward it is placed in, if placed."""

    @property
    def group_code(self) -> str | None:
        """Its residential group in that ward, if any."""


@dataclass(frozen=True, slots=True)
class Placed:
    """A device's id and place, read as a plain row: all a broadcast's addressing needs.

    Not a ``Device``: a "now" to a thousand loudspeakers waits on this read, and
    building a thousand ORM objects took 7-15 ms of it where three columns take 2-3.
    """

    id: str
    ward_code: str | None
    group_code: str | None


PLACED_COLUMNS = (Device.id, Device.ward_code, Device.group_code)


def placed_rows(rows: Iterable[Sequence[str | None]]) -> list[Placed]:
    """``Placed`` from rows of ``PLACED_COLUMNS``."""
    return [Placed(str(r[0]), r[1], r[2]) for r in rows]


def require_devices(session: Session, device_ids: Sequence[str]) -> list[Placed]:
    """These devices' places, in the order asked; refuse the whole request if any is
    unknown."""
    wanted = list(dict.fromkeys(device_ids))
    if not wanted:
        raise InvalidInput("choose at least one device")
    query = select(*PLACED_COLUMNS).where(Device.id.in_(wanted))
    found = {d.id: d for d in placed_rows(session.execute(query))}
    missing = [d for d in wanted if d not in found]
    if missing:
        raise NotFound(f"unknown device ids: {', '.join(missing)}")
    return [found[d] for d in wanted]


def public_key_of(session: Session, device_id: str) -> str | None:
    """The registered public key of a device, or None (unknown, or revoked)."""
    device = session.get(Device, device_id)
    if device is None:
        return None
    enrolment = session.get(DeviceEnrolment, device_id)
    if enrolment is not None and enrolment.revoked_at is not None:
        return None
    return device.public_key


def public_keys_of(session: Session, device_ids: Iterable[str]) -> dict[str, str]:
    """The registered public keys of these devices in one read (for an ingest batch).

    As ``public_key_of``: unknown and revoked devices are left out.
    """
    wanted = sorted(set(device_ids))
    if not wanted:
        return {}
    rows = session.execute(
        select(Device.id, Device.public_key)
        .outerjoin(DeviceEnrolment, DeviceEnrolment.device_id == Device.id)
        .where(among(session, Device.id, wanted), DeviceEnrolment.revoked_at.is_(None))
    )
    return {device_id: key for device_id, key in rows if key is not None}


def broker_logins(session: Session) -> list[tuple[str, str]]:
    """(username, password hash) of every enrolled, unrevoked device, by id."""
    rows = session.execute(
        select(DeviceEnrolment.device_id, DeviceEnrolment.mqtt_password_hash)
        .where(
            DeviceEnrolment.mqtt_password_hash.is_not(None),
            DeviceEnrolment.revoked_at.is_(None),
        )
        .order_by(DeviceEnrolment.device_id)
    )
    return [(device_id, hashed) for device_id, hashed in rows if hashed]


def enrolment_of(session: Session, device_id: str) -> DeviceEnrolment | None:
    """A device's enrolment row (codes, broker login, revocation), if any."""
    return session.get(DeviceEnrolment, device_id)


def enrolments(session: Session) -> dict[str, DeviceEnrolment]:
    """Every enrolment row by device id."""
    return {row.device_id: row for row in session.scalars(select(DeviceEnrolment))}


def is_online(device: Device, now: datetime, offline_after: timedelta) -> bool:
    """Online: its last availability said so and it was heard from within ``offline_after``."""
    seen = device.last_seen_at
    return bool(device.online) and seen is not None and now - seen <= offline_after


def _seen(device: Device, at: datetime) -> None:
    # Never move backwards: a retained copy delivered late is older than what we know.
    if device.last_seen_at is None or at > device.last_seen_at:
        device.last_seen_at = at


def mark_availability(
    session: Session,
    device_id: str,
    online: bool,
    now: datetime,
    *,
    said_at: datetime | None = None,
) -> bool:
    """Record online/offline; returns True when the device came online.

    ``said_at`` is the device's own time on a retained copy (None: heard live, now).
    An "offline" comes from the broker (the device's last will) or the device's
    goodbye; it does not count as hearing from the device.
    """
    device = session.get(Device, device_id)
    if device is None:
        return False
    came_online = online and not device.online
    device.online = online
    if online:
        _seen(device, min(said_at, now) if said_at is not None else now)
    return came_online


def record_state(
    session: Session,
    device_id: str,
    state: DeviceState,
    now: datetime,
    *,
    said_at: datetime | None = None,
) -> None:
    """Store what the agent says it runs, and how far its clock is from ours.

    A retained copy (``said_at`` given) is old news: its clock offset would measure
    the copy's age, not the device's clock, so only a live state sets the offset.
    """
    device = session.get(Device, device_id)
    if device is None:
        return
    moved = state.plan_version != device.reported_plan_version
    device.reported_plan_version = state.plan_version
    device.pending_events = state.pending_events
    if moved and state.plan_version == device.plan_version:
        # It holds the plan we last sent, so every broadcast scheduled for it.
        note_plan_held(session, device_id, now)
    if state.playing_item_id is not None:
        note_playing(session, device_id, state.playing_item_id, min(said_at or now, now))
    if said_at is None:
        device.clock_offset_s = round((state.device_time - now).total_seconds(), 3)
    _seen(device, min(said_at, now) if said_at is not None else now)


def wards_of_devices(session: Session, device_ids: Sequence[str]) -> dict[str, str]:
    """Device id -> ward code, for those of ``device_ids`` placed in a ward."""
    wanted = set(device_ids)
    rows = session.execute(select(Device.id, Device.ward_code).where(Device.ward_code.is_not(None)))
    return {device_id: ward for device_id, ward in rows if device_id in wanted and ward}
