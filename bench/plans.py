"""A ward's plans at scale: what an officer's change costs when it reaches every device.

    .venv/bin/python -m bench.plans                 # 1,000 devices in one ward, SQLite
    .venv/bin/python -m bench.plans --postgres      # the same on a throwaway PostgreSQL
    .venv/bin/python -m bench.plans --tiny          # 5 devices: the suite runs this

A broadcast scheduled for later, a bulletin queued into the programme, a device back
online: each recompiles the plans of the devices it reaches, writes their planned
plays, and signs and publishes each changed plan, under the plans' lock and (until the
commit) the database's write lock. The controller runs in this process on a real broker;
no agent is needed (the plans are retained on the broker).

Measured, in this order, on one ward of ``--devices`` devices with the example programme
of ``schedules/examples/phuong-hang-bac.yaml`` and a bulletin queued into it:
``queue_ms`` (queuing it into the second session), ``schedule`` (a broadcast for
later to every device, ``--rounds`` times: the figure an officer waits for),
``recompile`` (every plan again, nothing new: the standing job), ``republish_ms``
(every device back online at once, as after a broker restart). Then an emergency's
"now" to every device (its call to its command's publish; the devices listening on
their ward's channel, as their agents would say): ``now_p50_ms`` alone, and
``now_in_republish_p50_ms`` and ``now_in_schedule_p50_ms`` when it comes a quarter
into a republish of every device or another broadcast's scheduling, on another thread:
what an emergency waits for behind routine work.

``--history K`` first writes K past planned plays on every device, as months of a ward's
programme leave them, one in ten a one-off broadcast to every device (with its targets):
what a database's age adds to each figure (a read or an index keyed by device walks, or
writes a page of, each device's history).

The raw baseline, in the same run: the floor of a schedule's work, done plainly. One
new planned row per device written by one ``executemany`` on the same database and
committed, and one Ed25519 signature per device over a payload the size of its plan.
``ratio`` is schedule p50 over raw p50. The last line is ``key=value`` pairs.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import functools
import logging
import shutil
import statistics
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, cast
from zoneinfo import ZoneInfo

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Table, insert, literal, select, text

from bench.common import Site, bench_database, start_site, tone_bulletin
from bench.figures import load1, peak_rss_mib
from controller.db.models import Broadcast, BroadcastTarget, Device, PlannedPlay
from controller.domain.actors import SYSTEM
from controller.domain.broadcasts.service import BroadcastRequest
from controller.domain.programmes.yaml_io import load_programme
from controller.messaging.broker import EmbeddedBroker
from wardcast_protocol.messages import Priority

PROGRAMME = Path(__file__).resolve().parent.parent / "schedules/examples/phuong-hang-bac.yaml"
WARD = "00037"  # the example programme's ward


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The bench's options."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--devices", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--tiny", action="store_true", help="5 devices, 2 rounds")
    parser.add_argument(
        "--history",
        type=int,
        default=0,
        help="planned plays of history per device, written before measuring (a ward "
        "after months: 20 items a day is ~600 a month)",
    )
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--postgres", action="store_true", help="start a throwaway local PostgreSQL")
    where.add_argument("--database-url", help="an existing empty database")
    args = parser.parse_args(argv)
    if args.tiny:
        args.devices, args.rounds = 5, 2
    if args.devices < 1 or args.rounds < 1 or args.history < 0:
        parser.error("--devices and --rounds must be at least 1, --history at least 0")
    url = args.database_url
    args.db = "postgres" if args.postgres or (url or "").startswith("postgresql") else "sqlite"
    return args


def timed(action: Callable[[], object]) -> float:
    """Seconds ``action`` took."""
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def write_history(site: Site, per_device: int, bulletin: str) -> None:
    """``per_device`` past planned plays on every device, written as a ward's months
    write them: slot by slot, each item on every device (an ``INSERT ... SELECT`` a
    slot), the oldest first, half an hour apart and ending before today. One slot in
    ten is a one-off broadcast to every device (its row and targets), the rest the
    programme's."""
    if per_device == 0:
        return
    plays, targets = cast(Table, PlannedPlay.__table__), cast(Table, BroadcastTarget.__table__)
    broadcasts = cast(Table, Broadcast.__table__)
    first = site.runtime.clock.now() - dt.timedelta(days=1, minutes=30 * per_device)
    with site.runtime.db.engine.begin() as conn:
        for n in range(per_device):
            at = first + dt.timedelta(minutes=30 * n)
            one_off = n % 10 == 0
            if one_off:
                conn.execute(
                    insert(broadcasts).values(
                        id=f"history-{n}",
                        bulletin_id=bulletin,
                        trigger="manual",
                        priority="normal",
                        planned_start=at,
                        immediate=False,
                        status="sent",
                        created_at=at,
                    )
                )
                conn.execute(
                    insert(targets).from_select(
                        ["broadcast_id", "device_id", "planned_start"],
                        select(
                            literal(f"history-{n}"),
                            Device.id,
                            literal(at, targets.c.planned_start.type),
                        ),
                    )
                )
            shared: dict[str, Any] = {
                "item_id": f"history-{n}",
                "broadcast_id": f"history-{n}",
                "kind": "media",
                "source_level": "ward",
                "priority": "normal",
                "trigger": "manual" if one_off else "schedule",
                "planned_start": at,
                "planned_duration_s": 60.0,
                "first_planned_at": at,
            }
            columns = [literal(v, plays.c[k].type) for k, v in shared.items()]
            rows = select(Device.id, Device.ward_code, Device.group_code, *columns)
            conn.execute(
                insert(plays).from_select(["device_id", "ward_code", "group_code", *shared], rows)
            )


