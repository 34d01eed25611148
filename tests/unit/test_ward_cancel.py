"""Cancelling a broadcast: one signed stop per listening ward, still bound and used once.

The controller side counts what the cancel publishes on the recording broker; the
agent side shows a ward-wide stop naming the device ends its play as partial, is
refused when replayed, and is ignored when it names only the neighbours.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from controller.domain.broadcasts.service import BroadcastRequest
from controller.domain.places import service as places
from tests.unit.controller_support import Harness, make_harness
from tests.unit.test_agent_support import DEVICE, Rig, rig, settle
from wardcast_protocol.envelope import CONTROLLER_SENDER, seal
from wardcast_protocol.fake_transport import Published
from wardcast_protocol.messages import (
    Command,
    DeviceState,
    Kind,
    Outcome,
    Plan,
    PlayNow,
    StopItem,
)
from wardcast_protocol.topics import DeviceChannel, device_topic, ward_topic

__all__ = ["rig"]  # the fixture, used by name below

WARD = "hoa-minh"
DEVICES = ("to-1", "to-2")  # the harness registers these two

# controller ------------------------------------------------------------------------


@pytest.fixture
def h(tmp_path: Path) -> Iterator[Harness]:
    harness = make_harness(tmp_path)
    with harness.runtime.db.session() as session:
        places.upsert_province(session, "p1", "Province")
        places.upsert_district(session, "d1", "p1", "District")
        places.upsert_ward(session, WARD, "d1", "Hòa Minh", "Asia/Ho_Chi_Minh")
        for device_id in DEVICES:
            places.place_device(session, device_id, WARD, None)
    yield harness
    harness.runtime.stop()


def _listens(h: Harness, device_id: str, ward: str | None) -> None:
    state = DeviceState(device_time=h.clock.now(), broadcast_ward=ward)
    h.device_sends(device_id, DeviceChannel.STATE, Kind.STATE, state)


def _command_publishes(h: Harness) -> list[Published]:
    """Every command the controller published, on a ward's or a device's topic, in order."""
    topics = {ward_topic(WARD)} | {device_topic(d, DeviceChannel.COMMAND) for d in DEVICES}
    return [p for p in h.broker.log if p.topic in topics]


def _command(h: Harness, published: Published) -> Command:
    body = h.open(published.payload, Kind.COMMAND).body
    assert isinstance(body, Command)
    return body


def test_a_cancelled_now_stops_a_listening_ward_with_one_signed_command(h: Harness) -> None:
    for device_id in DEVICES:
        _listens(h, device_id, WARD)
    broadcast = h.runtime.broadcasts.schedule(BroadcastRequest("bul-1", list(DEVICES)))
    before = len(_command_publishes(h))
    assert before == 1  # the "now" itself: one command on the ward's channel
    h.runtime.broadcasts.cancel(broadcast.id, reason="nhầm")
    published = _command_publishes(h)[before:]
    assert len(published) == 1, [p.topic for p in published]
    (stop,) = published
    assert stop.topic == ward_topic(WARD)
    assert not stop.retain and stop.expiry_s is not None
    command = _command(h, stop)
    assert command.device_ids == DEVICES
    assert isinstance(command.order, StopItem) and command.order.item_id == broadcast.id
    assert command.order.reason == "cancelled by system: nhầm"
    assert command.expires_at > command.issued_at


def test_a_device_not_listening_to_its_ward_gets_its_own_stop(h: Harness) -> None:
    _listens(h, "to-1", WARD)
    _listens(h, "to-2", None)  # older software, or its plan not yet read
    broadcast = h.runtime.broadcasts.schedule(BroadcastRequest("bul-1", list(DEVICES)))
    before = len(_command_publishes(h))
    h.runtime.broadcasts.cancel(broadcast.id)
    published = _command_publishes(h)[before:]
    assert sorted(p.topic for p in published) == sorted(
        [ward_topic(WARD), device_topic("to-2", DeviceChannel.COMMAND)]
    )
    commands = {p.topic: _command(h, p) for p in published}
    assert commands[ward_topic(WARD)].device_ids == ("to-1",)
    assert commands[device_topic("to-2", DeviceChannel.COMMAND)].device_ids == ("to-2",)
    assert len({c.command_id for c in commands.values()}) == 2


# agent -----------------------------------------------------------------------------


def _ward_stop(rig: Rig, item_id: str, devices: tuple[str, ...]) -> bytes:
    command = Command(
        command_id=uuid.uuid4().hex,
        device_ids=devices,
        issued_at=rig.now,
        expires_at=rig.now + timedelta(seconds=60),
        order=StopItem(item_id=item_id, reason="cancelled by can-bo"),
    )
    wire = seal(Kind.COMMAND, command, CONTROLLER_SENDER, rig.ctl.key, rig.now)
    rig.ctl.transport.publish(ward_topic(WARD), wire)
    return wire


async def _playing_in_ward(rig: Rig) -> None:
    await rig.start_agent()
    plan = Plan(
        device_id=DEVICE,
        version=1,
        generated_at=rig.now,
        ward_code=WARD,
        items=(rig.item("bc-1", 1),),
    )
    rig.ctl.publish(DEVICE, DeviceChannel.PLAN, Kind.PLAN, plan, retain=True)
    await settle()
    await rig.tick(1)
    await rig.tick(5)
    assert [s[0] for s in rig.started] == ["bc-1"]


async def test_a_ward_stop_naming_the_device_ends_its_play_once(rig: Rig) -> None:
    await _playing_in_ward(rig)
    wire = _ward_stop(rig, "bc-1", ("to-99", DEVICE))
    await settle()
    (event,) = rig.events()
    assert (event.item_id, event.outcome) == ("bc-1", Outcome.PARTIAL)
    assert event.played_duration_s == 5
    assert event.reason == "cancelled by can-bo"  # the cancel's own words
    # The same signed bytes again (a redelivery or a replay): refused and logged.
    rig.broker.route("controller", ward_topic(WARD), wire, False, None)
    await settle()
    assert len(rig.events()) == 1
    assert [e.reason for e in rig.agents[-1].security.entries()] == ["replayed"]


async def test_a_ward_stop_for_the_neighbours_leaves_the_play_alone(rig: Rig) -> None:
    await _playing_in_ward(rig)
    _ward_stop(rig, "bc-1", ("to-98", "to-99"))
    await settle()
    await rig.tick(30)
    (event,) = rig.events()
    assert event.outcome is Outcome.COMPLETED
    assert rig.agents[-1].security.entries() == []


async def test_a_play_now_then_its_ward_stop(rig: Rig) -> None:
    await rig.start_agent()
    plan = Plan(device_id=DEVICE, version=1, generated_at=rig.now, ward_code=WARD)
    rig.ctl.publish(DEVICE, DeviceChannel.PLAN, Kind.PLAN, plan, retain=True)
    await settle()
    now = Command(
        command_id=uuid.uuid4().hex,
        device_ids=(DEVICE,),
        issued_at=rig.now,
        expires_at=rig.now + timedelta(seconds=60),
        order=PlayNow(item=rig.item("bc-now", 0)),
    )
    rig.ctl.transport.publish(
        ward_topic(WARD), seal(Kind.COMMAND, now, CONTROLLER_SENDER, rig.ctl.key, rig.now)
    )
    await settle()
    await rig.tick(3)
    _ward_stop(rig, "bc-now", (DEVICE,))
    await settle()
    (event,) = rig.events()
    assert (event.item_id, event.outcome) == ("bc-now", Outcome.PARTIAL)
