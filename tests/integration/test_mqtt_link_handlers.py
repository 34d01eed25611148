"""Several handlers on one MqttLink, against the real mosquitto.

Both handlers receive; unsubscribing stops delivery to that handler only, and the
broker is told once a filter's last handler is gone; a handler that raises does not
stop the others or paho's network thread; after the broker loses every session, the
link subscribes its handlers' filters again by itself.
"""

from __future__ import annotations

import queue
import time

import pytest

from controller.messaging.broker import EmbeddedBroker
from wardcast_protocol.mqtt_link import MqttLink
from wardcast_protocol.subscriptions import ReceivedMessage, Unsubscribe
from wardcast_protocol.transport import BrokerAddress

pytestmark = pytest.mark.integration

WAIT_S = 5


def _inbox(link: MqttLink, topic_filter: str) -> tuple[queue.Queue[bytes], Unsubscribe]:
    got: queue.Queue[bytes] = queue.Queue()
    return got, link.subscribe(topic_filter, lambda m: got.put(m.payload))


def _connected(*links: MqttLink) -> None:
    for link in links:
        link.start()
    for link in links:
        assert link.wait_connected(WAIT_S), f"{link.client_id} did not connect"


def _probe(link: MqttLink) -> queue.Queue[bytes]:
    """Subscribe last: once a probe arrives, the broker has every earlier SUBSCRIBE."""
    return _inbox(link, f"probe/{link.client_id}")[0]


def _until_probed(publisher: MqttLink, link: MqttLink, probe: queue.Queue[bytes]) -> None:
    # "Connected" means CONNACK, not SUBACK: publish until the probe comes back. A
    # broker keeps one connection's packets in order, so every message queued for
    # the session, or sent by the publisher before the probe, is through by then.
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        publisher.publish(f"probe/{link.client_id}", b"probe")
        try:
            probe.get(timeout=0.2)
            return
        except queue.Empty:
            continue
    raise AssertionError(f"{link.client_id} never heard its probe")


def test_two_handlers_both_receive_and_unsubscribe_stops_delivery(broker: EmbeddedBroker) -> None:
    addr = BrokerAddress.parse(broker.url)
    link, sender = MqttLink(addr, "two-handlers"), MqttLink(addr, "sender")
    first: queue.Queue[ReceivedMessage] = queue.Queue()
    leave_first = link.subscribe("cmd/dev-1", first.put)
    second, leave_second = _inbox(link, "cmd/dev-1")

    def broken(message: ReceivedMessage) -> None:
        raise RuntimeError("a handler's bug")

    link.subscribe("cmd/dev-1", broken)
    probe = _probe(link)
    _connected(link, sender)
    _until_probed(sender, link, probe)
    try:
        sender.publish("cmd/dev-1", b"one")
        assert first.get(timeout=WAIT_S) == ReceivedMessage("cmd/dev-1", b"one", False)
        assert second.get(timeout=WAIT_S) == b"one"

        leave_second()
        sender.publish("cmd/dev-1", b"two")
        assert first.get(timeout=WAIT_S).payload == b"two"

        leave_first()
        sender.publish("cmd/dev-1", b"three")
        _until_probed(sender, link, probe)
        assert first.empty() and second.empty()
        assert link.connected  # the raising handler did not kill the network thread
    finally:
        link.stop()
        sender.stop()


def test_the_last_unsubscribe_leaves_the_broker_subscription_too(broker: EmbeddedBroker) -> None:
    addr = BrokerAddress.parse(broker.url)
    link, sender = MqttLink(addr, "leaver"), MqttLink(addr, "sender")
    _, leave = _inbox(link, "cmd/leaver")
    probe = _probe(link)
    sender_probe = _probe(sender)
    _connected(link, sender)
    _until_probed(sender, link, probe)
    leave()
    # The link's own probe comes back only after the broker read its UNSUBSCRIBE.
    _until_probed(link, link, probe)
    link.stop()
    sender.publish("cmd/leaver", b"not for a session that left")
    # paho sends from its network thread: without this the publish could reach the
    # broker after the session below subscribed again, and be rightly delivered (CI
    # saw it once under load). The sender's own probe returns only after the broker
    # routed every earlier publish of that connection.
    _until_probed(sender, sender, sender_probe)

    again = MqttLink(addr, "leaver")
    got, _ = _inbox(again, "cmd/leaver")
    probe_again = _probe(again)
    _connected(again)
    try:
        _until_probed(sender, again, probe_again)
        assert got.empty()
    finally:
        again.stop()
        sender.stop()


def test_handlers_are_subscribed_again_after_the_broker_forgot_the_session(
    broker: EmbeddedBroker,
) -> None:
    # This broker keeps no state: after its restart only the link's own
    # re-subscription on connect can bring messages back.
    addr = BrokerAddress.parse(broker.url)
    link = MqttLink(addr, "resubscriber", reconnect_max_s=1)
    sender = MqttLink(addr, "sender", reconnect_max_s=1)
    first, _ = _inbox(link, "cmd/+")
    second, _ = _inbox(link, "cmd/+")
    ups: list[bool] = []
    link.add_connection_handler(ups.append)
    probe = _probe(link)
    _connected(link, sender)
    _until_probed(sender, link, probe)
    try:
        broker.stop()
        deadline = time.monotonic() + WAIT_S
        while (link.connected or sender.connected) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not link.connected and not sender.connected
        broker.start()
        for peer in (link, sender):
            assert peer.wait_connected(15), f"{peer.client_id} did not reconnect"
        _until_probed(sender, link, probe)
        sender.publish("cmd/dev-2", b"after restart")
        assert first.get(timeout=WAIT_S) == second.get(timeout=WAIT_S) == b"after restart"
        assert ups[0] is True and False in ups and ups[-1] is True
    finally:
        link.stop()
        sender.stop()
