"""The fan-out bench's worker processes: raw subscribers, and edge agents, each many
connections on one asyncio loop (epoll), apart from the controller's process.

Each worker reports through a ``multiprocessing`` queue: ``("ready", count)`` once
every connection is up, then ``("seen", [(name, tag, wall time), ...])`` batches (a
subscriber and the round's tag, or a device and the item it started), stamped with
``time.time()`` (comparable across processes on one machine), then ``("stopped",)``.
Receipts are buffered and sent every few milliseconds, so reporting does not sit
between one receipt and the next. Before ``("stopped",)`` each worker sends
``("cpu", first name, [(wall time, CPU seconds), ...])``: its own CPU time, sampled every
``CPU_SAMPLE_S`` (``CpuSampler``), so the bench can say how much CPU a worker spent
between a publish and its last receipt or start (``cpu_between``).
"""

from __future__ import annotations

import asyncio
import cProfile
import gc
import itertools
import logging
import os
import re
import threading
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Event
from typing import Any

from edge_agent.config import AgentConfig
from edge_agent.fleet import AgentFleet
from wardcast_protocol.asyncio_mqtt_link import AsyncioMqttLink
from wardcast_protocol.subscriptions import ReceivedMessage
from wardcast_protocol.transport import BrokerAddress

FLUSH_S = 0.02
CPU_SAMPLE_S = 0.004


class CpuSampler(threading.Thread):
    """A process's CPU time, sampled with the wall clock every ``CPU_SAMPLE_S``: this
    process's by default, another's (the broker) with ``read=process_cpu(pid)``.

    A thread, not the loop: the loop is what is measured, and it is busiest exactly
    when a sample is wanted. Sleeping between samples, it costs next to nothing.
    """

    def __init__(self, read: Callable[[], float] = time.process_time) -> None:
        super().__init__(daemon=True)
        self.samples: list[tuple[float, float]] = []
        self._read = read
        self._done = threading.Event()

    def run(self) -> None:
        """Sample until stopped."""
        while not self._done.wait(CPU_SAMPLE_S):
            self.samples.append((time.time(), self._read()))

    def stop(self) -> list[tuple[float, float]]:
        """Stop; the samples, oldest first."""
        self._done.set()
        self.join()
        return self.samples


def process_cpu(pid: int) -> Callable[[], float]:
    """A reader of another process's CPU seconds (user + system, from ``/proc``; in
    clock ticks, so 10 ms steps: enough over a round's few hundred milliseconds)."""
    ticks = os.sysconf("SC_CLK_TCK")
    stat = f"/proc/{pid}/stat"

    def read() -> float:
        try:
            with open(stat) as f:
                # After the command name (in parentheses, may hold spaces): utime, stime
                # are the 12th and 13th fields.
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            return 0.0
        return (int(fields[11]) + int(fields[12])) / ticks

    return read


def cpu_between(samples: Sequence[tuple[float, float]], begin: float, end: float) -> float:
    """CPU seconds a worker spent between two wall times (interpolated samples)."""
    return _cpu_at(samples, end) - _cpu_at(samples, begin)


def _cpu_at(samples: Sequence[tuple[float, float]], at: float) -> float:
    if not samples:
        return 0.0
    if at <= samples[0][0]:
        return samples[0][1]
    for (w0, c0), (w1, c1) in itertools.pairwise(samples):
        if w0 <= at <= w1:
            return c0 + (c1 - c0) * (at - w0) / (w1 - w0) if w1 > w0 else c1
    return samples[-1][1]


def raw_subscribers(
    broker_url: str, names: Sequence[str], topic: str, out: Queue[Any], stop: Event
) -> None:
    """Run ``names`` plain subscribers of ``topic`` until ``stop``; report receipts,
    each tagged with the payload's first line (the raw baseline's round tag)."""
    logging.basicConfig(level=logging.WARNING)
    asyncio.run(_raw(broker_url, names, topic, out, stop, by_item=False))


def listeners(
    broker_url: str, names: Sequence[str], topic: str, out: Queue[Any], stop: Event
) -> None:
    """Run ``names`` plain subscribers of a ward's channel until ``stop``: the devices
    of a sampled fan-out that are not agents. Each reports its first receipt of each
    order, tagged ``heard_tag(item id)``: by the order, not by how many messages came
    before it, since the controller may send an order again on the channel (to a device
    back online that is owed it), as it may in the field."""
    logging.basicConfig(level=logging.WARNING)
    asyncio.run(_raw(broker_url, names, topic, out, stop, by_item=True))


