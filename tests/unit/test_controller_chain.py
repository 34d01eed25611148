"""Device chains: gaps found and filled, bad links and reused numbers reported; plans kept."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from controller.db.models import DeviceChain, PlannedPlay, PlaybackEvidence, RejectedMessageLog
from controller.domain.broadcasts.service import BroadcastRequest
from controller.domain.evidence.chain import open_gaps
from tests.unit.controller_support import Harness, make_harness
from wardcast_protocol.envelope import seal_signed, signed_digest
from wardcast_protocol.messages import Kind, PlaybackEvent
from wardcast_protocol.topics import DeviceChannel, device_topic


@pytest.fixture
def h(tmp_path: Path) -> Iterator[Harness]:
    harness = make_harness(tmp_path)
    yield harness
    harness.runtime.stop()


def _chain_of(h: Harness, n: int, device_id: str = "to-1") -> list[tuple[PlaybackEvent, bytes]]:
    """n correctly chained events, as a device would make them: [(event, wire)]."""
    out, prev = [], ""
    for seq in range(1, n + 1):
        event = h.event(device_id, event_id=f"ev-{seq}", seq=seq, prev_hash=prev,
                        item_id=f"it-{seq}")  # fmt: skip
        h.plan(device_id, event.item_id)  # evidence answers a plan
        wire, signed = seal_signed(Kind.EVENT, event, device_id, h.device_keys[device_id],
                                   h.clock.now())  # fmt: skip
        out.append((event, wire))
        prev = signed_digest(signed)
    return out


def _send(h: Harness, wire: bytes, device_id: str = "to-1") -> None:
    h.broker.route(device_id, device_topic(device_id, DeviceChannel.EVENT), wire, False, None)


def test_a_gap_is_found_and_filled_when_the_missing_event_arrives(h: Harness) -> None:
    events = _chain_of(h, 3)
    _send(h, events[0][1])
    _send(h, events[2][1])
    with h.runtime.db.session() as session:
        (gap,) = open_gaps(session, "to-1")
        assert (gap.from_seq, gap.to_seq) == (2, 2)
        assert session.get_one(DeviceChain, "to-1").contiguous_seq == 1
    _send(h, events[1][1])
    with h.runtime.db.session() as session:
        assert open_gaps(session, "to-1") == []
        assert session.get_one(DeviceChain, "to-1").contiguous_seq == 3
        assert session.scalars(select(RejectedMessageLog)).all() == []


def test_a_link_that_does_not_match_is_reported(h: Harness) -> None:
    first = _chain_of(h, 1)[0]
    _send(h, first[1])
    bad = h.event("to-1", event_id="ev-2", seq=2, prev_hash="0" * 64, item_id="it-2")
    h.plan("to-1", "it-2")
    h.device_sends("to-1", DeviceChannel.EVENT, Kind.EVENT, bad)
    with h.runtime.db.session() as session:
        reasons = [r.reason for r in session.scalars(select(RejectedMessageLog))]
        assert reasons == ["chain_broken"]
        # Signed by the device: it is kept as what the device said, and flagged.
        assert len(session.scalars(select(PlaybackEvidence)).all()) == 2


def test_a_reused_sequence_number_is_refused_once_and_not_acked(h: Harness) -> None:
    _send(h, _chain_of(h, 1)[0][1])
    fork = h.event("to-1", event_id="ev-other", seq=1, item_id="it-x")
    for _ in range(3):
        h.device_sends("to-1", DeviceChannel.EVENT, Kind.EVENT, fork)
    with h.runtime.db.session() as session:
        assert len(session.scalars(select(PlaybackEvidence)).all()) == 1
        rejected = session.scalars(select(RejectedMessageLog)).all()
        assert [r.reason for r in rejected] == ["refused"]  # recorded once, not thrice
        assert "fork the chain" in rejected[0].detail
    acked = h.published("to-1", DeviceChannel.ACK)
    assert len(acked) == 1  # only the genuine ev-1


def test_every_planned_item_is_recorded_per_device(h: Harness) -> None:
    service = h.runtime.broadcasts
    later = service.schedule(
        BroadcastRequest("bul-1", ["to-1", "to-2"], h.clock.now() + timedelta(hours=1))
    )
    now = service.schedule(BroadcastRequest("bul-1", ["to-1"], None))
    with h.runtime.db.session() as session:
        rows = {(p.device_id, p.item_id): p for p in session.scalars(select(PlannedPlay))}
    assert set(rows) == {("to-1", later.id), ("to-2", later.id), ("to-1", now.id)}
    assert rows[("to-1", later.id)].planned_duration_s == 12.0
    assert rows[("to-1", now.id)].withdrawn_at is None


def test_a_gap_is_asked_for_again_and_not_too_often(h: Harness) -> None:
    from wardcast_protocol.messages import Command, ResendEvents

    events = _chain_of(h, 4)
    _send(h, events[0][1])
    _send(h, events[3][1])
    assert h.runtime.gaps.request() == 1
    assert h.runtime.gaps.request() == 0  # asked a moment ago: wait the interval
    (published,) = h.published("to-1", DeviceChannel.COMMAND)
    command = h.open(published.payload, Kind.COMMAND).body
    assert isinstance(command, Command) and isinstance(command.order, ResendEvents)
    assert (command.order.from_seq, command.order.to_seq) == (2, 3)
    h.clock._now += timedelta(seconds=61)
    assert h.runtime.gaps.request() == 1
    _send(h, events[1][1])
    _send(h, events[2][1])
    h.clock._now += timedelta(seconds=61)
    assert h.runtime.gaps.request() == 0  # filled: nothing to ask
