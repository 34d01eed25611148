"""Evidence verification: how long ``wardcast evidence verify`` takes on a ward-year bundle.

    .venv/bin/python -m bench.verify                      # 20 devices x 10/day x 365 days
    .venv/bin/python -m bench.verify --with-build         # also time the controller's build
    .venv/bin/python -m bench.verify --tiny               # 500 events: the test suite runs it

Generates a ward-year of genuine evidence: each device has its own Ed25519 key and
seals every event with the protocol's own ``seal_signed``, chained by ``prev_hash``
exactly as an agent chains them. The bundle is assembled in the documented format
(``controller.domain.evidence.bundles.format``), written to a file, and verified end to
end as an evaluator runs it: ``python -m controller.domain.evidence.bundles.verify`` in
its own process (start, read, parse, digest, signatures on every core, chains, report),
whose wall time, CPU time and peak RSS are the project's figures.

With ``--with-build`` the same events are first stored in a fresh SQLite database
(inserted directly: the bridge's per-event path is not what is measured here), with the
planned play each answers and one in a hundred more never confirmed, and the bundle is
built from it with ``build_bundle``, as ``POST /evidence/archives`` does.

Baseline, in the same run: Ed25519-verifying the same signatures over the same bytes
with ``cryptography`` directly on one thread, keys and signatures already decoded —
the arithmetic no verifier can skip. The last line is ``key=value`` pairs: the
verifier's seconds, the baseline's, their ratio (below 1: the verifier's workers beat
one core doing nothing but signatures), its CPU seconds and peak RSS.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from bench.figures import TreeMemory, peak_rss_mib
from controller.domain.evidence.bundles.ed25519 import sodium_available
from controller.domain.evidence.bundles.format import (
    FORMAT,
    content_digest,
    dump_bundle,
    iso_utc,
    period_label,
    signing_message,
    write_atomic,
)
from wardcast_protocol.envelope import seal_signed, signed_digest
from wardcast_protocol.messages import Kind, Outcome, PlaybackEvent, SourceLevel, Trigger
from wardcast_protocol.signing import SigningKey

WARD, ZONE = "26734", "Asia/Ho_Chi_Minh"
YEAR_START = datetime(2025, 12, 31, 17, 0, tzinfo=UTC)  # 2026-01-01 00:00 in Vietnam


def generate(devices: int, per_day: int, days: int) -> dict[str, Any]:
    """Every device's signed, chained events: {device_id: (key, [(event, signed, sig)])}."""
    out: dict[str, Any] = {}
    step = timedelta(hours=13) / per_day  # plays spread over 05:00–18:00 local
    for d in range(devices):
        device_id = f"to-{d + 1:03d}"
        key = SigningKey.generate()
        prev, seq, rows = "", 0, []
        for day in range(days):
            morning = YEAR_START + timedelta(days=day, hours=5)
            for n in range(per_day):
                seq += 1
                planned = morning + n * step
                event = PlaybackEvent(
                    event_id=f"{device_id}-{seq}",
                    device_id=device_id,
                    seq=seq,
                    prev_hash=prev,
                    item_id=f"it-{day}-{n}",
                    broadcast_id=f"bc-{day}-{n}",
                    trigger=Trigger.PROGRAMME,
                    source_level=SourceLevel.CENTRAL if n % 3 == 0 else SourceLevel.COMMUNE,
                    media_sha256="ab" * 32,
                    planned_start=planned,
                    planned_duration_s=300.0,
                    actual_start=planned + timedelta(milliseconds=40),
                    played_duration_s=300.0,
                    outcome=Outcome.COMPLETED,
                    plan_version=day + 1,
                    amplifier_on=True,
                    volume=80,
                    session_key=f"{WARD}:morning:{day}",
                    recorded_at=planned + timedelta(seconds=301),
                )
                sent = planned + timedelta(seconds=302)
                wire, signed = seal_signed(Kind.EVENT, event, device_id, key, sent)
                rows.append((event, signed, json.loads(wire)["sig"]))
                prev = signed_digest(signed)
        out[device_id] = (key, rows)
    return out


def assemble(chains: dict[str, Any], days: int, controller: SigningKey) -> dict[str, Any]:
    """The bundle in the documented format, as ``build_bundle`` writes it."""
    start, end = YEAR_START, YEAR_START + timedelta(days=days)
    entries = []
    for device_id, (key, rows) in chains.items():
        entries.append(
            {
                "device_id": device_id,
                "name": device_id,
                "group_code": device_id[-2:],
                "public_key": key.public_key_b64,
                "chain_anchor": {"seq": 0, "digest": ""},
                "chain_head": {"seq": len(rows), "digest": signed_digest(rows[-1][1])},
                "declared_missing": [],
                "rows": [
                    {"seq": e.seq, "event_id": e.event_id, "signed": s, "sig": sig}
                    for e, s, sig in rows
                ],
            }
        )
    bundle: dict[str, Any] = {
        "format": FORMAT,
        "protocol_version": 1,
        "generator": "bench.verify",
        "generated_at": iso_utc(end),
        "ward": {"code": WARD, "name": "Phường Bến Nghé", "timezone": ZONE},
        "period": {
            "from": iso_utc(start),
            "to": iso_utc(end),
            "label": period_label(start, end, ZONE),
            "basis": "planned_start",
        },
        "devices": entries,
        "planned": {"due": 0, "not_yet_due": 0, "without_evidence": []},
        "controller_public_key": controller.public_key_b64,
    }
    bundle["bundle_digest"] = content_digest(bundle)
    bundle["controller_signature"] = controller.sign(signing_message(bundle["bundle_digest"]))
    return bundle


