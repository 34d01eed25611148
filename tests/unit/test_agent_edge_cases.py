"""EdgeAgent corner cases: warm-up lead, failing hardware, slow media, odd messages, restarts."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest

from edge_agent.controller_stand_in import ControllerStandIn
from firmware_stubs.interfaces import HardwareFault
from tests.unit.test_agent_support import DEVICE, Rig, rig, settle
from wardcast_protocol.envelope import seal
from wardcast_protocol.messages import EventAck, Kind, Outcome, Plan, Priority
from wardcast_protocol.topics import DeviceChannel, device_topic

__all__ = ["rig"]  # the fixture, used by name below


async def test_play_is_prepared_and_amplifier_warmed_up_before_the_planned_instant(
    rig: Rig,
) -> None:
    await rig.start_agent(settle_s=0.5, start_prepare_s=0.5)
    assert rig.hardware is not None
    rig.ctl.send_plan(DEVICE, [rig.item("i1", 10)], version=1)
    await settle()
    planned = rig.at(10)
    await rig.tick(8.9)
    assert not rig.hardware.relay.is_on()
    await rig.tick(0.1)  # prepared: journal written, relay on, 1 s ahead
    assert rig.hardware.relay.is_on() and rig.started == []
    assert rig.hardware.relay.transitions[0].at == planned - timedelta(seconds=1)
    await rig.tick(0.9)
    assert rig.started == []
    await rig.tick(0.1)
    assert rig.started == [("i1", planned)]


async def test_an_item_preempted_while_prepared_waits_its_turn_again(rig: Rig) -> None:
    await rig.start_agent(start_prepare_s=2)
    alarm = rig.fetcher.add(b"alarm", duration_s=5)
    rig.ctl.send_plan(DEVICE, [rig.item("normal", 10)], version=1)
    await settle()
    await rig.tick(9)  # prepared, not yet sounding
    rig.ctl.play_now(DEVICE, rig.item("fire", 0, media=alarm, priority=Priority.EMERGENCY))
    await settle()
    await rig.tick(5)
    await settle()
    assert [s[0] for s in rig.started] == ["fire", "normal"]
    assert [e.item_id for e in rig.events()] == ["fire"]  # "normal" is playing, late


async def test_stop_while_prepared_is_a_skip_not_a_partial(rig: Rig) -> None:
    agent = await rig.start_agent(start_prepare_s=2)
    rig.ctl.send_plan(DEVICE, [rig.item("i1", 10)], version=1)
    await settle()
    await rig.tick(9)
    rig.ctl.stop_item(DEVICE, "i1")
    await settle()
    [event] = rig.events()
    assert (event.outcome, event.reason) == (Outcome.SKIPPED, "stopped by controller before start")
    assert agent.outbox.journal() == []
    await rig.tick(5)
    assert rig.started == []


async def test_dead_amplifier_is_recorded_beside_a_completed_play(rig: Rig) -> None:
    await rig.start_agent()
    assert rig.hardware is not None
    rig.hardware.sensors.amplifier_dead = True
    rig.ctl.send_plan(DEVICE, [rig.item("i1", 1)], version=1)
    await settle()
    await rig.tick(1)
    await rig.tick(30)
    [event] = rig.events()
    assert (event.outcome, event.amplifier_on) == (Outcome.COMPLETED, False)
    assert event.reason == "amplifier drew no current"


async def test_relay_that_cannot_switch_makes_a_failed_event(rig: Rig) -> None:
    await rig.start_agent()
    assert rig.hardware is not None
    rig.hardware.relay.fail_with = HardwareFault("GPIO 17: permission denied")
    rig.ctl.send_plan(DEVICE, [rig.item("i1", 1), rig.item("i2", 5)], version=1)
    await settle()
    await rig.tick(1)
    i1 = rig.events()[0]
    assert i1.outcome is Outcome.FAILED
    assert i1.reason == "amplifier relay failed: GPIO 17: permission denied"
    rig.hardware.relay.fail_with = None
    await rig.tick(4)
    assert [s[0] for s in rig.started] == ["i2"]


async def test_emergency_is_not_held_up_by_a_slow_download(rig: Rig) -> None:
    agent = await rig.start_agent(media_fetch_attempts=5, media_fetch_backoff_s=10)
    slow = rig.fetcher.add(b"slow to fetch", duration_s=5)
    rig.fetcher.fail_next[slow.url] = 1  # first attempt fails, retry after 10 s
    alarm = rig.fetcher.add(b"alarm", duration_s=5)
    rig.ctl.send_plan(DEVICE, [rig.item("normal", 0, media=slow)], version=1)
    await settle()
    assert rig.started == []  # waiting for its media
    rig.ctl.play_now(DEVICE, rig.item("fire", 0, media=alarm, priority=Priority.EMERGENCY))
    await settle()
    assert [s[0] for s in rig.started] == ["fire"]
    await rig.tick(5)
    await rig.tick(5)  # retry succeeds; the normal item plays late, its turn having come
    assert [s[0] for s in rig.started] == ["fire", "normal"]
    assert agent.media.has(slow)


async def test_media_not_ready_within_the_grace_fails_the_item(rig: Rig) -> None:
    await rig.start_agent(late_start_grace_s=30, media_fetch_backoff_s=60)
    slow = rig.fetcher.add(b"never in time", duration_s=5)
    rig.fetcher.fail_next[slow.url] = 1
    rig.ctl.send_plan(DEVICE, [rig.item("i1", 0, media=slow)], version=1)
    await settle()
    await rig.tick(30)
    [event] = rig.events()
    assert (event.outcome, event.reason) == (Outcome.FAILED, "media not ready in time")


async def test_play_now_survives_a_restart_before_its_turn(rig: Rig) -> None:
    agent = await rig.start_agent()
    rig.ctl.send_plan(DEVICE, [rig.item("long", 0)], version=1)
    await settle()
    rig.ctl.play_now(DEVICE, rig.item("now-1", 0))
    await settle()
    await rig.tick(5)
    await agent.abort()
    await rig.tick(1)
    await rig.start_agent()
    started = [s[0] for s in rig.started]
    assert started == ["long", "now-1"]  # "long" was cut by the crash, "now-1" still plays
    outcomes = {e.item_id: e.outcome for e in rig.events()}
    assert outcomes == {"long": Outcome.FAILED}


async def test_odd_messages_are_ignored_without_harm(
    rig: Rig, caplog: pytest.LogCaptureFixture
) -> None:
    agent = await rig.start_agent()
    ctl = rig.ctl
    with caplog.at_level(logging.INFO):
        # A plan sealed as a command: right key, wrong kind for the topic.
        plan = Plan(device_id=DEVICE, version=1, generated_at=rig.now, items=())
        wire = seal(Kind.PLAN, plan, "controller", ctl.key, rig.now)
        ctl.transport.publish(device_topic(DEVICE, DeviceChannel.COMMAND), wire)
        # An ack signed by someone else.
        other = ControllerStandIn(rig.broker.link("other"), now=rig.clock.now)
        other.transport.start()
        other.ack(DEVICE, ["x"])
        # A cleared retained plan, an ack for unknown ids, a stop for an unknown item.
        ctl.transport.publish(device_topic(DEVICE, DeviceChannel.PLAN), b"", retain=True)
        ctl.publish(DEVICE, DeviceChannel.ACK, Kind.ACK, EventAck(event_ids=("nope",)))
        ctl.stop_item(DEVICE, "ghost")
        await settle()
    assert agent.stats.rejected == {"wrong_kind": 1, "bad_signature": 1}
    assert "cleared" in caplog.text and "not playing nor queued" in caplog.text
    rig.ctl.send_plan(DEVICE, [rig.item("i1", 1)], version=1)
    await settle()
    await rig.tick(1)
    assert [s[0] for s in rig.started] == ["i1"]


async def test_a_newer_plan_drops_items_it_no_longer_contains(rig: Rig) -> None:
    agent = await rig.start_agent()
    rig.ctl.send_plan(DEVICE, [rig.item("a", 10), rig.item("b", 20)], version=1)
    await settle()
    rig.ctl.send_plan(DEVICE, [rig.item("b", 20), rig.item("c", 30)], version=2)
    await settle()
    assert [p.item_id for p in agent.queue] == ["b", "c"]
    assert rig.events() == []  # a rescheduled plan is the controller's record, not evidence
