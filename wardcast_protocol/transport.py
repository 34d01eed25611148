"""Transport: the small interface both sides talk through, and its MQTT implementation.

``Transport`` is what domain code sees (publish, subscribe with a handler, connection
handlers); ``MqttLink`` implements it over paho-mqtt 2 with MQTT v5, QoS 1 and a
persistent session, so QoS 1 messages published while a device was offline wait for
it at the broker. paho runs its network loop in its own thread and reconnects by
itself with backoff; handlers therefore run on that thread, and asyncio users hop
back to their loop. Every handler gets a frozen ``ReceivedMessage``; several may
subscribe, each holding its own unsubscribe callable (``subscriptions``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

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

__all__ = [
    "QOS",
    "AsyncioMqttLink",
    "BrokerAddress",
    "ConnectionHandler",
    "MessageHandler",
    "MqttLink",
    "ReceivedMessage",
    "Transport",
    "Unsubscribe",
]

log = logging.getLogger(__name__)

QOS = 1

_PLAIN_SCHEMES = ("mqtt", "tcp")
_TLS_SCHEMES = ("mqtts", "ssl")


class Transport(Protocol):
    """Publish and subscribe; what the controller and agents need of a broker."""

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

    def subscribe(self, topic_filter: str, handler: MessageHandler) -> Unsubscribe:
        """Hand ``handler`` every message matching ``topic_filter`` until unsubscribed.

        Subscribes at the broker now (if connected; matching retained messages follow)
        and after every reconnect. Other handlers, on this filter or any other, are
        kept. The returned callable unsubscribes this handler; the broker is told
        once the filter's last handler is gone while connected (a link that is
        stopped keeps its broker session's subscriptions, and their queued messages).
        """
        ...

    def add_connection_handler(self, handler: ConnectionHandler) -> Unsubscribe:
        """Call ``handler`` with True on every (re)connect and False on every loss."""
        ...

    def publish(
        self, topic: str, payload: bytes, *, retain: bool = False, expiry_s: int | None = None
    ) -> None:
        """Publish at QoS 1; ``expiry_s`` sets the MQTT v5 message expiry."""
        ...


@dataclass(frozen=True, slots=True)
class BrokerAddress:
    """Where the broker is and how to log in: ``mqtt[s]://[user[:password]@]host[:port]``.

    ``tls`` is on for ``mqtts://`` or whenever ``ca_file`` is given; ``ca_file`` pins
    the broker's CA (a device trusts only the CA its controller gave it at enrolment,
    never the system's store). The password never appears in ``repr`` or ``url``.
    """

    host: str
    port: int
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    ca_file: str | None = None
    tls: bool = False

    @classmethod
    def parse(
        cls,
        url: str,
        *,
        username: str | None = None,
        password: str | None = None,
        ca_file: str | Path | None = None,
    ) -> BrokerAddress:
        """Parse a broker URL; raise ValueError with a clear message if it is not one.

        ``username``/``password`` given here win over those in the URL.
        """
        parts = urlsplit(url)
        if parts.scheme not in (*_PLAIN_SCHEMES, *_TLS_SCHEMES) or not parts.hostname:
            raise ValueError(f"broker URL must look like mqtt[s]://host:port, got {url!r}")
        tls = parts.scheme in _TLS_SCHEMES or ca_file is not None
        try:
            port = parts.port or (8883 if tls else 1883)
        except ValueError as exc:
            raise ValueError(f"broker URL has a bad port: {url!r}") from exc
        return cls(
            parts.hostname,
            port,
            username if username is not None else parts.username,
            password if password is not None else parts.password,
            str(ca_file) if ca_file is not None else None,
            tls,
        )

    @property
    def url(self) -> str:
        """The URL form (without credentials)."""
        return f"{'mqtts' if self.tls else 'mqtt'}://{self.host}:{self.port}"


class _PahoLink:
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


class MqttLink(_PahoLink):
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


class AsyncioMqttLink(_PahoLink):
    """The link for asyncio code (the edge agent): paho driven by the event loop.

    paho's socket callbacks register its socket with the loop (epoll underneath, so
    no descriptor limit); ``loop_misc`` runs once a second for keepalive. Connecting
    blocks in paho (DNS, TCP handshake), so it runs in the default executor: a slow
    4G link never stalls playback. Reconnects back off from 1 s to
    ``reconnect_max_s``. ``start``/``stop`` must be called on the loop's thread;
    callbacks arrive on it too.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread_id: int | None = None
        self._runner: asyncio.Task[None] | None = None
        self._lost: asyncio.Event | None = None
        self._stopping = False
        self._client.on_socket_open = self._on_socket_open
        self._client.on_socket_close = self._on_socket_close
        self._client.on_socket_register_write = self._on_register_write
        self._client.on_socket_unregister_write = self._on_unregister_write

    def start(self) -> None:
        """Begin connecting (on the running loop); returns at once."""
        self._loop = asyncio.get_running_loop()
        self._thread_id = threading.get_ident()
        self._lost = asyncio.Event()
        self._stopping = False
        self._runner = self._loop.create_task(self._run(), name=f"mqtt-{self.client_id}")

    def stop(self) -> None:
        """Say goodbye, disconnect, and stop reconnecting."""
        self._stopping = True
        self._say_goodbye()
        with contextlib.suppress(Exception):
            self._client.disconnect()
        if self._runner is not None:
            self._runner.cancel()
        self._connected.clear()

    async def _run(self) -> None:
        assert self._loop is not None and self._lost is not None
        delay = 1.0
        first = True
        while not self._stopping:
            self._lost.clear()
            try:
                await self._loop.run_in_executor(None, self._connect_blocking, first)
            except (OSError, ValueError) as exc:
                log.debug("connect to %s failed: %s", self._address.url, exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2, self._reconnect_max_s)
                continue
            first = False
            misc = self._loop.create_task(self._misc_loop())
            try:
                await self._lost.wait()
            finally:
                misc.cancel()
            if self._connected.is_set():
                delay = 1.0
            if not self._stopping:
                await asyncio.sleep(delay)
                delay = min(delay * 2, self._reconnect_max_s)

    def _connect_blocking(self, first: bool) -> None:
        if first:
            self._client.connect(
                self._address.host,
                self._address.port,
                keepalive=self._keepalive_s,
                clean_start=False,
                properties=self._connect_properties(),
            )
        else:
            self._client.reconnect()

    async def _misc_loop(self) -> None:
        # Keepalive pings and timeouts; a dead link ends in on_socket_close. paho
        # asks for this call about once a second: polling is its contract.
        while self._client.loop_misc() == mqtt.MQTT_ERR_SUCCESS:  # noqa: ASYNC110
            await asyncio.sleep(1)
        self._mark_lost()

    def _mark_lost(self) -> None:
        if self._lost is not None:
            self._lost.set()

    def _on_loop(self, fn: Callable[..., object], *args: object) -> None:
        # paho calls the socket callbacks from the executor during connect, and from
        # the loop afterwards: the loop's own calls may only be made on its thread.
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        if threading.get_ident() == self._thread_id:
            fn(*args)
        else:
            loop.call_soon_threadsafe(fn, *args)

    def _on_socket_open(self, client: mqtt.Client, userdata: object, sock: Any) -> None:
        self._on_loop(self._add_reader, sock)

    def _add_reader(self, sock: Any) -> None:
        assert self._loop is not None
        self._loop.add_reader(sock, self._read)

    def _read(self) -> None:
        self._client.loop_read()
        # TLS decrypts whole records: bytes already inside the SSL layer never wake
        # the loop's reader again, so drain them now (paho's own loop does the same).
        sock = self._client.socket()
        while sock is not None and getattr(sock, "pending", lambda: 0)() > 0:
            if self._client.loop_read() != mqtt.MQTT_ERR_SUCCESS:
                break
            sock = self._client.socket()

    def _write(self) -> None:
        self._client.loop_write()

    def _on_socket_close(self, client: mqtt.Client, userdata: object, sock: Any) -> None:
        self._on_loop(self._forget_socket, sock)

    def _forget_socket(self, sock: Any) -> None:
        assert self._loop is not None
        with contextlib.suppress(ValueError, OSError):
            self._loop.remove_reader(sock)
            self._loop.remove_writer(sock)
        self._mark_lost()

    def _on_register_write(self, client: mqtt.Client, userdata: object, sock: Any) -> None:
        self._on_loop(self._add_writer, sock)

    def _add_writer(self, sock: Any) -> None:
        assert self._loop is not None
        with contextlib.suppress(ValueError, OSError):
            self._loop.add_writer(sock, self._write)

    def _on_unregister_write(self, client: mqtt.Client, userdata: object, sock: Any) -> None:
        self._on_loop(self._remove_writer, sock)

    def _remove_writer(self, sock: Any) -> None:
        assert self._loop is not None
        with contextlib.suppress(ValueError, OSError):
            self._loop.remove_writer(sock)

    def _on_disconnect(
        self,
        client: mqtt.Client,
        userdata: object,
        flags: mqtt.DisconnectFlags,
        reason_code: ReasonCode,
        properties: Properties | None,
    ) -> None:
        super()._on_disconnect(client, userdata, flags, reason_code, properties)
        self._on_loop(self._mark_lost)