def build_from_database(chains: dict[str, Any], days: int, directory: Path) -> float:
    """Store the events in SQLite; time building the bundle, then the whole archive act."""
    from sqlalchemy import insert

    from controller.db.models import Device, PlannedPlay, PlaybackEvidence
    from controller.db.session import Database
    from controller.domain.actors import SYSTEM
    from controller.domain.evidence.archives import archive_period
    from controller.domain.evidence.bundles.build import build_bundle
    from controller.domain.places import service as places
    from controller.settings import Settings
    from wardcast_protocol.clock import FakeClock

    db = Database(f"sqlite:///{directory / 'bench.db'}")
    db.migrate()
    now = YEAR_START + timedelta(days=days, hours=1)
    with db.session() as session:
        places.upsert_province(session, "79", "Thành phố Hồ Chí Minh")
        places.upsert_district(session, "760", "79", "Quận 1")
        places.upsert_ward(session, WARD, "760", "Phường Bến Nghé", ZONE)
        for device_id, (key, _) in chains.items():
            session.add(
                Device(
                    id=device_id, name=device_id, ward_code=WARD, public_key=key.public_key_b64,
                    registered_at=YEAR_START,
                )
            )  # fmt: skip
    with db.session() as session:
        session.execute(
            insert(PlaybackEvidence),
            [
                {
                    "device_id": e.device_id, "ward_code": WARD, "event_id": e.event_id,
                    "seq": e.seq, "prev_hash": e.prev_hash, "digest": signed_digest(s),
                    "item_id": e.item_id, "broadcast_id": e.broadcast_id,
                    "trigger": e.trigger.value, "priority": e.priority.value,
                    "source_level": e.source_level.value, "planned_start": e.planned_start,
                    "planned_duration_s": e.planned_duration_s,
                    "played_duration_s": e.played_duration_s, "outcome": e.outcome.value,
                    "recorded_at": e.recorded_at, "received_at": e.recorded_at,
                    "signed": s, "sig": sig,
                }
                for _, rows in chains.values()
                for e, s, sig in rows
            ],
        )  # fmt: skip
        # What the controller planned: each event's play, and one in a hundred more that
        # nobody confirmed (the bundle lists those owed and missed, asking of every
        # planned play whether it was confirmed).
        planned = [
            {
                "device_id": e.device_id, "ward_code": WARD, "item_id": item,
                "broadcast_id": e.broadcast_id, "kind": "media",
                "source_level": e.source_level.value, "priority": e.priority.value,
                "trigger": e.trigger.value, "planned_start": e.planned_start,
                "planned_duration_s": e.planned_duration_s,
                "first_planned_at": e.planned_start - timedelta(hours=1),
            }
            for _, rows in chains.values()
            for n, (e, _, _) in enumerate(rows)
            for item in ([e.item_id] if n % 100 else [e.item_id, f"missed-{e.item_id}"])
        ]  # fmt: skip
        session.execute(insert(PlannedPlay), planned)
    started = time.perf_counter()
    with db.session() as session:
        bundle = build_bundle(
            session, WARD, YEAR_START, YEAR_START + timedelta(days=days), SigningKey.generate(),
            now=now,
        )  # fmt: skip
    write_atomic(directory / "built.json", dump_bundle(bundle))
    elapsed = time.perf_counter() - started
    del bundle
    # The whole archive act: build, write, read back, verify pinned, record.
    runtime = SimpleNamespace(
        settings=Settings(data_dir=directory, environment="test"),
        clock=FakeClock(now),
        key=SigningKey.generate(),
    )
    started = time.perf_counter()
    with db.session() as session:
        end = YEAR_START + timedelta(days=days)
        record = archive_period(session, WARD, YEAR_START, end, SYSTEM, runtime)
    archived = time.perf_counter() - started
    db.dispose()
    rate = events_of(chains) / elapsed
    print(f"build_bundle from SQLite + write: {elapsed:.2f} s ({rate:,.0f} events/s)")
    print(
        f"archive_period (build, write, read back, verify, record): {archived:.2f} s, "
        f"{record.row_count} rows"
    )
    return elapsed


def events_of(chains: dict[str, Any]) -> int:
    """How many events the chains hold."""
    return sum(len(rows) for _, rows in chains.values())


