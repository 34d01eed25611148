"""Fan-out: one broadcast "now" to N agents, beside one raw MQTT publish to N subscribers.

    .venv/bin/python -m bench.fanout --agents 1000 --processes 2
    .venv/bin/python -m bench.fanout --tiny        # what the test suite runs

One real mosquitto on loopback; the controller (API, bridge, database) in this
process; every subscriber and every agent in ``--processes`` worker processes, each
with its own MQTT connection, many per asyncio loop (epoll, so 1,000+ are fine):

* raw baseline — N plain subscribers, one publish, time from the publish to each
  receipt: a two-byte message, and a message as large as Wardcast's signed command
  (a ward's command names every device it is for: ~16 KB for 1,000), so the ratio
  compares delivering the same bytes (``ratio_p99``; ``ratio_p99_2b`` against two bytes);
* Wardcast — N edge agents placed in one ward, listening to its broadcast channel,
  a clip they already cached, one ``POST /api/v1/broadcasts`` over HTTP: time from
  just before that call to each agent's playback start, split by one plain subscriber
  of the ward's channel into the controller's part (call -> command delivered,
  ``command_p50_ms``) and the simulated fleet's (command -> start, ``fleet_p99_ms``, to
  read beside the raw p99); then how long after the last device recorded its
  confirmation the controller had stored all N.

Times are wall-clock (``time.time()``) across processes on one machine. The last line
is ``key=value`` pairs: the project's p50/p99, the baseline's, their ratio, the load.
"""

from __future__ import annotations

import argparse
import logging
import multiprocessing as mp
import shutil
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select

from bench import fanout_workers
from bench.common import admin_headers, start_site, tone_bulletin
from bench.figures import load1, peak_rss_mib, percentile
from controller.db.models import PlaybackEvidence
from controller.heap import freeze_start_up_heap
from controller.messaging.broker import EmbeddedBroker
from controller.messaging.fanout import WardListeners
from edge_agent.controller_stand_in import plan_item
from wardcast_protocol.envelope import CONTROLLER_SENDER, seal
from wardcast_protocol.messages import Command, Kind, MediaRef, PlayNow
from wardcast_protocol.mqtt_link import MqttLink
from wardcast_protocol.signing import SigningKey
from wardcast_protocol.subscriptions import ReceivedMessage
from wardcast_protocol.topics import ward_topic
from wardcast_protocol.transport import BrokerAddress

RAW_TOPIC = "bench/fanout/raw"
WARD = "bench-ward"


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

    def start(self, target: Callable[..., None], parts: Sequence[tuple[Any, ...]]) -> None:
        """One process per part: ``target(*part, queue, stop)``; collect their reports."""
        ctx = mp.get_context("spawn")  # this process runs threads: never fork it
        self.queue, self.stop = ctx.Queue(), ctx.Event()
        for part in parts:
            proc = ctx.Process(target=target, args=(*part, self.queue, self.stop), daemon=True)
            proc.start()
            self.procs.append(proc)
        threading.Thread(target=self._collect, daemon=True).start()

    def _collect(self) -> None:
        while self.stopped < len(self.procs):
            report = self.queue.get()
            with self.lock:
                if report[0] == "ready":
                    self.ready += report[1]
                elif report[0] == "stopped":
                    self.stopped += 1
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

    def close(self) -> None:
        """Stop every worker and wait for it."""
        if self.stop is not None:
            self.stop.set()
        self.wait(lambda: self.stopped >= len(self.procs), 60)
        for proc in self.procs:
            proc.join(10)


def _split(items: Sequence[Any], parts: int) -> list[list[Any]]:
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


def raw_fanout(
    broker_url: str, n: int, rounds: int, processes: int, sizes: Sequence[int]
) -> list[list[float]]:
    """Seconds from one publish to each of n subscribers' receipt, over rounds, for
    each message size in ``sizes`` (the same subscribers)."""
    names = [f"raw-sub-{i:04d}" for i in range(n)]
    workers = Workers()
    parts = [(broker_url, part, RAW_TOPIC) for part in _split(names, processes)]
    workers.start(fanout_workers.raw_subscribers, parts)
    publisher = MqttLink(BrokerAddress.parse(broker_url), "raw-pub")
    publisher.start()
    latencies: list[list[float]] = [[] for _ in sizes]
    try:
        if not workers.wait(lambda: workers.ready >= n, 180) or not publisher.wait_connected(30):
            raise SystemExit(f"raw baseline: only {workers.ready} of {n} subscribers connected")
        for r in range(rounds):
            for k, size in enumerate(sizes):
                tag = f"r{r}s{k}"
                # The tag, then padding up to the size (subscribers read the tag only).
                payload = (tag + "\n").encode().ljust(size, b"x")
                sent = time.time()
                publisher.publish(RAW_TOPIC, payload)
                workers.wait_seen(tag, n, 30)
                latencies[k] += [at - sent for at in workers.seen[tag].values()]
                time.sleep(0.3)
    finally:
        publisher.stop()
        workers.close()
    return latencies


