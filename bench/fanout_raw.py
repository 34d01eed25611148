"""The fan-out bench's raw baseline, and the worker processes both measurements run in.

Apart from ``bench.fanout`` (the driver and the Wardcast side) so that the baseline —
N plain subscribers of one topic, one publish, publish -> receipt — reads on its own,
with the pool both sides share: worker processes started with ``spawn`` and the
receipts and starts they report (``bench.fanout_workers`` runs inside them).
"""

from __future__ import annotations

import multiprocessing as mp
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from bench import fanout_workers
from edge_agent.controller_stand_in import plan_item
from wardcast_protocol.envelope import CONTROLLER_SENDER, seal
from wardcast_protocol.messages import Command, Kind, MediaRef, PlayNow
from wardcast_protocol.mqtt_link import MqttLink
from wardcast_protocol.signing import SigningKey
from wardcast_protocol.transport import BrokerAddress

RAW_TOPIC = "bench/fanout/raw"


@dataclass
class Workers:
    """Worker processes and what they report: wall times by tag, then by name."""

    procs: list[Any] = field(default_factory=list)
    stop: Any = None
    queue: Any = None
    seen: dict[str, dict[str, float]] = field(default_factory=lambda: defaultdict(dict))
    lock: threading.Condition = field(default_factory=threading.Condition)
    ready: int = 0
    stopped: int = 0
    # Each worker's CPU samples, by the first name it runs (``fanout_workers.CpuSampler``).
    cpu: dict[str, list[tuple[float, float]]] = field(default_factory=dict)

    def start(self, target: Callable[..., None], parts: Sequence[tuple[Any, ...]]) -> None:
        """One process per part: ``target(*part, queue, stop)``; collect their reports
        (called again, it adds processes: all stop together)."""
        ctx = mp.get_context("spawn")  # this process runs threads: never fork it
        first = self.queue is None
        if first:  # later calls add processes to the same pool
            self.queue, self.stop = ctx.Queue(), ctx.Event()
        for part in parts:
            proc = ctx.Process(target=target, args=(*part, self.queue, self.stop), daemon=True)
            proc.start()
            self.procs.append(proc)
        if first:
            threading.Thread(target=self._collect, daemon=True).start()

    def _collect(self) -> None:
        while self.stopped < len(self.procs):
            report = self.queue.get()
            with self.lock:
                if report[0] == "ready":
                    self.ready += report[1]
                elif report[0] == "stopped":
                    self.stopped += 1
                elif report[0] == "cpu":
                    self.cpu[report[1]] = report[2]
                else:
                    for name, tag, at in report[1]:
                        self.seen[tag][name] = at
                self.lock.notify_all()

    def wait(self, done: Callable[[], bool], timeout_s: float) -> bool:
        """Block until ``done()`` (checked under the lock) or timeout."""
        with self.lock:
            return self.lock.wait_for(done, timeout_s)

    def wait_seen(self, tag: str, count: int, timeout_s: float) -> bool:
        """Block until ``count`` names reported ``tag`` (or timeout)."""
        return self.wait(lambda: len(self.seen[tag]) >= count, timeout_s)

    def cpu_per_round(
        self, parts: Sequence[Sequence[str]], rounds: Sequence[tuple[str, float]]
    ) -> list[float]:
        """CPU seconds each worker spent from a round's publish to its last receipt (or
        start) of that round: one figure per worker and round. ``parts``: the names
        each worker runs; ``rounds``: (tag, wall time of the publish)."""
        spent = []
        for names in parts:
            samples = self.cpu.get(names[0], [])
            for tag, published in rounds:
                times = [self.seen[tag][n] for n in names if n in self.seen[tag]]
                if samples and times:
                    spent.append(fanout_workers.cpu_between(samples, published, max(times)))
        return spent

    def cpu_to_last(
        self, samples: Sequence[tuple[float, float]], rounds: Sequence[tuple[str, float]]
    ) -> list[float]:
        """CPU seconds of one sampled process (the controller, the broker) from each
        round's publish to the round's last receipt or start, over every worker."""
        return [
            fanout_workers.cpu_between(samples, published, max(self.seen[tag].values()))
            for tag, published in rounds
            if self.seen[tag]
        ]

    def close(self) -> None:
        """Stop every worker and wait for it."""
        if self.stop is not None:
            self.stop.set()
        self.wait(lambda: self.stopped >= len(self.procs), 60)
        for proc in self.procs:
            proc.join(10)


