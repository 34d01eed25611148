"""Relays on a FakeClock with scripted live streams: books, fallback, outcomes, preemption.

The agent's relay sink and player count what really sounded (``CountingSink``,
``PlayLog``), and ``books_agree`` holds the evidence's seconds to those counts.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from edge_agent.air_check import CountingSink, PlayLog
from edge_agent.controller_stand_in import relay_item
from edge_agent.core import EdgeAgent
from edge_agent.fake_media import FakeStreamOpener, Segment
from edge_agent.simulated_player import SimulatedPlayer
from tests.unit.test_agent_support import DEVICE, Rig, settle
from wardcast_protocol.clock import FakeClock
from wardcast_protocol.fake_transport import FakeBroker
from wardcast_protocol.messages import Outcome, PlanItem, PlaybackEvent, Priority

URL = "http://radio.test/vov1"
TOLERANCE_S = 0.25  # books against counted samples


@dataclass
class RelayRig(Rig):
    """A ``Rig`` whose agent's relay sink and player count what they played."""

    sink: CountingSink | None = None
    log: PlayLog | None = None
    plays: list[tuple[str, datetime]] = field(default_factory=list)

    async def start_agent(self, settle_s: float = 0.0, **overrides: Any) -> EdgeAgent:
        config = self.config(**overrides)
        self.sink = CountingSink(self.clock, config.relay_rate_hz)
        player = SimulatedPlayer(self.clock, self.hardware, settle_s=settle_s)
        self.log = PlayLog(player, self.clock)
        agent = EdgeAgent(
            config,
            transport=self.broker.link(DEVICE),
            player=self.log,
            fetcher=self.fetcher,
            clock=self.clock,
            hardware=self.hardware,
            device_key=self.device_key,
            stream_opener=self.opener,
            relay_sink=self.sink,
        )
        agent.on_playback_started = lambda item_id, at: self.started.append((item_id, at))
        self.agents.append(agent)
        await agent.start()
        await settle()
        return agent

    def heard_s(self, item: PlanItem) -> float:
        """Stream sound the loudspeaker got within ``item``'s window."""
        assert self.sink is not None and item.relay is not None
        end = item.planned_start + timedelta(seconds=item.relay.window_s)
        return self.sink.heard_s(at_least_db=item.relay.silence_db, until=end)

    def fallback_played_s(self) -> float:
        """Seconds of the fallback (the rig's media) the player played."""
        assert self.log is not None
        return sum(
            (end - start).total_seconds()
            for path, start, end in self.log.plays
            if path.name.startswith(self.media.sha256)
        )


@pytest.fixture
async def rig(
    tmp_path: Path, fake_clock: FakeClock, fake_broker: FakeBroker
) -> AsyncIterator[RelayRig]:
    r = RelayRig(tmp_path, fake_clock, fake_broker)
    yield r
    for agent in r.agents:
        await agent.abort()


def books_agree(rig: RelayRig, item: PlanItem, event: PlaybackEvent, pauses_s: float = 0) -> None:
    """The evidence's relayed and fallback seconds are the samples that sounded."""
    stats = event.relay
    assert stats is not None
    assert stats.relayed_s == pytest.approx(rig.heard_s(item) + pauses_s, abs=TOLERANCE_S)
    assert stats.fallback_s == pytest.approx(rig.fallback_played_s(), abs=TOLERANCE_S)


async def run_for(rig: RelayRig, seconds: float, step: float = 0.25) -> None:
    """Move the clock in small steps, letting every task keep up."""
    for _ in range(round(seconds / step)):
        await rig.tick(step)


async def start(rig: RelayRig, connections: Sequence[Sequence[Segment] | str]) -> EdgeAgent:
    rig.opener = FakeStreamOpener(rig.clock, connections)
    return await rig.start_agent()


def relay(rig: RelayRig, item_id: str = "vov", start_in_s: float = 10, **kw: Any) -> Any:
    kw.setdefault("window_s", 10)
    kw.setdefault("prebuffer_s", 2)
    kw.setdefault("dead_after_s", 3)
    return relay_item(item_id, kw.pop("fallback", rig.media), rig.at(start_in_s), URL, **kw)


def the_event(rig: RelayRig, item_id: str = "vov") -> PlaybackEvent:
    [event] = [e for e in rig.events() if e.item_id == item_id]
    return event


