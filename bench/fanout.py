"""Fan-out: one broadcast "now" to N agents, against one raw MQTT publish to N subscribers.

    .venv/bin/python -m bench.fanout --agents 200

Both measurements run in this process against one real mosquitto on loopback:

* raw baseline — N paho subscriber connections (the same MqttLink the agents use),
  one publish, time until each receipt, up to the last;
* Wardcast — N edge agents (each its own MQTT connection) in one AgentFleet, a clip
  they already cached, one ``POST /api/v1/broadcasts`` over HTTP: time from just
  before that call to each agent's playback start (its player's start instant).

The last line is the ratio of the slowest agent's start to the raw last receipt.
"""

from __future__ import annotations

import argparse
import logging
import queue
import shutil
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx

from bench.common import (
    StartTimes,
    admin_headers,
    peak_rss_mib,
    start_site,
    summary_ms,
    tone_bulletin,
)
from controller.messaging.broker import EmbeddedBroker
from edge_agent.fleet import AgentFleet
from wardcast_protocol.transport import BrokerAddress, MqttLink

RAW_TOPIC = "bench/fanout/raw"


def raw_fanout(broker_url: str, n: int, rounds: int) -> list[float]:
    """Latencies (s) from one publish to each of n subscribers' receipt, over rounds."""
    address = BrokerAddress.parse(broker_url)
    received: queue.Queue[tuple[int, float]] = queue.Queue()
    subscribers = []
    for i in range(n):
        link = MqttLink(address, f"raw-sub-{i}")
        link.subscribe(
            RAW_TOPIC, lambda message: received.put((int(message.payload), time.perf_counter()))
        )
        link.start()
        subscribers.append(link)
    publisher = MqttLink(address, "raw-pub")
    publisher.start()
    for link in [*subscribers, publisher]:
        if not link.wait_connected(30):
            raise SystemExit("raw baseline: a client could not connect")
    time.sleep(0.5)  # let every SUBACK land before timing
    latencies: list[float] = []
    for r in range(rounds):
        sent = time.perf_counter()
        publisher.publish(RAW_TOPIC, str(r).encode())
        got = 0
        while got < n:
            tag, at = received.get(timeout=30)
            if tag == r:
                latencies.append(at - sent)
                got += 1
        time.sleep(0.2)
    for link in [*subscribers, publisher]:
        link.stop()
    return latencies


def wardcast_fanout(
    broker_url: str, n: int, rounds: int, clip_s: float, tmp: Path, durable: bool
) -> tuple[list[float], float, list[float]]:
    """Latencies (s) from the API call to each agent's playback start; ready time; and
    how long the API call itself took (the controller's share)."""
    site = start_site(tmp / "site", broker_url, n, durable_outbox=durable)
    starts = StartTimes()
    fleet = AgentFleet(site.configs, on_playback_started=starts.record)
    began = time.perf_counter()
    fleet.start(timeout_s=120)
    if not fleet.wait_ready(120):
        raise SystemExit("wardcast: agents did not all connect")
    ready_s = time.perf_counter() - began
    latencies: list[float] = []
    api_times: list[float] = []
    try:
        bulletin_id = tone_bulletin(site, clip_s, tmp)
        body = {"bulletin_id": bulletin_id, "device_ids": site.device_ids}
        headers = admin_headers(site)
        with httpx.Client(base_url=site.server.base_url, timeout=60, headers=headers) as http:
            # Warm-up: every agent downloads and verifies the clip once.
            warm = http.post("/api/v1/broadcasts", json=body).json()["id"]
            if len(starts.wait(warm, n, 120)) < n:
                raise SystemExit("wardcast: warm-up broadcast did not reach every agent")
            time.sleep(clip_s + 0.5)
            for _ in range(rounds):
                called = datetime.now(UTC)
                answer = http.post("/api/v1/broadcasts", json=body)
                answer.raise_for_status()
                api_times.append((datetime.now(UTC) - called).total_seconds())
                got = starts.wait(answer.json()["id"], n, 60)
                if len(got) < n:
                    print(f"warning: only {len(got)} of {n} agents started within 60 s")
                latencies += [(at - called).total_seconds() for at in got.values()]
                time.sleep(clip_s + 0.5)  # let the clip finish so the next one is not queued
    finally:
        fleet.stop()
        site.stop()
    return latencies, ready_s, api_times


def main() -> None:
    """Run both measurements and print them with their ratio last."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--clip-s", type=float, default=1.0, help="length of the test clip")
    parser.add_argument(
        "--durable-outbox",
        action="store_true",
        help="fsync every agent outbox commit, as a real device does (all N agents then "
        "queue their fsyncs on one thread and one disk)",
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    tmp = Path(tempfile.mkdtemp(prefix="wardcast-bench-"))
    try:
        with EmbeddedBroker() as broker:
            raw = raw_fanout(broker.url, args.agents, args.rounds)
            ours, ready_s, api_times = wardcast_fanout(
                broker.url, args.agents, args.rounds, args.clip_s, tmp, args.durable_outbox
            )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    outbox = "durable (fsync)" if args.durable_outbox else "simulated (no fsync)"
    print(f"fan-out to {args.agents} agents, {args.rounds} rounds, agent outboxes {outbox}")
    print(f"agents connected and ready in {ready_s:.2f} s; peak RSS {peak_rss_mib():.0f} MiB")
    print(f"raw broker   publish -> each receipt : {summary_ms(raw)}")
    print(f"wardcast     API call -> response    : {summary_ms(api_times)}")
    print(f"wardcast     API call -> play start  : {summary_ms(ours)}")
    print(
        f"ratio (wardcast slowest start / raw last receipt): {max(ours) / max(raw):.1f}x "
        f"({max(ours) * 1000:.0f} ms / {max(raw) * 1000:.1f} ms)"
    )


if __name__ == "__main__":
    main()
