"""An in-memory broker and transport for the fast unit tier.

``FakeBroker`` keeps retained messages and routes publishes to subscribers with
MQTT's own wildcard rules; every publish is recorded so tests can assert on it.
Delivery is synchronous, on the caller's thread: tests see effects at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from paho.mqtt.client import topic_matches_sub

from wardcast_protocol.transport import ConnectionHandler, MessageHandler


@dataclass(frozen=True, slots=True)
class Published:
    """One recorded publish."""

    sender: str
    topic: str
    payload: bytes
    retain: bool
    expiry_s: int | None


@dataclass
class FakeBroker:
    """Routes messages between ``FakeTransport``s."""

    retained: dict[str, bytes] = field(default_factory=dict)
    log: list[Published] = field(default_factory=list)
    links: list[FakeTransport] = field(default_factory=list)

    def link(self, name: str) -> FakeTransport:
        """A new transport attached to this broker."""
        transport = FakeTransport(self, name)
        self.links.append(transport)
        return transport

    def route(
        self, sender: str, topic: str, payload: bytes, retain: bool, expiry: int | None
    ) -> None:
        """Record and deliver one publish."""
        self.log.append(Published(sender, topic, payload, retain, expiry))
        if retain:
            if payload:
                self.retained[topic] = payload
            else:
                self.retained.pop(topic, None)
        for link in list(self.links):
            if not any(topic_matches_sub(f, topic) for f in link.filters):
                continue
            if link.connected:
                link.deliver(topic, payload, False)
            else:
                # A persistent session: the broker keeps QoS 1 messages for it.
                link.pending_inbound.append((topic, payload))

    def published(self, topic_prefix: str = "") -> list[Published]:
        """Recorded publishes whose topic starts with ``topic_prefix``."""
        return [p for p in self.log if p.topic.startswith(topic_prefix)]


class FakeTransport:
    """A ``Transport`` on a ``FakeBroker``; ``go_offline``/``go_online`` simulate drops."""

    def __init__(self, broker: FakeBroker, name: str) -> None:
        self.on_message: MessageHandler | None = None
        self.on_connection: ConnectionHandler | None = None
        self.filters: list[str] = []
        self.name = name
        self._broker = broker
        self._connected = False
        self.offline_outbox: list[tuple[str, bytes, bool, int | None]] = []
        self.pending_inbound: list[tuple[str, bytes]] = []

    @property
    def connected(self) -> bool:
        """True while 'connected' to the fake broker."""
        return self._connected

    def start(self) -> None:
        """Connect at once."""
        self.go_online()

    def stop(self) -> None:
        """Disconnect."""
        self._connected = False

    def go_offline(self) -> None:
        """Simulate a lost link."""
        self._connected = False
        if self.on_connection is not None:
            self.on_connection(False)

    def go_online(self) -> None:
        """Simulate (re)connecting, as MqttLink does with a persistent session.

        The broker first hands over what it kept for the session; MqttLink then
        re-subscribes, so the broker sends matching retained state again; finally
        what this side queued while offline goes out.
        """
        self._connected = True
        kept, self.pending_inbound = self.pending_inbound, []
        for topic, payload in kept:
            self.deliver(topic, payload, False)
        for topic_filter in list(self.filters):
            self._replay_retained(topic_filter)
        queued, self.offline_outbox = self.offline_outbox, []
        for topic, payload, retain, expiry in queued:
            self._broker.route(self.name, topic, payload, retain, expiry)
        if self.on_connection is not None:
            self.on_connection(True)

    def _replay_retained(self, topic_filter: str) -> None:
        for topic, payload in list(self._broker.retained.items()):
            if topic_matches_sub(topic_filter, topic):
                self.deliver(topic, payload, True)

    def subscribe(self, topic_filter: str) -> None:
        """Subscribe and receive matching retained messages, as a broker would."""
        if topic_filter not in self.filters:
            self.filters.append(topic_filter)
        if self._connected:
            self._replay_retained(topic_filter)

    def publish(
        self, topic: str, payload: bytes, *, retain: bool = False, expiry_s: int | None = None
    ) -> None:
        """Publish (queued while offline, like paho's in-memory queue)."""
        if not self._connected:
            self.offline_outbox.append((topic, payload, retain, expiry_s))
            return
        self._broker.route(self.name, topic, payload, retain, expiry_s)

    def deliver(self, topic: str, payload: bytes, retained: bool) -> None:
        """Hand a message to this transport's handler."""
        if self.on_message is not None:
            self.on_message(topic, payload, retained)
