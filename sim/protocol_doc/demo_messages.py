"""The demo keys, device and morning, and the messages the protocol examples are made of.

Everything here is fixed, so the examples in docs/protocol.md are reproducible byte for
byte (Ed25519 signatures are deterministic); the keys are public, for examples only and
never for a device. ``sealed_examples`` seals these messages, ``sections`` publishes the
keys so that a reader can verify the envelopes.
"""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

from wardcast_protocol.envelope import CONTROLLER_SENDER
from wardcast_protocol.messages import (
    MediaRef,
    PlanItem,
    PlaybackEvent,
    Priority,
    RelaySpec,
    SourceLevel,
    Trigger,
)
from wardcast_protocol.signing import SigningKey

DEMO_DEVICE = "hoaminh-tdp03"
"""The demo device: residential group (tổ dân phố) 3 of a ward."""


def demo_key(name: str) -> SigningKey:
    """A fixed, publicly known key for ``name``: for examples only, never for a device.

    Derived from the name so that the examples are reproducible byte for byte
    (Ed25519 signatures are deterministic).
    """
    seed = hashlib.sha256(f"wardcast demo key: {name}".encode()).digest()
    return SigningKey.from_b64(base64.b64encode(seed).decode("ascii"))


DEMO_KEYS: dict[str, SigningKey] = {
    name: demo_key(name) for name in (CONTROLLER_SENDER, DEMO_DEVICE)
}


def demo_public_key(sender: str) -> str | None:
    """Key lookup for ``open_envelope`` that knows only the demo senders."""
    key = DEMO_KEYS.get(sender)
    return key.public_key_b64 if key else None


# --- example messages -------------------------------------------------------------

# 05:00 in Asia/Ho_Chi_Minh (UTC+7) on the morning of the examples; stored as UTC.
MORNING = datetime(2026, 11, 22, 22, 0, tzinfo=UTC)


def at(minutes: float) -> datetime:
    """The examples' morning plus ``minutes``."""
    return MORNING + timedelta(minutes=minutes)


def _media(name: str, duration_s: float, size_bytes: int) -> MediaRef:
    sha = hashlib.sha256(name.encode()).hexdigest()
    return MediaRef(
        sha256=sha,
        url=f"http://controller:8000/media/{sha}.ogg",
        duration_s=duration_s,
        size_bytes=size_bytes,
    )


PROVINCIAL_NEWS = PlanItem(
    item_id="it-20261123-0500-tdp03",
    broadcast_id="bc-20261123-morning",
    bulletin_id="bl-2291",
    title="Bản tin Đài Phát thanh - Truyền hình thành phố",
    media=_media("provincial news", 900.0, 3_601_220),
    planned_start=at(0),
    priority=Priority.NORMAL,
    source_level=SourceLevel.PROVINCIAL,
    trigger=Trigger.PROGRAMME,
)
VACCINATION_NOTICE = PlanItem(
    item_id="it-20261123-0530-tdp03",
    broadcast_id="bc-20261123-morning",
    bulletin_id="bl-2304",
    title="Thông báo lịch tiêm chủng mở rộng tháng 12",
    media=_media("vaccination notice", 180.0, 722_914),
    planned_start=at(30),
    priority=Priority.PRIORITY,
    source_level=SourceLevel.COMMUNE,
    trigger=Trigger.PROGRAMME,
)
FLOOD_WARNING = PlanItem(
    item_id="it-emg-0007",
    broadcast_id="bc-emg-0007",
    bulletin_id="bl-emg-0007",
    title="Cảnh báo khẩn cấp: lũ trên sông Cu Đê, di dời ngay",
    media=_media("flood warning", 95.5, 381_904),
    planned_start=at(31),
    priority=Priority.EMERGENCY,
    source_level=SourceLevel.DISTRICT,
    trigger=Trigger.EMERGENCY,
)

VOV_RELAY = PlanItem(
    item_id="it-20261123-0600-tdp03-vov1",
    broadcast_id="bc-20261123-morning",
    title="Tiếp sóng Thời sự VOV1",
    media=_media("vov1 fallback: recorded morning news", 1800.0, 7_204_118),
    planned_start=at(60),
    priority=Priority.NORMAL,
    source_level=SourceLevel.CENTRAL,
    trigger=Trigger.PROGRAMME,
    relay=RelaySpec(
        url="https://stream.example.vn/vov1.mp3",
        station="VOV1",
        window_s=1800.0,
        prebuffer_s=5.0,
        silence_db=-50.0,
        dead_after_s=10.0,
    ),
    session_key="hoaminh/2026-11-23/morning",
)
"""A relay: ``media`` is the local fallback, played while the stream is dead or silent."""


def playback_event(seq: int, prev_hash: str, item: PlanItem, **fields: Any) -> PlaybackEvent:
    """The event of one play of ``item`` on the demo device, ``fields`` overriding."""
    values: dict[str, Any] = {
        "event_id": f"ev-{DEMO_DEVICE}-{seq:06d}",
        "device_id": DEMO_DEVICE,
        "seq": seq,
        "prev_hash": prev_hash,
        "item_id": item.item_id,
        "broadcast_id": item.broadcast_id,
        "bulletin_id": item.bulletin_id,
        "trigger": item.trigger,
        "priority": item.priority,
        "source_level": item.source_level,
        "media_sha256": item.media.sha256,
        "planned_start": item.planned_start,
        "planned_duration_s": item.media.duration_s,
        "session_key": item.session_key,
        "plan_version": 42,
        "amplifier_on": True,
        "volume": 80,
    }
    values.update(fields)
    return PlaybackEvent(**values)
