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
            if link.connected and any(topic_matches_sub(f, topic) for f in link.filters):
                link.deliver(topic, payload, False)

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
        """Simulate (re)connecting: flush what was queued, then replay retained state."""
        self._connected = True
        queued, self.offline_outbox = self.offline_outbox, []
        for topic, payload, retain, expiry in queued:
            self._broker.route(self.name, topic, payload, retain, expiry)
        if self.on_connection is not None:
            self.on_connection(True)

    def subscribe(self, topic_filter: str) -> None:
        """Subscribe and receive matching retained messages, as a broker would."""
        if topic_filter not in self.filters:
            self.filters.append(topic_filter)
        for topic, payload in list(self._broker.retained.items()):
            if topic_matches_sub(topic_filter, topic):
                self.deliver(topic, payload, True)

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
