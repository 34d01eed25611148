"""The bridge: device payloads verified, evidence stored once, acked after storing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import NoReturn

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from controller.db.models import Base, Device, PlaybackEvidence, RejectedMessageLog
from controller.domain.broadcasts.service import BroadcastRequest
from controller.domain.evidence import service as evidence_domain
from tests.unit.controller_support import Harness, make_harness
from wardcast_protocol.messages import Availability, DeviceState, EventAck, Kind
from wardcast_protocol.signing import SigningKey
from wardcast_protocol.topics import DeviceChannel, device_topic


@pytest.fixture
def h(tmp_path: Path) -> Iterator[Harness]:
    harness = make_harness(tmp_path)
    # Evidence answers a plan: both devices were sent the item their events report.
    harness.plan("to-1")
    harness.plan("to-2")
    yield harness
    harness.runtime.stop()


def _count(h: Harness, model: type[Base]) -> int:
    with h.runtime.db.session() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def _rejections(h: Harness) -> list[RejectedMessageLog]:
    with h.runtime.db.session() as session:
        return list(session.scalars(select(RejectedMessageLog)))


def _acked_ids(h: Harness, device_id: str) -> list[str]:
    ids: list[str] = []
    for published in h.published(device_id, DeviceChannel.ACK):
        body = h.open(published.payload, Kind.ACK).body
        assert isinstance(body, EventAck)
        ids.extend(body.event_ids)
    return ids


def test_a_signed_event_is_stored_with_its_signature_and_acked(h: Harness) -> None:
    h.device_sends("to-1", DeviceChannel.EVENT, Kind.EVENT, h.event("to-1"))
    with h.runtime.db.session() as session:
        (row,) = session.scalars(select(PlaybackEvidence))
        assert (row.device_id, row.event_id, row.outcome) == ("to-1", "ev-1", "completed")
        assert row.actual_start is not None
        assert row.actual_start - row.planned_start == timedelta(milliseconds=40)
        assert json.loads(row.signed)["sender"] == "to-1"
        assert row.sig
    assert _acked_ids(h, "to-1") == ["ev-1"]


def test_repeated_delivery_is_stored_once_and_acked_each_time(h: Harness) -> None:
    event = h.event("to-1")
    for _ in range(3):
        h.device_sends("to-1", DeviceChannel.EVENT, Kind.EVENT, event)
    assert _count(h, PlaybackEvidence) == 1
    assert _acked_ids(h, "to-1") == ["ev-1"] * 3


def test_the_same_event_id_from_two_devices_is_two_rows(h: Harness) -> None:
    h.device_sends("to-1", DeviceChannel.EVENT, Kind.EVENT, h.event("to-1"))
    h.device_sends("to-2", DeviceChannel.EVENT, Kind.EVENT, h.event("to-2"))
    assert _count(h, PlaybackEvidence) == 2


def _raw(h: Harness, device_id: str, payload: bytes) -> None:
    h.broker.route(device_id, device_topic(device_id, DeviceChannel.EVENT), payload, False, None)


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"not json at all \xff", "malformed"),
        (b'{"outcome": "completed"}', "unsigned"),
        (b"[1,2,3]", "unsigned"),
        (b'{"signed": 5, "sig": "x"}', "malformed"),
        (b"x" * 100_000, "too_large"),
    ],
)
def test_garbage_is_rejected_with_its_reason_and_never_acked(
    h: Harness, payload: bytes, reason: str
) -> None:
    _raw(h, "to-1", payload)
    assert _count(h, PlaybackEvidence) == 0
    (rejected,) = _rejections(h)
    assert rejected.reason == reason
    assert rejected.device_id == "to-1"
    assert rejected.payload_size == len(payload)
    assert h.published("to-1", DeviceChannel.ACK) == []


def test_an_event_signed_with_another_key_is_refused(h: Harness) -> None:
    forger = SigningKey.generate()
    h.device_sends("to-1", DeviceChannel.EVENT, Kind.EVENT, h.event("to-1"), key=forger)
    assert _count(h, PlaybackEvidence) == 0
    assert [r.reason for r in _rejections(h)] == ["bad_signature"]
    assert h.published("to-1", DeviceChannel.ACK) == []


def test_a_tampered_event_is_refused(h: Harness) -> None:
    payload = h.device_sends("to-1", DeviceChannel.EVENT, Kind.EVENT, h.event("to-1"))
    assert _count(h, PlaybackEvidence) == 1
    wire = json.loads(payload)
    wire["signed"] = wire["signed"].replace('"ev-1"', '"ev-2"').replace("12.0", "99.0")
    _raw(h, "to-1", json.dumps(wire).encode())
    assert _count(h, PlaybackEvidence) == 1
    assert [r.reason for r in _rejections(h)] == ["bad_signature"]


def test_an_unregistered_device_is_refused(h: Harness) -> None:
    stranger = SigningKey.generate()
    h.device_keys["ghost"] = stranger
    h.device_sends("ghost", DeviceChannel.EVENT, Kind.EVENT, h.event("ghost"))
    assert [r.reason for r in _rejections(h)] == ["unknown_sender"]


def test_one_device_cannot_report_for_another(h: Harness) -> None:
    # to-2 signs with its own key but names to-1 inside the event.
    h.device_sends("to-2", DeviceChannel.EVENT, Kind.EVENT, h.event("to-1"))
    assert _count(h, PlaybackEvidence) == 0
    assert [r.reason for r in _rejections(h)] == ["refused"]


def test_a_storage_failure_is_not_acked_so_the_device_resends(
    h: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> NoReturn:
        raise OperationalError("INSERT", {}, Exception("database or disk is full"))

    monkeypatch.setattr(evidence_domain, "record_event", broken)
    h.device_sends("to-1", DeviceChannel.EVENT, Kind.EVENT, h.event("to-1"))
    assert h.published("to-1", DeviceChannel.ACK) == []
    monkeypatch.undo()
    h.device_sends("to-1", DeviceChannel.EVENT, Kind.EVENT, h.event("to-1"))
    assert _count(h, PlaybackEvidence) == 1
    assert _acked_ids(h, "to-1") == ["ev-1"]


def test_coming_online_republishes_the_plan(h: Harness) -> None:
    start = h.clock.now() + timedelta(hours=1)
    h.runtime.broadcasts.schedule(BroadcastRequest("bul-1", ["to-1"], start))
    assert len(h.published("to-1", DeviceChannel.PLAN)) == 1
    h.device_sends(
        "to-1", DeviceChannel.AVAILABILITY, Kind.AVAILABILITY, Availability(state="online")
    )
    assert len(h.published("to-1", DeviceChannel.PLAN)) == 2
    with h.runtime.db.session() as session:
        device = session.get(Device, "to-1")
        assert device is not None and device.online


def test_device_state_records_plan_version_and_clock_offset(h: Harness) -> None:
    state = DeviceState(
        plan_version=3, device_time=h.clock.now() + timedelta(seconds=2.5), pending_events=4
    )
    h.device_sends("to-1", DeviceChannel.STATE, Kind.STATE, state)
    with h.runtime.db.session() as session:
        device = session.get(Device, "to-1")
        assert device is not None
        assert device.reported_plan_version == 3
        assert device.clock_offset_s == pytest.approx(2.5)
        assert device.pending_events == 4
