"""Ward broadcasts: one signed command for a ward's devices, still bound and used once."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from controller.domain.broadcasts.service import BroadcastRequest
from controller.domain.places import service as places
from controller.messaging.broker_accounts import render_acl_file
from controller.messaging.fanout import WardListeners, address, chunks
from tests.unit.controller_support import Harness, make_harness
from tests.unit.test_agent_support import DEVICE, Rig, rig, settle
from wardcast_protocol.envelope import CONTROLLER_SENDER, open_envelope, seal
from wardcast_protocol.messages import Command, DeviceState, Kind, Plan, PlanItem, PlayNow
from wardcast_protocol.topics import DeviceChannel, device_topic, parse_ward, ward_topic

__all__ = ["rig"]  # the fixture, used by name below

WARD = "hoa-minh"

# controller ------------------------------------------------------------------------


@pytest.fixture
def h(tmp_path: Path) -> Iterator[Harness]:
    harness = make_harness(tmp_path)
    with harness.runtime.db.session() as session:
        places.upsert_province(session, "p1", "Province")
        places.upsert_district(session, "d1", "p1", "District")
        places.upsert_ward(session, WARD, "d1", "Hòa Minh", "Asia/Ho_Chi_Minh")
        for device_id in ("to-1", "to-2"):
            places.place_device(session, device_id, WARD, None)
    yield harness
    harness.runtime.stop()


def _says_it_listens(h: Harness, device_id: str, ward: str | None) -> None:
    state = DeviceState(device_time=h.clock.now(), broadcast_ward=ward)
    h.device_sends(device_id, DeviceChannel.STATE, Kind.STATE, state)


def _commands(h: Harness, topic: str) -> list[Command]:
    out = []
    for published in h.broker.published(topic):
        body = h.open(published.payload, Kind.COMMAND).body
        assert isinstance(body, Command)
        out.append(body)
    return out


def test_a_now_to_a_listening_ward_is_one_signed_command_naming_every_device(
    h: Harness,
) -> None:
    for device_id in ("to-1", "to-2"):
        _says_it_listens(h, device_id, WARD)
    broadcast = h.runtime.broadcasts.schedule(BroadcastRequest("bul-1", ["to-1", "to-2"]))
    (command,) = _commands(h, ward_topic(WARD))
    assert command.device_ids == ("to-1", "to-2")
    assert isinstance(command.order, PlayNow) and command.order.item.broadcast_id == broadcast.id
    assert command.expires_at > command.issued_at
    (published,) = h.broker.published(ward_topic(WARD))
    assert not published.retain and published.expiry_s is not None
    for device_id in ("to-1", "to-2"):
        assert h.published(device_id, DeviceChannel.COMMAND) == []


def test_a_device_not_listening_or_moved_gets_its_own_command(h: Harness) -> None:
    _says_it_listens(h, "to-1", WARD)
    _says_it_listens(h, "to-2", "elsewhere")  # its plan is old: the controller has it in WARD
    h.runtime.broadcasts.schedule(BroadcastRequest("bul-1", ["to-1", "to-2"]))
    assert [c.device_ids for c in _commands(h, ward_topic(WARD))] == [("to-1",)]
    (own,) = _commands(h, device_topic("to-2", DeviceChannel.COMMAND))
    assert own.device_ids == ("to-2",)


def test_the_plan_names_the_ward_and_the_acl_lets_only_its_devices_read_it(h: Harness) -> None:
    h.runtime.plans.republish("to-1")
    published = h.published("to-1", DeviceChannel.PLAN)[-1]
    body = h.open(published.payload, Kind.PLAN).body
    assert isinstance(body, Plan) and body.ward_code == WARD
    acl = render_acl_file({"to-1": WARD, "to-9": "other"})
    assert f"user to-1\ntopic read {ward_topic(WARD)}\n" in acl
    assert f"user to-9\ntopic read {ward_topic('other')}\n" in acl
    assert "pattern read wardcast/v1/ward" not in acl  # never every ward to everyone


def test_a_thousand_and_one_devices_cost_two_commands() -> None:
    listeners = WardListeners()
    targets: dict[str, str | None] = {f"dev-{n:04d}": WARD for n in range(1001)}
    for device_id in targets:
        listeners.heard(device_id, WARD)
    targets["lonely"] = None
    wards, singles = address(targets, listeners)
    assert singles == ["lonely"]
    assert [len(run) for run in chunks(wards[WARD])] == [1000, 1]
    long_ids = [f"{n:03d}" + "x" * 60 for n in range(1000)]  # 64-char ids: the size budget
    assert all(sum(len(i) + 4 for i in run) <= 40_000 for run in chunks(long_ids))


# agent -----------------------------------------------------------------------------


def _ward_command(rig: Rig, item: PlanItem, devices: tuple[str, ...]) -> Command:
    command = Command(
        command_id=uuid.uuid4().hex,
        device_ids=devices,
        issued_at=rig.now,
        expires_at=rig.now + timedelta(seconds=60),
        order=PlayNow(item=item),
    )
    wire = seal(Kind.COMMAND, command, CONTROLLER_SENDER, rig.ctl.key, rig.now)
    rig.ctl.transport.publish(ward_topic(WARD), wire)
    return command


def _states(rig: Rig) -> list[DeviceState]:
    keys = {DEVICE: rig.device_key.public_key_b64}.get
    out = []
    for payload in rig.published(DeviceChannel.STATE):
        body = open_envelope(payload, Kind.STATE, keys, expected_sender=DEVICE).body
        assert isinstance(body, DeviceState)
        out.append(body)
    return out


async def _agent_in_ward(rig: Rig) -> None:
    await rig.start_agent()
    plan = Plan(device_id=DEVICE, version=1, generated_at=rig.now, ward_code=WARD)
    rig.ctl.publish(DEVICE, DeviceChannel.PLAN, Kind.PLAN, plan, retain=True)
    await settle()


async def test_the_agent_listens_to_its_plans_ward_and_says_so(rig: Rig) -> None:
    await _agent_in_ward(rig)
    assert _states(rig)[-1].broadcast_ward == WARD
    ward_commands = [m for m in rig.broker.log if parse_ward(m.topic) is not None]
    assert ward_commands == []  # nothing sent yet; now one arrives and is heard
    _ward_command(rig, rig.item("heard", 0), (DEVICE,))
    await settle()
    await rig.tick(1)
    assert [s[0] for s in rig.started] == ["heard"]


async def test_a_ward_command_naming_the_device_plays_once(rig: Rig) -> None:
    await _agent_in_ward(rig)
    command = _ward_command(rig, rig.item("now-ward", 0), ("to-99", DEVICE))
    # The same signed bytes again (a QoS 1 redelivery, or a replay): refused, not replayed.
    (first,) = rig.broker.published(ward_topic(WARD))
    rig.broker.route("controller", ward_topic(WARD), first.payload, False, None)
    await settle()
    await rig.tick(1)
    assert [s[0] for s in rig.started] == ["now-ward"]
    agent = rig.agents[-1]
    assert [(e.reason, e.command_id) for e in agent.security.entries()] == [
        ("replayed", command.command_id)
    ]


async def test_a_ward_command_for_the_neighbours_is_ignored_quietly(rig: Rig) -> None:
    await _agent_in_ward(rig)
    _ward_command(rig, rig.item("not-mine", 0), ("to-98", "to-99"))
    await settle()
    await rig.tick(1)
    assert rig.started == []
    assert rig.agents[-1].security.entries() == []


async def test_another_wards_channel_is_refused(rig: Rig) -> None:
    await _agent_in_ward(rig)
    item = rig.item("foreign", 0)
    command = Command(
        command_id="c-x",
        device_ids=(DEVICE,),
        issued_at=rig.now,
        expires_at=rig.now + timedelta(seconds=60),
        order=PlayNow(item=item),
    )
    wire = seal(Kind.COMMAND, command, CONTROLLER_SENDER, rig.ctl.key, rig.now)
    rig.agents[-1].receiver.handle_message(ward_topic("other-ward"), wire)
    await rig.tick(1)
    assert rig.started == []
    assert [e.reason for e in rig.agents[-1].security.entries()] == ["unexpected_topic"]
