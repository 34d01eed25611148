"""Plans: what each device should play, compiled from the stored broadcasts.

A plan is the device's whole future, replaced as a unit and versioned, so an agent
that missed messages converges on the truth with the next one it receives.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from controller.db.models import Broadcast, BroadcastTarget, Device
from controller.settings import Settings
from wardcast_protocol.messages import MediaRef, Plan, PlanItem, Priority, SourceLevel, Trigger

MAX_PLAN_ITEMS = 5000


def media_ref(broadcast: Broadcast, base_url: str) -> MediaRef:
    """The media reference of a broadcast's bulletin, as agents fetch it."""
    media = broadcast.bulletin.media
    return MediaRef(
        sha256=media.sha256,
        url=f"{base_url}/media/{media.sha256}.{media.extension}",
        duration_s=media.duration_s,
        size_bytes=media.size_bytes,
        content_type=media.content_type,
    )


def plan_item(broadcast: Broadcast, base_url: str) -> PlanItem:
    """One broadcast as a plan item (the same item on every targeted device)."""
    return PlanItem(
        item_id=broadcast.id,
        broadcast_id=broadcast.id,
        bulletin_id=broadcast.bulletin_id,
        title=broadcast.bulletin.title,
        media=media_ref(broadcast, base_url),
        planned_start=broadcast.planned_start,
        priority=Priority(broadcast.priority),
        source_level=SourceLevel(broadcast.bulletin.source_level),
        trigger=Trigger(broadcast.trigger),
    )


def build_plan(session: Session, device: Device, now: datetime, settings: Settings) -> Plan:
    """The device's plan now: scheduled broadcasts from a little in the past onwards.

    Past items stay a few hours so an agent that was off sees them and records
    them as skipped, rather than their silently vanishing.
    """
    since = now - timedelta(hours=settings.plan_history_h)
    query = (
        select(Broadcast)
        .join(BroadcastTarget, BroadcastTarget.broadcast_id == Broadcast.id)
        .where(
            BroadcastTarget.device_id == device.id,
            Broadcast.immediate.is_(False),
            Broadcast.status == "scheduled",
            Broadcast.planned_start >= since,
        )
        .order_by(Broadcast.planned_start, Broadcast.id)
        .limit(MAX_PLAN_ITEMS)
    )
    base = settings.resolved_public_base_url
    items = tuple(plan_item(b, base) for b in session.scalars(query))
    return Plan(device_id=device.id, version=device.plan_version, generated_at=now, items=items)


class PlanPublisher:
    """Bumps plan versions and publishes plans, one device at a time, in order.

    The lock makes "bump version, build, publish" atomic within the controller, so
    a plan with a lower version can never be published after a higher one and end
    up as the retained state.
    """

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self.lock = threading.Lock()

    def bump(self, devices: Iterable[Device]) -> None:
        """Mark these devices' plans as changed (call inside the changing transaction)."""
        for device in devices:
            device.plan_version += 1

    def build(self, session: Session, device_ids: Iterable[str], now: datetime) -> list[Plan]:
        """Current plans of these devices."""
        plans = []
        for device_id in device_ids:
            device = session.get(Device, device_id)
            if device is not None:
                plans.append(build_plan(session, device, now, self._settings))
        return plans
