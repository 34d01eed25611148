"""``AsyncioMqttLink``: the paho session driven by an asyncio event loop (the edge agent).

It shares everything but the driving of its socket with ``MqttLink``
(``mqtt_link.PahoLink``: session, will, re-subscription, guarded handlers). It is apart
because it is the agents' hot path: hundreds of agents share one process's loop (the
simulator, ``bench.fanout``), and its connect, read and reconnect
timing was tuned for that; measure with that bench before and after touching it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from wardcast_protocol.backoff import Backoff
from wardcast_protocol.mqtt_link import PahoLink

__all__ = ["AsyncioMqttLink"]

log = logging.getLogger(__name__)

# A connection up this long "held": the next loss starts the backoff from its first
# step. A broker that accepts and drops at once keeps doubling the wait instead.
HELD_S = 10.0


class AsyncioMqttLink(PahoLink):
    """The link for asyncio code (the edge agent): paho driven by the event loop.

    paho's socket callbacks register its socket with the loop (epoll underneath, so
    no descriptor limit); ``loop_misc`` runs once a second for keepalive. Connecting
    blocks in paho (DNS, TCP handshake), so it runs in the default executor: a slow
    4G link never stalls playback. Reconnects back off from 1 s to
    ``reconnect_max_s``, jittered so that a ward's devices dropped together do not all
    come back together (``backoff``). ``start``/``stop`` must be called on the loop's thread;
    callbacks arrive on it too.
    """

    def __init__(self, *args: Any, backoff: Backoff | None = None, **kwargs: Any) -> None:
        """``PahoLink``'s arguments; ``backoff``: the reconnect delays (by default jittered,
        from 1 s up to ``reconnect_max_s``; see ``backoff.Backoff``)."""
        super().__init__(*args, **kwargs)
        self._backoff = backoff or Backoff(min(1.0, self._reconnect_max_s), self._reconnect_max_s)
        self._up_at: float | None = None  # when the broker last accepted us (monotonic)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread_id: int | None = None
        self._runner: asyncio.Task[None] | None = None
        self._lost: asyncio.Event | None = None
        self._stopping = False
        self._write_queued = False  # a flush is on the loop's next turn
        self._watching_write = False  # the loop watches the socket for writability
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
        first = True
        while not self._stopping:
            self._lost.clear()
            try:
                await self._loop.run_in_executor(None, self._connect_blocking, first)
            except (OSError, ValueError) as exc:
                log.debug("connect to %s failed: %s", self._address.url, exc)
                await asyncio.sleep(self._backoff.next())
                continue
            first = False
            misc = self._loop.create_task(self._misc_loop())
            try:
                await self._lost.wait()
            finally:
                misc.cancel()
            up_at, self._up_at = self._up_at, None
            if up_at is not None and time.monotonic() - up_at >= HELD_S:
                self._backoff.reset()  # it held: a broker restart, not a flapping one
            if not self._stopping:
                await asyncio.sleep(self._backoff.next())

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
        self._watching_write = False
        self._mark_lost()

    def _on_register_write(self, client: mqtt.Client, userdata: object, sock: Any) -> None:
        self._on_loop(self._write_soon)

    def _write_soon(self) -> None:
        # paho has bytes to send (a PUBACK, an event) and asks to be told when the
        # socket can take them. It nearly always can at once: send them on the loop's
        # next turn, and watch for writability only when the kernel's buffer is full.
        # Watching every time cost two epoll_ctl calls and a wake-up per message
        # received, for each of a simulated fleet's hundreds of agents.
        if self._write_queued or self._loop is None:
            return
        self._write_queued = True
        self._loop.call_soon(self._flush)

    def _flush(self) -> None:
        self._write_queued = False
        if self._client.socket() is None:
            return  # closed meanwhile: a reconnect queues its own writes
        self._client.loop_write()
        sock = self._client.socket()
        if sock is not None and self._client.want_write():
            self._add_writer(sock)  # the buffer is full: send the rest when it drains

    def _add_writer(self, sock: Any) -> None:
        assert self._loop is not None
        with contextlib.suppress(ValueError, OSError):
            self._loop.add_writer(sock, self._write)
            self._watching_write = True

    def _on_unregister_write(self, client: mqtt.Client, userdata: object, sock: Any) -> None:
        self._on_loop(self._remove_writer, sock)

    def _remove_writer(self, sock: Any) -> None:
        assert self._loop is not None
        if not self._watching_write:
            return
        self._watching_write = False
        with contextlib.suppress(ValueError, OSError):
            self._loop.remove_writer(sock)

    def _on_connect(
        self,
        client: mqtt.Client,
        userdata: object,
        flags: mqtt.ConnectFlags,
        reason_code: ReasonCode,
        properties: Properties | None,
    ) -> None:
        super()._on_connect(client, userdata, flags, reason_code, properties)
        if not reason_code.is_failure:
            self._up_at = time.monotonic()

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
