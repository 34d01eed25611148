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
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select

from bench.common import Site, bench_database, start_site, tone_bulletin
from bench.figures import load1
from bench.ingest_publishers import Job, raw_rate, sent_span, start_publishers
from bench.replicas import join_group, replicas
from controller.db.models import PlaybackEvidence
from controller.domain.broadcasts.service import BroadcastRequest
from controller.messaging.broker import EmbeddedBroker


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
            url = bench_database(stack, postgres=args.postgres, url=args.database_url)
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
                procs, out = start_publishers(broker.url, jobs, False, args.processes, by_round)
                first, last = sent_span(procs, out)
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
