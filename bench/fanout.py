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

The raw baseline and the worker pool both sides run in are ``bench.fanout_raw``.
Times are wall-clock (``time.time()``) across processes on one machine. The last line
is ``key=value`` pairs: the project's p50/p99, the baseline's, their ratio, the load.
"""

from __future__ import annotations

import argparse
import logging
import shutil
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select

from bench import fanout_workers
from bench.common import admin_headers, start_site, tone_bulletin
from bench.fanout_raw import Workers, command_size, raw_fanout, split_among
from bench.figures import load1, peak_rss_mib, percentile
from controller.db.models import PlaybackEvidence
from controller.heap import freeze_start_up_heap
from controller.messaging.broker import EmbeddedBroker
from controller.messaging.fanout import WardListeners
from wardcast_protocol.mqtt_link import MqttLink
from wardcast_protocol.subscriptions import ReceivedMessage
from wardcast_protocol.topics import ward_topic
from wardcast_protocol.transport import BrokerAddress

WARD = "bench-ward"


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
    workers.start(fanout_workers.agents, [(part,) for part in split_among(site.configs, processes)])
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