class CommandProbe:
    """One plain subscriber of the ward's channel, beside the agents: when each command
    reached the broker's subscribers. It splits API call -> start into the controller's
    part (call -> command delivered) and the fleet's (command -> each start). Its
    receipts are stamped on this process's paho thread, which shares the controller's
    GIL: a late stamp moves time from the fleet's part to the controller's, never adds.
    """

    def __init__(self, broker_url: str) -> None:
        self._arrivals: list[float] = []
        self._lock = threading.Lock()
        self._link = MqttLink(BrokerAddress.parse(broker_url), "bench-command-probe")
        self._link.subscribe(ward_topic(WARD), self._heard)

    def _heard(self, message: ReceivedMessage) -> None:
        at = time.time()
        with self._lock:
            self._arrivals.append(at)

    def start(self) -> None:
        """Connect (and so subscribe) before the first round."""
        self._link.start()
        if not self._link.wait_connected(30):
            raise SystemExit("wardcast: the command probe did not connect")

    def first_after(self, since: float) -> float | None:
        """When the first command after ``since`` arrived (None: none did)."""
        with self._lock:
            return next((at for at in self._arrivals if at >= since), None)

    def stop(self) -> None:
        """Disconnect."""
        self._link.stop()


@dataclass
class Figures:
    """What the Wardcast side measured."""

    starts: list[float] = field(default_factory=list)  # API call -> play start, s
    command: list[float] = field(default_factory=list)  # API call -> command at a subscriber, s
    fleet: list[float] = field(default_factory=list)  # command at a subscriber -> play start, s
    api: list[float] = field(default_factory=list)  # the API call alone, s
    confirm_lag: list[float] = field(default_factory=list)  # last recorded -> all stored, s
    confirmed: int = 0
    expected: int = 0
    missing: int = 0
    ready_s: float = 0.0
    listening: int = 0  # devices the controller addresses on their ward's channel


def _stored(site: Any, broadcast_id: str) -> tuple[int, float | None, float | None]:
    """(rows, latest recorded_at, latest received_at) of a broadcast's evidence."""
    with site.runtime.db.session() as session:
        count, recorded, received = session.execute(
            select(
                func.count(),
                func.max(PlaybackEvidence.recorded_at),
                func.max(PlaybackEvidence.received_at),
            ).where(PlaybackEvidence.broadcast_id == broadcast_id)
        ).one()
    return (
        count,
        recorded.timestamp() if recorded else None,
        (received.timestamp() if received else None),
    )


def _confirmations(site: Any, broadcast_id: str, n: int, figures: Figures) -> None:
    deadline = time.monotonic() + 60
    count, recorded, received = _stored(site, broadcast_id)
    while count < n and time.monotonic() < deadline:
        time.sleep(0.1)
        count, recorded, received = _stored(site, broadcast_id)
    figures.confirmed += count
    figures.expected += n
    if recorded is not None and received is not None:
        figures.confirm_lag.append(received - recorded)


def wardcast_fanout(
    broker_url: str,
    n: int,
    rounds: int,
    clip_s: float,
    processes: int,
    tmp: Path,
    *,
    per_device: bool = False,
) -> Figures:
    """API call -> playback start on n agents in worker processes; confirmations stored."""
    site = start_site(tmp / "site", broker_url, n, ward_code=WARD)
    freeze_start_up_heap()  # as `wardcast serve` does once started
    figures = Figures()
    workers = Workers()
    probe = CommandProbe(broker_url)
    began = time.time()
    workers.start(fanout_workers.agents, [(part,) for part in _split(site.configs, processes)])
    try:
        if not workers.wait(lambda: workers.ready >= n, 240):
            raise SystemExit(f"wardcast: only {workers.ready} of {n} agents connected")
        # Each agent learns its ward from its plan and says so; wait until all have.
        listening = site.runtime.listeners.listening
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and any(listening(d) != WARD for d in site.device_ids):
            time.sleep(0.1)
        figures.ready_s = time.time() - began
        if per_device:
            # As before ward channels: the controller forgets who listens where, so
            # every device gets its own signed command (the comparison's "before").
            site.runtime.outbound.listeners = WardListeners()
        figures.listening = sum(
            site.runtime.outbound.listeners.listening(d) == WARD for d in site.device_ids
        )
        probe.start()
        bulletin_id = tone_bulletin(site, clip_s, tmp)
        body = {"bulletin_id": bulletin_id, "device_ids": site.device_ids}
        headers = admin_headers(site)
        with httpx.Client(base_url=site.server.base_url, timeout=60, headers=headers) as http:
            # Warm-up: every agent downloads and verifies the clip once.
            warm = http.post("/api/v1/broadcasts", json=body)
            warm.raise_for_status()
            warm_id = warm.json()["id"]
            workers.wait_seen(warm_id, n, 180)
            _confirmations(site, warm_id, n, Figures())
            for _ in range(rounds):
                called = time.time()
                answer = http.post("/api/v1/broadcasts", json=body)
                answer.raise_for_status()
                figures.api.append(time.time() - called)
                item = answer.json()["id"]
                if not workers.wait_seen(item, n, 60):
                    figures.missing += n - len(workers.seen[item])
                starts = list(workers.seen[item].values())
                figures.starts += [at - called for at in starts]
                command_at = probe.first_after(called)
                if command_at is not None:
                    figures.command.append(command_at - called)
                    figures.fleet += [at - command_at for at in starts]
                _confirmations(site, item, n, figures)
                time.sleep(0.3)
    finally:
        probe.stop()
        workers.close()
        site.stop()
    return figures


