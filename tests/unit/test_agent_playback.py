"""EdgeAgent on a FakeClock and a FakeBroker: timing and outcomes of what it plays.

An item plays at its planned time, never before and never twice; late within the grace
it plays, beyond it (or with the agent down) it is skipped; emergencies preempt normal
items, which wait their turn in planned order; a restart or a clean shutdown during a
play is recorded (failed, partial); media is prefetched, retried, checked by sha256 and
evicted when unneeded, a missing file fails its item alone; the watchdog is kicked.
"""

from __future__ import annotations

import asyncio

import pytest

from edge_agent.controller_stand_in import plan_item
from tests.unit.test_agent_support import DEVICE, Rig, rig, settle
from wardcast_protocol.messages import MediaRef, Outcome, Priority

__all__ = ["rig"]  # the fixture, used by name below


async def test_item_plays_at_planned_time_not_before(rig: Rig) -> None:
    agent = await rig.start_agent()
    rig.ctl.send_plan(DEVICE, [rig.item("i1", 10)], version=1)
    await settle()
    assert agent.plan_version == 1
    planned = rig.at(10)
    await rig.tick(9.9)
    assert rig.started == []
    await rig.tick(0.1)
    assert rig.started == [("i1", planned)]
    assert rig.hardware is not None and rig.hardware.relay.is_on()
    await rig.tick(30)
    [event] = rig.events()
    assert event.outcome is Outcome.COMPLETED
    assert event.actual_start == planned
    assert event.played_duration_s == 30
    assert (event.seq, event.prev_hash, event.plan_version) == (1, "", 1)
    assert event.amplifier_on is True and event.volume == 80
    assert not rig.hardware.relay.is_on()


async def test_late_item_within_grace_plays_beyond_it_is_skipped(rig: Rig) -> None:
    await rig.start_agent(late_start_grace_s=30)
    rig.ctl.send_plan(DEVICE, [rig.item("late-ok", -20), rig.item("too-late", -45)], version=1)
    await settle()
    assert [s[0] for s in rig.started] == ["late-ok"]
    skipped = [e for e in rig.events() if e.item_id == "too-late"]
    assert skipped[0].outcome is Outcome.SKIPPED
    assert skipped[0].reason == "missed start: agent learnt of it 45 s late"
    assert skipped[0].actual_start is None and skipped[0].played_duration_s == 0


async def test_agent_down_at_planned_start_is_recorded_as_such(rig: Rig) -> None:
    agent = await rig.start_agent()
    rig.ctl.send_plan(DEVICE, [rig.item("i1", 10)], version=1)
    await settle()
    await agent.stop()
    await rig.tick(100)
    await rig.start_agent()
    [event] = rig.events()
    assert event.outcome is Outcome.SKIPPED
    assert event.reason == "agent was down at planned start"


async def test_emergency_preempts_normal_which_is_not_resumed(rig: Rig) -> None:
    await rig.start_agent()
    alarm = rig.fetcher.add(b"flood warning", duration_s=10)
    rig.ctl.send_plan(DEVICE, [rig.item("normal", 1)], version=1)
    await settle()
    await rig.tick(1)
    await rig.tick(12)
    rig.ctl.play_now(DEVICE, rig.item("flood", 0, media=alarm, priority=Priority.EMERGENCY))
    await settle()
    await rig.tick(10)
    await rig.tick(60)
    normal, flood = rig.events()
    assert (normal.item_id, normal.outcome) == ("normal", Outcome.PREEMPTED)
    assert normal.played_duration_s == 12
    assert normal.reason == "preempted by emergency item flood"
    assert (flood.item_id, flood.outcome, flood.played_duration_s) == (
        "flood",
        Outcome.COMPLETED,
        10,
    )
    assert [s[0] for s in rig.started] == ["normal", "flood"]


async def test_planned_emergency_preempts_at_its_planned_start(rig: Rig) -> None:
    await rig.start_agent()
    rig.ctl.send_plan(
        DEVICE,
        [rig.item("normal", 1), rig.item("drill", 6, priority=Priority.EMERGENCY)],
        version=1,
    )
    await settle()
    await rig.tick(1)
    await rig.tick(5)
    assert [s[0] for s in rig.started] == ["normal", "drill"]
    await rig.tick(30)
    normal, drill = rig.events()
    assert (normal.outcome, normal.played_duration_s) == (Outcome.PREEMPTED, 5)
    assert drill.outcome is Outcome.COMPLETED


async def test_normal_items_wait_their_turn_in_planned_order(rig: Rig) -> None:
    await rig.start_agent()
    rig.ctl.send_plan(DEVICE, [rig.item("b", 10), rig.item("a", 1)], version=1)
    await settle()
    await rig.tick(1)
    await rig.tick(30)  # "a" ends at +31; "b" was due at +10 and waited its turn
    assert [s[0] for s in rig.started] == ["a", "b"]
    await rig.tick(30)
    a, b = rig.events()
    assert (a.outcome, b.outcome) == (Outcome.COMPLETED, Outcome.COMPLETED)
    assert b.actual_start is not None
    assert (b.actual_start - b.planned_start).total_seconds() == 21


