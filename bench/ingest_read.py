"""An ingest batch's read of what its devices already hold, new and after months.

    .venv/bin/python -m bench.ingest_read               # SQLite, 500 devices, 1,000 events each
    .venv/bin/python -m bench.ingest_read --postgres    # the same on a throwaway PostgreSQL
    .venv/bin/python -m bench.ingest_read --tiny        # 5 devices, 20 events: the suite runs this

Before it verifies a batch of evidence events, the controller reads what the batch's
devices already hold (``batch_store.held``): the events past each device's contiguous
prefix, and any holding one of the batch's (device, event id) or (device, sequence)
pairs. That read runs in every batch, so what it costs is paid on every confirmation a
ward sends. If it walks each device's history, or the whole table, it grows with the
months, and a new database does not show it (docs/scale.md, "A ward after months").

Measured, on one database, for a batch of ``--devices`` devices each sending its next
event: the read with two events stored a device (``new_p50_ms``: the baseline, the same
read on a young database), then with ``--history`` events a device (``aged_p50_ms``);
``ratio`` is aged over new. The chains' prefixes cover what is stored, as in a settled
ward, so the read finds nothing: its whole cost is finding that out. On PostgreSQL the
table is ``ANALYZE``d after the writes, as autovacuum would have done over months;
SQLite is never asked to (the controller does not). The read runs ``--rounds`` times on
one connection, as the ingest runs it: psycopg prepares a statement from its sixth run,
and PostgreSQL may then plan it once for any parameters (its generic plan), which is
what a controller running for months uses. The last line is ``key=value`` pairs.
"""

from __future__ import annotations

import argparse
import statistics
import time
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import insert, text, update

from bench.common import add_store_options, migrated_database
from bench.figures import load1
from controller.db.models import DeviceChain, PlaybackEvidence
from controller.db.session import Database
from controller.domain.evidence.batch_store import create_chains, held

WRITE_CHUNK = 20_000  # rows an executemany, while the history is written


def _events(devices: list[str], first: int, last: int, at: datetime) -> list[dict[str, Any]]:
    """Stored evidence rows ``first``..``last`` of each device (unsigned: never verified
    here, only looked up)."""
    return [
        {
            "device_id": d, "ward_code": "bench", "event_id": f"{d}-{n}", "seq": n,
            "prev_hash": "0" * 64, "digest": "0" * 64, "item_id": f"it-{n}",
            "broadcast_id": f"it-{n}", "trigger": "schedule", "priority": "normal",
            "source_level": "ward", "planned_start": at + timedelta(minutes=n),
            "planned_duration_s": 30.0, "played_duration_s": 30.0, "outcome": "completed",
            "amplifier_on": True, "volume": 50, "recorded_at": at, "received_at": at,
            "signed": "{}", "sig": "x",
        }
        for d in devices
        for n in range(first, last + 1)
    ]  # fmt: skip


def _write(db: Database, devices: list[str], first: int, last: int, at: datetime) -> None:
    per_chunk = max(1, WRITE_CHUNK // len(devices))
    for start in range(first, last + 1, per_chunk):
        rows = _events(devices, start, min(last, start + per_chunk - 1), at)
        with db.engine.begin() as conn:
            conn.execute(insert(PlaybackEvidence), rows)
    if db.engine.dialect.name == "postgresql":
        with db.engine.begin() as conn:
            conn.execute(text("ANALYZE playback_evidence"))


def _read_ms(db: Database, devices: list[str], stored: int, rounds: int) -> list[float]:
    """The batch's read, ``rounds`` times: each device's next event (``stored`` + 1)."""
    now = datetime.now(UTC)
    with db.session() as session:
        create_chains(session, devices, now)
        session.execute(
            update(DeviceChain)
            .where(DeviceChain.device_id.in_(devices))
            .values(contiguous_seq=stored, highest_seq=stored)
        )
        session.commit()
    ids = {(d, f"{d}-{stored + 1}") for d in devices}
    seqs = {(d, stored + 1) for d in devices}
    times = []
    for _ in range(rounds):
        with db.session() as session:
            began = time.perf_counter()
            statement = held(session, PlaybackEvidence, devices, ids, seqs)
            found = session.execute(statement).all()
            times.append((time.perf_counter() - began) * 1000)
            assert not found, f"{len(found)} rows held past a settled prefix"
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--devices", type=int, default=500, help="devices in the batch")
    parser.add_argument("--history", type=int, default=1000, help="events stored a device")
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--tiny", action="store_true", help="5 devices, 20 events, 3 rounds")
    add_store_options(parser)
    args = parser.parse_args()
    if args.tiny:
        args.devices, args.history, args.rounds = 5, 20, 3
    if args.history < 3:
        parser.error("--history must be at least 3 (the new database holds 2 a device)")
    with ExitStack() as stack:
        db = migrated_database(stack, args)
        devices = [f"bench-{i:05d}" for i in range(args.devices)]
        at = datetime.now(UTC) - timedelta(days=365)
        _write(db, devices, 1, 2, at)
        new = _read_ms(db, devices, 2, args.rounds)
        began = time.perf_counter()
        _write(db, devices, 3, args.history, at)
        written_s = time.perf_counter() - began
        aged = _read_ms(db, devices, args.history, args.rounds)
        store = db.engine.dialect.name
    new_p50, aged_p50 = statistics.median(new), statistics.median(aged)
    print(f"store: {store}; a batch of {args.devices} devices, each sending its next event")
    print(f"the batch's read, 2 events a device: p50 {new_p50:.1f} ms (min {min(new):.1f})")
    print(
        f"the same, {args.history} events a device ({args.devices * args.history:,} rows, "
        f"written in {written_s:.1f} s): p50 {aged_p50:.1f} ms (min {min(aged):.1f})"
    )
    print(
        f"store={store} devices={args.devices} history={args.history} rounds={args.rounds} "
        f"new_p50_ms={new_p50:.2f} aged_p50_ms={aged_p50:.2f} "
        f"ratio={aged_p50 / new_p50:.2f} load1={load1():.2f}"
    )


if __name__ == "__main__":
    main()