async def test_a_healthy_stream_is_relayed_for_its_whole_window(rig: RelayRig) -> None:
    await start(rig, [[("sound", 30)]])
    item = relay(rig).model_copy(update={"session_key": "ward-1/2026-11-22/morning"})
    rig.ctl.send_plan(DEVICE, [item], version=1)
    await settle()
    await run_for(rig, 7.75)
    assert rig.opener is not None and rig.opener.opened == []  # not before the prebuffer
    await run_for(rig, 0.5)
    assert rig.opener.opened == [URL]
    await run_for(rig, 12)
    event = the_event(rig)
    assert event.outcome is Outcome.COMPLETED
    assert event.actual_start == item.planned_start
    assert (event.planned_duration_s, event.session_key) == (10, item.session_key)
    assert event.relay is not None
    assert event.relay.relayed_s == pytest.approx(10, abs=0.5)
    assert (event.relay.gap_count, event.relay.fallback_used) == (0, False)
    assert event.played_duration_s == event.relay.relayed_s
    assert event.media_sha256 is None  # the fallback never played
    assert event.reason is None
    assert [s[0] for s in rig.started] == ["vov"]
    books_agree(rig, item, event)


async def test_a_pause_shorter_than_dead_after_is_programme_not_a_gap(rig: RelayRig) -> None:
    await start(rig, [[("sound", 5), ("silence", 2), ("sound", 30)]])
    item = relay(rig)
    rig.ctl.send_plan(DEVICE, [item], version=1)
    await settle()
    await run_for(rig, 21)
    event = the_event(rig)
    assert event.outcome is Outcome.COMPLETED
    assert event.relay is not None and event.relay.gap_count == 0
    assert event.relay.relayed_s == pytest.approx(10, abs=0.5)
    books_agree(rig, item, event, pauses_s=2)


async def test_a_drop_without_reconnect_plays_the_fallback_and_is_recorded(rig: RelayRig) -> None:
    # 7 s of sound from the connect at +8: the stream dies at +15, then refuses. The
    # relay plays half a second behind live (the frame held from the prebuffer).
    await start(rig, [[("sound", 7)]])
    item = relay(rig)
    rig.ctl.send_plan(DEVICE, [item], version=1)
    await settle()
    await run_for(rig, 21)
    event = the_event(rig)
    stats = event.relay
    assert stats is not None
    books_agree(rig, item, event)
    assert stats.relayed_s + stats.gap_s == pytest.approx(10, abs=TOLERANCE_S)
    assert event.outcome is Outcome.PARTIAL
    assert stats.relayed_s == pytest.approx(5.5, abs=0.6)
    assert stats.gap_count == 1
    assert stats.gap_s == pytest.approx(4.5, abs=0.6)
    assert stats.fallback_used and stats.fallback_s == pytest.approx(2, abs=0.6)
    assert stats.reconnects >= 2
    assert event.played_duration_s == pytest.approx(stats.relayed_s + stats.fallback_s)
    assert event.media_sha256 == rig.media.sha256
    assert event.reason is not None
    assert "stream ended" in event.reason and "connection refused" in event.reason
    # In the order it happened: the stream ended, then reconnecting was refused.
    assert event.reason.index("stream ended") < event.reason.index("connection refused")


async def test_a_quick_reconnect_is_a_short_gap_without_fallback(rig: RelayRig) -> None:
    await start(rig, [[("sound", 7)], [("stall", 1), ("sound", 30)]])
    item = relay(rig, window_s=20)
    rig.ctl.send_plan(DEVICE, [item], version=1)
    await settle()
    await run_for(rig, 31)
    event = the_event(rig)
    stats = event.relay
    assert stats is not None
    books_agree(rig, item, event)
    assert stats.relayed_s + stats.gap_s == pytest.approx(20, abs=TOLERANCE_S)
    assert event.outcome is Outcome.COMPLETED
    assert (stats.gap_count, stats.reconnects, stats.fallback_used) == (1, 1, False)
    assert stats.gap_s == pytest.approx(1, abs=0.6)
    assert event.reason is not None and "1 gap(s)" in event.reason


async def test_a_dead_url_plays_the_fallback_from_the_first_second(rig: RelayRig) -> None:
    await start(rig, [])  # every connect is refused
    item = relay(rig, prebuffer_s=5)
    rig.ctl.send_plan(DEVICE, [item], version=1)
    await settle()
    await run_for(rig, 21)
    event = the_event(rig)
    stats = event.relay
    assert stats is not None
    assert event.outcome is Outcome.PARTIAL
    assert event.actual_start == item.planned_start
    assert stats.relayed_s == 0
    assert stats.fallback_used and stats.fallback_s == pytest.approx(10, abs=0.1)
    assert (stats.gap_count, stats.gap_s) == pytest.approx((1, 10), abs=0.1)
    assert event.reason is not None and "connection refused" in event.reason
    books_agree(rig, item, event)


