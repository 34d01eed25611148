"""Relay outages, every way a stream fails: one gap, bounded dead air, books = samples.

Each scripted stream plays sound from its connect (two seconds before the window)
for six seconds, so the window hears four and a half (the relay plays half a
second behind live), then fails in one way. Whatever the
way, a station engineer expects the same: one gap, no more than ``dead_after_s`` of
dead air before the fallback, the stream rejoined soon after it is back, and
evidence whose seconds are the samples that sounded.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest

from edge_agent.fake_media import FakeStreamOpener, Segment
from edge_agent.relay_books import RECOVER_S
from edge_agent.stream import StreamMonitor
from tests.unit.test_agent_relay import (
    TOLERANCE_S,
    URL,
    RelayRig,
    books_agree,
    relay,
    run_for,
    the_event,
)
from tests.unit.test_agent_support import DEVICE, settle
from wardcast_protocol.clock import FakeClock
from wardcast_protocol.fake_transport import FakeBroker
from wardcast_protocol.messages import Outcome, PlanItem, RelaySpec

DEAD_AFTER_S = 3.0
HEARD_BEFORE_S = 4.5  # the window hears this much of the six seconds of sound
NOT_FOUND = "ffmpeg exited 8: Server returned 404 Not Found"
NOT_AUDIO = "ffmpeg exited 1: Invalid data found when processing input"
Script = Sequence[Sequence[Segment] | str]

# How the stream fails after its six seconds of sound, and the words the reason quotes.
FAILURES: dict[str, tuple[Script, str]] = {
    "refused": ([[("sound", 6)]], "connection refused"),
    "404": ([[("sound", 6)], *[NOT_FOUND] * 40], "404 Not Found"),
    "ended": ([[("sound", 6)], *[[]] * 40], "stream sent no audio"),
    "stalled": ([[("sound", 6), ("stall", 600)], *[[("stall", 600)]] * 40], "no data for 3 s"),
    "silent": ([[("sound", 6), ("silence", 600)]], "stream silent (below -50 dBFS)"),
    "garbage": ([[("sound", 6)], *[NOT_AUDIO] * 40], "Invalid data found"),
}


@pytest.fixture
async def rig(
    tmp_path: Path, fake_clock: FakeClock, fake_broker: FakeBroker
) -> AsyncIterator[RelayRig]:
    r = RelayRig(tmp_path, fake_clock, fake_broker)
    yield r
    for agent in r.agents:
        await agent.abort()


async def air(rig: RelayRig, script: Script, window_s: float, **kw: Any) -> PlanItem:
    """Start an agent on ``script`` and plan a relay 10 s from now."""
    rig.opener = FakeStreamOpener(rig.clock, script)
    await rig.start_agent()
    kw.setdefault("dead_after_s", DEAD_AFTER_S)
    item: PlanItem = relay(rig, window_s=window_s, **kw)
    rig.ctl.send_plan(DEVICE, [item], version=1)
    await settle()
    return item


def dead_air_before_fallback_s(rig: RelayRig, item: PlanItem) -> float:
    """From the last stream sound (or the window's start) to the fallback's first sample."""
    assert rig.sink is not None and rig.log is not None and item.relay is not None
    [(_, fallback_at, _), *_] = rig.log.plays
    sounds = [
        s.end
        for s in rig.sink.spans
        if s.level_db >= item.relay.silence_db and s.end <= fallback_at
    ]
    return (fallback_at - max([item.planned_start, *sounds])).total_seconds()


@pytest.mark.parametrize("how", list(FAILURES))
async def test_one_outage_is_one_gap_with_dead_air_bounded_by_dead_after(
    rig: RelayRig, how: str
) -> None:
    script, words = FAILURES[how]
    item = await air(rig, script, window_s=12)
    await run_for(rig, 23)
    event = the_event(rig)
    stats = event.relay
    assert stats is not None
    print(f"{how}: {stats} / {event.reason}")
    assert event.outcome is Outcome.PARTIAL
    assert stats.gap_count == 1
    assert stats.relayed_s == pytest.approx(HEARD_BEFORE_S, abs=TOLERANCE_S)
    assert 0 < dead_air_before_fallback_s(rig, item) <= DEAD_AFTER_S + TOLERANCE_S
    books_agree(rig, item, event)
    assert stats.relayed_s + stats.gap_s == pytest.approx(12, abs=TOLERANCE_S)
    assert words in (event.reason or "")


@pytest.mark.parametrize("how", ["refused", "404", "stalled"])
async def test_a_stream_that_comes_back_is_rejoined_mid_fallback_in_one_gap(
    rig: RelayRig, how: str
) -> None:
    script, _ = FAILURES[how]
    item = await air(rig, script, window_s=30)
    await run_for(rig, 19)  # the window is 9 s old; the fallback has played since ~+7
    assert rig.opener is not None
    rig.opener.connections = [[("sound", 600)]]  # the station is back
    back_at = rig.now
    await run_for(rig, 22)
    event = the_event(rig)
    stats = event.relay
    assert stats is not None
    print(f"{how}, then back: {stats} / {event.reason}")
    assert (stats.gap_count, stats.fallback_used) == (1, True)
    books_agree(rig, item, event)
    assert stats.relayed_s + stats.gap_s == pytest.approx(30, abs=TOLERANCE_S)
    # Reconnecting takes at most dead_after_s, then RECOVER_S of sound shows it is back.
    assert rig.sink is not None
    rejoined = min(s.start for s in rig.sink.spans if s.start > back_at)
    assert rejoined <= back_at + timedelta(seconds=DEAD_AFTER_S + RECOVER_S + 0.5)
    window_end = item.planned_start + timedelta(seconds=30)
    after_s = (window_end - rejoined).total_seconds()
    assert stats.relayed_s == pytest.approx(HEARD_BEFORE_S + after_s, abs=TOLERANCE_S)


async def test_a_silent_stream_whose_sound_returns_is_rejoined_in_one_gap(
    rig: RelayRig,
) -> None:
    item = await air(rig, [[("sound", 6), ("silence", 9), ("sound", 600)]], window_s=30)
    await run_for(rig, 41)
    event = the_event(rig)
    stats = event.relay
    assert stats is not None
    assert (stats.gap_count, stats.fallback_used) == (1, True)
    # Sound again from +13 of the window; the stream is rejoined once RECOVER_S of it
    # has come (and plays half a second behind live).
    assert stats.relayed_s == pytest.approx(HEARD_BEFORE_S + 30 - 13.5 - RECOVER_S, abs=0.6)
    books_agree(rig, item, event)
    assert stats.relayed_s + stats.gap_s == pytest.approx(30, abs=TOLERANCE_S)


async def test_a_stream_that_comes_in_pages_is_joined_without_a_hole(rig: RelayRig) -> None:
    # Ogg pages: a second of audio at a time, each once it has happened; the last page
    # before the window came 0.3 s before it, so half a second would not last.
    item = await air(rig, [[("stall", 0.7), *[("page", 1.0)] * 60]], window_s=12)
    await run_for(rig, 23)
    event = the_event(rig)
    stats = event.relay
    assert stats is not None
    assert event.outcome is Outcome.COMPLETED
    assert (stats.gap_count, event.actual_start) == (0, item.planned_start)
    assert rig.heard_s(item) == pytest.approx(12, abs=0.05)  # not a sample missing
    books_agree(rig, item, event)


async def test_a_flicker_inside_an_outage_does_not_split_it(rig: RelayRig) -> None:
    # Sound to +4 of the window, then a connection that gives one second and dies again.
    script: Script = [[("sound", 6)], "connection refused", [("sound", 1)]]
    item = await air(rig, script, window_s=12)
    await run_for(rig, 23)
    event = the_event(rig)
    stats = event.relay
    assert stats is not None
    assert stats.gap_count == 1
    books_agree(rig, item, event)
    assert stats.relayed_s + stats.gap_s == pytest.approx(12, abs=TOLERANCE_S)


@pytest.mark.parametrize("failure", ["connection refused", NOT_FOUND, NOT_AUDIO])
async def test_a_stream_dead_in_the_prebuffer_falls_back_from_the_first_second(
    rig: RelayRig, failure: str
) -> None:
    # The numbers: a 5 s prebuffer, 10 s of dead air allowed.
    item = await air(rig, [failure] * 40, window_s=12, prebuffer_s=5, dead_after_s=10)
    await run_for(rig, 23)
    event = the_event(rig)
    stats = event.relay
    assert stats is not None
    assert event.actual_start == item.planned_start
    assert dead_air_before_fallback_s(rig, item) == 0
    assert stats.fallback_s == pytest.approx(12, abs=TOLERANCE_S)
    assert (stats.gap_count, stats.relayed_s) == (1, 0)
    books_agree(rig, item, event)
    assert failure.split(": ")[-1] in (event.reason or "")


async def test_a_stream_stalled_through_the_prebuffer_has_bounded_dead_air(
    rig: RelayRig,
) -> None:
    # Connected, nothing comes: not dead until dead_after_s from the connect.
    item = await air(rig, [[("stall", 600)]] * 40, window_s=12, prebuffer_s=2)
    await run_for(rig, 23)
    event = the_event(rig)
    stats = event.relay
    assert stats is not None
    assert dead_air_before_fallback_s(rig, item) == pytest.approx(1, abs=TOLERANCE_S)
    assert stats.gap_count == 1 and stats.relayed_s == 0
    assert event.actual_start == item.planned_start + timedelta(seconds=1)
    books_agree(rig, item, event)


async def test_the_reason_lists_what_happened_in_time_order(rig: RelayRig) -> None:
    script: Script = [[("sound", 6)], NOT_FOUND, NOT_FOUND, [("sound", 4), ("silence", 60)]]
    await air(rig, script, window_s=20)
    await run_for(rig, 31)
    reason = the_event(rig).reason or ""
    order = ["stream ended", "404 Not Found", "stream silent"]
    assert [reason.index(words) for words in order] == sorted(
        reason.index(words) for words in order
    ), reason


async def test_the_reconnect_delay_grows_then_starts_over_after_a_success(
    fake_clock: FakeClock,
) -> None:
    script: Script = ["refused"] * 5 + [[("sound", 2)]] + ["refused"] * 3
    opener = FakeStreamOpener(fake_clock, script)
    spec = RelaySpec(url=URL, window_s=60, dead_after_s=DEAD_AFTER_S)
    now = fake_clock.now()
    monitor = StreamMonitor(
        spec, opener, fake_clock, connect_at=now, until=now + timedelta(seconds=60), rate_hz=8000
    )
    monitor.start()
    for _ in range(400):
        await fake_clock.advance(0.05)
        await settle()
    monitor.cancel()
    at = opener.opened_at
    delays = [round((b - a).total_seconds(), 2) for a, b in pairwise(at)]
    # 0.5 s doubling, capped at dead_after_s; the stream that played is retried at
    # once when it ends, and its next failures start over from 0.5 s.
    assert delays[:8] == [0.5, 1.0, 2.0, 3.0, 3.0, 2.0, 0.5, 1.0]
