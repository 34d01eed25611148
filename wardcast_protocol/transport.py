"""Transport: the small interface both sides talk through, and its MQTT implementation.

``Transport`` is what domain code sees (publish, subscribe, callbacks); ``MqttLink``
implements it over paho-mqtt 2 with MQTT v5, QoS 1 and a persistent session, so
QoS 1 messages published while a device was offline wait for it at the broker.
paho runs its network loop in its own thread and reconnects by itself with backoff;
callbacks therefore arrive on that thread, and asyncio users hop back to their loop.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlsplit

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

log = logging.getLogger(__name__)

MessageHandler = Callable[[str, bytes, bool], None]
"""Called with (topic, payload, retained) for every message received."""

ConnectionHandler = Callable[[bool], None]
"""Called with True on every (re)connect, False on every loss of connection."""

QOS = 1


class Transport(Protocol):
    """Publish and subscribe; what the controller and agents need of a broker."""

    on_message: MessageHandler | None
    on_connection: ConnectionHandler | None

    @property
    def connected(self) -> bool:
        """True while connected to the broker."""
        ...

    def start(self) -> None:
        """Begin connecting (returns at once; the link keeps retrying)."""
        ...

    def stop(self) -> None:
        """Disconnect cleanly (the will is not sent)."""
        ...

    def subscribe(self, topic_filter: str) -> None:
        """Subscribe now and after every reconnect."""
        ...

    def publish(
        self, topic: str, payload: bytes, *, retain: bool = False, expiry_s: int | None = None
    ) -> None:
        """Publish at QoS 1; ``expiry_s`` sets the MQTT v5 message expiry."""
        ...


@dataclass(frozen=True, slots=True)
class BrokerAddress:
    """Where the broker is, parsed from ``mqtt://[user[:password]@]host[:port]``."""

    host: str
    port: int
    username: str | None = None
    password: str | None = None

    @classmethod
    def parse(cls, url: str) -> BrokerAddress:
        """Parse a broker URL; raise ValueError with a clear message if it is not one."""
        parts = urlsplit(url)
        if parts.scheme not in ("mqtt", "tcp") or not parts.hostname:
            raise ValueError(f"broker URL must look like mqtt://host:port, got {url!r}")
        return cls(parts.hostname, parts.port or 1883, parts.username, parts.password)

    @property
    def url(self) -> str:
        """The URL form (without credentials)."""
        return f"mqtt://{self.host}:{self.port}"


class MqttLink:
    """A paho-mqtt 2 client with a persistent v5 session and a retained last will."""

    def __init__(
        self,
        address: BrokerAddress,
        client_id: str,
        *,
        will: tuple[str, bytes] | None = None,
        birth: Callable[[], tuple[str, bytes]] | None = None,
        session_expiry_s: int = 7 * 24 * 3600,
        keepalive_s: int = 15,
        reconnect_max_s: int = 30,
    ) -> None:
        self.on_message: MessageHandler | None = None
        self.on_connection: ConnectionHandler | None = None
        self._address = address
        self._birth = birth
        self._will = will
        self._session_expiry_s = session_expiry_s
        self._keepalive_s = keepalive_s
        self._filters: list[str] = []
        self._lock = threading.Lock()
        self._connected = threading.Event()
        self._client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5
        )
        if address.username:
            self._client.username_pw_set(address.username, address.password)
        if will is not None:
            self._client.will_set(will[0], will[1], qos=QOS, retain=True)
        self._client.reconnect_delay_set(min_delay=1, max_delay=reconnect_max_s)
        # Queue publishes made while offline in paho's memory too; the agent's outbox
        # is the durable copy, this only smooths short drops.
        self._client.max_queued_messages_set(0)
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect
        self._client.on_message = self._on_message

    @property
    def connected(self) -> bool:
        """True while connected to the broker."""
        return self._connected.is_set()

    def wait_connected(self, timeout: float) -> bool:
        """Block until connected or ``timeout`` seconds pass."""
        return self._connected.wait(timeout)

    def start(self) -> None:
        """Begin connecting in paho's background thread."""
        props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        props.SessionExpiryInterval = self._session_expiry_s
        self._client.connect_async(
            self._address.host,
            self._address.port,
            keepalive=self._keepalive_s,
            clean_start=False,
            properties=props,
        )
        self._client.loop_start()

    def stop(self) -> None:
        """Say goodbye (the will's payload), disconnect cleanly, stop the network thread.

        A clean DISCONNECT suppresses the last will, so without the explicit goodbye
        a stopped peer would stay "online" in its retained availability.
        """
        if self._will is not None and self.connected:
            info = self._client.publish(self._will[0], self._will[1], qos=QOS, retain=True)
            with contextlib.suppress(RuntimeError, ValueError):
                info.wait_for_publish(timeout=2)
        self._client.disconnect()
        self._client.loop_stop()
        self._connected.clear()

    def subscribe(self, topic_filter: str) -> None:
        """Subscribe now (if connected) and after every reconnect."""
        with self._lock:
            if topic_filter not in self._filters:
                self._filters.append(topic_filter)
        if self.connected:
            self._client.subscribe(topic_filter, qos=QOS)

    def publish(
        self, topic: str, payload: bytes, *, retain: bool = False, expiry_s: int | None = None
    ) -> None:
        """Publish at QoS 1 (paho queues it while the link is down)."""
        props = None
        if expiry_s is not None:
            props = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
            props.MessageExpiryInterval = max(1, int(expiry_s))
        self._client.publish(topic, payload, qos=QOS, retain=retain, properties=props)

    # paho callbacks (network thread) ------------------------------------------------

    def _on_connect(
        self,
        client: mqtt.Client,
        userdata: object,
        flags: mqtt.ConnectFlags,
        reason_code: ReasonCode,
        properties: Properties | None,
    ) -> None:
        if reason_code.is_failure:
            log.warning("broker %s refused connection: %s", self._address.url, reason_code)
            return
        with self._lock:
            filters = list(self._filters)
        for topic_filter in filters:
            client.subscribe(topic_filter, qos=QOS)
        if self._birth is not None:
            topic, payload = self._birth()
            client.publish(topic, payload, qos=QOS, retain=True)
        self._connected.set()
        if self.on_connection is not None:
            self._safely(self.on_connection, True)

    def _on_disconnect(
        self,
        client: mqtt.Client,
        userdata: object,
        flags: mqtt.DisconnectFlags,
        reason_code: ReasonCode,
        properties: Properties | None,
    ) -> None:
        was_connected = self._connected.is_set()
        self._connected.clear()
        if was_connected and self.on_connection is not None:
            self._safely(self.on_connection, False)

    def _on_message(self, client: mqtt.Client, userdata: object, msg: mqtt.MQTTMessage) -> None:
        if self.on_message is not None:
            self._safely(self.on_message, msg.topic, bytes(msg.payload), bool(msg.retain))

    @staticmethod
    def _safely(fn: Callable[..., None], *args: object) -> None:
        # A bug in a handler must never kill paho's network thread: log and go on.
        try:
            fn(*args)
        except Exception:
            log.exception("MQTT handler failed")