async def test_a_silent_stream_is_dead_after_dead_after_s(rig: RelayRig) -> None:
    await start(rig, [[("silence", 30)]])
    item = relay(rig)
    rig.ctl.send_plan(DEVICE, [item], version=1)
    await settle()
    await run_for(rig, 21)
    stats = the_event(rig).relay
    assert stats is not None
    assert stats.relayed_s == 0
    assert (stats.gap_count, stats.gap_s) == pytest.approx((1, 10), abs=0.6)
    assert stats.fallback_s == pytest.approx(7, abs=0.6)
    assert "stream silent (below -50 dBFS)" in (the_event(rig).reason or "")
    books_agree(rig, item, the_event(rig))
    # Dead air is not a start: sound (the fallback) began dead_after_s into the window.
    assert the_event(rig).actual_start == item.planned_start + timedelta(seconds=3)


async def test_a_stalled_connection_counts_as_dead(rig: RelayRig) -> None:
    await start(rig, [[("sound", 4), ("stall", 60)]])
    item = relay(rig)
    rig.ctl.send_plan(DEVICE, [item], version=1)
    await settle()
    await run_for(rig, 21)
    event = the_event(rig)
    assert event.relay is not None and event.relay.fallback_used
    assert event.relay.relayed_s == pytest.approx(2.5, abs=0.6)
    assert "no data for 3 s" in (event.reason or "")
    assert event.relay.gap_count == 1  # the stale half-second is not "the stream back"
    books_agree(rig, item, event)


async def test_a_stream_that_is_not_audio_says_so(rig: RelayRig) -> None:
    not_audio = "ffmpeg exited 1: Invalid data found when processing input"
    await start(rig, [not_audio] * 20)
    rig.ctl.send_plan(DEVICE, [relay(rig)], version=1)
    await settle()
    await run_for(rig, 21)
    event = the_event(rig)
    assert event.outcome is Outcome.PARTIAL
    assert not_audio in (event.reason or "")


async def test_no_stream_and_no_fallback_is_a_failure(rig: RelayRig) -> None:
    await start(rig, [])
    ghost = rig.fetcher.add(b"gone", duration_s=5)
    del rig.fetcher.files[ghost.url]
    rig.ctl.send_plan(DEVICE, [relay(rig, fallback=ghost)], version=1)
    await settle()
    await run_for(rig, 21)
    event = the_event(rig)
    assert event.outcome is Outcome.FAILED
    assert event.actual_start is None and event.played_duration_s == 0
    assert "fallback media not cached" in (event.reason or "")


async def test_an_emergency_suspends_a_relay_which_rejoins_the_stream(rig: RelayRig) -> None:
    await start(rig, [[("sound", 60)]])
    alarm = rig.fetcher.add(b"flood warning", duration_s=4)
    item = relay(rig, window_s=30)
    rig.ctl.send_plan(DEVICE, [item], version=1)
    await settle()
    await run_for(rig, 15)  # relaying since +10
    rig.ctl.play_now(DEVICE, rig.item("flood", 0, media=alarm, priority=Priority.EMERGENCY))
    await settle()
    assert rig.events() == []
    await run_for(rig, 4)  # the emergency plays +15..+19
    [flood] = rig.events()
    assert (flood.item_id, flood.outcome) == ("flood", Outcome.COMPLETED)
    await run_for(rig, 23)
    event = the_event(rig)
    stats = event.relay
    assert stats is not None
    # One row for the whole window: the emergency is a gap in it.
    assert event.outcome is Outcome.PARTIAL
    assert (stats.gap_count, stats.fallback_used) == (1, False)
    assert stats.gap_s == pytest.approx(4, abs=0.6)
    assert stats.relayed_s == pytest.approx(26, abs=1.1)
    assert "preempted by emergency item flood" in (event.reason or "")
    assert [s[0] for s in rig.started] == ["vov", "flood"]
    assert rig.opener is not None and rig.opener.opened == [URL]  # kept connected meanwhile
    books_agree(rig, item, event)
    assert stats.relayed_s + stats.gap_s == pytest.approx(30, abs=TOLERANCE_S)


