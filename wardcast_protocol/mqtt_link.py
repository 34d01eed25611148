"""The paho-mqtt 2 session both links share, and ``MqttLink``, the link for threaded code.

``PahoLink`` implements ``transport.Transport`` over paho-mqtt 2 with MQTT v5, QoS 1
and a persistent session, so QoS 1 messages published while a device was offline wait
for it at the broker; it sets the retained last will, re-subscribes on every connect
and hands each message to every matching handler, each guarded on its own
(``subscriptions``). What drives its socket is left to the subclass: ``MqttLink`` here
lets paho run its network loop in its own thread, which reconnects by itself with
backoff, so handlers run on that thread and asyncio users hop back to their loop. The
agents' link, driven by their event loop, is ``asyncio_mqtt_link.AsyncioMqttLink``:
kept apart because its timing was tuned for 1,000 agents per process.
"""

from __future__ import annotations

import contextlib
import logging
import ssl
import threading
from collections.abc import Callable

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from wardcast_protocol.subscriptions import (
    ConnectionHandler,
    MessageHandler,
    ReceivedMessage,
    Subscriptions,
    Unsubscribe,
)
from wardcast_protocol.transport import QOS, BrokerAddress

__all__ = ["MqttLink", "PahoLink"]

log = logging.getLogger(__name__)


class PahoLink:
    """What both links share: a paho-mqtt 2 client with a persistent v5 session, a
    retained last will, re-subscription on every connect, and guarded handlers."""

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
        self.client_id = client_id
        self._subscriptions = Subscriptions(client_id)
        self._address = address
        self._birth = birth
        self._will = will
        self._session_expiry_s = session_expiry_s
        self._keepalive_s = keepalive_s
        # Held while the subscriptions change and while a connect re-subscribes, so
        # a subscribe racing a connect is sent exactly by one of the two.
        self._lock = threading.Lock()
        self._connected = threading.Event()
        self._client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5
        )
        if address.username:
            self._client.username_pw_set(address.username, address.password)
        if address.tls:
            # Certificate and host name are both checked (paho's tls_insecure stays off).
            self._client.tls_set(ca_certs=address.ca_file, cert_reqs=ssl.CERT_REQUIRED)
        if will is not None:
            self._client.will_set(will[0], will[1], qos=QOS, retain=True)
        self._client.reconnect_delay_set(min_delay=1, max_delay=reconnect_max_s)
        self._reconnect_max_s = float(reconnect_max_s)
        # Queue publishes made while offline in paho's memory too; the agent's outbox
        # is the durable copy, this only smooths short drops.
        self._client.max_queued_messages_set(0)
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect
        self._client.on_message = self._on_message

    @property
    def reconnect_max_s(self) -> float:
        """The longest wait between two attempts to reconnect."""
        return self._reconnect_max_s

    @property
    def connected(self) -> bool:
        """True while connected to the broker."""
        return self._connected.is_set()

    def wait_connected(self, timeout: float) -> bool:
        """Block until connected or ``timeout`` seconds pass."""
        return self._connected.wait(timeout)

    def _connect_properties(self) -> Properties:
        props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        props.SessionExpiryInterval = self._session_expiry_s
        return props

    def _say_goodbye(self) -> mqtt.MQTTMessageInfo | None:
        # A clean DISCONNECT suppresses the last will, so without this explicit
        # goodbye a stopped peer would stay "online" in its retained availability.
        if self._will is not None and self.connected:
            return self._client.publish(self._will[0], self._will[1], qos=QOS, retain=True)
        return None

    def subscribe(self, topic_filter: str, handler: MessageHandler) -> Unsubscribe:
        """Hand ``handler`` every matching message; see ``Transport.subscribe``."""
        with self._lock:
            entry = self._subscriptions.add(topic_filter, handler)
            if self.connected:
                # Sent again even when the filter is known: the broker then delivers
                # the retained state to the new handler too.
                self._client.subscribe(topic_filter, qos=QOS)

        def unsubscribe() -> None:
            with self._lock:
                if self._subscriptions.remove(entry) and self.connected:
                    self._client.unsubscribe(topic_filter)

        return unsubscribe

    def add_connection_handler(self, handler: ConnectionHandler) -> Unsubscribe:
        """Call ``handler`` with True on every (re)connect and False on every loss."""
        return self._subscriptions.add_connection_handler(handler)

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
            for topic_filter in self._subscriptions.filters():
                client.subscribe(topic_filter, qos=QOS)
            if self._birth is not None:
                topic, payload = self._birth()
                client.publish(topic, payload, qos=QOS, retain=True)
            self._connected.set()
        self._subscriptions.connection_changed(True)

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
        if was_connected:
            self._subscriptions.connection_changed(False)

    def _on_message(self, client: mqtt.Client, userdata: object, msg: mqtt.MQTTMessage) -> None:
        # Each handler is guarded on its own: a bug in one never kills this thread.
        message = ReceivedMessage(msg.topic, bytes(msg.payload), bool(msg.retain))
        self._subscriptions.dispatch(message)


class MqttLink(PahoLink):
    """The link for threaded code (the controller): paho's own network thread.

    paho's thread waits with ``select()``, which cannot watch file descriptors at or
    above 1024: fine for one connection per process, not for hundreds of agents in
    one process (use ``AsyncioMqttLink`` there).
    """

    def start(self) -> None:
        """Begin connecting in paho's background thread (it retries by itself)."""
        self._client.connect_async(
            self._address.host,
            self._address.port,
            keepalive=self._keepalive_s,
            clean_start=False,
            properties=self._connect_properties(),
        )
        self._client.loop_start()

    def stop(self) -> None:
        """Say goodbye (the will's payload), disconnect cleanly, stop the network thread."""
        info = self._say_goodbye()
        if info is not None:
            with contextlib.suppress(RuntimeError, ValueError):
                info.wait_for_publish(timeout=2)
        self._client.disconnect()
        self._client.loop_stop()
        self._connected.clear()
