"""Shared scene for the bundle tests (no tests here): two wards, three devices, real chains.

Ward A (26734, Phường Bến Nghé) has to-1 (group 01) and to-2 (group 02); ward B has
to-3. The period is one day in Vietnam's calendar. to-1 reports once before the
period (its anchor), four times in it and once after; to-2 four times in it; to-3
three times in ward B. Events travel through the fake broker, so the controller
stores them exactly as it stores a real device's.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from controller.domain.broadcasts.service import BroadcastRequest
from controller.domain.devices.service import register_device
from controller.domain.evidence.bundles.build import build_bundle, write_bundle
from controller.domain.places import service as places
from tests.unit.controller_support import Harness, make_harness
from wardcast_protocol.envelope import seal_signed, signed_digest
from wardcast_protocol.messages import Kind
from wardcast_protocol.signing import SigningKey
from wardcast_protocol.topics import DeviceChannel, device_topic

WARD_A, WARD_B = "26734", "26737"
DAY_START = datetime(2026, 3, 1, 17, 0, tzinfo=UTC)  # 2026-03-02 00:00 in Asia/Ho_Chi_Minh
DAY_END = DAY_START + timedelta(days=1)


@dataclass
class Chains:
    """Each device's next seq and last digest: events made as a device makes them."""

    h: Harness
    next_seq: dict[str, int] = field(default_factory=dict)
    last_digest: dict[str, str] = field(default_factory=dict)

    def make(
        self, device_id: str, planned: datetime, key: SigningKey | None = None, **changes: Any
    ) -> tuple[bytes, str]:
        """Seal the device's next event, planned at ``planned``; returns (wire, signed)."""
        seq = self.next_seq.get(device_id, 1)
        self.h.clock._now = planned + timedelta(seconds=30)
        fields: dict[str, Any] = {
            "event_id": f"{device_id}-ev-{seq}",
            "seq": seq,
            "prev_hash": self.last_digest.get(device_id, ""),
            "item_id": f"{device_id}-it-{seq}",
        }
        fields.update(changes)
        event = self.h.event(device_id, **fields)
        # Evidence answers a plan: the controller planned each item the device plays.
        self.h.plan(device_id, event.item_id, event.broadcast_id, event.planned_start)
        signer = key or self.h.device_keys[device_id]
        wire, signed = seal_signed(Kind.EVENT, event, device_id, signer, self.h.clock.now())
        self.next_seq[device_id] = seq + 1
        self.last_digest[device_id] = signed_digest(signed)
        return wire, signed

    def send(self, device_id: str, planned: datetime, **changes: Any) -> str:
        """Make the next event and deliver it to the controller; returns its signed text."""
        wire, signed = self.make(device_id, planned, **changes)
        topic = device_topic(device_id, DeviceChannel.EVENT)
        self.h.broker.route(device_id, topic, wire, False, None)
        return signed


# The scene fixture: the harness, and the chains its devices' events were made on.
Scene = tuple[Harness, Chains]


def setup_places(h: Harness) -> None:
    """Two wards of one district; to-1, to-2 in ward A, a third device to-3 in ward B."""
    h.device_keys["to-3"] = SigningKey.generate()
    with h.runtime.db.session() as session:
        places.upsert_province(session, "79", "Thành phố Hồ Chí Minh")
        places.upsert_district(session, "760", "79", "Quận 1")
        places.upsert_ward(session, WARD_A, "760", "Phường Bến Nghé", "Asia/Ho_Chi_Minh")
        places.upsert_ward(session, WARD_B, "760", "Phường Bến Thành", "Asia/Ho_Chi_Minh")
        for ward in (WARD_A, WARD_B):
            for code in ("01", "02"):
                places.upsert_group(session, ward, code, f"Tổ dân phố {code}")
        key = h.device_keys["to-3"].public_key_b64
        register_device(session, "to-3", "to-3", key, h.clock.now())
        session.flush()
        places.place_device(session, "to-1", WARD_A, "01")
        places.place_device(session, "to-2", WARD_A, "02")
        places.place_device(session, "to-3", WARD_B, "01")


def populate(h: Harness) -> Chains:
    """The day's events (see the module docstring) and one planned play nobody confirmed."""
    chains = Chains(h)
    hour = timedelta(hours=1)
    chains.send("to-1", DAY_START - hour)
    for n in range(1, 5):
        chains.send("to-1", DAY_START + n * hour)
        chains.send("to-2", DAY_START + n * hour + timedelta(minutes=5))
    for n in range(1, 4):
        chains.send("to-3", DAY_START + n * hour)
    chains.send("to-1", DAY_END + hour)
    h.clock._now = DAY_START + 6 * hour
    h.runtime.broadcasts.schedule(BroadcastRequest("bul-1", ["to-2"], DAY_START + 7 * hour))
    h.clock._now = DAY_END + 2 * hour
    return chains


def bundle_of(
    h: Harness, ward: str = WARD_A, start: datetime = DAY_START, end: datetime = DAY_END
) -> dict[str, Any]:
    """A bundle built the way the controller builds it, signed with its key."""
    with h.runtime.db.session() as session:
        return build_bundle(session, ward, start, end, h.runtime.key, now=h.clock.now())


def write(path: Path, bundle: dict[str, Any]) -> Path:
    """The bundle as a file."""
    write_bundle(bundle, path)
    return path


def rewrite(path: Path, bundle: dict[str, Any]) -> Path:
    """A bundle edited by hand, written back as is (digest and signature untouched)."""
    path.write_text(json.dumps(bundle, ensure_ascii=False), encoding="utf-8")
    return path


@pytest.fixture
def scene(tmp_path: Path) -> Iterator[Scene]:
    """A harness with places and the day's events: (harness, chains)."""
    h = make_harness(tmp_path / "controller", start=DAY_START - timedelta(hours=3))
    try:
        setup_places(h)
        chains = populate(h)
        yield h, chains
    finally:
        h.runtime.stop()
