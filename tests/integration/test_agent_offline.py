"""Offline first, on the real broker: a whole session plays on time with the broker down,
and its evidence arrives once the broker is back, each event exactly once, chains intact."""

from __future__ import annotations

import itertools
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from controller.messaging.broker import EmbeddedBroker
from controller.messaging.broker_host import free_port
from edge_agent.controller_stand_in import ControllerStandIn, plan_item
from tests.integration.test_agent_fleet import (
    MediaServer,
    controller_link,
    make_fleet,
    tone,
    wait_until,
)
from wardcast_protocol.envelope import Verified, signed_digest
from wardcast_protocol.messages import Outcome, PlaybackEvent

pytestmark = pytest.mark.integration

AGENTS = 3
CLIP_S = 1.0


def test_a_session_plays_on_time_with_the_broker_down_and_reports_after(
    tmp_path: Path,
) -> None:
    broker = EmbeddedBroker(free_port(), persistence=True, state_dir=tmp_path / "broker")
    broker.start()
    media = MediaServer()
    link = controller_link(broker.url)
    controller = ControllerStandIn(link, auto_ack=True)
    link.start()
    assert link.wait_connected(5)
    fleet, starts = make_fleet(tmp_path, broker.url, controller, AGENTS)
    fleet.start()
    try:
        assert fleet.wait_ready(10)
        clips = [
            media.add(f"s{n}.wav", tone(tmp_path / f"s{n}.wav", CLIP_S + n / 10), CLIP_S)
            for n in range(3)
        ]
        first = datetime.now(UTC) + timedelta(seconds=3)
        # Three consecutive items of one session, 0.2 s apart.
        session = [
            plan_item(f"s-{n}", clip, first + timedelta(seconds=n * (CLIP_S + 0.2)))
            for n, clip in enumerate(clips)
        ]
        session = [i.model_copy(update={"session_key": "w1/2026-11-22/morning"}) for i in session]
        for device_id in fleet.agents:
            controller.send_plan(device_id, session, version=1)

        def all_cached() -> bool:
            return fleet.call(lambda: [a.media.count() for a in fleet.agents.values()]) == [3] * 3

        assert wait_until(all_cached, 2.5), "plans and media did not arrive in time"
        broker.stop()  # before the first item: the whole session is played offline
        assert datetime.now(UTC) < first
        last_end = session[-1].planned_start + timedelta(seconds=CLIP_S)
        assert wait_until(lambda: len(starts) == AGENTS * 3, 8)
        assert wait_until(lambda: datetime.now(UTC) > last_end + timedelta(seconds=0.3), 3)
        assert controller.received() == []  # nothing could reach it

        def pending() -> list[int]:
            return fleet.call(lambda: [a.outbox.pending_count() for a in fleet.agents.values()])

        # The last event is written when the last clip ends; on a loaded machine that
        # can be a moment after the wall clock passes the planned end.
        assert wait_until(lambda: pending() == [3] * AGENTS, 5), pending()  # stored, waiting
        broker.start()  # same port, persisted sessions
        events = controller.wait_events(AGENTS * 3, timeout_s=20)

        planned = {i.item_id: i.planned_start for i in session}
        for device_id, item_id, at, _ in starts:
            lateness = (at - planned[item_id]).total_seconds()
            assert abs(lateness) < 0.3, f"{device_id} {item_id} {lateness:.3f} s"
        distinct = {e.event_id: e for e in events}
        assert len(distinct) == AGENTS * 3
        per_item = defaultdict(set)
        for event in distinct.values():
            per_item[(event.device_id, event.item_id)].add(event.event_id)
            assert event.outcome is Outcome.COMPLETED
            assert event.session_key == "w1/2026-11-22/morning"
            assert event.actual_start is not None
            assert abs((event.actual_start - event.planned_start).total_seconds()) < 0.3
            assert event.recorded_at < event.actual_start + timedelta(seconds=CLIP_S + 0.5)
        assert all(len(ids) == 1 for ids in per_item.values())  # each play exactly once
        assert len(per_item) == AGENTS * 3

        # Chains intact: seq 1..3, each prev_hash the digest of the one before.
        by_device: defaultdict[str, dict[int, Verified[PlaybackEvent]]] = defaultdict(dict)
        for verified in controller.events:
            by_device[verified.body.device_id][verified.body.seq] = verified
        for chain in by_device.values():
            assert sorted(chain) == [1, 2, 3]
            assert chain[1].body.prev_hash == ""
            for a, b in itertools.pairwise([chain[1], chain[2], chain[3]]):
                assert b.body.prev_hash == signed_digest(a.signed)

        def outboxes_empty() -> bool:
            counts = fleet.call(lambda: [a.outbox.pending_count() for a in fleet.agents.values()])
            return counts == [0] * AGENTS

        assert wait_until(outboxes_empty, 10)
        worst = max(abs((at - planned[i]).total_seconds()) for _, i, at, _ in starts)
        print(f"offline session: {len(starts)} starts, worst |lateness| {worst * 1000:.1f} ms")
    finally:
        fleet.stop()
        link.stop()
        media.close()
        broker.cleanup()
