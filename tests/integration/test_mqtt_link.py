"""MqttLink against the real mosquitto: QoS 1, retained state, persistent sessions, last will."""

from __future__ import annotations

import os
import queue
import signal
from asyncio import AbstractEventLoop
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from paho.mqtt.client import Client

from controller.messaging.broker import EmbeddedBroker
from wardcast_protocol.mqtt_link import MqttLink
from wardcast_protocol.transport import BrokerAddress

if TYPE_CHECKING:
    from paho.mqtt.client import SocketLike  # declared for type checkers only

pytestmark = pytest.mark.integration


def _socket(client: Client) -> SocketLike:
    """The client's socket: a connected link always has one."""
    sock = client.socket()
    assert sock is not None, "the link is not connected"
    return sock


def _stamp_reconnects(times: list[float], loop: AbstractEventLoop) -> Callable[[bool], None]:
    """A connection handler noting the loop's time of every connect."""

    def stamp(up: bool) -> None:
        if up:
            times.append(loop.time())

    return stamp


def _collector(link: MqttLink, topic_filter: str) -> queue.Queue[tuple[str, bytes, bool]]:
    received: queue.Queue[tuple[str, bytes, bool]] = queue.Queue()
    link.subscribe(topic_filter, lambda m: received.put((m.topic, m.payload, m.retained)))
    return received


def test_retained_state_reaches_a_late_subscriber(broker: EmbeddedBroker) -> None:
    addr = BrokerAddress.parse(broker.url)
    pub = MqttLink(addr, "pub")
    echo = _collector(pub, "t/#")
    pub.start()
    assert pub.wait_connected(5)
    pub.publish("t/state", b"plan-7", retain=True)
    # The broker stores a retained message before it forwards it, so once the
    # publisher hears its own copy the state is held. Without this wait a
    # subscriber quicker than the publish got it live (retained=False): CI failed so.
    assert echo.get(timeout=5)[1] == b"plan-7"
    sub = MqttLink(addr, "sub")
    got = _collector(sub, "t/#")
    sub.start()
    topic, payload, retained = got.get(timeout=5)
    assert (topic, payload, retained) == ("t/state", b"plan-7", True)
    pub.stop()
    sub.stop()


def test_persistent_session_receives_what_was_sent_while_offline(broker: EmbeddedBroker) -> None:
    addr = BrokerAddress.parse(broker.url)
    agent = MqttLink(addr, "agent-1")
    _collector(agent, "cmd/agent-1")
    agent.start()
    assert agent.wait_connected(5)
    agent.stop()

    ctl = MqttLink(addr, "ctl")
    ctl.start()
    assert ctl.wait_connected(5)
    ctl.publish("cmd/agent-1", b"play")

    again = MqttLink(addr, "agent-1")
    got = _collector(again, "cmd/agent-1")
    again.start()
    assert got.get(timeout=5)[1] == b"play"
    again.stop()
    ctl.stop()


def test_last_will_announces_offline_when_a_device_vanishes(broker: EmbeddedBroker) -> None:
    addr = BrokerAddress.parse(broker.url)
    watcher = MqttLink(addr, "watcher")
    got = _collector(watcher, "avail/#")
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
    _socket(device._client).close()
    device._client.loop_stop()
    assert got.get(timeout=10)[1] == b"offline"
    watcher.stop()