def plan_size(site: Site) -> tuple[int, int]:
    """One device's plan: its items, and its bytes as published (the signed body)."""
    with site.runtime.db.session() as session:
        plan = site.runtime.plans.current(session, site.device_ids[0])
    assert plan is not None
    return len(plan.items), len(plan.model_dump_json())


def raw_schedule(site: Site, size: int) -> float:
    """Seconds for the floor of a schedule's work: a row per device written by one
    ``executemany`` and committed, and a signature per device over ``size`` bytes."""
    key = Ed25519PrivateKey.generate()
    payload = b"x" * size
    rows = [
        {"device": device_id, "item": uuid.uuid4().hex, "at": dt.datetime.now(dt.UTC)}
        for device_id in site.device_ids
    ]
    started = time.perf_counter()
    with site.runtime.db.engine.begin() as conn:
        conn.execute(text("INSERT INTO bench_raw_planned VALUES (:device, :item, :at)"), rows)
    for _ in site.device_ids:
        key.sign(payload)
    return time.perf_counter() - started


def sound_now(site: Site, bulletin: str) -> float:
    """Seconds from an emergency "now" to every device to its command's publish."""
    request = BroadcastRequest(bulletin, site.device_ids, None, Priority.EMERGENCY)
    return timed(lambda: site.runtime.broadcasts.schedule(request))


def now_while(site: Site, bulletin: str, busy: Callable[[], object], lead_s: float) -> float:
    """``sound_now``'s seconds when it comes ``lead_s`` into ``busy`` (run on a thread):
    an emergency while another officer's change or a broker restart's republish runs."""
    worker = threading.Thread(target=busy, name="bench-busy")
    worker.start()
    time.sleep(lead_s)
    try:
        return sound_now(site, bulletin)
    finally:
        worker.join()


def ms(seconds: float) -> str:
    """Milliseconds, one decimal."""
    return f"{seconds * 1000:.1f}"


