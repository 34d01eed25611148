"""MqttLink against the real mosquitto: QoS 1, retained state, persistent sessions, last will."""

from __future__ import annotations

import queue

import pytest

from controller.messaging.broker import EmbeddedBroker
from wardcast_protocol.transport import BrokerAddress, MqttLink

pytestmark = pytest.mark.integration


def _collector(link: MqttLink) -> queue.Queue[tuple[str, bytes, bool]]:
    received: queue.Queue[tuple[str, bytes, bool]] = queue.Queue()
    link.on_message = lambda t, p, r: received.put((t, p, r))
    return received


def test_retained_state_reaches_a_late_subscriber(broker: EmbeddedBroker) -> None:
    addr = BrokerAddress.parse(broker.url)
    pub = MqttLink(addr, "pub")
    pub.start()
    assert pub.wait_connected(5)
    pub.publish("t/state", b"plan-7", retain=True)
    sub = MqttLink(addr, "sub")
    got = _collector(sub)
    sub.subscribe("t/#")
    sub.start()
    topic, payload, retained = got.get(timeout=5)
    assert (topic, payload, retained) == ("t/state", b"plan-7", True)
    pub.stop()
    sub.stop()


def test_persistent_session_receives_what_was_sent_while_offline(broker: EmbeddedBroker) -> None:
    addr = BrokerAddress.parse(broker.url)
    agent = MqttLink(addr, "agent-1")
    agent.subscribe("cmd/agent-1")
    agent.start()
    assert agent.wait_connected(5)
    agent.stop()

    ctl = MqttLink(addr, "ctl")
    ctl.start()
    assert ctl.wait_connected(5)
    ctl.publish("cmd/agent-1", b"play")

    again = MqttLink(addr, "agent-1")
    got = _collector(again)
    again.start()
    assert got.get(timeout=5)[1] == b"play"
    again.stop()
    ctl.stop()


def test_last_will_announces_offline_when_a_device_vanishes(broker: EmbeddedBroker) -> None:
    addr = BrokerAddress.parse(broker.url)
    watcher = MqttLink(addr, "watcher")
    got = _collector(watcher)
    watcher.subscribe("avail/#")
    watcher.start()
    assert watcher.wait_connected(5)
    device = MqttLink(
        addr,
        "dev",
        will=("avail/dev", b"offline"),
        birth=lambda: ("avail/dev", b"online"),
        keepalive_s=5,
    )
    device.start()
    assert got.get(timeout=5)[1] == b"online"
    # Kill the socket without a DISCONNECT: the broker must send the will.
    device._client.socket().close()
    device._client.loop_stop()
    assert got.get(timeout=10)[1] == b"offline"
    watcher.stop()
