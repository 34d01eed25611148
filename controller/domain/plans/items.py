"""What a plan holds: its items, built from broadcasts, and the digest of its content.

Kept apart from :mod:`.service` (which compiles, versions and publishes plans): a
broadcast's item is built once and shared by every device it targets, and a plan's
digest dumps each item once, so that a ward's thousand plans cost little more than one.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, defer

from controller.audio.store import MediaUrls
from controller.db.among import among
from controller.db.models import Broadcast, BroadcastTarget, Device
from wardcast_protocol.messages import MediaRef, PlanItem, Priority, SourceLevel, Trigger
from wardcast_protocol.topics import is_valid_ward_code

MAX_PLAN_ITEMS = 5000


def media_ref(broadcast: Broadcast, urls: MediaUrls) -> MediaRef:
    """The media reference of a broadcast's bulletin, as agents fetch it (signed URL)."""
    media = broadcast.bulletin.media
    return MediaRef(
        sha256=media.sha256,
        url=urls.url(media.sha256, media.extension),
        duration_s=media.duration_s,
        size_bytes=media.size_bytes,
        content_type=media.content_type,
    )


def plan_item(broadcast: Broadcast, urls: MediaUrls) -> PlanItem:
    """One broadcast as a plan item (the same item on every targeted device)."""
    return PlanItem(
        item_id=broadcast.id,
        broadcast_id=broadcast.id,
        bulletin_id=broadcast.bulletin_id,
        title=broadcast.bulletin.title,
        media=media_ref(broadcast, urls),
        planned_start=broadcast.planned_start,
        priority=Priority(broadcast.priority),
        source_level=SourceLevel(broadcast.bulletin.source_level),
        trigger=Trigger(broadcast.trigger),
    )


def scheduled_items(
    session: Session, device_ids: Sequence[str], since: datetime, urls: MediaUrls
) -> dict[str, list[PlanItem]]:
    """Scheduled (not 'now') broadcasts targeting each of ``device_ids`` from ``since``
    on, read together: the devices' targets ahead, then their broadcasts, each once, and
    one item per broadcast shared by all its devices (a ward's thousand plans, each read
    alone, took ~1.7 s)."""
    # Each device's targets from ``since`` on, down (device, planned start): a seek a
    # device. Joined from the devices' targets without the time, SQLite read every
    # broadcast each device was ever sent, on every compile (docs/scale.md, "A ward
    # after months"); read from every broadcast ahead, a ward's compile read every other
    # ward's too (3,000 ahead elsewhere: 134 ms for 20 devices; migration 0022).
    pairs = session.execute(
        select(BroadcastTarget.device_id, BroadcastTarget.broadcast_id).where(
            among(session, BroadcastTarget.device_id, device_ids),
            BroadcastTarget.planned_start >= since,
        )
    ).all()
    if not pairs:
        return {}
    loaded = session.scalars(
        select(Broadcast)
        .where(
            # Its targets' time is its own and a "now"'s targets have none: only whether
            # it was cancelled is left to ask (its status moves on; a cancel removes it).
            among(session, Broadcast.id, {broadcast_id for _, broadcast_id in pairs}),
            Broadcast.cancelled_at.is_(None),
        )
        .options(defer(Broadcast.target_spec))  # a thousand ids each, never read here
    )
    items = {b.id: plan_item(b, urls) for b in loaded}
    found: dict[str, list[PlanItem]] = {}
    for device_id, broadcast_id in pairs:
        if broadcast_id in items:
            found.setdefault(device_id, []).append(items[broadcast_id])
    for listed in found.values():
        listed.sort(key=lambda i: (i.planned_start, i.item_id))
        del listed[MAX_PLAN_ITEMS:]
    return found


class PlanDigests:
    """Stable digests of plans' items (and ward: a moved device gets a new plan), for
    many plans sharing items: each item dumped once.

    The digest is SHA-256 of ``json.dumps([item dumps..., {"ward_code": ...}],
    sort_keys=True)``, as stored by earlier versions (a JSON list is its elements'
    texts joined by ", "), so an upgrade bumps no plan. Keyed by the item object: a
    refresh shares one object per broadcast or programme occurrence among devices.
    """

    def __init__(self) -> None:
        self._texts: dict[int, tuple[PlanItem, str]] = {}

    def _text(self, item: PlanItem) -> str:
        held = self._texts.get(id(item))
        if held is None or held[0] is not item:
            held = (item, json.dumps(item.model_dump(mode="json"), sort_keys=True))
            self._texts[id(item)] = held
        return held[1]

    def digest(self, items: Iterable[PlanItem], ward_code: str | None = None) -> str:
        """The digest of a plan of ``items`` for a device in ``ward_code``."""
        parts = [self._text(item) for item in items]
        if ward_code is not None:
            parts.append(json.dumps({"ward_code": ward_code}))
        return hashlib.sha256(("[" + ", ".join(parts) + "]").encode()).hexdigest()


def plan_ward(device: Device) -> str | None:
    """The ward a plan names, so the agent listens to its broadcast channel."""
    ward = device.ward_code
    return ward if ward is not None and is_valid_ward_code(ward) else None
