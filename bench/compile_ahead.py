"""A ward's compile among a nation's broadcasts ahead: what the other wards' cost it.

    .venv/bin/python -m bench.compile_ahead              # SQLite, 1,000 wards elsewhere
    .venv/bin/python -m bench.compile_ahead --postgres   # the same on a throwaway PostgreSQL
    .venv/bin/python -m bench.compile_ahead --tiny       # 3 wards elsewhere: the suite runs this

Every compile of some devices' plans (an officer scheduling to a ward, a device back
online) reads the scheduled broadcasts ahead that target those devices
(``plans.items.scheduled_items``). One controller for a nation (docs/scale.md) holds
every ward's broadcasts ahead; what one ward's compile reads must not grow with them.

Measured on one database: the read for a ward of ``--devices`` devices, each targeted by
one broadcast ahead of its own, first with no other ward (``alone_p50_ms``: the
baseline), then with ``--wards`` other wards of ``--per-ward`` devices, each ward with
three broadcasts ahead of its own (``among_p50_ms``); ``ratio`` is among over alone.
Rows are written directly; the read is the controller's own. On PostgreSQL the tables
are ``ANALYZE``d after the writes. The last line is ``key=value`` pairs.
"""

from __future__ import annotations

import argparse
import statistics
import time
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, insert, text

from bench.common import add_store_options, migrated_database
from bench.figures import load1
from controller.audio.store import MediaSigner
from controller.db.models import Broadcast, BroadcastTarget, Bulletin, Device, MediaAsset
from controller.db.session import Database
from controller.domain.plans.items import scheduled_items

AHEAD_A_WARD = 3
CHUNK = 20_000  # rows an executemany


def _table(model: Any) -> Table:
    return cast(Table, model.__table__)


def _write(db: Database, table: Table, rows: list[dict[str, Any]]) -> None:
    with db.engine.begin() as conn:
        for start in range(0, len(rows), CHUNK):
            conn.execute(insert(table), rows[start : start + CHUNK])


def _ward(db: Database, ward: str, devices: list[str], ahead: int, now: datetime) -> None:
    """A ward's devices, and ``ahead`` broadcasts to all of them in the coming hours."""
    _write(db, _table(Device), [
        {"id": d, "name": d, "ward_code": ward, "public_key": "-", "registered_at": now}
        for d in devices
    ])  # fmt: skip
    starts = {f"bc-{ward}-{k}": now + timedelta(hours=1 + k) for k in range(ahead)}
    _write(db, _table(Broadcast), [
        {"id": b, "bulletin_id": "bench", "trigger": "manual", "priority": "normal",
         "planned_start": at, "immediate": False, "status": "scheduled", "created_at": now}
        for b, at in starts.items()
    ])  # fmt: skip
    _write(db, _table(BroadcastTarget), [
        {"broadcast_id": b, "device_id": d, "planned_start": at}
        for b, at in starts.items()
        for d in devices
    ])  # fmt: skip


def _read_ms(db: Database, devices: list[str], now: datetime, rounds: int) -> list[float]:
    urls = MediaSigner(b"b" * 32, "http://bench", 3600).at(now)
    times = []
    with db.session() as session:
        for _ in range(rounds):
            began = time.perf_counter()
            found = scheduled_items(session, devices, now, urls)
            times.append((time.perf_counter() - began) * 1000)
            assert len(found) == len(devices), "every device has its broadcast ahead"
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--devices", type=int, default=1000, help="devices of the ward compiled")
    parser.add_argument("--wards", type=int, default=1000, help="other wards")
    parser.add_argument("--per-ward", type=int, default=50, help="devices of each other ward")
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--tiny", action="store_true", help="5 devices, 3 wards of 5, 3 rounds")
    add_store_options(parser)
    args = parser.parse_args()
    if args.tiny:
        args.devices, args.wards, args.per_ward, args.rounds = 5, 3, 5, 3
    now = datetime.now(UTC)
    with ExitStack() as stack:
        db = migrated_database(stack, args)
        _write(db, _table(MediaAsset), [{
            "sha256": "0" * 64, "size_bytes": 1, "duration_s": 30.0,
            "content_type": "audio/ogg", "extension": "ogg", "created_at": now,
        }])  # fmt: skip
        _write(db, _table(Bulletin), [{
            "id": "bench", "title": "Bench", "origin": "text", "media_sha256": "0" * 64,
            "created_at": now, "status": "approved",
        }])  # fmt: skip
        mine = [f"ward-{n:05d}" for n in range(args.devices)]
        _ward(db, "00037", mine, 1, now)
        alone = _read_ms(db, mine, now, args.rounds)
        began = time.perf_counter()
        for w in range(args.wards):
            ward = f"{w + 100:05d}"
            devices = [f"w{ward}-{n:03d}" for n in range(args.per_ward)]
            _ward(db, ward, devices, AHEAD_A_WARD, now)
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as conn:
                conn.execute(text("ANALYZE"))
        written_s = time.perf_counter() - began
        among = _read_ms(db, mine, now, args.rounds)
        store = db.engine.dialect.name
    alone_p50, among_p50 = statistics.median(alone), statistics.median(among)
    targets = args.wards * args.per_ward * AHEAD_A_WARD
    print(f"store: {store}; a compile's read for a ward of {args.devices} devices")
    print(f"alone: p50 {alone_p50:.1f} ms (min {min(alone):.1f})")
    print(
        f"among {args.wards} other wards ({args.wards * AHEAD_A_WARD:,} broadcasts ahead, "
        f"{targets:,} targets, written in {written_s:.1f} s): "
        f"p50 {among_p50:.1f} ms (min {min(among):.1f})"
    )
    print(
        f"store={store} devices={args.devices} wards={args.wards} per_ward={args.per_ward} "
        f"rounds={args.rounds} alone_p50_ms={alone_p50:.2f} among_p50_ms={among_p50:.2f} "
        f"ratio={among_p50 / alone_p50:.2f} load1={load1():.2f}"
    )


if __name__ == "__main__":
    main()