def _ms(values: Sequence[float], q: float) -> float:
    return round(percentile(values, q) * 1000, 1)


def main() -> None:
    """Run both measurements and print them, the key=value line last."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--agents", type=int, default=200)
    parser.add_argument("--processes", type=int, default=2, help="worker processes for agents")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--clip-s", type=float, default=1.0, help="length of the test clip")
    parser.add_argument("--tiny", action="store_true", help="5 agents, 2 processes, 1 round")
    parser.add_argument(
        "--per-device",
        action="store_true",
        help="a signed command per device, as before ward channels (for comparison)",
    )
    args = parser.parse_args()
    if args.tiny:
        args.agents, args.processes, args.rounds, args.clip_s = 5, 2, 1, 0.6
    logging.basicConfig(level=logging.WARNING)
    tmp = Path(tempfile.mkdtemp(prefix="wardcast-bench-"))
    load_before = load1()
    try:
        with EmbeddedBroker() as broker:
            size = command_size(args.agents)
            raw_2b, raw = raw_fanout(
                broker.url, args.agents, args.rounds, args.processes, (2, size)
            )
            ours = wardcast_fanout(
                broker.url,
                args.agents,
                args.rounds,
                args.clip_s,
                args.processes,
                tmp,
                per_device=args.per_device,
            )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    load_after = load1()
    print(f"fan-out to {args.agents} agents in {args.processes} processes, {args.rounds} rounds")
    print(f"agents ready (connected, listening to their ward) in {ours.ready_s:.1f} s")
    print(
        f"controller peak RSS {peak_rss_mib():.0f} MiB; load {load_before:.2f} -> {load_after:.2f}"
    )
    print(f"raw broker  2 B -> receipt       p50 {_ms(raw_2b, 50)} ms  p99 {_ms(raw_2b, 99)} ms")
    print(f"raw broker  {size} B -> receipt   p50 {_ms(raw, 50)} ms  p99 {_ms(raw, 99)} ms")
    print(
        f"wardcast    API call alone       p50 {_ms(ours.api, 50)} ms  max {_ms(ours.api, 100)} ms"
    )
    print(
        f"wardcast    API call -> start    p50 {_ms(ours.starts, 50)} ms  "
        f"p99 {_ms(ours.starts, 99)} ms"
    )
    print(
        f"  of which    call -> command      p50 {_ms(ours.command, 50)} ms  "
        f"max {_ms(ours.command, 100)} ms (the controller)"
    )
    print(
        f"  of which    command -> start     p50 {_ms(ours.fleet, 50)} ms  "
        f"p99 {_ms(ours.fleet, 99)} ms (the simulated fleet; raw above)"
    )
    lag = max(ours.confirm_lag) if ours.confirm_lag else float("nan")
    print(
        f"confirmations stored {ours.confirmed}/{ours.expected}, "
        f"all within {lag:.2f} s of the last one recorded"
    )
    p99, raw_p99 = percentile(ours.starts, 99), percentile(raw, 99)
    raw_2b_p99 = percentile(raw_2b, 99)
    pairs = {
        "agents": args.agents,
        "processes": args.processes,
        "rounds": args.rounds,
        "p50_ms": _ms(ours.starts, 50),
        "p99_ms": _ms(ours.starts, 99),
        "raw_p50_ms": _ms(raw, 50),
        "raw_p99_ms": _ms(raw, 99),
        "ratio_p99": round(p99 / raw_p99, 2) if raw_p99 > 0 else "nan",
        "raw_bytes": size,
        "raw_2b_p99_ms": _ms(raw_2b, 99),
        "ratio_p99_2b": round(p99 / raw_2b_p99, 2) if raw_2b_p99 > 0 else "nan",
        "api_p50_ms": _ms(ours.api, 50),
        "command_p50_ms": _ms(ours.command, 50),
        "fleet_p99_ms": _ms(ours.fleet, 99),
        "on_ward_channel": ours.listening,
        "missed_starts": ours.missing,
        "confirmed": f"{ours.confirmed}/{ours.expected}",
        "confirm_lag_s": round(lag, 2),
        "load1": round(max(load_before, load_after), 2),
    }
    print(" ".join(f"{key}={value}" for key, value in pairs.items()))


if __name__ == "__main__":
    main()