async def test_asyncio_link_round_trip_and_reconnect_after_broker_restart(tmp_path: Path) -> None:
    """The agent's link: receives on the loop, survives a broker restart, keeps its session."""
    import asyncio

    from wardcast_protocol.asyncio_mqtt_link import AsyncioMqttLink

    broker = EmbeddedBroker(state_dir=tmp_path / "b", persistence=True).start()
    try:
        addr = BrokerAddress.parse(broker.url)
        loop = asyncio.get_running_loop()
        inbox: asyncio.Queue[bytes] = asyncio.Queue()
        ups: list[bool] = []
        link = AsyncioMqttLink(addr, "agent-a", reconnect_max_s=1)
        link.subscribe("cmd/agent-a", lambda m: inbox.put_nowait(m.payload))
        link.add_connection_handler(ups.append)
        link.start()
        for _ in range(100):
            if link.connected:
                break
            await asyncio.sleep(0.05)
        assert link.connected
        sender = MqttLink(addr, "ctl")
        sender.start()
        assert await loop.run_in_executor(None, sender.wait_connected, 5)
        sender.publish("cmd/agent-a", b"one")
        assert await asyncio.wait_for(inbox.get(), 5) == b"one"

        broker.stop()
        for _ in range(100):
            if not link.connected:
                break
            await asyncio.sleep(0.05)
        assert not link.connected
        broker.start()
        for _ in range(200):
            if link.connected and sender.connected:
                break
            await asyncio.sleep(0.05)
        assert link.connected, "the asyncio link did not reconnect"
        sender.publish("cmd/agent-a", b"two")
        # QoS 1 is at least once: a broker stopped before it stored the first PUBACK
        # may deliver "one" again after the restart (receivers de-duplicate by id).
        # Anything else, or "two" missing, is a failure.
        got = await asyncio.wait_for(inbox.get(), 5)
        while got == b"one":
            got = await asyncio.wait_for(inbox.get(), 5)
        assert got == b"two"
        assert ups[:2] == [True, False] and ups[-1] is True
        link.stop()
        sender.stop()
    finally:
        broker.cleanup()


async def test_asyncio_link_handles_hundreds_of_connections_in_one_process() -> None:
    """More descriptors than select() can watch: every link must still connect."""
    import asyncio
    import socket

    from wardcast_protocol.asyncio_mqtt_link import AsyncioMqttLink

    # Hold ~1100 descriptors so the links' sockets are numbered above select()'s limit.
    ballast = [socket.socket() for _ in range(1100)]
    try:
        with EmbeddedBroker() as broker:
            addr = BrokerAddress.parse(broker.url)
            links = [AsyncioMqttLink(addr, f"many-{i}") for i in range(50)]
            for link in links:
                link.start()
            for _ in range(200):
                if all(link.connected for link in links):
                    break
                await asyncio.sleep(0.05)
            assert sum(link.connected for link in links) == 50
            # The condition under test really held: sockets beyond select()'s reach.
            assert max(_socket(link._client).fileno() for link in links) >= 1024
            for link in links:
                link.stop()
    finally:
        for sock in ballast:
            sock.close()


async def test_asyncio_link_sends_small_messages_at_once_and_a_large_one_when_it_drains() -> None:
    """Writes go out on the loop's next turn; only bytes the socket cannot take yet make
    the loop watch it for writability, and none is lost or reordered either way."""
    import asyncio

    from wardcast_protocol.asyncio_mqtt_link import AsyncioMqttLink

    with EmbeddedBroker() as broker:
        addr = BrokerAddress.parse(broker.url)
        receiver = MqttLink(addr, "listener")
        received = _collector(receiver, "up/#")
        receiver.start()
        loop = asyncio.get_running_loop()
        assert await loop.run_in_executor(None, receiver.wait_connected, 5)
        link = AsyncioMqttLink(addr, "agent-w")
        watched: list[object] = []
        add_writer = link._add_writer

        def counting_add_writer(sock: object) -> None:
            watched.append(sock)
            add_writer(sock)

        link._add_writer = counting_add_writer  # type: ignore[method-assign]
        link.start()
        for _ in range(100):
            if link.connected:
                break
            await asyncio.sleep(0.05)
        assert link.connected
        await asyncio.sleep(0.2)  # SUBACKs and the like written

        small = [f"small-{i}".encode() for i in range(20)]
        for payload in small:
            link.publish("up/small", payload)
        got = [await loop.run_in_executor(None, received.get, True, 5) for _ in small]
        assert [payload for _, payload, _ in got] == small
        assert watched == [], "the socket took a few small messages at once"

        # The broker paused, so that nothing drains the kernel's buffers (on loopback a
        # reader that keeps up lets a send take far more than the send buffer): 32 MiB
        # is more than both buffers hold, so paho is left with bytes to send later.
        large = bytes(range(256)) * (128 * 1024)  # 32 MiB
        pid = broker.pid
        assert pid is not None
        os.kill(pid, signal.SIGSTOP)
        try:
            link.publish("up/large", large)
            link.publish("up/after", b"after")
            for _ in range(250):
                if watched:
                    break
                await asyncio.sleep(0.02)
        finally:
            os.kill(pid, signal.SIGCONT)
        topic, payload, _ = await loop.run_in_executor(None, received.get, True, 30)
        assert (topic, payload == large) == ("up/large", True)
        topic, payload, _ = await loop.run_in_executor(None, received.get, True, 5)
        assert (topic, payload) == ("up/after", b"after")
        assert watched, "a full send buffer is waited for through the loop"
        assert not link._watching_write, "the watch ends once everything is sent"
        link.stop()
        receiver.stop()