def measure(site: Site, args: argparse.Namespace, tmp: Path) -> dict[str, object]:
    """Every figure of the docstring, in its order."""
    runtime, devices = site.runtime, site.device_ids
    bulletin = tone_bulletin(site, 1.0, tmp)
    history_s = timed(lambda: write_history(site, args.history, bulletin))
    programme = load_programme(PROGRAMME.read_text())
    runtime.programmes.save(WARD, programme, SYSTEM)
    # The ward's today, not this machine's: from 17:00 UTC it is tomorrow in Hà Nội, and a
    # bulletin queued from a day already over there is refused.
    today = runtime.clock.now().astimezone(ZoneInfo(programme.timezone)).date()
    week = today + dt.timedelta(days=7)
    runtime.programmes.queue(WARD, "sang", bulletin, today, week, SYSTEM)
    queue_s = timed(lambda: runtime.programmes.queue(WARD, "chieu", bulletin, today, week, SYSTEM))
    schedule_s = []
    for n in range(args.rounds):
        at = runtime.clock.now() + dt.timedelta(hours=1, minutes=7 * n)
        started = time.perf_counter()
        runtime.broadcasts.schedule(BroadcastRequest(bulletin, devices, at))
        schedule_s.append(time.perf_counter() - started)
    recompile_s = [timed(runtime.plans.recompile) for _ in range(args.rounds)]
    republish_s = timed(lambda: runtime.plans.republish(devices))
    for device_id in devices:  # as each agent's signed state would say once it has its plan
        runtime.listeners.heard(device_id, WARD)
    now_s = [sound_now(site, bulletin) for _ in range(args.rounds)]
    # A quarter into the other work: well inside it, whatever the machine's speed.
    in_republish_s = [
        now_while(site, bulletin, lambda: runtime.plans.republish(devices), republish_s / 4)
        for _ in range(args.rounds)
    ]
    later = [
        BroadcastRequest(bulletin, devices, runtime.clock.now() + dt.timedelta(hours=3, minutes=n))
        for n in range(args.rounds)
    ]
    lead_s = statistics.median(schedule_s) / 4
    in_schedule_s = [
        now_while(site, bulletin, functools.partial(runtime.broadcasts.schedule, request), lead_s)
        for request in later
    ]
    plan_items, size = plan_size(site)
    with runtime.db.engine.begin() as conn:
        conn.execute(text("CREATE TABLE bench_raw_planned (device TEXT, item TEXT, at TEXT)"))
    raw_s = [raw_schedule(site, size) for _ in range(args.rounds)]
    schedule, raw = statistics.median(schedule_s), statistics.median(raw_s)
    return {
        "devices": args.devices,
        "db": args.db,
        "history": args.history,
        "history_s": f"{history_s:.1f}",
        "rounds": args.rounds,
        "plan_items": plan_items,
        "plan_bytes": size,
        "schedule_p50_ms": ms(schedule),
        "schedule_max_ms": ms(max(schedule_s)),
        "raw_p50_ms": ms(raw),
        "ratio": f"{schedule / raw:.2f}",
        "queue_ms": ms(queue_s),
        "recompile_p50_ms": ms(statistics.median(recompile_s)),
        "republish_ms": ms(republish_s),
        "now_p50_ms": ms(statistics.median(now_s)),
        "now_in_republish_p50_ms": ms(statistics.median(in_republish_s)),
        "now_in_schedule_p50_ms": ms(statistics.median(in_schedule_s)),
        "peak_rss_mib": f"{peak_rss_mib():.0f}",
    }


def main(argv: Sequence[str] | None = None) -> None:
    """Measure and print, the key=value line last."""
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    tmp = Path(tempfile.mkdtemp(prefix="wardcast-bench-"))
    load_before = load1()
    try:
        with contextlib.ExitStack() as stack:
            url = bench_database(stack, postgres=args.postgres, url=args.database_url)
            broker = stack.enter_context(EmbeddedBroker())
            site = start_site(
                tmp / "site", broker.url, args.devices, ward_code=WARD, database_url=url
            )
            try:
                figures = measure(site, args, tmp)
            finally:
                site.stop()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    figures["load1"] = f"{load1():.2f}"
    f = figures
    print(f"{args.devices} devices in one ward ({args.db}), {args.rounds} rounds")
    print(f"load {load_before:.2f} -> {f['load1']}; plans of {f['plan_items']} items")
    print(f"history: {f['history']} planned plays a device (written in {f['history_s']} s)")
    print(f"queue a bulletin into a session  {f['queue_ms']:>9} ms")
    print(f"schedule a broadcast for later   {f['schedule_p50_ms']:>9} ms p50")
    print(f"  raw: rows written, plans signed {f['raw_p50_ms']:>8} ms p50, ratio {f['ratio']}")
    print(f"recompile all, nothing new       {f['recompile_p50_ms']:>9} ms p50")
    print(f"every device back online at once {f['republish_ms']:>9} ms")
    print(f"an emergency 'now', call->publish {f['now_p50_ms']:>8} ms p50")
    print(f"  while all devices republish     {f['now_in_republish_p50_ms']:>9} ms p50")
    print(f"  while a broadcast is scheduled  {f['now_in_schedule_p50_ms']:>9} ms p50")
    print(" ".join(f"{key}={value}" for key, value in figures.items()))


if __name__ == "__main__":
    main()
