"""Broadcasts (phát sóng): a bulletin to chosen devices at a planned time, or now."""

from __future__ import annotations

import logging
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import cast

from sqlalchemy import Table, insert, select
from sqlalchemy.orm import Session

from controller.db.models import Broadcast, BroadcastTarget, PlaybackEvidence, new_id
from controller.db.session import Database
from controller.domain.actors import SYSTEM, Actor
from controller.domain.broadcasts.access import check_cancel, check_schedule
from controller.domain.broadcasts.milestones import mark_cancelled
from controller.domain.broadcasts.progress import progress_of
from controller.domain.broadcasts.resend import owed_orders, owed_stops, stop_words
from controller.domain.broadcasts.states import BroadcastStatus, TargetState
from controller.domain.broadcasts.targets import TargetSpec, resolve_targets
from controller.domain.content.bulletins import get_bulletin
from controller.domain.content.workflow import require_airable
from controller.domain.errors import Conflict, InvalidInput, NotFound
from controller.domain.plans.items import plan_item
from controller.domain.plans.planned import record_commands
from controller.domain.plans.service import PlanService
from controller.domain.ports import Outbound
from controller.settings import Settings
from wardcast_protocol.clock import Clock
from wardcast_protocol.messages import PlayNow, Priority, StopItem, Trigger

log = logging.getLogger(__name__)

# A start a second in the past is a slow form, not a mistake.
PAST_TOLERANCE = timedelta(seconds=2)
MAX_AHEAD = timedelta(days=366)
# A broadcast due within this is stopped by command when cancelled, not only dropped
# from the plan: the plan might arrive after the start.
STOP_LEAD = timedelta(seconds=60)
CANCELLABLE = frozenset({BroadcastStatus.SCHEDULED, BroadcastStatus.SENT, BroadcastStatus.PLAYING})
UNCONFIRMED = frozenset(
    {
        TargetState.SCHEDULED,
        TargetState.SENT,
        TargetState.RECEIVED,
        TargetState.PLAYING,
        TargetState.AWAITING,
    }
)


@dataclass(frozen=True)
class BroadcastRequest:
    """An officer's request to broadcast a bulletin."""

    bulletin_id: str
    device_ids: Sequence[str]
    start_at: datetime | None = None  # None: now
    priority: Priority | None = None  # None: the bulletin's own priority
    created_by: str = ""
    # Places as the officer named them; None: just ``device_ids``.
    target: TargetSpec | None = None


