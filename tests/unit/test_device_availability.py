"""Whether a device is online is judged from fresh messages, never from a stale retained copy."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from controller.api.app import create_app
from controller.db.models import Device
from controller.domain.devices.service import is_online
from tests.support.auth import auth_headers
from tests.unit.controller_support import Harness, make_harness
from wardcast_protocol.envelope import seal
from wardcast_protocol.messages import Availability, DeviceState, Kind
from wardcast_protocol.subscriptions import ReceivedMessage
from wardcast_protocol.topics import DeviceChannel, device_topic

OFFLINE_AFTER = timedelta(seconds=180)


@pytest.fixture
def h(tmp_path: Path) -> Iterator[Harness]:
    harness = make_harness(tmp_path)
    yield harness
    harness.runtime.stop()


def _retained(h: Harness, channel: DeviceChannel, kind: Kind, body: object, age: timedelta) -> None:
    """What the broker hands a (re)subscribing controller: a copy said ``age`` ago."""
    assert isinstance(body, Availability | DeviceState)
    said = h.clock.now() - age
    payload = seal(kind, body, "to-1", h.device_keys["to-1"], said)
    h.runtime.bridge.handle(ReceivedMessage(device_topic("to-1", channel), payload, True))


def _device(h: Harness) -> Device:
    with h.runtime.db.session() as session:
        device = session.get(Device, "to-1")
        assert device is not None
        return device


def test_a_live_online_is_online_until_the_device_falls_silent(h: Harness) -> None:
    h.device_sends(
        "to-1", DeviceChannel.AVAILABILITY, Kind.AVAILABILITY, Availability(state="online")
    )
    assert is_online(_device(h), h.clock.now(), OFFLINE_AFTER)
    asyncio.run(h.clock.advance(181))
    assert not is_online(_device(h), h.clock.now(), OFFLINE_AFTER)
    state = DeviceState(plan_version=0, device_time=h.clock.now(), pending_events=0)
    h.device_sends("to-1", DeviceChannel.STATE, Kind.STATE, state)  # heard again
    assert is_online(_device(h), h.clock.now(), OFFLINE_AFTER)


def test_a_stale_retained_online_does_not_make_a_silent_device_online(h: Harness) -> None:
    _retained(h, DeviceChannel.AVAILABILITY, Kind.AVAILABILITY, Availability(state="online"),
              timedelta(hours=2))  # fmt: skip
    device = _device(h)
    assert device.online  # what it last said…
    assert not is_online(device, h.clock.now(), OFFLINE_AFTER)  # …is two hours old


def test_a_retained_state_neither_fakes_freshness_nor_a_clock_offset(h: Harness) -> None:
    old = h.clock.now() - timedelta(hours=1)
    state = DeviceState(plan_version=2, device_time=old, pending_events=0)
    _retained(h, DeviceChannel.STATE, Kind.STATE, state, timedelta(hours=1))
    device = _device(h)
    assert device.reported_plan_version == 2
    assert device.clock_offset_s is None  # an hour-old copy says nothing about its clock
    assert device.last_seen_at is not None and device.last_seen_at <= old + timedelta(seconds=1)


def test_the_api_shows_online_only_for_fresh_devices(h: Harness) -> None:
    h.device_sends(
        "to-1", DeviceChannel.AVAILABILITY, Kind.AVAILABILITY, Availability(state="online")
    )
    with TestClient(create_app(runtime=h.runtime)) as api:
        headers = auth_headers(h.runtime)
        assert api.get("/api/v1/devices/to-1", headers=headers).json()["online"] is True
        asyncio.run(h.clock.advance(600))
        assert api.get("/api/v1/devices/to-1", headers=headers).json()["online"] is False