async def test_links_dropped_by_a_broker_restart_come_back_spread_out(tmp_path: Path) -> None:
    """A broker restart drops every device at once; jittered, they do not all reconnect
    in the same instant, as the plain schedule makes them (``backoff``)."""
    import asyncio

    from wardcast_protocol.asyncio_mqtt_link import AsyncioMqttLink
    from wardcast_protocol.backoff import Backoff

    broker = EmbeddedBroker(state_dir=tmp_path / "b", persistence=True).start()
    try:
        addr = BrokerAddress.parse(broker.url)
        loop = asyncio.get_running_loop()
        back: dict[str, list[float]] = {"plain": [], "jittered": []}
        links = []
        for kind, jitter in (("plain", 0.0), ("jittered", 0.5)):
            for i in range(20):
                backoff = Backoff(jitter=jitter)
                link = AsyncioMqttLink(addr, f"{kind}-{i}", backoff=backoff)
                link.add_connection_handler(_stamp_reconnects(back[kind], loop))
                link.start()
                links.append(link)
        for _ in range(200):
            if all(link.connected for link in links):
                break
            await asyncio.sleep(0.05)
        assert all(link.connected for link in links)
        for times in back.values():
            times.clear()
        broker.stop()
        for _ in range(100):
            if not any(link.connected for link in links):
                break
            await asyncio.sleep(0.05)
        broker.start()
        for _ in range(300):
            if all(link.connected for link in links):
                break
            await asyncio.sleep(0.05)
        assert all(link.connected for link in links), "every link reconnects"
        spread = {kind: max(times) - min(times) for kind, times in back.items()}
        # Drawn over half a step (0.5 s): 20 draws span less than 0.15 s with odds of
        # about 1e-9. The plain ones come back within their connects' own queueing.
        assert spread["jittered"] > 0.15, spread
        assert spread["jittered"] > spread["plain"], spread
        for link in links:
            link.stop()
    finally:
        broker.cleanup()


async def test_a_connection_that_held_resets_the_backoff(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After each drop the link waits a first step again, not a longer one each time."""
    import asyncio

    from wardcast_protocol import asyncio_mqtt_link
    from wardcast_protocol.asyncio_mqtt_link import AsyncioMqttLink

    monkeypatch.setattr(asyncio_mqtt_link, "HELD_S", 0.0)  # every connection "held"
    broker = EmbeddedBroker(state_dir=tmp_path / "b", persistence=True).start()
    try:
        link = AsyncioMqttLink(BrokerAddress.parse(broker.url), "agent-r")
        link.start()
        steps = []
        for _ in range(3):
            for _ in range(200):
                if link.connected:
                    break
                await asyncio.sleep(0.05)
            assert link.connected
            broker.stop()
            for _ in range(100):
                if not link.connected:
                    break
                await asyncio.sleep(0.05)
            await asyncio.sleep(0.05)  # the loss handled: the first delay drawn
            steps.append(link._backoff.step_s)
            broker.start()
        # One step drawn after each drop (1 s), so the next step is 1.5 s every time;
        # without the reset it would have grown 1.5, 2.25, 3.375.
        assert steps == [1.5, 1.5, 1.5]
        link.stop()
    finally:
        broker.cleanup()