def raw_baseline(chains: dict[str, Any]) -> float:
    """Seconds to Ed25519-verify every signature, nothing else (decoding done beforehand)."""
    work = []
    for key, rows in chains.values():
        public = Ed25519PublicKey.from_public_bytes(base64.b64decode(key.public_key_b64))
        work += [(public, base64.b64decode(sig), s.encode("utf-8")) for _, s, sig in rows]
    started = time.perf_counter()
    for public, sig, data in work:
        public.verify(sig, data)
    return time.perf_counter() - started


@dataclass(frozen=True)
class Run:
    """One verifier process: exit code, last line printed, wall and CPU seconds, peak RSS."""

    code: int
    last: str
    wall_s: float
    cpu_s: float
    peak_mib: float
    tree_pss_mib: float  # the verifier and its signature workers, shared pages counted once


# The verifier run under a probe that reports its peak RSS on the way out. Not from
# wait4's rusage: on Linux a child's ru_maxrss keeps the high-water mark of the process
# it was forked from (this bench, generator and all), exec or not; VmHWM is its own.
_PROBE = """
import atexit, runpy, sys
def peak():
    with open("/proc/self/status") as status:
        kib = next((l.split()[1] for l in status if l.startswith("VmHWM:")), "0")
    sys.stderr.write("peak_kib=" + kib + "\\n")
atexit.register(peak)
sys.argv = sys.argv[1:]
runpy.run_module(sys.argv[0], run_name="__main__", alter_sys=True)
"""


def verify_process(path: Path, workers: int | None = None) -> Run:
    """Run the offline verifier as an evaluator does, in its own process; measure it."""
    module = "controller.domain.evidence.bundles.verify"
    command = [sys.executable, "-c", _PROBE, module, str(path)]
    if workers is not None:
        command += ["--workers", str(workers)]
    env = {**os.environ, "WARDCAST_PROGRESS": "never"}
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        child = subprocess.Popen(command, stdout=out, stderr=err, env=env)
        sampler = TreeMemory(child.pid)
        sampler.start()
        # wait4, not communicate(): it hands back this child's own CPU time, its
        # signature workers' included (they are reaped before it exits).
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - started
        sampler.stop()
        child.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        lines = out.read().decode().strip().splitlines() or [""]
        problems = err.read().decode()
    peak = next((int(x[9:]) for x in problems.split() if x.startswith("peak_kib=")), 0)
    cpu = usage.ru_utime + usage.ru_stime
    last = lines[-1] or problems.strip()
    return Run(child.returncode, last, wall, cpu, peak / 1024, sampler.peak_mib)


def main() -> None:
    """Generate, write, verify, compare; print the figures, ``key=value`` last."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--devices", type=int, default=20)
    parser.add_argument("--per-day", type=int, default=10)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--tiny", action="store_true", help="2 devices x 5/day x 50 days.")
    parser.add_argument("--workers", type=int, help="Signature processes (default: one per core).")
    parser.add_argument("--with-build", action="store_true", help="Also time build_bundle.")
    parser.add_argument("--keep", type=Path, help="Keep the bundle file here.")
    args = parser.parse_args()
    if args.tiny:
        args.devices, args.per_day, args.days = 2, 5, 50

    started = time.perf_counter()
    chains = generate(args.devices, args.per_day, args.days)
    events = events_of(chains)
    print(f"generated {events} signed, chained events in {time.perf_counter() - started:.1f} s")
    with tempfile.TemporaryDirectory(prefix="wardcast-bench-verify-") as tmp:
        directory = Path(tmp)
        path = args.keep or directory / "ward-year.json"
        data = dump_bundle(assemble(chains, args.days, SigningKey.generate()))
        write_atomic(path, data)
        fingerprint = hashlib.sha256(data).hexdigest()[:16]
        print(f"bundle {path.name}: {len(data) / 1e6:.1f} MB, sha256 {fingerprint}…")
        del data
        built = ""
        if args.with_build:
            built = f" build_s={build_from_database(chains, args.days, directory):.2f}"

        run = verify_process(path, args.workers)
        print(f"verify (exit {run.code}): {run.last}")
        assert run.code == 0 and run.last == f"verified: {events} valid, 0 faults", run.last
        print(
            f"verify, own process: {run.wall_s:.2f} s wall, {run.cpu_s:.2f} s CPU, "
            f"{events / run.wall_s:,.0f} events/s, peak RSS {run.peak_mib:.0f} MiB, "
            f"with its signature workers {run.tree_pss_mib:.0f} MiB (PSS)"
        )
        raw = raw_baseline(chains)
        print(f"baseline, Ed25519 verify only: {raw:.2f} s, {events / raw:,.0f} signatures/s")
        print(f"this bench's own peak RSS (generator included): {peak_rss_mib():.0f} MiB")
        print(
            f"events={events} verify_s={run.wall_s:.2f} verify_cpu_s={run.cpu_s:.2f} "
            f"raw_ed25519_s={raw:.2f} ratio={run.wall_s / raw:.2f} "
            f"peak_rss_mib={run.peak_mib:.0f} tree_pss_mib={run.tree_pss_mib:.0f} "
            f"sodium={int(sodium_available())} cores={os.cpu_count()} "
            f"load1={os.getloadavg()[0]:.1f}{built}"
        )


if __name__ == "__main__":
    main()
