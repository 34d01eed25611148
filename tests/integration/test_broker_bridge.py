"""The province-to-centre bridge of docs/scale.md, run as the page shows it.

Two real mosquittos: the "centre" and a "province" whose config is the page's bridge
file, with its address pointed at the centre and its TLS and login lines dropped (the
centre here is a plain loopback broker). What devices say goes up under the same
topics, to a shared subscription at the centre; what the centre publishes under the
province's prefix comes down to the device's own topic.
"""

from __future__ import annotations

import queue
import re
import time
from pathlib import Path

import pytest

from controller.messaging.broker import EmbeddedBroker
from wardcast_protocol.topics import DeviceChannel, all_devices, device_topic, shared_subscription
from wardcast_protocol.transport import BrokerAddress, MqttLink, ReceivedMessage

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]

DOC = Path(__file__).resolve().parents[2] / "docs" / "scale.md"
PREFIX = "prov/hcm/"
_DROPPED = ("remote_username", "remote_password", "bridge_cafile")


def bridge_config(centre: EmbeddedBroker) -> list[str]:
    """The page's bridge file, aimed at ``centre``."""
    block = re.search(r"```conf\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    assert block is not None, "docs/scale.md lost its bridge file"
    lines = []
    for line in block.group(1).splitlines():
        if line.startswith("address "):
            line = f"address {centre.host}:{centre.port}"
        if not line.startswith(_DROPPED):
            lines.append(line)
    return lines


class ProvinceBroker(EmbeddedBroker):
    """A mosquitto with extra config lines (the bridge)."""

    def __init__(self, extra: list[str]) -> None:
        super().__init__()
        self._extra = extra

    def config_text(self) -> str:
        """The plain loopback broker's config, then the bridge."""
        return super().config_text() + "\n".join(self._extra) + "\n"


def _link(broker: EmbeddedBroker, name: str) -> MqttLink:
    link = MqttLink(BrokerAddress.parse(broker.url), name)
    link.start()
    assert link.wait_connected(10)
    return link


def _until_received(
    link: MqttLink, topic: str, payload: bytes, got: queue.Queue[ReceivedMessage]
) -> ReceivedMessage:
    """Publish until it arrives: the bridge connects in its own time."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        link.publish(topic, payload)
        try:
            return got.get(timeout=0.5)
        except queue.Empty:
            continue
    raise AssertionError(f"{topic} never came across the bridge")


def test_the_pages_bridge_carries_devices_up_and_the_province_prefix_down() -> None:
    with EmbeddedBroker() as centre, ProvinceBroker(bridge_config(centre)) as province:
        controller = _link(centre, "centre-controller")
        device = _link(province, "province-device")
        try:
            up: queue.Queue[ReceivedMessage] = queue.Queue()
            down: queue.Queue[ReceivedMessage] = queue.Queue()
            shared = shared_subscription("wardcast", all_devices(DeviceChannel.EVENT))
            controller.subscribe(shared, up.put)
            device.subscribe(device_topic("to-1", DeviceChannel.PLAN), down.put)
            event_topic = device_topic("to-1", DeviceChannel.EVENT)
            heard = _until_received(device, event_topic, b"event", up)
            assert (heard.topic, heard.payload) == (event_topic, b"event")
            plan_topic = device_topic("to-1", DeviceChannel.PLAN)
            came = _until_received(controller, PREFIX + plan_topic, b"plan", down)
            assert (came.topic, came.payload) == (plan_topic, b"plan")
        finally:
            controller.stop()
            device.stop()
