"""Ingest: signature-verified evidence events stored per second, beside the raw broker.

    .venv/bin/python -m bench.ingest --devices 1000 --events 10000
    .venv/bin/python -m bench.ingest --tiny        # what the test suite runs
    .venv/bin/python -m bench.ingest --postgres    # a throwaway local PostgreSQL
    .venv/bin/python -m bench.ingest --postgres --replicas 2   # two controllers share it
    .venv/bin/python -m bench.ingest --database-url postgresql+psycopg://u@h:5432/db

One real mosquitto on loopback and the controller (bridge, SQLite in its data folder by
default) in this process. ``--postgres`` starts a throwaway PostgreSQL cluster on
loopback as the tests do (Debian's server package; fsync off, as there), ``--database-url``
uses an existing empty database; the events go through the same controller path.
``--processes`` publisher processes seal every device's events beforehand (real
Ed25519 signatures, a real chain: ``seq`` and ``prev_hash``), each for an item the
controller commanded that device, then publish them as fast as their MQTT link takes:

* raw baseline — the same payloads on a plain topic to one plain subscriber: the rate
  the broker and one connection deliver, with nothing stored;
* Wardcast — on the devices' event topics: the rate at which the controller verified,
  stored (one transaction per batch) and acknowledged them, and how long after
  the last one was sent all were stored.

``--order round`` sends every device's first event, then every device's second, … (as
broadcasts are confirmed) instead of each device's events back to back.
``--replicas N`` (PostgreSQL only): N controllers share the ingest as docs/scale.md's
replicas do, this process's and N-1 ``wardcast serve`` processes, one MQTT v5 share
group; events stored are then counted in the database. ``--ingest-workers N`` sets
``WARDCAST_INGEST_WORKERS`` for every controller (PostgreSQL; default: the setting's, 2
there; 0: verified and stored in the controller's own process, as on SQLite).

The last line is ``key=value`` pairs: events/s stored, the raw rate, their ratio, the load,
``db`` (``sqlite`` or ``postgres``), ``replicas`` and ``ingest_workers`` (per controller).
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import logging
import multiprocessing as mp
import os
import shutil
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import func, select

from bench.common import Site, start_site, tone_bulletin
from bench.figures import load1
from bench.replicas import join_group, replicas
from controller.db.models import PlaybackEvidence
from controller.domain.broadcasts.service import BroadcastRequest
from controller.messaging.broker import EmbeddedBroker
from tests.support.local_postgres import LocalPostgres
from wardcast_protocol.envelope import seal
from wardcast_protocol.messages import Kind, Outcome, PlaybackEvent, Trigger
from wardcast_protocol.signing import SigningKey
from wardcast_protocol.topics import DeviceChannel, device_topic
from wardcast_protocol.transport import BrokerAddress, MqttLink, ReceivedMessage

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


def _start_publishers(
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


def _sent(procs: Sequence[Any], out: Any) -> tuple[float, float]:
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
    procs, out = _start_publishers(broker_url, jobs, True, processes, by_round)
    first, _ = _sent(procs, out)
    deadline = time.monotonic() + 120
    while len(got) < total and time.monotonic() < deadline:
        time.sleep(0.05)
    link.stop()
    return len(got) / (max(got) - first) if got else 0.0


def _planned(site: Site, broadcasts: int, clip_s: float, tmp: Path) -> list[str]:
    """``broadcasts`` 'now's to every device: each device has that many commanded items."""
    bulletin_id = tone_bulletin(site, clip_s, tmp)
    ids = []
    for _ in range(broadcasts):
        request = BroadcastRequest(bulletin_id, site.device_ids)
        ids.append(site.runtime.broadcasts.schedule(request).id)
    return ids


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The bench's options; ``db`` is ``sqlite`` or ``postgres``."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--devices", type=int, default=1000)
    parser.add_argument("--events", type=int, default=10_000, help="in all (per device: /N)")
    parser.add_argument("--processes", type=int, default=2, help="publisher processes")
    parser.add_argument("--tiny", action="store_true", help="5 devices, 100 events")
    parser.add_argument(
        "--replicas", type=int, default=1, help="controllers sharing the ingest (PostgreSQL)"
    )
    parser.add_argument(
        "--order",
        choices=("device", "round"),
        default="device",
        help="each device's events back to back, or round by round (one per device each)",
    )
    parser.add_argument(
        "--ingest-workers",
        type=int,
        default=None,
        help="event ingest processes per controller (PostgreSQL; default: 2 there)",
    )
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--postgres", action="store_true", help="start a throwaway local PostgreSQL")
    where.add_argument(
        "--database-url", help="an existing empty database (postgresql+psycopg://...)"
    )
    args = parser.parse_args(argv)
    if args.tiny:
        args.devices, args.events = 5, 100
    if args.devices < 1 or args.events < 1 or args.processes < 1 or args.replicas < 1:
        parser.error("--devices, --events, --processes and --replicas must be at least 1")
    url = args.database_url
    if url is not None and not url.startswith(("postgresql", "sqlite")):
        parser.error(f"--database-url: not a PostgreSQL or SQLite URL: {url!r}")
    postgres = args.postgres or (url is not None and url.startswith("postgresql"))
    args.db = "postgres" if postgres else "sqlite"
    if args.replicas > 1 and not postgres:
        parser.error("--replicas: replicas share one PostgreSQL (--postgres or --database-url)")
    if args.ingest_workers is not None and (args.ingest_workers < 0 or not postgres):
        parser.error("--ingest-workers: 0 or more, on PostgreSQL (SQLite has one writer)")
    return args


def _stored(site: Site) -> int:
    """Evidence rows in the database (every replica's)."""
    with site.runtime.db.session() as session:
        return session.scalar(select(func.count()).select_from(PlaybackEvidence)) or 0


def main(argv: Sequence[str] | None = None) -> None:
    """Run both measurements and print them, the key=value line last."""
    args = parse_args(argv)
    per_device = max(1, args.events // args.devices)
    total = per_device * args.devices
    logging.basicConfig(level=logging.WARNING)
    tmp = Path(tempfile.mkdtemp(prefix="wardcast-bench-"))
    load_before = load1()
    if args.ingest_workers is not None:  # every controller's setting, this one's and replicas'
        os.environ["WARDCAST_INGEST_WORKERS"] = str(args.ingest_workers)
    try:
        with contextlib.ExitStack() as stack:
            url = args.database_url
            if args.postgres:
                url = stack.enter_context(LocalPostgres()).create_database("wardcast_bench")
            broker = stack.enter_context(EmbeddedBroker())
            if args.replicas > 1:
                join_group("r1")
            site = start_site(tmp / "site", broker.url, args.devices, database_url=url)
            try:
                if args.replicas > 1:
                    assert url is not None
                    key = site.runtime.settings.resolved_controller_key_path
                    stack.enter_context(
                        replicas(args.replicas - 1, tmp / "replicas", url, broker.url, key)
                    )
                items = _planned(site, per_device, 1.0, tmp)
                start = datetime.now(UTC) - timedelta(seconds=5)
                keys = {c.device_id: c.data_dir / "device.key" for c in site.configs}
                jobs: list[Job] = [(d, keys[d], [(i, start) for i in items]) for d in keys]
                by_round = args.order == "round"
                raw = raw_rate(broker.url, jobs, args.processes, total, by_round)
                bridge = site.runtime.bridge

                # One controller counts what it stored; replicas are counted in the database.
                def count() -> int:
                    return _stored(site) if args.replicas > 1 else bridge.stored_events

                before, here = count(), bridge.stored_events
                procs, out = _start_publishers(broker.url, jobs, False, args.processes, by_round)
                first, last = _sent(procs, out)
                deadline = time.monotonic() + 300
                while count() - before < total and time.monotonic() < deadline:
                    time.sleep(0.01 if args.replicas == 1 else 0.05)
                stored_at = time.time()
                stored = count() - before
                here = bridge.stored_events - here
                # (getattr: the same bench runs on a controller from before the ingest queue)
                workers = getattr(bridge, "workers", None)
                queue = workers if workers is not None else getattr(bridge, "ingest", None)
                ingest_workers = workers.count if workers is not None else 0
                batches = queue.batches if queue is not None else stored
                largest = queue.largest_batch if queue is not None else 1
            finally:
                site.stop()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    load_after = load1()
    rate = stored / (stored_at - first) if stored else 0.0
    lag = stored_at - last
    print(
        f"ingest: {stored}/{total} events from {args.devices} devices, {args.processes} publishers"
    )
    print(f"load {load_before:.2f} -> {load_after:.2f}; {batches} batches, largest {largest}")
    print(f"raw broker -> one subscriber : {raw:8.0f} messages/s")
    store = "PostgreSQL" if args.db == "postgres" else "SQLite, fsync per commit"
    print(f"wardcast verified and stored : {rate:8.0f} events/s ({store})")
    print(f"all stored {lag:.2f} s after the last one was sent")
    if args.replicas > 1:
        print(f"{args.replicas} replicas; this process's controller stored {here} of them")
    pairs = {
        "events": total,
        "stored": stored,
        "devices": args.devices,
        "stored_per_s": round(rate),
        "raw_per_s": round(raw),
        "ratio": round(rate / raw, 3) if raw else "nan",
        "lag_after_last_sent_s": round(lag, 2),
        "largest_batch": largest,
        "load1": round(max(load_before, load_after), 2),
        "db": args.db,
        "replicas": args.replicas,
        "ingest_workers": ingest_workers,
        "order": args.order,
    }
    print(" ".join(f"{key}={value}" for key, value in pairs.items()))


if __name__ == "__main__":
    main()
