"""The priority rules of docs/priorities.md, on a FakeClock: order, preemption, CAP-style
update and cancel, expiry, and the state that lets the controller see the device's clock."""

from __future__ import annotations

import itertools
from datetime import timedelta

from tests.unit.test_agent_support import DEVICE, Rig, rig, settle
from wardcast_protocol.envelope import open_envelope
from wardcast_protocol.messages import DeviceState, Kind, Outcome, PlayNow, Priority
from wardcast_protocol.topics import DeviceChannel

__all__ = ["rig"]  # the fixture, used by name below


def outcomes(rig: Rig) -> dict[str, tuple[Outcome, float, str | None]]:
    return {e.item_id: (e.outcome, e.played_duration_s, e.reason) for e in rig.events()}


# order ---------------------------------------------------------------------------------


async def test_at_the_same_planned_start_emergency_then_priority_then_normal(rig: Rig) -> None:
    await rig.start_agent()
    short = rig.fetcher.add(b"short", duration_s=5)
    items = [
        rig.item("a-normal", 10, media=short),
        rig.item("z-priority", 10, media=short, priority=Priority.PRIORITY),
        rig.item("m-emergency", 10, media=short, priority=Priority.EMERGENCY),
    ]
    rig.ctl.send_plan(DEVICE, items, version=1)
    await settle()
    for _ in range(4):
        await rig.tick(5)
    assert [s[0] for s in rig.started] == ["m-emergency", "z-priority", "a-normal"]
    assert {o for o, _, _ in outcomes(rig).values()} == {Outcome.COMPLETED}


async def test_a_priority_item_keeps_the_place_the_controller_gave_it(rig: Rig) -> None:
    # Priority bulletins are put first *by the controller*; a later priority item does
    # not jump ahead of, nor interrupt, a normal item planned before it.
    await rig.start_agent()
    rig.ctl.send_plan(
        DEVICE,
        [rig.item("normal", 1), rig.item("prio", 5, priority=Priority.PRIORITY)],
        version=1,
    )
    await settle()
    await rig.tick(1)
    await rig.tick(30)
    await rig.tick(30)
    assert [s[0] for s in rig.started] == ["normal", "prio"]
    assert outcomes(rig)["normal"][0] is Outcome.COMPLETED


# preemption ----------------------------------------------------------------------------


async def test_the_preempted_item_is_dropped_and_the_rundown_goes_on(rig: Rig) -> None:
    await rig.start_agent()
    alarm = rig.fetcher.add(b"flood", duration_s=10)
    rig.ctl.send_plan(DEVICE, [rig.item("n1", 1), rig.item("n2", 20)], version=1)
    await settle()
    await rig.tick(1)
    await rig.tick(8)
    rig.ctl.play_now(DEVICE, rig.item("flood", 0, media=alarm, priority=Priority.EMERGENCY))
    await settle()
    await rig.tick(10)  # the emergency: +9..+19
    await rig.tick(40)
    assert [s[0] for s in rig.started] == ["n1", "flood", "n2"]  # n1 never again
    got = outcomes(rig)
    assert got["n1"] == (Outcome.PREEMPTED, 8, "preempted by emergency item flood")
    assert got["flood"][0] is Outcome.COMPLETED
    assert got["n2"][0] is Outcome.COMPLETED


async def test_an_emergency_does_not_preempt_an_emergency(rig: Rig) -> None:
    await rig.start_agent()
    first = rig.fetcher.add(b"fire", duration_s=10)
    second = rig.fetcher.add(b"flood", duration_s=10)
    rig.ctl.play_now(DEVICE, rig.item("fire", 0, media=first, priority=Priority.EMERGENCY))
    await settle()
    await rig.tick(3)
    rig.ctl.play_now(DEVICE, rig.item("flood", 0, media=second, priority=Priority.EMERGENCY))
    await settle()
    await rig.tick(7)
    await rig.tick(10)
    assert [s[0] for s in rig.started] == ["fire", "flood"]
    assert outcomes(rig)["fire"][0] is Outcome.COMPLETED
    assert rig.started[1][1] == rig.at(-10)  # flood started as fire ended


# update and cancel (CAP Alert / Update / Cancel, as the controller sends them) ---------


async def test_cancel_stops_a_playing_emergency_as_partial(rig: Rig) -> None:
    await rig.start_agent()
    alarm = rig.fetcher.add(b"flood", duration_s=60)
    rig.ctl.play_now(DEVICE, rig.item("flood", 0, media=alarm, priority=Priority.EMERGENCY))
    await settle()
    await rig.tick(12)
    rig.ctl.stop_item(DEVICE, "flood", "cancelled: water receding")
    await settle()
    assert outcomes(rig)["flood"] == (Outcome.PARTIAL, 12, "cancelled: water receding")
    assert rig.hardware is not None and not rig.hardware.relay.is_on()


