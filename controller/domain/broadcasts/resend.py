"""Orders owed after a restart (gửi lại lệnh): the "now"s a stopped controller may have lost.

A "now" or an emergency is a command, not retained state: while the broker is down it
waits in the controller's MQTT link, in memory. A controller that stops then (a
restart, a crash) loses it. So a starting controller sends again, with
:func:`owed_orders`, every immediate broadcast

- not cancelled (a cancel, an emergency's Update or Cancel, is final), and
- whose order has not expired (``expires_at`` after now: the original expiry, never
  extended, so a stale order still never sounds late),

to each of its devices that has neither confirmed it (no evidence row) nor said it
started it (``started_at``). Which controller held the order is not stored, so every
one that starts sends what is owed; a device that already has the item ignores the
copy by its item id (played: its done items; queued or sounding: its queue), and a
copy is a new command (a new command id), so an agent does not report it as a replay.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, exists, select
from sqlalchemy.orm import Session

from controller.db.models import Broadcast, BroadcastTarget, Device, PlaybackEvidence

# Only broadcasts planned this recently are looked at (the index on planned_start): an
# order's expiry is its start plus ``command_expiry_s`` at most (minutes), so a day is
# ample even if that setting was larger before the restart.
LOOK_BACK = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class OwedOrder:
    """An immediate broadcast still in force, and the devices still owed it (-> ward)."""

    broadcast: Broadcast
    targets: dict[str, str | None]


def owed_orders(session: Session, now: datetime) -> list[OwedOrder]:
    """Every unexpired, uncancelled "now" with the devices that neither confirmed it
    nor reported its start, oldest first (broadcasts no device is owed are left out)."""
    broadcasts = list(
        session.scalars(
            select(Broadcast)
            .where(
                Broadcast.planned_start >= now - LOOK_BACK,
                Broadcast.immediate.is_(True),
                Broadcast.cancelled_at.is_(None),
                Broadcast.expires_at > now,
            )
            .order_by(Broadcast.planned_start, Broadcast.id)
        )
    )
    if not broadcasts:
        return []
    confirmed = exists().where(
        and_(
            PlaybackEvidence.broadcast_id == BroadcastTarget.broadcast_id,
            PlaybackEvidence.device_id == BroadcastTarget.device_id,
        )
    )
    rows = session.execute(
        select(BroadcastTarget.broadcast_id, BroadcastTarget.device_id, Device.ward_code)
        .join(Device, Device.id == BroadcastTarget.device_id)
        .where(
            BroadcastTarget.broadcast_id.in_([b.id for b in broadcasts]),
            BroadcastTarget.started_at.is_(None),
            ~confirmed,
        )
        .order_by(BroadcastTarget.broadcast_id, BroadcastTarget.device_id)
    )
    owed: dict[str, dict[str, str | None]] = {}
    for broadcast_id, device_id, ward_code in rows:
        owed.setdefault(broadcast_id, {})[device_id] = ward_code
    return [OwedOrder(b, owed[b.id]) for b in broadcasts if b.id in owed]