async def test_an_item_is_never_played_twice(rig: Rig) -> None:
    agent = await rig.start_agent()
    rig.ctl.send_plan(DEVICE, [rig.item("i1", 1)], version=1)
    await settle()
    await rig.tick(1)
    await rig.tick(30)
    rig.ctl.send_plan(DEVICE, [plan_item("i1", rig.media, rig.at(5))], version=2)
    rig.ctl.play_now(DEVICE, rig.item("i1", 0))
    await settle()
    await agent.stop()
    await rig.tick(10)
    await rig.start_agent()
    await rig.tick(60)
    assert [s[0] for s in rig.started] == ["i1"]


async def test_media_with_wrong_sha256_is_refused(rig: Rig) -> None:
    agent = await rig.start_agent()
    good = rig.fetcher.add(b"the real bulletin", duration_s=5)
    rig.fetcher.files[good.url] = b"the fake bulletin"  # same size, other bytes
    rig.ctl.send_plan(DEVICE, [rig.item("i1", 1, media=good)], version=1)
    await settle()
    await rig.tick(1)
    [event] = rig.events()
    assert event.outcome is Outcome.FAILED
    assert event.reason is not None and "sha256" in event.reason
    assert rig.started == []
    assert not agent.media.has(good)
    assert list(agent.media.directory.iterdir()) == []


async def test_media_is_prefetched_and_unneeded_files_evicted(rig: Rig) -> None:
    agent = await rig.start_agent()
    other = rig.fetcher.add(b"other", duration_s=5)
    rig.ctl.send_plan(DEVICE, [rig.item("i1", 100), rig.item("i2", 200, media=other)], version=1)
    await settle()
    assert agent.media.has(rig.media) and agent.media.has(other)
    rig.ctl.send_plan(DEVICE, [rig.item("i2", 200, media=other)], version=2)
    await settle()
    assert not agent.media.has(rig.media) and agent.media.has(other)


async def test_flaky_download_is_retried(rig: Rig) -> None:
    agent = await rig.start_agent(media_fetch_attempts=3)
    rig.fetcher.fail_next[rig.media.url] = 2
    rig.ctl.send_plan(DEVICE, [rig.item("i1", 100)], version=1)
    await settle()
    assert agent.media.has(rig.media)
    assert rig.fetcher.calls.count(rig.media.url) == 3


async def test_restart_during_playback_becomes_a_failed_event(rig: Rig) -> None:
    agent = await rig.start_agent()
    rig.ctl.send_plan(DEVICE, [rig.item("i1", 1)], version=1)
    await settle()
    await rig.tick(1)
    await rig.tick(10)
    await agent.abort()  # power cut: nothing recorded, nothing said
    assert rig.events() == []
    await rig.tick(5)
    again = await rig.start_agent()
    [event] = rig.events()
    assert event.outcome is Outcome.FAILED
    # With the seconds it really sounded, as the journal's ticks prove (it said 0.0 s).
    assert event.played_duration_s == pytest.approx(10, abs=1)
    assert event.reason == "agent restarted during playback"
    assert event.actual_start == rig.at(-15)
    await rig.tick(60)
    assert [s[0] for s in rig.started] == ["i1"]  # not replayed
    assert again.outbox.journal() == []


async def test_clean_shutdown_during_playback_records_partial(rig: Rig) -> None:
    agent = await rig.start_agent()
    rig.ctl.send_plan(DEVICE, [rig.item("i1", 1)], version=1)
    await settle()
    await rig.tick(1)
    await rig.tick(4)
    await agent.stop()
    [event] = rig.events()
    assert (event.outcome, event.played_duration_s) == (Outcome.PARTIAL, 4)
    assert event.reason == "agent shut down during playback"


async def test_missing_media_url_fails_without_crashing(rig: Rig) -> None:
    agent = await rig.start_agent()
    ghost = MediaRef(sha256="0" * 64, url="http://media.test/ghost", duration_s=5, size_bytes=3)
    rig.ctl.send_plan(DEVICE, [rig.item("ghost", 1, media=ghost), rig.item("ok", 2)], version=1)
    await settle()
    await rig.tick(1)
    await rig.tick(1)
    await rig.tick(30)
    ghost_event, ok_event = rig.events()
    assert ghost_event.outcome is Outcome.FAILED
    assert ghost_event.reason is not None and ghost_event.reason.startswith("media unavailable")
    assert ok_event.outcome is Outcome.COMPLETED
    assert agent.stats.plays_started == 1


async def test_watchdog_is_kicked(rig: Rig) -> None:
    await rig.start_agent()
    assert rig.hardware is not None
    for _ in range(10):
        await rig.tick(20)
    assert not rig.hardware.watchdog.expired()
    assert len(rig.hardware.watchdog.kicks) >= 10


async def test_wait_for_start_resolves_when_sound_starts(rig: Rig) -> None:
    agent = await rig.start_agent()
    rig.ctl.send_plan(DEVICE, [rig.item("i1", 3)], version=1)
    waiter = asyncio.ensure_future(agent.wait_for_start("i1"))
    await settle()
    assert not waiter.done()
    await rig.tick(3)
    assert waiter.result() == rig.now
    assert await agent.wait_for_start("i1") == rig.now
