"""Evidence only for what was planned; refusals kept as security records, acked, never lost."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from controller.db.models import Base, PlaybackEvidence, RejectedMessageLog, SecurityRecord
from controller.domain.broadcasts.service import BroadcastRequest
from controller.domain.evidence.chain import open_gaps
from controller.domain.evidence.security import list_security_records
from tests.unit.controller_support import Harness, make_harness
from wardcast_protocol.envelope import seal_signed, signed_digest
from wardcast_protocol.messages import EventAck, Kind, SecurityReport
from wardcast_protocol.signing import SigningKey
from wardcast_protocol.topics import DeviceChannel, device_topic


@pytest.fixture
def h(tmp_path: Path) -> Iterator[Harness]:
    harness = make_harness(tmp_path)
    yield harness
    harness.runtime.stop()


def _count(h: Harness, model: type[Base]) -> int:
    with h.runtime.db.session() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def _acks(h: Harness, device_id: str) -> list[EventAck]:
    acks = []
    for published in h.published(device_id, DeviceChannel.ACK):
        body = h.open(published.payload, Kind.ACK).body
        assert isinstance(body, EventAck)
        acks.append(body)
    return acks


def _records(h: Harness) -> list[SecurityRecord]:
    with h.runtime.db.session() as session:
        return list(list_security_records(session))


def _report(report_id: str = "sr-1", **fields: object) -> SecurityReport:
    values: dict[str, object] = {
        "report_id": report_id,
        "at": "2026-01-01T00:00:00Z",
        "reason": "not_addressed",
        "topic": device_topic("to-1", DeviceChannel.COMMAND),
        "detail": "command names ['to-2'], not this device",
        "command_id": "cmd-9",
        "item_id": "bc-9",
    }
    return SecurityReport.model_validate(values | fields)


def test_an_event_for_an_item_never_planned_is_a_security_record_not_evidence(
    h: Harness,
) -> None:
    event = h.event("to-1", item_id="bc-forged", broadcast_id="bc-forged")
    payload = h.device_sends("to-1", DeviceChannel.EVENT, Kind.EVENT, event)
    assert _count(h, PlaybackEvidence) == 0
    (record,) = _records(h)
    assert (record.origin, record.reason, record.device_id) == (
        "controller",
        "unplanned_item",
        "to-1",
    )
    assert (record.event_id, record.item_id, record.seq) == ("ev-1", "bc-forged", 1)
    assert "bc-forged" in record.detail and "refused as evidence" in record.detail
    # The device's own signed words are kept verbatim: attributable, and checkable.
    assert record.signed == json.loads(payload)["signed"]
    assert record.digest == signed_digest(record.signed)
    # Acknowledged as refused: the device forgets it; nothing is stored as evidence.
    assert [(a.event_ids, a.refused_event_ids) for a in _acks(h, "to-1")] == [((), ("ev-1",))]


def test_a_refused_event_sent_again_is_acked_again_and_recorded_once(h: Harness) -> None:
    event = h.event("to-1", item_id="bc-forged")
    for _ in range(3):
        h.device_sends("to-1", DeviceChannel.EVENT, Kind.EVENT, event)
    assert len(_records(h)) == 1
    assert [a.refused_event_ids for a in _acks(h, "to-1")] == [("ev-1",)] * 3
    assert _count(h, PlaybackEvidence) == 0


def test_an_item_planned_on_another_device_is_refused_for_this_one(h: Harness) -> None:
    broadcast = h.runtime.broadcasts.schedule(BroadcastRequest("bul-1", ["to-1"], None))
    for device_id in ("to-1", "to-2"):
        event = h.event(device_id, item_id=broadcast.id, broadcast_id=broadcast.id)
        h.device_sends(device_id, DeviceChannel.EVENT, Kind.EVENT, event)
    with h.runtime.db.session() as session:
        stored = [(r.device_id, r.item_id) for r in session.scalars(select(PlaybackEvidence))]
    assert stored == [("to-1", broadcast.id)]
    (record,) = _records(h)
    assert (record.device_id, record.reason, record.item_id) == (
        "to-2",
        "unplanned_item",
        broadcast.id,
    )
    assert _acks(h, "to-1")[0].event_ids == ("ev-1",)
    assert _acks(h, "to-2")[0].refused_event_ids == ("ev-1",)


def test_a_planned_item_claimed_for_another_broadcast_is_refused(h: Harness) -> None:
    h.plan("to-1", "it-7", broadcast_id="bc-7")
    event = h.event("to-1", item_id="it-7", broadcast_id="bc-other")
    h.device_sends("to-1", DeviceChannel.EVENT, Kind.EVENT, event)
    (record,) = _records(h)
    assert record.reason == "other_broadcast"
    assert "bc-7" in record.detail and "bc-other" in record.detail
    assert _count(h, PlaybackEvidence) == 0


def _chain(h: Harness, items: list[str]) -> list[bytes]:
    """Events seq 1..n for these items, chained as the device chains them."""
    wires, prev = [], ""
    for seq, item_id in enumerate(items, start=1):
        event = h.event("to-1", event_id=f"ev-{seq}", seq=seq, prev_hash=prev, item_id=item_id)
        wire, signed = seal_signed(Kind.EVENT, event, "to-1", h.device_keys["to-1"], h.clock.now())
        wires.append(wire)
        prev = signed_digest(signed)
    return wires


def _send(h: Harness, wire: bytes) -> None:
    h.broker.route("to-1", device_topic("to-1", DeviceChannel.EVENT), wire, False, None)


@pytest.mark.parametrize("order", [(0, 1, 2), (0, 2, 1)], ids=["in-order", "refused-last"])
def test_a_refused_event_keeps_the_chain_whole_and_is_never_asked_for(
    h: Harness, order: tuple[int, ...]
) -> None:
    h.plan("to-1", "it-1")
    h.plan("to-1", "it-3")
    wires = _chain(h, ["it-1", "it-forged", "it-3"])
    for index in order:
        _send(h, wires[index])
    with h.runtime.db.session() as session:
        assert open_gaps(session, "to-1") == []
        assert [r.seq for r in session.scalars(select(PlaybackEvidence))] == [1, 3]
        # No broken link either: seq 3 names the refused seq 2, which the controller holds.
        reasons = [r.reason for r in session.scalars(select(RejectedMessageLog))]
        assert reasons == []
    assert h.runtime.gaps.request() == 0
    assert h.published("to-1", DeviceChannel.COMMAND) == []


def test_a_refused_event_cannot_reuse_a_stored_sequence_number(h: Harness) -> None:
    h.plan("to-1")
    h.device_sends("to-1", DeviceChannel.EVENT, Kind.EVENT, h.event("to-1"))
    fork = h.event("to-1", event_id="ev-fork", item_id="bc-forged")
    h.device_sends("to-1", DeviceChannel.EVENT, Kind.EVENT, fork)
    assert _records(h) == []
    with h.runtime.db.session() as session:
        (rejected,) = session.scalars(select(RejectedMessageLog))
    assert rejected.reason == "refused" and "fork the chain" in rejected.detail


def test_a_devices_security_report_is_stored_once_and_acked(h: Harness) -> None:
    payload = b""
    for _ in range(2):
        payload = h.device_sends("to-1", DeviceChannel.SECURITY, Kind.SECURITY, _report())
    (record,) = _records(h)
    assert (record.origin, record.device_id, record.reason) == ("device", "to-1", "not_addressed")
    assert (record.report_id, record.command_id, record.item_id) == ("sr-1", "cmd-9", "bc-9")
    assert record.topic == device_topic("to-1", DeviceChannel.COMMAND)
    assert record.signed == json.loads(payload)["signed"]
    assert [a.report_ids for a in _acks(h, "to-1")] == [("sr-1",), ("sr-1",)]
    assert h.runtime.bridge.security_reports == 2


def test_a_report_not_signed_by_the_device_is_rejected_not_recorded(h: Harness) -> None:
    forger = SigningKey.generate()
    h.device_sends("to-1", DeviceChannel.SECURITY, Kind.SECURITY, _report(), key=forger)
    assert _records(h) == []
    assert _acks(h, "to-1") == []
    with h.runtime.db.session() as session:
        (rejected,) = session.scalars(select(RejectedMessageLog))
    assert rejected.reason == "bad_signature"


def test_security_records_list_newest_first_and_filter(h: Harness) -> None:
    h.device_sends("to-1", DeviceChannel.SECURITY, Kind.SECURITY, _report("sr-1"))
    h.device_sends("to-2", DeviceChannel.SECURITY, Kind.SECURITY, _report("sr-2"))
    h.device_sends("to-2", DeviceChannel.EVENT, Kind.EVENT, h.event("to-2", item_id="x"))
    with h.runtime.db.session() as session:
        everything = [(r.device_id, r.origin) for r in list_security_records(session)]
        mine = [r.report_id for r in list_security_records(session, device_id="to-2")]
        refused = list_security_records(session, origin="controller")
        assert [r.event_id for r in refused] == ["ev-1"]
    assert everything == [("to-2", "controller"), ("to-2", "device"), ("to-1", "device")]
    assert mine == [None, "sr-2"]
