"""Ingest off the network thread: batches, one commit, acks after it, back-pressure."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

import pytest
from sqlalchemy import func, select

from controller.db.models import PlaybackEvidence
from controller.messaging.ingest import IngestQueue
from tests.unit.controller_support import Harness, make_harness
from wardcast_protocol.envelope import seal
from wardcast_protocol.messages import Availability, EventAck, Kind
from wardcast_protocol.subscriptions import ReceivedMessage
from wardcast_protocol.topics import DeviceChannel, device_topic


@pytest.fixture
def h(tmp_path: Path) -> Iterator[Harness]:
    harness = make_harness(tmp_path)
    harness.plan("to-1")
    harness.plan("to-2")
    yield harness
    harness.runtime.stop()


def _event_message(h: Harness, device_id: str, n: int) -> ReceivedMessage:
    body = h.event(device_id, event_id=f"ev-{n}", seq=n)
    payload = seal(Kind.EVENT, body, device_id, h.device_keys[device_id], h.clock.now())
    return ReceivedMessage(device_topic(device_id, DeviceChannel.EVENT), payload, False)


def _acks(h: Harness, device_id: str) -> list[EventAck]:
    acks = []
    for published in h.published(device_id, DeviceChannel.ACK):
        body = h.open(published.payload, Kind.ACK).body
        assert isinstance(body, EventAck)
        acks.append(body)
    return acks


def test_a_batch_is_stored_in_one_go_and_acked_once_per_device(h: Harness) -> None:
    batch = [_event_message(h, d, n) for n in (1, 2, 3) for d in ("to-1", "to-2")]
    h.runtime.bridge._store_batch(batch)
    with h.runtime.db.session() as session:
        assert session.scalar(select(func.count()).select_from(PlaybackEvidence)) == 6
    for device_id in ("to-1", "to-2"):
        (ack,) = _acks(h, device_id)
        assert ack.event_ids == ("ev-1", "ev-2", "ev-3")


def test_a_bad_message_in_a_batch_loses_none_of_the_others(h: Harness) -> None:
    garbage = ReceivedMessage(device_topic("to-1", DeviceChannel.EVENT), b"garbage", False)
    h.runtime.bridge._store_batch(
        [_event_message(h, "to-1", 1), garbage, _event_message(h, "to-1", 2)]
    )
    (ack,) = _acks(h, "to-1")
    assert ack.event_ids == ("ev-1", "ev-2")
    assert h.runtime.bridge.rejected == 1


def test_nothing_is_acked_when_the_commit_fails(
    h: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken_commit(self: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr("sqlalchemy.orm.Session.commit", broken_commit)
    h.runtime.bridge.ingest._run_batch([_event_message(h, "to-1", 1)])  # logged, not raised
    monkeypatch.undo()
    assert _acks(h, "to-1") == []
    with h.runtime.db.session() as session:
        assert session.scalar(select(func.count()).select_from(PlaybackEvidence)) == 0


def _availability(
    h: Harness, device_id: str, state: Literal["online", "offline"]
) -> ReceivedMessage:
    body = Availability(state=state)
    return h.received(device_id, DeviceChannel.AVAILABILITY, Kind.AVAILABILITY, body)


def test_a_full_queue_refuses_events_but_still_takes_state() -> None:
    seen: list[list[ReceivedMessage]] = []
    gate = threading.Event()

    def handle(batch: list[ReceivedMessage]) -> None:
        gate.wait(5)
        seen.append(batch)

    queue = IngestQueue(handle, max_pending=2, max_batch=100)
    queue.start()
    try:
        event = ReceivedMessage("wardcast/v1/device/to-1/event", b"e", False)
        # The first is taken by the worker (blocked on the gate); two more fill the queue.
        assert queue.submit(event)
        assert queue.wait_idle(0.01) is False
        accepted = [queue.submit(event) for _ in range(4)]
        state = ReceivedMessage("wardcast/v1/device/to-1/state", b"s", False)
        assert all(queue.submit(state, essential=True) for _ in range(6))  # up to the cap
        assert queue.submit(state, essential=True) is False  # 4 x max_pending: a flood
        gate.set()
        assert queue.wait_idle(5)
    finally:
        queue.stop()
    assert accepted.count(False) == 2 and queue.refused == 3
    assert sum(len(b) for b in seen) == 1 + 2 + 6  # everything accepted was handled


def test_the_worker_stores_what_the_network_thread_hands_it(h: Harness) -> None:
    bridge = h.runtime.bridge
    bridge.ingest.start()
    try:
        for n in (1, 2, 3):
            bridge.handle(_event_message(h, "to-1", n))
        bridge.handle(_availability(h, "to-1", "online"))
        assert bridge.ingest.wait_idle(10)
    finally:
        bridge.stop()
    assert sorted(i for a in _acks(h, "to-1") for i in a.event_ids) == ["ev-1", "ev-2", "ev-3"]
    assert bridge.stored_events == 3


def test_a_failing_message_sends_the_batch_again_one_by_one(h: Harness) -> None:
    fork = h.event("to-1", event_id="ev-fork", seq=1)  # a second, different seq 1
    payload = seal(Kind.EVENT, fork, "to-1", h.device_keys["to-1"], h.clock.now())
    forked = ReceivedMessage(device_topic("to-1", DeviceChannel.EVENT), payload, False)
    batch = [_event_message(h, "to-1", 1), forked, _event_message(h, "to-2", 1)]
    h.runtime.bridge._store_batch(batch)
    assert [a.event_ids for a in _acks(h, "to-1")] == [("ev-1",)]
    assert [a.event_ids for a in _acks(h, "to-2")] == [("ev-1",)]
    assert h.runtime.bridge.stored_events == 2 and h.runtime.bridge.rejected == 1
