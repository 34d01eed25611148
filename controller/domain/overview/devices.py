"""Each device's state as a person reads it: online or not, last seen, clock, amplifier.

The amplifier state and volume are those the device reported with its last confirmed
play (``playback_evidence``): the agent sends them there, not in its periodic state.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, get_args

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from controller.db.models import Device, PlaybackEvidence, Ward
from controller.domain.actors import Actor
from controller.domain.devices.access import visible_devices
from controller.domain.devices.service import enrolments, is_online

DEFAULT_TZ = "Asia/Ho_Chi_Minh"

DeviceState = Literal["offline", "online", "revoked"]
# In the order a reader looks for them: the silent ones first.
STATES: tuple[DeviceState, ...] = get_args(DeviceState)


def device_state(revoked_at: datetime | None, online: bool) -> DeviceState:
    """``revoked`` (cut off on purpose), else ``online`` or ``offline``."""
    if revoked_at is not None:
        return "revoked"
    return "online" if online else "offline"


@dataclass(frozen=True, slots=True)
class DeviceStatus:
    """One device's state now."""

    device_id: str
    name: str
    ward_code: str | None
    group_code: str | None
    timezone: str
    online: bool
    last_seen_at: datetime | None
    clock_offset_s: float | None
    clock_suspect: bool
    amplifier_on: bool | None
    volume: int | None
    last_play_at: datetime | None
    enrolled_at: datetime | None
    revoked_at: datetime | None
    pending_events: int | None

    @property
    def state(self) -> DeviceState:
        """What its badge says and the lists filter by."""
        return device_state(self.revoked_at, self.online)


def _last_plays(
    session: Session, device_ids: Sequence[str]
) -> dict[str, tuple[bool | None, int | None, datetime | None]]:
    """Amplifier state, volume and start of each device's latest confirmed play."""
    if not device_ids:
        return {}
    # Each device's highest sequence number by one seek down its (device, seq) key. As
    # a max grouped by device over the list, SQLite read every event of every device:
    # a dashboard of 1,000 devices walked their whole history on each refresh.
    top = (
        select(func.max(PlaybackEvidence.seq))
        .where(PlaybackEvidence.device_id == Device.id)
        .scalar_subquery()
    )
    latest = (
        select(Device.id.label("device_id"), top.label("seq"))
        .where(Device.id.in_(device_ids))
        .subquery()
    )
    rows = session.execute(
        select(
            PlaybackEvidence.device_id,
            PlaybackEvidence.amplifier_on,
            PlaybackEvidence.volume,
            PlaybackEvidence.actual_start,
        ).join(
            latest,
            (latest.c.device_id == PlaybackEvidence.device_id)
            & (latest.c.seq == PlaybackEvidence.seq),
        )
    )
    return {device_id: (amp, volume, start) for device_id, amp, volume, start in rows}


def ward_timezones(session: Session) -> dict[str, str]:
    """Every ward's time zone by code."""
    return {code: tz for code, tz in session.execute(select(Ward.code, Ward.timezone))}


def device_statuses(
    session: Session,
    actor: Actor,
    now: datetime,
    *,
    offline_after_s: float,
    clock_warn_s: float,
    only: str | None = None,
) -> list[DeviceStatus]:
    """The state of every device in the actor's wards, by id (``only``: of that one,
    if the actor may see it; its page need not read a thousand devices' last plays)."""
    devices: Sequence[Device]
    if only is None:
        devices = visible_devices(session, actor)
    else:
        one = session.get(Device, only)
        devices = [one] if one is not None and actor.sees_ward(one.ward_code) else []
    plays = _last_plays(session, [d.id for d in devices])
    rows = enrolments(session)
    zones = ward_timezones(session)
    offline_after = timedelta(seconds=offline_after_s)
    found = []
    for d in devices:
        amp, volume, last_play = plays.get(d.id, (None, None, None))
        enrolment = rows.get(d.id)
        offset = d.clock_offset_s
        found.append(
            DeviceStatus(
                device_id=d.id,
                name=d.name,
                ward_code=d.ward_code,
                group_code=d.group_code,
                timezone=zones.get(d.ward_code or "", DEFAULT_TZ),
                online=is_online(d, now, offline_after),
                last_seen_at=d.last_seen_at,
                clock_offset_s=offset,
                clock_suspect=offset is not None and abs(offset) > clock_warn_s,
                amplifier_on=amp,
                volume=volume,
                last_play_at=last_play,
                enrolled_at=enrolment.enrolled_at if enrolment else None,
                revoked_at=enrolment.revoked_at if enrolment else None,
                pending_events=d.pending_events,
            )
        )
    return found
