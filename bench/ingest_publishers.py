"""The ingest bench's publishers: every device's events sealed, then sent as fast as MQTT takes.

``bench.ingest`` measures; these are its devices. Each publisher process seals its
devices' events beforehand (real Ed25519 signatures, a real chain: ``seq`` and
``prev_hash``), says it is ready, waits for the go and publishes them all, so the
figure is the controller's ingest and not the signing. The same payloads on a plain
topic to one plain subscriber give the raw baseline (:func:`raw_rate`). Apart from the
bench's driver (the site, the replicas, the count, the figures) because these stand for
the devices: they speak only the protocol and MQTT, never the controller.
"""

from __future__ import annotations

import hashlib
import json
import logging
import multiprocessing as mp
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from wardcast_protocol.envelope import seal
from wardcast_protocol.messages import Kind, Outcome, PlaybackEvent, Trigger
from wardcast_protocol.mqtt_link import MqttLink
from wardcast_protocol.signing import SigningKey
from wardcast_protocol.subscriptions import ReceivedMessage
from wardcast_protocol.topics import DeviceChannel, device_topic
from wardcast_protocol.transport import BrokerAddress

RAW_TOPIC = "bench/ingest/raw"

Job = tuple[str, Path, list[tuple[str, datetime]]]  # device, key file, (item, planned start)


def _sealed(jobs: Sequence[Job], by_round: bool = False) -> list[tuple[str, bytes]]:
    """Every device's events, sealed and chained as its agent would.

    In device order (each device's events back to back), or ``by_round``: every
    device's first event, then every device's second, … as broadcasts are confirmed.
    """
    lists = []
    for device_id, key_path, items in jobs:
        key = SigningKey.load_or_create(key_path)
        prev = ""
        out = []
        for seq, (item_id, planned) in enumerate(items, start=1):
            now = datetime.now(UTC)
            event = PlaybackEvent(
                event_id=f"ev-{device_id}-{seq}",
                device_id=device_id,
                seq=seq,
                prev_hash=prev,
                item_id=item_id,
                broadcast_id=item_id,
                trigger=Trigger.MANUAL,
                planned_start=planned,
                planned_duration_s=1.0,
                actual_start=planned,
                played_duration_s=1.0,
                outcome=Outcome.COMPLETED,
                recorded_at=now,
            )
            payload = seal(Kind.EVENT, event, device_id, key, now)
            prev = hashlib.sha256(json.loads(payload)["signed"].encode()).hexdigest()
            out.append((device_topic(device_id, DeviceChannel.EVENT), payload))
        lists.append(out)
    if by_round:
        return [message for round_ in zip(*lists, strict=True) for message in round_]
    return [message for messages in lists for message in messages]


def publisher(
    broker_url: str, jobs: Sequence[Job], raw: bool, out: Any, go: Any, by_round: bool = False
) -> None:
    """Seal, say ready, wait for go, publish everything; report (first, last) sent."""
    logging.basicConfig(level=logging.WARNING)
    messages = _sealed(jobs, by_round)
    # A plain paho client: it stands for many devices at once, so it may keep many
    # QoS 1 publishes in flight, and the bench can wait for the broker's last PUBACK.
    address = BrokerAddress.parse(broker_url)
    client = mqtt.Client(
        CallbackAPIVersion.VERSION2,
        client_id=f"ingest-pub-{jobs[0][0]}-{raw}",
        protocol=mqtt.MQTTv5,
    )
    client.max_inflight_messages_set(1000)
    client.connect(address.host, address.port)
    client.loop_start()
    out.put(("ready", len(messages)))
    go.wait()
    first = time.time()
    infos = [client.publish(RAW_TOPIC if raw else t, p, qos=1) for t, p in messages]
    last = time.time()
    for info in infos:
        info.wait_for_publish(60)
    client.disconnect()
    client.loop_stop()
    out.put(("sent", first, last))


def start_publishers(
    broker_url: str, jobs: Sequence[Job], raw: bool, processes: int, by_round: bool = False
) -> tuple[list[Any], Any]:
    """Start the publishers, wait until each has sealed its events, then let them go."""
    ctx = mp.get_context("spawn")  # this process runs threads: never fork it
    out, go = ctx.Queue(), ctx.Event()
    parts = [list(jobs[i::processes]) for i in range(processes) if jobs[i::processes]]
    procs = [
        ctx.Process(target=publisher, args=(broker_url, part, raw, out, go, by_round), daemon=True)
        for part in parts
    ]
    for proc in procs:
        proc.start()
    for _ in procs:
        if out.get(timeout=300)[0] != "ready":
            raise SystemExit("a publisher failed")
    go.set()
    return procs, out


def sent_span(procs: Sequence[Any], out: Any) -> tuple[float, float]:
    """(first, last) publish instants over every publisher, once all are done."""
    spans = [out.get(timeout=600) for _ in procs]
    for proc in procs:
        proc.join(30)
    return min(s[1] for s in spans), max(s[2] for s in spans)


def raw_rate(
    broker_url: str, jobs: Sequence[Job], processes: int, total: int, by_round: bool = False
) -> float:
    """Messages per second from the publishers through the broker to one subscriber."""
    got: list[float] = []
    link = MqttLink(BrokerAddress.parse(broker_url), "ingest-raw-sub")

    def receive(message: ReceivedMessage) -> None:
        got.append(time.time())

    link.subscribe(RAW_TOPIC, receive)
    link.start()
    link.wait_connected(30)
    time.sleep(0.3)
    procs, out = start_publishers(broker_url, jobs, True, processes, by_round)
    first, _ = sent_span(procs, out)
    deadline = time.monotonic() + 120
    while len(got) < total and time.monotonic() < deadline:
        time.sleep(0.05)
    link.stop()
    return len(got) / (max(got) - first) if got else 0.0