# The order's item id, as it stands in a sealed command's wire bytes (the signed
# document is a JSON string inside the envelope: its quotes escaped).
_ITEM_ID = re.compile(rb'\\"item_id\\":\\"([^\\"]+)')


def order_item(payload: bytes) -> str | None:
    """The item id of the order a sealed command carries (None: not an order), read
    off its bytes without opening it."""
    found = _ITEM_ID.search(payload)
    return found.group(1).decode() if found else None


def heard_tag(item_id: str) -> str:
    """The tag ``listeners`` report with their first receipt of the order of ``item_id``."""
    return f"heard:{item_id}"


async def _raw(
    broker_url: str,
    names: Sequence[str],
    topic: str,
    out: Queue[Any],
    stop: Event,
    *,
    by_item: bool,
) -> None:
    address = BrokerAddress.parse(broker_url)
    seen: list[tuple[str, str, float]] = []

    def receiver(name: str) -> Callable[[ReceivedMessage], None]:
        heard: set[str] = set()

        def receive(message: ReceivedMessage) -> None:
            at = time.time()  # before reading the tag off the (padded) payload
            if by_item:
                tag = heard_tag(order_item(message.payload) or "?")
                if tag in heard:
                    return  # a copy sent again: its first receipt is the one
                heard.add(tag)
            else:
                tag = message.payload[:32].split(b"\n", 1)[0].decode()
            seen.append((name, tag, at))

        return receive

    links = []
    for name in names:
        link = AsyncioMqttLink(address, name)
        link.subscribe(topic, receiver(name))
        link.start()
        links.append(link)
    while not all(link.connected for link in links):  # noqa: ASYNC110 - paho sets a flag
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.5)  # every SUBACK in before the first publish
    cpu = CpuSampler()
    cpu.start()
    out.put(("ready", len(links)))
    while not stop.is_set():
        await asyncio.sleep(FLUSH_S)
        if seen:
            batch, seen[:] = list(seen), []
            out.put(("seen", batch))
    out.put(("cpu", names[0], cpu.stop()))
    for link in links:
        link.stop()
    await asyncio.sleep(0.2)
    out.put(("stopped",))


def _freeze_heap() -> None:
    gc.collect()
    gc.freeze()


def agents(configs: Sequence[AgentConfig], out: Queue[Any], stop: Event) -> None:
    """Run these edge agents (one fleet, one loop) until ``stop``; report play starts."""
    logging.basicConfig(level=logging.WARNING)
    started: list[tuple[str, str, float]] = []
    lock = threading.Lock()

    def on_started(device_id: str, item_id: str, at: datetime) -> None:
        with lock:
            started.append((device_id, item_id, at.timestamp()))

    fleet = AgentFleet(list(configs), on_playback_started=on_started)
    fleet.start(timeout_s=180)
    ready = fleet.wait_ready(180)
    # 500 agents' heaps in one process: a full collection walks them all and stops
    # every agent for a quarter of a second (measured), where one agent on its own Pi
    # walks its own. Their start-up objects are exempted, as the controller's are.
    _freeze_heap()
    cpu = CpuSampler()
    cpu.start()
    out.put(("ready", len(configs) if ready else 0))
    # WARDCAST_BENCH_PROFILE=DIR: profile the agents' loop (where the simulator's time goes).
    profile_dir = os.environ.get("WARDCAST_BENCH_PROFILE")
    profiler = cProfile.Profile() if profile_dir else None
    if profiler is not None:
        fleet.call(profiler.enable)
    while not stop.wait(FLUSH_S):
        with lock:
            batch, started[:] = list(started), []
        if batch:
            out.put(("seen", batch))
    if profiler is not None and profile_dir:
        fleet.call(profiler.disable)
        profiler.dump_stats(os.path.join(profile_dir, f"agents-{os.getpid()}.prof"))
    out.put(("cpu", configs[0].device_id, cpu.stop()))
    fleet.stop()
    out.put(("stopped",))