class BroadcastService:
    """Schedules broadcasts and tells the devices, after the database has them."""

    def __init__(
        self,
        db: Database,
        settings: Settings,
        plans: PlanService,
        outbound: Outbound,
        clock: Clock,
    ) -> None:
        self._db = db
        self._settings = settings
        self._plans = plans
        self._outbound = outbound
        self._clock = clock

    def schedule(self, request: BroadcastRequest, actor: Actor = SYSTEM) -> Broadcast:
        """Store the broadcast, then publish plans or send 'play now' commands.

        Devices are told only after the commit: a device never plays something the
        controller could lose. ``actor`` must be an officer of every target's ward
        (the system, for emergencies, which check their sender themselves).
        The broadcast comes back detached, its columns as committed; its targets are
        read in a session (``progress.progress_of``), not built here for a caller that
        rarely wants them while a thousand devices start.
        """
        now = self._clock.now()
        start = request.start_at
        if start is not None:
            if start.tzinfo is None:
                raise InvalidInput(
                    "start_at needs a time zone (e.g. 2026-11-22T05:30:00+07:00)",
                    code="broadcast.time_without_zone",
                    field="start",
                )
            if start < now - PAST_TOLERANCE:
                raise InvalidInput(
                    f"the broadcast time {start.isoformat()} is in the past",
                    code="broadcast.past_time",
                    field="start",
                )
            if start > now + MAX_AHEAD:
                raise InvalidInput(
                    "the broadcast time is more than a year ahead",
                    code="broadcast.too_far_ahead",
                    field="start",
                )
        immediate = start is None
        # A "now" changes no plan, so it waits for no one compiling plans (commanding).
        transaction = self._plans.commanding() if immediate else self._plans.changing()
        with transaction as change:
            session = change.session
            bulletin = get_bulletin(session, request.bulletin_id)
            spec = request.target or TargetSpec(device_ids=tuple(request.device_ids))
            devices = resolve_targets(session, spec, actor)
            check_schedule(actor, bulletin, devices)
            require_airable(bulletin, now if start is None else start)
            priority = request.priority or Priority(bulletin.priority)
            trigger = Trigger.EMERGENCY if priority is Priority.EMERGENCY else Trigger.MANUAL
            broadcast = Broadcast(
                id=new_id("bc"),
                bulletin=bulletin,
                bulletin_id=bulletin.id,
                trigger=trigger.value,
                priority=priority.value,
                # UTC, as the column hands it back (the log and the caller read it).
                planned_start=now if start is None else start.astimezone(UTC),
                immediate=immediate,
                expires_at=order_expiry(now, self._settings.command_expiry_s, bulletin.valid_until)
                if immediate
                else None,
                status="sent" if immediate else "scheduled",
                created_at=now,
                created_by=request.created_by,
                target_spec=spec.as_record(),
            )
            session.add(broadcast)
            session.flush()
            ahead = None if immediate else broadcast.planned_start
            # Its targets (and, for a "now", its planned plays) as one multi-row INSERT
            # each, not an ORM object per device: a thousand loudspeakers wait on this.
            session.execute(
                insert(cast(Table, BroadcastTarget.__table__)),  # not the ORM's slow bulk path
                [
                    # A scheduled one's time, by which a compile finds it ahead.
                    {"broadcast_id": broadcast.id, "device_id": d.id, "planned_start": ahead}
                    for d in devices
                ],
            )
            if immediate:
                # "Now" is a command, not a plan change: recorded as planned per device,
                # sent once the commit has it.
                item = plan_item(broadcast, self._plans.media_urls(now))
                record_commands(session, devices, item, now)
                targets = {device.id: device.ward_code for device in devices}
                expires = broadcast.expires_at or now
                # One signed command per listening ward (naming its devices), not one
                # per device: O(wards) signatures for a thousand loudspeakers.
                change.after_commit(
                    lambda: self._outbound.send_order(targets, PlayNow(item=item), now, expires)
                )
            else:
                change.recompile(d.id for d in devices)
        log.info(
            "broadcast %s of %s to %d devices %s",
            broadcast.id,
            bulletin.id,
            len(devices),
            "now" if immediate else f"at {broadcast.planned_start.isoformat()}",
        )
        return broadcast

    def cancel(self, broadcast_id: str, actor: Actor = SYSTEM, reason: str = "") -> Broadcast:
        """Cancel a broadcast not yet over; devices drop it, or stop it if it sounds.

        The plans are recompiled without it (through ``PlanService.changing``, so the
        devices are told after the commit), and a device that may already be playing it
        gets a stop command. What already played stays: evidence is never withdrawn,
        and a device stopped mid-play confirms a partial play in the cancel's words.
        An emergency's broadcast is cancelled by a CAP Cancel, which also retires it.
        """
        reason = " ".join(reason.split())[:200]
        with self._plans.changing() as change:
            session, now = change.session, change.now
            broadcast = get_broadcast(session, broadcast_id)
            check_cancel(session, actor, broadcast)
            if broadcast.trigger == Trigger.EMERGENCY.value:
                raise Conflict(
                    f"broadcast {broadcast.id} is an emergency's: cancel it with an emergency "
                    "Cancel message that references it (POST /api/v1/emergencies, msg_type Cancel)",
                    code="broadcast.cancel_emergency",
                )
            current = progress_of(session, broadcast, now)
            if current.status not in CANCELLABLE:
                raise Conflict(
                    f"broadcast {broadcast.id} is {current.status}: nothing to cancel",
                    code="broadcast.cancel_finished",
                    params={"status": str(current.status)},
                )
            mark_cancelled(session, broadcast.id, actor.name, now, reason)
            # A device that may be sounding it (or about to) is told to stop now; the
            # rest simply find it gone from their next plan.
            stop_from = now + STOP_LEAD
            owing = {t.device_id: t.ward_code for t in current.targets if t.state in UNCONFIRMED}
            stopping = owing if broadcast.immediate or broadcast.planned_start <= stop_from else {}
            expires = now + timedelta(seconds=self._settings.command_expiry_s)
            stop = StopItem(item_id=broadcast.id, reason=stop_words(actor.name, reason))
            if stopping:
                # One signed stop per listening ward, naming its devices (as the "now"
                # went), one per device not listening: O(wards) signatures, not O(devices).
                change.after_commit(lambda: self._outbound.send_order(stopping, stop, now, expires))
            if not broadcast.immediate:
                change.recompile(current.device_ids)
        log.info(
            "broadcast %s cancelled by %s (%d devices told to stop)",
            broadcast_id,
            actor.name,
            len(stopping),
        )
        return broadcast

    def resend_owed(self, device_ids: Collection[str] | None = None) -> int:
        """Send again what a stopped controller's link may have lost (the broker was
        down): every "now" still in force, and the stop of every cancelled one a device
        may still hold (``resend``); returns the devices sent to. ``device_ids``: only
        what these devices are owed (they came back online: an agent may have restarted
        between receiving an order and storing it).
        """
        now = self._clock.now()
        return self._resend_plays(now, device_ids) + self._resend_stops(now, device_ids)

    def _resend_plays(self, now: datetime, device_ids: Collection[str] | None) -> int:
        """Each "now" still in force to the devices that neither confirmed nor started
        it (``resend.owed_orders``): the stored order as issued (same item, issue time
        and expiry, never extended) in a new command; a device that already has the
        item ignores it by the item's id."""
        sends: list[tuple[dict[str, str | None], PlayNow, datetime, datetime]] = []
        with self._db.session() as session:
            urls = self._plans.media_urls(now)  # signed now: the clip is fetched from now
            for owed in owed_orders(session, now, device_ids):
                broadcast = owed.broadcast
                assert broadcast.expires_at is not None  # owed_orders: unexpired ones only
                item = plan_item(broadcast, urls)
                sends.append(
                    (owed.targets, PlayNow(item=item), broadcast.created_at, broadcast.expires_at)
                )
        for targets, order, issued_at, expires_at in sends:
            self._outbound.send_order(targets, order, issued_at, expires_at)
            log.log(
                logging.INFO if device_ids is not None else logging.WARNING,
                "order %s sent again to %d devices that had not confirmed it (expires %s)",
                order.item.item_id,
                len(targets),
                expires_at.isoformat(),
            )
        return sum(len(targets) for targets, *_ in sends)

    def _resend_stops(self, now: datetime, device_ids: Collection[str] | None) -> int:
        """Send again the stop of every cancelled "now" a device may still hold
        (``resend.owed_stops``); returns the devices told."""
        with self._db.session() as session:
            stops = [
                (s.targets, StopItem(item_id=s.broadcast.id, reason=s.words))
                for s in owed_stops(session, now, device_ids)
            ]
        expires = now + timedelta(seconds=self._settings.command_expiry_s)
        for targets, stop in stops:
            self._outbound.send_order(targets, stop, now, expires)
            log.log(
                logging.INFO if device_ids is not None else logging.WARNING,
                "stop of cancelled %s sent again to %d devices that had not confirmed it",
                stop.item_id,
                len(targets),
            )
        return sum(len(targets) for targets, _ in stops)


