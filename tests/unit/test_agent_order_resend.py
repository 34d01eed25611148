"""An order sent again (a controller restarted during a broker outage) plays once.

The controller cannot know which devices got the order its stopped link held, so it
sends it again as a *new* command for the same item: the item id, not the command id,
decides. A device that played it (even across its own restart, its event not yet
acknowledged), or holds it queued, does not play it again nor move it in its queue; one
that never got it plays it.
"""

from __future__ import annotations

from edge_agent.core import EdgeAgent
from tests.unit.test_agent_support import DEVICE, Rig, rig, settle
from wardcast_protocol.messages import Priority

__all__ = ["rig"]  # the fixture, used by name below


def _plays(rig: Rig) -> list[str]:
    return [item_id for item_id, _ in rig.started]


async def test_a_copy_of_an_order_already_played_does_not_play_again(rig: Rig) -> None:
    agent = await rig.start_agent()
    item = rig.item("now-1", 0, priority=Priority.EMERGENCY)
    rig.ctl.play_now(DEVICE, item, command_id="cmd-first")
    await settle()
    await rig.tick(31)
    assert _plays(rig) == ["now-1"]
    rig.ctl.play_now(DEVICE, item, command_id="cmd-again")  # the controller's copy
    await settle()
    await rig.tick(31)
    assert _plays(rig) == ["now-1"]
    assert agent.stats.duplicates_ignored == 0  # not a replay: nothing to report
    # Its own restart in between (the event never acknowledged) changes nothing.
    await agent.stop()
    again = await rig.start_agent()
    rig.ctl.play_now(DEVICE, item, command_id="cmd-third")
    await settle()
    await rig.tick(31)
    assert _plays(rig) == ["now-1"]
    assert again.stats.plays_started == 0
    assert [e.item_id for e in rig.events()] == ["now-1"]


async def test_a_copy_of_a_queued_order_keeps_its_place_and_plays_once(rig: Rig) -> None:
    await rig.start_agent()
    rig.ctl.play_now(DEVICE, rig.item("now-0", 0), command_id="cmd-0")
    await settle()
    await rig.tick(1)  # now-0 sounds (30 s); the next ones wait for it
    for n in (1, 2, 3):  # now-1 may be armed to follow now-0; now-2 and now-3 queue
        rig.ctl.play_now(DEVICE, rig.item(f"now-{n}", 0), command_id=f"cmd-{n}", ttl_s=300)
        await rig.tick(1)
    await rig.tick(1)
    # The copy of now-2 comes after now-3: taken as new, it would queue behind it.
    rig.ctl.play_now(DEVICE, rig.item("now-2", 0), command_id="cmd-2-again", ttl_s=300)
    await settle()
    for _ in range(5):
        await rig.tick(31)
    assert _plays(rig) == ["now-0", "now-1", "now-2", "now-3"]
    assert sorted(e.item_id for e in rig.events()) == ["now-0", "now-1", "now-2", "now-3"]


async def test_a_copy_of_an_order_sounding_now_does_not_start_it_again(rig: Rig) -> None:
    agent: EdgeAgent = await rig.start_agent()
    item = rig.item("now-1", 0)
    rig.ctl.play_now(DEVICE, item, command_id="cmd-first")
    await settle()
    await rig.tick(5)
    assert agent.playback.playing_item_id == "now-1"
    rig.ctl.play_now(DEVICE, item, command_id="cmd-again")
    await settle()
    await rig.tick(31)
    assert _plays(rig) == ["now-1"]
    assert [e.item_id for e in rig.events()] == ["now-1"]


async def test_a_device_that_never_got_the_order_plays_the_copy(rig: Rig) -> None:
    await rig.start_agent()
    rig.ctl.play_now(DEVICE, rig.item("now-1", 0), command_id="cmd-again")
    await settle()
    await rig.tick(31)
    assert _plays(rig) == ["now-1"]
    assert [e.item_id for e in rig.events()] == ["now-1"]