def split_among(items: Sequence[Any], parts: int) -> list[list[Any]]:
    """``items`` dealt round-robin into at most ``parts`` non-empty lists (one per worker)."""
    return [list(items[i::parts]) for i in range(parts) if items[i::parts]]


def command_size(n: int) -> int:
    """Bytes of a signed ward command naming n of the bench's devices (as sent)."""
    key = SigningKey.generate()
    now = datetime.now(UTC)
    media = MediaRef(
        url="http://127.0.0.1:8000/media/tone.ogg", sha256="0" * 64, size_bytes=9000, duration_s=1
    )
    command = Command(
        command_id="cmd-" + "0" * 26,
        device_ids=tuple(f"bench-{i:04d}" for i in range(n)),
        issued_at=now,
        expires_at=now + timedelta(minutes=5),
        order=PlayNow(item=plan_item("bc-" + "0" * 26, media, now)),
    )
    return len(seal(Kind.COMMAND, command, CONTROLLER_SENDER, key, now))


@dataclass
class RawFanout:
    """The baseline's figures, one list per message size: seconds from the publish to
    each receipt, and each worker's CPU seconds from the publish to its last receipt."""

    latencies: list[list[float]]
    cpu: list[list[float]]
    # The broker's CPU from each publish of the last size to its last receipt, s.
    broker_cpu: list[float] = field(default_factory=list)


def raw_fanout(
    broker_url: str,
    n: int,
    rounds: int,
    processes: int,
    sizes: Sequence[int],
    broker_pid: int | None = None,
    sample: int = 0,
) -> RawFanout:
    """n subscribers, one publish, over rounds, for each message size in ``sizes``
    (the same subscribers); the broker's CPU too if its pid is given.

    ``sample`` > 0: laid out as a sampled Wardcast run is (``bench.fanout --sample``):
    that many subscribers in a process of their own, subscribed after the others, and
    only theirs are the figures (latencies and CPU): like for like with the agents.
    """
    names = [f"raw-sub-{i:04d}" for i in range(n)]
    measured, rest = (names[:sample], names[sample:]) if 0 < sample < n else ([], names)
    workers = Workers()
    split = split_among(rest, processes)
    workers.start(fanout_workers.raw_subscribers, [(broker_url, part, RAW_TOPIC) for part in split])
    if measured:
        if not workers.wait(lambda: workers.ready >= len(rest), 180):
            raise SystemExit(f"raw baseline: only {workers.ready} of {n} subscribers connected")
        workers.start(fanout_workers.raw_subscribers, [(broker_url, measured, RAW_TOPIC)])
    publisher = MqttLink(BrokerAddress.parse(broker_url), "raw-pub")
    publisher.start()
    broker_cpu = fanout_workers.CpuSampler(fanout_workers.process_cpu(broker_pid or 0))
    latencies: list[list[float]] = [[] for _ in sizes]
    published: list[list[tuple[str, float]]] = [[] for _ in sizes]
    wanted = set(measured or names)
    try:
        if not workers.wait(lambda: workers.ready >= n, 180) or not publisher.wait_connected(30):
            raise SystemExit(f"raw baseline: only {workers.ready} of {n} subscribers connected")
        if broker_pid is not None:
            broker_cpu.start()
        for r in range(rounds):
            for k, size in enumerate(sizes):
                tag = f"r{r}s{k}"
                # The tag, then padding up to the size (subscribers read the tag only).
                payload = (tag + "\n").encode().ljust(size, b"x")
                sent = time.time()
                publisher.publish(RAW_TOPIC, payload)
                workers.wait_seen(tag, n, 30)
                seen = workers.seen[tag]
                latencies[k] += [at - sent for name, at in seen.items() if name in wanted]
                published[k].append((tag, sent))
                time.sleep(0.3)
    finally:
        publisher.stop()
        workers.close()
    broker_spent = []
    if broker_cpu.is_alive():
        broker_spent = workers.cpu_to_last(broker_cpu.stop(), published[-1])
    parts = [measured] if measured else split
    return RawFanout(
        latencies, [workers.cpu_per_round(parts, tags) for tags in published], broker_spent
    )
