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

A cancel (a broadcast's, or an emergency's Cancel or Update) is a command too, and is
lost the same way: a device that got the order before the outage would sound a
cancelled evacuation order to its end. So :func:`owed_stops` lists every immediate
broadcast cancelled in the last day whose order may still be in a device's hands (its
expiry plus its clip's length not yet past), with each device that has not confirmed
it, and the starting controller sends them the stop again, in the cancel's words. A
device that does not hold the item ignores a stop for it.

A device's agent that restarts between receiving an order and storing it (a crash, a
power cut) loses it too: the broker had its acknowledgement. So when a device comes
back online, the controller sends it what it is owed, the same two lists for the
devices of one ingest batch that came back (``device_ids``): after a broker restart,
one look-up and one command per ward for each batch, not one per device.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, exists, select
from sqlalchemy.orm import Session

from controller.db.among import among
from controller.db.models import Broadcast, BroadcastTarget, Device, PlaybackEvidence
from wardcast_protocol.messages import Trigger

# Only broadcasts planned this recently are looked at (the index on planned_start): an
# order's expiry is its start plus ``command_expiry_s`` at most (minutes), so a day is
# ample even if that setting was larger before the restart.
LOOK_BACK = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class OwedOrder:
    """An immediate broadcast still in force, and the devices still owed it (-> ward)."""

    broadcast: Broadcast
    targets: dict[str, str | None]


def owed_orders(
    session: Session, now: datetime, device_ids: Collection[str] | None = None
) -> list[OwedOrder]:
    """Every unexpired, uncancelled "now" with the devices that neither confirmed it
    nor reported its start, oldest first (broadcasts no device is owed are left out);
    only what ``device_ids`` are owed, if given."""
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
    owed = _unconfirmed(session, broadcasts, started_too=False, device_ids=device_ids)
    return [OwedOrder(b, owed[b.id]) for b in broadcasts if b.id in owed]


@dataclass(frozen=True, slots=True)
class OwedStop:
    """A cancelled "now" that may still sound somewhere, the devices to tell again
    (-> ward), and the words of its cancel."""

    broadcast: Broadcast
    targets: dict[str, str | None]
    words: str


def owed_stops(
    session: Session, now: datetime, device_ids: Collection[str] | None = None
) -> list[OwedStop]:
    """Every immediate broadcast cancelled in the last day that a device may still be
    playing or hold queued (its order's expiry plus its clip's length after now), with
    the devices that did not confirm it, oldest first; only ``device_ids``, if given."""
    cancelled = [
        b
        for b in session.scalars(
            select(Broadcast)
            .where(
                Broadcast.planned_start >= now - LOOK_BACK,
                Broadcast.immediate.is_(True),
                Broadcast.cancelled_at.is_not(None),
                Broadcast.expires_at.is_not(None),
            )
            .order_by(Broadcast.planned_start, Broadcast.id)
        )
        if b.expires_at is not None and b.expires_at + _clip_length(b) > now
    ]
    # A device that said it started it is the one a stop matters most to.
    owed = _unconfirmed(session, cancelled, started_too=True, device_ids=device_ids)
    return [OwedStop(b, owed[b.id], cancel_words(b)) for b in cancelled if b.id in owed]


def _unconfirmed(
    session: Session,
    broadcasts: list[Broadcast],
    *,
    started_too: bool,
    device_ids: Collection[str] | None,
) -> dict[str, dict[str, str | None]]:
    """Broadcast id -> its targets with no evidence row (-> their ward), and, unless
    ``started_too``, no reported start either; only ``device_ids``, if given."""
    if not broadcasts:
        return {}
    confirmed = exists().where(
        and_(
            PlaybackEvidence.broadcast_id == BroadcastTarget.broadcast_id,
            PlaybackEvidence.device_id == BroadcastTarget.device_id,
        )
    )
    conditions = [BroadcastTarget.broadcast_id.in_([b.id for b in broadcasts]), ~confirmed]
    if not started_too:
        conditions.append(BroadcastTarget.started_at.is_(None))
    if device_ids is not None:
        conditions.append(among(session, BroadcastTarget.device_id, device_ids))
    rows = session.execute(
        select(BroadcastTarget.broadcast_id, BroadcastTarget.device_id, Device.ward_code)
        .join(Device, Device.id == BroadcastTarget.device_id)
        .where(*conditions)
        .order_by(BroadcastTarget.broadcast_id, BroadcastTarget.device_id)
    )
    owed: dict[str, dict[str, str | None]] = {}
    for broadcast_id, device_id, ward_code in rows:
        owed.setdefault(broadcast_id, {})[device_id] = ward_code
    return owed


def _clip_length(broadcast: Broadcast) -> timedelta:
    media = broadcast.bulletin.media
    return timedelta(seconds=media.duration_s if media is not None else 0.0)


def stop_words(by: str, reason: str) -> str:
    """A broadcast's cancel as its stop command says it: "cancelled by <who>: <why>"."""
    return (f"cancelled by {by}" + (f": {reason}" if reason else ""))[:300]


def cancel_words(broadcast: Broadcast) -> str:
    """The stop's reason as the cancel first sent it: an emergency's Cancel or Update
    in its own words, a broadcast's by :func:`stop_words`."""
    reason = broadcast.cancel_reason or ""
    if broadcast.trigger == Trigger.EMERGENCY.value:
        return (reason or "cancelled")[:300]
    return stop_words(broadcast.cancelled_by or "unknown", reason)
