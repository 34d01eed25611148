"""Back-to-back items: the next one is armed while the one before sounds.

An item due when the one before ends is prepared ``prepare_s`` ahead, beside the one
sounding: it leaves the queue, its play is handed to the player for its instant, and
the amplifier stays on across the two. Stopping or preempting either one never ends
the other by mistake (each play has its own stop flag).
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

from edge_agent.core import EdgeAgent
from edge_agent.simulated_player import SimulatedPlayer
from firmware_stubs.hardware import simulated_hardware
from tests.unit.test_agent_support import DEVICE, Rig, rig, settle
from wardcast_protocol.clock import FakeClock
from wardcast_protocol.messages import Outcome, Priority

__all__ = ["rig"]  # the fixture, used by name below

CLIP_S = 30  # the rig's media lasts 30 s


async def arm_b_behind_a(rig: Rig, agent: EdgeAgent) -> None:
    """Plan "a" at +1 s and "b" right behind it; stop 0.2 s before "b", which is armed."""
    rig.ctl.send_plan(DEVICE, [rig.item("a", 1), rig.item("b", 1 + CLIP_S)], version=1)
    await settle()
    await rig.tick(1)
    await rig.tick(CLIP_S - 0.2)
    assert agent.playback.is_current("b")


async def test_the_next_item_is_armed_while_the_one_before_sounds_and_starts_on_its_instant(
    rig: Rig,
) -> None:
    agent = await rig.start_agent(settle_s=0.2)
    a_at, b_at = rig.at(1), rig.at(1 + CLIP_S)
    rig.ctl.send_plan(DEVICE, [rig.item("a", 1), rig.item("b", 1 + CLIP_S)], version=1)
    await settle()
    for _ in range(4):  # prepared, relay on, settled, first sample
        await rig.tick(0.25)
    assert rig.started == [("a", a_at)]
    await rig.tick(CLIP_S - 1)  # one second before "b": nothing prepared yet
    assert "b" in agent.queue and not agent.playback.is_current("b")
    await rig.tick(0.5)  # inside prepare_s + warm-up: armed beside "a"
    assert "b" not in agent.queue and agent.playback.is_current("b")
    assert agent.playback.playing_item_id == "a"
    await rig.tick(0.25)
    await rig.tick(0.25)
    assert rig.started == [("a", a_at), ("b", b_at)]
    await rig.tick(CLIP_S)
    a, b = rig.events()
    assert (a.outcome, a.played_duration_s) == (Outcome.COMPLETED, CLIP_S)
    assert (b.outcome, b.actual_start, b.played_duration_s) == (Outcome.COMPLETED, b_at, CLIP_S)
    # One warm-up, one switch-off: the amplifier stayed on across the handover.
    assert rig.hardware is not None
    assert [t.value for t in rig.hardware.relay.transitions] == [True, False]


async def test_stopping_the_armed_item_leaves_the_sounding_one_playing(rig: Rig) -> None:
    agent = await rig.start_agent()
    await arm_b_behind_a(rig, agent)
    rig.ctl.stop_item(DEVICE, "b", "wrong file")
    await settle()
    await rig.tick(CLIP_S + 1)
    by_item = {e.item_id: e for e in rig.events()}
    assert (by_item["a"].outcome, by_item["a"].played_duration_s) == (Outcome.COMPLETED, CLIP_S)
    assert (by_item["b"].outcome, by_item["b"].reason) == (
        Outcome.SKIPPED,
        "stopped by controller: wrong file before start",
    )
    assert [s[0] for s in rig.started] == ["a"]


async def test_stopping_the_sounding_item_leaves_the_armed_one_to_start_on_time(
    rig: Rig,
) -> None:
    agent = await rig.start_agent()
    b_at = rig.at(1 + CLIP_S)
    await arm_b_behind_a(rig, agent)
    rig.ctl.stop_item(DEVICE, "a")
    await settle()
    await rig.tick(0.2)
    await rig.tick(CLIP_S)
    by_item = {e.item_id: e for e in rig.events()}
    assert by_item["a"].outcome is Outcome.PARTIAL
    assert (by_item["b"].outcome, by_item["b"].actual_start) == (Outcome.COMPLETED, b_at)


async def test_an_emergency_cuts_the_sounding_item_and_the_armed_one_waits_its_turn(
    rig: Rig,
) -> None:
    agent = await rig.start_agent()
    alarm = rig.fetcher.add(b"flood warning", duration_s=10)
    await arm_b_behind_a(rig, agent)
    rig.ctl.play_now(DEVICE, rig.item("flood", 0, media=alarm, priority=Priority.EMERGENCY))
    await settle()
    assert "b" in agent.queue  # not started: back in the queue, as any unstarted item
    await rig.tick(10)
    await rig.tick(CLIP_S)
    by_item = {e.item_id: e for e in rig.events()}
    assert by_item["a"].outcome is Outcome.PREEMPTED
    assert by_item["flood"].outcome is Outcome.COMPLETED
    assert by_item["b"].outcome is Outcome.COMPLETED
    assert [s[0] for s in rig.started] == ["a", "flood", "b"]


async def test_two_plays_of_one_player_have_their_own_stop_and_share_the_amplifier(
    fake_clock: FakeClock, tmp_path: Path
) -> None:
    clip = tmp_path / "clip.ogg"
    clip.write_bytes(b"x")
    hardware = simulated_hardware(fake_clock.now)
    player = SimulatedPlayer(fake_clock, hardware, settle_s=0.5)
    first_stop, second_stop = asyncio.Event(), asyncio.Event()
    first = asyncio.ensure_future(player.play(clip, 10, stop=first_stop))
    await settle()
    await fake_clock.advance(5)
    second_at = fake_clock.now() + timedelta(seconds=5.5)
    second = asyncio.ensure_future(
        player.play(clip, 10, start_at=second_at, stop=second_stop, after=first)
    )
    await settle()
    first_stop.set()  # the first ends early; the second is still armed, the relay on
    await settle()
    assert (await first).completed is False
    assert hardware.relay.is_on()
    await fake_clock.advance(5.5)
    await settle()
    await fake_clock.advance(10)
    result = await second
    assert result.completed and result.started_at == second_at
    assert not hardware.relay.is_on()


async def test_a_clean_shutdown_at_the_handover_records_both_items(rig: Rig) -> None:
    agent = await rig.start_agent()
    await arm_b_behind_a(rig, agent)
    await agent.stop()
    by_item = {e.item_id: e for e in rig.events()}
    assert by_item["a"].outcome is Outcome.PARTIAL
    # As any play prepared and not started when the agent stops.
    assert (by_item["b"].outcome, by_item["b"].reason) == (
        Outcome.SKIPPED,
        "agent shut down during playback before start",
    )
