"""Relays on a FakeClock with scripted live streams: books, fallback, outcomes, preemption."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from edge_agent.core import EdgeAgent
from edge_agent.testing import FakeStreamOpener, Segment, relay_item
from tests.unit.test_agent_core import DEVICE, Rig, settle
from wardcast_protocol.clock import FakeClock
from wardcast_protocol.fake_transport import FakeBroker
from wardcast_protocol.messages import Outcome, PlaybackEvent, Priority

URL = "http://radio.test/vov1"


@pytest.fixture
async def rig(tmp_path: Path, fake_clock: FakeClock, fake_broker: FakeBroker) -> AsyncIterator[Rig]:
    r = Rig(tmp_path, fake_clock, fake_broker)
    yield r
    for agent in r.agents:
        await agent.abort()


async def run_for(rig: Rig, seconds: float, step: float = 0.25) -> None:
    """Move the clock in small steps, letting every task keep up."""
    for _ in range(round(seconds / step)):
        await rig.tick(step)


async def start(rig: Rig, connections: Sequence[Sequence[Segment] | str]) -> EdgeAgent:
    rig.opener = FakeStreamOpener(rig.clock, connections)
    return await rig.start_agent()


def relay(rig: Rig, item_id: str = "vov", start_in_s: float = 10, **kw: Any) -> Any:
    kw.setdefault("window_s", 10)
    kw.setdefault("prebuffer_s", 2)
    kw.setdefault("dead_after_s", 3)
    return relay_item(item_id, kw.pop("fallback", rig.media), rig.at(start_in_s), URL, **kw)


def the_event(rig: Rig, item_id: str = "vov") -> PlaybackEvent:
    [event] = [e for e in rig.events() if e.item_id == item_id]
    return event


async def test_a_healthy_stream_is_relayed_for_its_whole_window(rig: Rig) -> None:
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


async def test_a_pause_shorter_than_dead_after_is_programme_not_a_gap(rig: Rig) -> None:
    await start(rig, [[("sound", 5), ("silence", 2), ("sound", 30)]])
    rig.ctl.send_plan(DEVICE, [relay(rig)], version=1)
    await settle()
    await run_for(rig, 21)
    event = the_event(rig)
    assert event.outcome is Outcome.COMPLETED
    assert event.relay is not None and event.relay.gap_count == 0
    assert event.relay.relayed_s == pytest.approx(10, abs=0.5)


async def test_a_drop_without_reconnect_plays_the_fallback_and_is_recorded(rig: Rig) -> None:
    # 7 s of sound from the connect at +8: the stream dies at +15, then refuses. The
    # relay plays half a second behind live (the frame held from the prebuffer).
    await start(rig, [[("sound", 7)]])
    rig.ctl.send_plan(DEVICE, [relay(rig)], version=1)
    await settle()
    await run_for(rig, 21)
    event = the_event(rig)
    stats = event.relay
    assert stats is not None
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


async def test_a_quick_reconnect_is_a_short_gap_without_fallback(rig: Rig) -> None:
    await start(rig, [[("sound", 7)], [("stall", 1), ("sound", 30)]])
    rig.ctl.send_plan(DEVICE, [relay(rig, window_s=20)], version=1)
    await settle()
    await run_for(rig, 31)
    event = the_event(rig)
    stats = event.relay
    assert stats is not None
    assert event.outcome is Outcome.COMPLETED
    assert (stats.gap_count, stats.reconnects, stats.fallback_used) == (1, 1, False)
    assert stats.gap_s == pytest.approx(1, abs=0.6)
    assert event.reason is not None and "1 gap(s)" in event.reason


async def test_a_dead_url_plays_the_fallback_from_the_first_second(rig: Rig) -> None:
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


async def test_a_silent_stream_is_dead_after_dead_after_s(rig: Rig) -> None:
    await start(rig, [[("silence", 30)]])
    rig.ctl.send_plan(DEVICE, [relay(rig)], version=1)
    await settle()
    await run_for(rig, 21)
    stats = the_event(rig).relay
    assert stats is not None
    assert stats.relayed_s == 0
    assert (stats.gap_count, stats.gap_s) == pytest.approx((1, 10), abs=0.6)
    assert stats.fallback_s == pytest.approx(7, abs=0.6)
    assert "stream silent (below -50 dBFS)" in (the_event(rig).reason or "")


async def test_a_stalled_connection_counts_as_dead(rig: Rig) -> None:
    await start(rig, [[("sound", 4), ("stall", 60)]])
    rig.ctl.send_plan(DEVICE, [relay(rig)], version=1)
    await settle()
    await run_for(rig, 21)
    event = the_event(rig)
    assert event.relay is not None and event.relay.fallback_used
    assert event.relay.relayed_s == pytest.approx(2.5, abs=0.6)
    assert "no data for 3 s" in (event.reason or "")


async def test_a_stream_that_is_not_audio_says_so(rig: Rig) -> None:
    not_audio = "ffmpeg exited 1: Invalid data found when processing input"
    await start(rig, [not_audio] * 20)
    rig.ctl.send_plan(DEVICE, [relay(rig)], version=1)
    await settle()
    await run_for(rig, 21)
    event = the_event(rig)
    assert event.outcome is Outcome.PARTIAL
    assert not_audio in (event.reason or "")


async def test_no_stream_and_no_fallback_is_a_failure(rig: Rig) -> None:
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


async def test_an_emergency_suspends_a_relay_which_rejoins_the_stream(rig: Rig) -> None:
    await start(rig, [[("sound", 60)]])
    alarm = rig.fetcher.add(b"flood warning", duration_s=4)
    rig.ctl.send_plan(DEVICE, [relay(rig, window_s=30)], version=1)
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


async def test_a_relay_whose_window_ends_during_an_emergency_is_preempted(rig: Rig) -> None:
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


async def test_stop_commands_end_a_relay_playing_suspended_or_not_started(rig: Rig) -> None:
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


async def test_shutdown_during_a_relay_records_what_was_relayed(rig: Rig) -> None:
    agent = await start(rig, [[("sound", 60)]])
    rig.ctl.send_plan(DEVICE, [relay(rig)], version=1)
    await settle()
    await run_for(rig, 14)
    await agent.stop()
    event = the_event(rig)
    assert event.outcome is Outcome.PARTIAL
    assert (event.reason or "").startswith("agent shut down during playback")
    assert event.relay is not None and event.relay.relayed_s == pytest.approx(4, abs=0.6)


async def test_a_relay_learnt_of_mid_window_joins_late(rig: Rig) -> None:
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


async def test_the_amplifier_is_on_from_before_the_window_to_its_end(rig: Rig) -> None:
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