def order_expiry(now: datetime, expiry_s: int, valid_until: datetime | None) -> datetime:
    """When a "now" stops being worth playing: the command's own lifetime, cut short by
    the bulletin's validity (an emergency's CAP ``expires``). The agents refuse a
    command past this instant, so an order held back by a broker outage is not
    sounded stale when the broker returns after it."""
    expires = now + timedelta(seconds=expiry_s)
    return expires if valid_until is None else min(expires, valid_until.astimezone(UTC))


def get_broadcast(session: Session, broadcast_id: str) -> Broadcast:
    """The broadcast, or NotFound."""
    broadcast = session.get(Broadcast, broadcast_id)
    if broadcast is None:
        raise NotFound(
            f"no broadcast {broadcast_id!r}", code="broadcast.unknown", params={"id": broadcast_id}
        )
    return broadcast


def list_broadcasts(session: Session, limit: int = 100, offset: int = 0) -> Sequence[Broadcast]:
    """Newest planned first."""
    query = select(Broadcast).order_by(Broadcast.planned_start.desc()).limit(limit).offset(offset)
    return session.scalars(query).all()


def confirmations(session: Session, broadcast_id: str) -> dict[str, PlaybackEvidence]:
    """The evidence received so far for a broadcast, by device."""
    rows = session.scalars(
        select(PlaybackEvidence).where(PlaybackEvidence.broadcast_id == broadcast_id)
    )
    return {row.device_id: row for row in rows}