async def test_cancel_of_an_emergency_not_yet_started_is_a_skip(rig: Rig) -> None:
    await rig.start_agent()
    first = rig.fetcher.add(b"fire", duration_s=30)
    second = rig.fetcher.add(b"flood", duration_s=30)
    rig.ctl.play_now(DEVICE, rig.item("fire", 0, media=first, priority=Priority.EMERGENCY))
    rig.ctl.play_now(DEVICE, rig.item("flood", 0, media=second, priority=Priority.EMERGENCY))
    await settle()
    await rig.tick(5)
    rig.ctl.stop_item(DEVICE, "flood", "cancelled: false alarm")
    await settle()
    await rig.tick(60)
    got = outcomes(rig)
    assert got["flood"] == (Outcome.SKIPPED, 0, "cancelled: false alarm before start")
    assert [s[0] for s in rig.started] == ["fire"]


async def test_update_stops_the_old_message_and_plays_the_new_one_at_once(rig: Rig) -> None:
    agent = await rig.start_agent()
    v1 = rig.fetcher.add(b"flood level 1", duration_s=60)
    v2 = rig.fetcher.add(b"flood level 2", duration_s=20)
    rig.ctl.play_now(DEVICE, rig.item("alert-1", 0, media=v1, priority=Priority.EMERGENCY))
    await settle()
    await rig.tick(15)
    rig.ctl.stop_item(DEVICE, "alert-1", "updated by alert-2")
    rig.ctl.play_now(DEVICE, rig.item("alert-2", 0, media=v2, priority=Priority.EMERGENCY))
    await settle()
    assert agent.playing_item_id == "alert-2"
    assert rig.started[-1] == ("alert-2", rig.now)
    await rig.tick(20)
    got = outcomes(rig)
    assert got["alert-1"] == (Outcome.PARTIAL, 15, "updated by alert-2")
    assert got["alert-2"][:2] == (Outcome.COMPLETED, 20)


async def test_a_queued_order_not_started_by_its_expiry_is_skipped(rig: Rig) -> None:
    await rig.start_agent()
    long = rig.fetcher.add(b"fire", duration_s=30)
    rig.ctl.play_now(DEVICE, rig.item("fire", 0, media=long, priority=Priority.EMERGENCY))
    command = rig.ctl.send_command(
        DEVICE,
        PlayNow(item=rig.item("flood", 0, priority=Priority.EMERGENCY)),
        ttl_s=10,
    )
    await settle()
    await rig.tick(30)
    outcome, played, reason = outcomes(rig)["flood"]
    assert (outcome, played) == (Outcome.SKIPPED, 0)
    when = command.expires_at.isoformat(timespec="seconds")
    assert reason == f"expired at {when} before it could start"
    assert [s[0] for s in rig.started] == ["fire"]


async def test_expiry_also_holds_for_an_order_restored_after_a_restart(rig: Rig) -> None:
    agent = await rig.start_agent()
    long = rig.fetcher.add(b"fire", duration_s=30)
    rig.ctl.play_now(DEVICE, rig.item("fire", 0, media=long, priority=Priority.EMERGENCY))
    rig.ctl.send_command(
        DEVICE, PlayNow(item=rig.item("flood", 0, priority=Priority.EMERGENCY)), ttl_s=10
    )
    await settle()
    await rig.tick(2)
    await agent.stop()
    await rig.tick(12)  # back within the late-start grace, after the expiry
    await rig.start_agent()
    await rig.tick(1)
    outcome, _, reason = outcomes(rig)["flood"]
    assert outcome is Outcome.SKIPPED and reason is not None and "expired at" in reason


# state: plan version, cached media, pending events and the device's clock --------------


def states(rig: Rig) -> list[DeviceState]:
    keys = {DEVICE: rig.device_key.public_key_b64}.get
    found = []
    for payload in rig.published(DeviceChannel.STATE):
        body = open_envelope(payload, Kind.STATE, keys).body
        assert isinstance(body, DeviceState)
        found.append(body)
    return found


async def test_state_is_published_on_connect_and_every_state_interval(rig: Rig) -> None:
    await rig.start_agent(state_interval_s=60)
    assert len(states(rig)) == 1
    assert states(rig)[0].device_time == rig.now
    for _ in range(21):  # three and a half minutes
        await rig.tick(10)
    published = states(rig)
    assert len(published) >= 4
    # Every minute or so: the housekeeping tick (20 s here) bounds the lateness.
    gaps = [(b.device_time - a.device_time) for a, b in itertools.pairwise(published)]
    assert all(timedelta(seconds=60) <= g <= timedelta(seconds=80) for g in gaps)


async def test_state_reports_plan_version_cached_media_and_pending_events(rig: Rig) -> None:
    await rig.start_agent()
    rig.ctl.send_plan(DEVICE, [rig.item("i1", 1)], version=4)
    await settle()
    latest = states(rig)[-1]
    assert (latest.plan_version, latest.cached_media) == (4, 1)  # after the prefetch
    await rig.tick(1)
    await rig.tick(30)
    await rig.tick(60)
    latest = states(rig)[-1]
    assert (latest.plan_version, latest.pending_events) == (4, 1)
    assert latest.device_time == rig.now or rig.now - latest.device_time <= timedelta(seconds=60)
