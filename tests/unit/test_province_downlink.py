"""Province downlink: what the centre sends devices goes under prov/<province>/ when on.

A nation's provinces run their own brokers bridged to the centre (docs/scale.md); the
bridges take down only their own prefix. Plans, commands, ward broadcasts and acks
follow the province of the device's ward; an unplaced device keeps the plain topics.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from controller.db.session import Database
from controller.domain.broadcasts.service import BroadcastRequest
from controller.domain.places import service as places
from controller.messaging.broker_accounts import render_acl_file
from controller.messaging.downlink import ProvinceDirectory
from tests.unit.controller_support import Harness, make_harness
from wardcast_protocol.messages import DeviceState, Kind
from wardcast_protocol.topics import (
    DeviceChannel,
    device_topic,
    downlink_topic,
    province_downlink_filter,
    ward_topic,
)

WARD, OTHER_WARD = "w-hcm", "w-hni"


def _places(h: Harness) -> None:
    with h.runtime.db.session() as session:
        for province, district, ward in (("hcm", "d-hcm", WARD), ("hni", "d-hni", OTHER_WARD)):
            places.upsert_province(session, province, province)
            places.upsert_district(session, district, province, district)
            places.upsert_ward(session, ward, district, ward, "Asia/Ho_Chi_Minh")
        places.place_device(session, "to-1", WARD, None)  # to-2 stays unplaced


@pytest.fixture
def on(tmp_path: Path) -> Iterator[Harness]:
    harness = make_harness(tmp_path, province_downlink=True)
    _places(harness)
    yield harness
    harness.runtime.stop()


@pytest.fixture
def off(tmp_path: Path) -> Iterator[Harness]:
    harness = make_harness(tmp_path)
    _places(harness)
    yield harness
    harness.runtime.stop()


def _hcm(device_id: str, channel: DeviceChannel) -> str:
    return downlink_topic(device_topic(device_id, channel), "hcm")


def _listens(h: Harness, device_id: str, ward: str) -> None:
    state = DeviceState(device_time=h.clock.now(), broadcast_ward=ward)
    h.device_sends(device_id, DeviceChannel.STATE, Kind.STATE, state)


def test_the_topic_table_spells_the_prefix() -> None:
    plain = device_topic("to-1", DeviceChannel.PLAN)
    assert downlink_topic(plain, None) == plain
    assert downlink_topic(plain, "hcm") == "prov/hcm/wardcast/v1/device/to-1/plan"
    assert province_downlink_filter("hcm") == "prov/hcm/wardcast/v1/#"
    with pytest.raises(ValueError):
        downlink_topic(plain, "hcm/#")


def test_on_plans_commands_and_acks_go_under_the_devices_province(on: Harness) -> None:
    on.runtime.plans.republish("to-1")
    plan = on.broker.published(_hcm("to-1", DeviceChannel.PLAN))
    assert plan and plan[-1].retain
    assert on.runtime.outbound.downlink.provinces is not None
    on.runtime.broadcasts.schedule(BroadcastRequest("bul-1", ["to-1"]))
    assert on.broker.published(_hcm("to-1", DeviceChannel.COMMAND))
    on.runtime.outbound.ack("to-1", ("ev-1",))
    assert on.broker.published(_hcm("to-1", DeviceChannel.ACK))
    # Nothing for to-1 on the plain tree: only the centre's own broker would carry it.
    assert on.broker.published(device_topic("to-1", DeviceChannel.PLAN)) == []
    assert on.broker.published(device_topic("to-1", DeviceChannel.COMMAND)) == []


def test_on_a_ward_broadcast_goes_under_the_wards_province(on: Harness) -> None:
    _listens(on, "to-1", WARD)
    on.runtime.broadcasts.schedule(BroadcastRequest("bul-1", ["to-1"]))
    (published,) = on.broker.published(downlink_topic(ward_topic(WARD), "hcm"))
    assert not published.retain
    assert on.broker.published(ward_topic(WARD)) == []


def test_off_everything_keeps_the_plain_topics(off: Harness) -> None:
    off.runtime.plans.republish("to-1")
    off.runtime.broadcasts.schedule(BroadcastRequest("bul-1", ["to-1"]))
    off.runtime.outbound.ack("to-1", ("ev-1",))
    for channel in (DeviceChannel.PLAN, DeviceChannel.COMMAND, DeviceChannel.ACK):
        assert off.broker.published(device_topic("to-1", channel))
    assert off.broker.published("prov/") == []
    assert off.runtime.outbound.downlink.provinces is None


def test_an_unplaced_device_keeps_the_plain_topics_warned_once(
    on: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="controller.messaging.downlink"):
        on.runtime.outbound.ack("to-2", ("ev-1",))
        on.runtime.outbound.ack("to-2", ("ev-2",))
    assert len(on.broker.published(device_topic("to-2", DeviceChannel.ACK))) == 2
    warned = [r for r in caplog.records if "device to-2 has no province" in r.getMessage()]
    assert len(warned) == 1


def test_a_device_moved_to_another_province_follows_and_its_old_plan_is_cleared(
    on: Harness,
) -> None:
    on.runtime.plans.republish("to-1")
    assert _hcm("to-1", DeviceChannel.PLAN) in on.broker.retained
    with on.runtime.db.session() as session:  # any path: API, console, import
        places.place_device(session, "to-1", OTHER_WARD, None)
    on.runtime.plans.republish("to-1")
    hni = downlink_topic(device_topic("to-1", DeviceChannel.PLAN), "hni")
    assert hni in on.broker.retained
    assert _hcm("to-1", DeviceChannel.PLAN) not in on.broker.retained  # an empty retained
    on.runtime.outbound.ack("to-1", ("ev-1",))
    assert on.broker.published(downlink_topic(device_topic("to-1", DeviceChannel.ACK), "hni"))


def test_a_first_placement_clears_the_plain_retained_plan(on: Harness) -> None:
    on.runtime.plans.republish("to-2")
    plain = device_topic("to-2", DeviceChannel.PLAN)
    assert plain in on.broker.retained
    with on.runtime.db.session() as session:
        places.place_device(session, "to-2", OTHER_WARD, None)
    on.runtime.plans.republish("to-2")
    assert plain not in on.broker.retained
    assert downlink_topic(plain, "hni") in on.broker.retained


def test_another_replicas_placement_is_seen_at_the_next_refresh(on: Harness) -> None:
    now = [0.0]
    directory = ProvinceDirectory(on.runtime.db, refresh_s=60, monotonic=lambda: now[0])
    assert directory.of_device("to-2") is None
    replica = Database(on.runtime.db.url)  # its sessions are not this process's
    try:
        with replica.session() as session:
            places.place_device(session, "to-2", WARD, None)
        assert directory.of_device("to-2") is None  # not yet: still the map read at 0 s
        now[0] = 60.0
        assert directory.of_device("to-2") == "hcm"
        assert directory.left_behind("to-2") == {None}
        assert directory.of_ward(OTHER_WARD) == "hni"
    finally:
        replica.dispose()


def test_the_controllers_acl_may_publish_every_provinces_downlink() -> None:
    assert "topic write prov/+/wardcast/v1/#" in render_acl_file().splitlines()