async def test_a_relay_whose_window_ends_during_an_emergency_is_preempted(rig: RelayRig) -> None:
    await start(rig, [[("sound", 60)]])
    alarm = rig.fetcher.add(b"fire", duration_s=20)
    rig.ctl.send_plan(DEVICE, [relay(rig)], version=1)
    await settle()
    await run_for(rig, 14)
    rig.ctl.play_now(DEVICE, rig.item("fire", 0, media=alarm, priority=Priority.EMERGENCY))
    await settle()
    await run_for(rig, 21)
    event = the_event(rig)
    assert event.outcome is Outcome.PREEMPTED
    assert event.reason is not None and event.reason.startswith("preempted by emergency item")
    assert event.played_duration_s == pytest.approx(4, abs=0.6)


async def test_stop_commands_end_a_relay_playing_suspended_or_not_started(rig: RelayRig) -> None:
    await start(rig, [[("sound", 60)], [("sound", 60)]])
    alarm = rig.fetcher.add(b"alarm", duration_s=30)
    plan = [relay(rig, "r1"), relay(rig, "r2", window_s=40), relay(rig, "r3", 200)]
    rig.ctl.send_plan(DEVICE, plan, version=1)
    await settle()
    await run_for(rig, 14)
    rig.ctl.stop_item(DEVICE, "r1", "cancelled: wrong station")
    await settle()
    r1 = the_event(rig, "r1")
    assert r1.outcome is Outcome.PARTIAL
    assert (r1.reason or "").startswith("cancelled: wrong station; relayed 4")
    assert r1.relay is not None and r1.relay.relayed_s == pytest.approx(4, abs=0.6)
    await run_for(rig, 2)  # r2 (same window, waited its turn) is on air now
    rig.ctl.play_now(DEVICE, rig.item("alarm", 0, media=alarm, priority=Priority.EMERGENCY))
    await settle()
    await run_for(rig, 1)
    rig.ctl.stop_item(DEVICE, "r2")  # suspended by the emergency
    rig.ctl.stop_item(DEVICE, "r3")  # not started yet
    await settle()
    r2, r3 = the_event(rig, "r2"), the_event(rig, "r3")
    assert r2.outcome is Outcome.PARTIAL and r2.reason is not None
    assert r2.reason.startswith("stopped by controller")
    assert r2.relay is not None and r2.relay.relayed_s > 0
    assert (r3.outcome, r3.reason) == (Outcome.SKIPPED, "stopped by controller before start")


async def test_shutdown_during_a_relay_records_what_was_relayed(rig: RelayRig) -> None:
    agent = await start(rig, [[("sound", 60)]])
    rig.ctl.send_plan(DEVICE, [relay(rig)], version=1)
    await settle()
    await run_for(rig, 14)
    await agent.stop()
    event = the_event(rig)
    assert event.outcome is Outcome.PARTIAL
    assert (event.reason or "").startswith("agent shut down during playback")
    assert event.relay is not None and event.relay.relayed_s == pytest.approx(4, abs=0.6)


async def test_a_relay_learnt_of_mid_window_joins_late(rig: RelayRig) -> None:
    await start(rig, [[("sound", 120)]])
    item = relay(rig, start_in_s=-40, window_s=60)  # beyond the 30 s grace, window open
    rig.ctl.send_plan(DEVICE, [item], version=1)
    await settle()
    await run_for(rig, 21)
    event = the_event(rig)
    assert event.outcome is Outcome.PARTIAL
    assert event.actual_start is not None
    assert (event.actual_start - item.planned_start).total_seconds() == pytest.approx(40, abs=1)
    assert event.relay is not None and event.relay.relayed_s == pytest.approx(20, abs=1)
    assert "joined 40 s into the window" in (event.reason or "")


async def test_the_amplifier_is_on_from_before_the_window_to_its_end(rig: RelayRig) -> None:
    rig.opener = FakeStreamOpener(rig.clock, [[("sound", 30)]])
    await rig.start_agent(settle_s=0.5)
    item = relay(rig)
    rig.ctl.send_plan(DEVICE, [item], version=1)
    await settle()
    await run_for(rig, 21)
    assert rig.hardware is not None
    [on, off] = rig.hardware.relay.transitions
    assert on.value is True and on.at <= item.planned_start
    assert off.value is False and off.at >= item.planned_start + timedelta(seconds=10)
    assert the_event(rig).amplifier_on is True
