"""An in-memory broker and transport for the fast unit tier.

``FakeBroker`` keeps retained messages and routes publishes to subscribers with
MQTT's own wildcard rules; every publish is recorded so tests can assert on it.
Delivery is synchronous, on the caller's thread: tests see effects at once.
``FakeTransport`` hands messages to its handlers exactly as ``MqttLink`` does (the
same ``Subscriptions``: several handlers, each guarded, each with its unsubscribe).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from paho.mqtt.client import topic_matches_sub

from wardcast_protocol.subscriptions import (
    ConnectionHandler,
    MessageHandler,
    ReceivedMessage,
    Subscriptions,
    Unsubscribe,
)


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
                link.deliver(ReceivedMessage(topic, payload, False))
            else:
                # A persistent session: the broker keeps QoS 1 messages for it.
                link.pending_inbound.append((topic, payload))

    def published(self, topic_prefix: str = "") -> list[Published]:
        """Recorded publishes whose topic starts with ``topic_prefix``."""
        return [p for p in self.log if p.topic.startswith(topic_prefix)]


class FakeTransport:
    """A ``Transport`` on a ``FakeBroker``; ``go_offline``/``go_online`` simulate drops.

    ``filters`` is the broker's side of the persistent session: like mosquitto's, it
    forgets a filter only when unsubscribed while connected.
    """

    def __init__(self, broker: FakeBroker, name: str) -> None:
        self.filters: list[str] = []
        self.name = name
        self._broker = broker
        self._connected = False
        self._subscriptions = Subscriptions(name)
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
        self._subscriptions.connection_changed(False)

    def go_online(self) -> None:
        """Simulate (re)connecting, as MqttLink does with a persistent session.

        The broker first hands over what it kept for the session; MqttLink then
        re-subscribes, so the broker sends matching retained state again; finally
        what this side queued while offline goes out.
        """
        self._connected = True
        kept, self.pending_inbound = self.pending_inbound, []
        for topic, payload in kept:
            self.deliver(ReceivedMessage(topic, payload, False))
        for topic_filter in self._subscriptions.filters():
            self._join(topic_filter)
        queued, self.offline_outbox = self.offline_outbox, []
        for topic, payload, retain, expiry in queued:
            self._broker.route(self.name, topic, payload, retain, expiry)
        self._subscriptions.connection_changed(True)

    def _join(self, topic_filter: str) -> None:
        # What a SUBSCRIBE does at the broker: remember the filter, send retained state.
        if topic_filter not in self.filters:
            self.filters.append(topic_filter)
        for topic, payload in list(self._broker.retained.items()):
            if topic_matches_sub(topic_filter, topic):
                self.deliver(ReceivedMessage(topic, payload, True))

    def subscribe(self, topic_filter: str, handler: MessageHandler) -> Unsubscribe:
        """Add a handler; if connected, the broker sends matching retained messages."""
        entry = self._subscriptions.add(topic_filter, handler)
        if self._connected:
            self._join(topic_filter)
        elif topic_filter not in self.filters:
            # Simpler than a real broker: the session learns a filter even before the
            # first connect, so messages published meanwhile wait for the link.
            self.filters.append(topic_filter)

        def unsubscribe() -> None:
            if self._subscriptions.remove(entry) and self._connected:
                self.filters.remove(topic_filter)

        return unsubscribe

    def add_connection_handler(self, handler: ConnectionHandler) -> Unsubscribe:
        """Call ``handler`` with True on every (re)connect and False on every loss."""
        return self._subscriptions.add_connection_handler(handler)

    def publish(
        self, topic: str, payload: bytes, *, retain: bool = False, expiry_s: int | None = None
    ) -> None:
        """Publish (queued while offline, like paho's in-memory queue)."""
        if not self._connected:
            self.offline_outbox.append((topic, payload, retain, expiry_s))
            return
        self._broker.route(self.name, topic, payload, retain, expiry_s)

    def deliver(self, message: ReceivedMessage) -> None:
        """Hand a message to every handler whose filter matches it."""
        self._subscriptions.dispatch(message)
