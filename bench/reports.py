"""Report speed on a province-year of evidence, on SQLite and on PostgreSQL.

    .venv/bin/python -m bench.reports --rows 10000000          # the target size
    .venv/bin/python -m bench.reports --rows 1000000 --db sqlite  # a quicker run
    .venv/bin/python -m bench.reports --tiny                   # the test suite's run

Generates one province (10 districts, ~100 wards, ~2,000 loudspeaker clusters at
10M rows; fewer devices for fewer rows, always a whole year) with each ward's
programme and targets, every planned play, and evidence for the plays the devices
confirmed: most on time, some late, some failed or skipped, a few devices flaky,
a few days offline, so reports have missed plays to find. Rows go in by bulk
insert (executemany on SQLite with bulk-load pragmas, COPY on PostgreSQL — the
append-only triggers refuse only UPDATE and DELETE): an *import*, which marks no
day dirty. Then, per database, as a controller lives through it:

* the backfill job sums every day the import left unsummed (a started controller
  runs it at once);
* a controller restart — a new process; the machine's caches as they are — and its
  *first* ward-year and province-month reports, then the median of later calls;
  then the first call again as after a reboot, with the database's caches emptied
  (SQLite: the file's pages dropped from the OS cache; PostgreSQL: the server
  restarted and its files' pages dropped);
* the baseline likewise: a plain SQL aggregate of the same rows (planned plays
  counted, evidence counted by outcome, for the same scope and period, straight from
  the raw tables);
* late evidence for an old day, marked dirty as ``record_event`` marks it: the
  periodic job re-sums that day, and the next report is as fast as before.

The last line is ``key=value`` pairs: per database, the first call and the median
of each report, the baseline's, the ratio first call / baseline first call, and the
same first calls with the caches dropped.

PostgreSQL is started on loopback from Debian's package by LocalPostgres (as the
``postgres`` user when run as root). Evidence here is synthetic: not signed.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import delete, func, select

from bench.figures import peak_rss_mib
from bench.reports_data import (
    PROVINCE,
    YEAR,
    Place,
    Spec,
    load_postgres,
    load_sqlite,
    places,
    reference_data,
    spec_for,
)
from controller.db.models import (
    Device,
    District,
    PlannedPlay,
    PlaybackEvidence,
    Ward,
)
from controller.db.models.rollups import (
    ReportPlaysRollup,
    ReportRollupDay,
    ReportRollupDirty,
    ReportRollupState,
)
from controller.db.session import Database
from controller.domain.reports.rollups import (
    DEVICE_LEVEL,
    WARD_LEVEL,
    RollupRules,
    backfill,
    keep_current,
    mark,
)
from controller.domain.reports.service import ReportRequest, build_report
from tests.support.local_postgres import LocalPostgres


def _timed(action: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = action()
    return time.perf_counter() - start, result


def _report(db: Database, request: ReportRequest, now: datetime) -> tuple[float, Any]:
    def run() -> Any:
        with db.session() as session:
            return build_report(session, request, now, RollupRules())

    return _timed(run)


@dataclass(frozen=True)
class Scope:
    """What a report covers, for the baseline: its wards and its UTC bounds."""

    label: str
    request: ReportRequest
    province: bool
    start: datetime
    end: datetime


def _scopes(ward: str) -> list[Scope]:
    year_start = datetime(YEAR - 1, 12, 31, 17, tzinfo=UTC)  # 1 January, 00:00 at UTC+7
    month_start = datetime(YEAR, 10, 31, 17, tzinfo=UTC)
    return [
        Scope(
            "ward_year",
            ReportRequest(f"year:{YEAR}", ward=ward),
            False,
            year_start,
            year_start.replace(year=YEAR + 1),
        ),
        Scope(
            "province_month",
            ReportRequest(f"month:{YEAR}-11", province=PROVINCE),
            True,
            month_start,
            datetime(YEAR, 11, 30, 17, tzinfo=UTC),
        ),
    ]


def _baseline(db: Database, scope: Scope, ward: str) -> tuple[float, Any]:
    """A plain SQL aggregate of the same rows: plays planned, evidence by outcome."""

    def run() -> Any:
        with db.session() as session:
            wards: Any = (
                select(Ward.code)
                .join(District, District.code == Ward.district_code)
                .where(District.province_code == PROVINCE)
                if scope.province
                else select(Ward.code).where(Ward.code == ward)
            )
            p, e = PlannedPlay, PlaybackEvidence
            planned = session.scalar(
                select(func.count()).where(
                    p.ward_code.in_(wards),
                    p.planned_start >= scope.start,
                    p.planned_start < scope.end,
                )
            )
            devices = select(Device.id).where(Device.ward_code.in_(wards))
            outcomes = session.execute(
                select(e.outcome, func.count())
                .where(
                    e.device_id.in_(devices),
                    e.planned_start >= scope.start,
                    e.planned_start < scope.end,
                )
                .group_by(e.outcome)
            ).all()
            return planned, {outcome: count for outcome, count in outcomes}

    return _timed(run)


def first_call(url: str, label: str, ward: str, now: datetime, baseline: bool) -> float:
    """The first call of a controller process just started: a new process, so nothing of
    this one (engine, compiled statements, SQLite's page cache) helps it."""
    command = [
        sys.executable, "-m", "bench.reports", "--first-call", label, "--url", url,
        "--ward", ward, "--now", now.isoformat(), *(["--baseline"] if baseline else []),
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, check=True)
    return float(done.stdout.strip().splitlines()[-1].split("=", 1)[1])


def _first_call_here(url: str, label: str, ward: str, now: datetime, baseline: bool) -> None:
    """The child's side of :func:`first_call`: one report (or baseline), its seconds."""
    db = Database(url)
    scope = next(s for s in _scopes(ward) if s.label == label)
    took, _ = _baseline(db, scope, ward) if baseline else _report(db, scope.request, now)
    print(f"seconds={took:.6f}")
    db.dispose()


def _median_of(action: Callable[[], tuple[float, Any]], times: int) -> float:
    return statistics.median(action()[0] for _ in range(times))


def _late_evidence(db: Database, ward: str, day: date, received: datetime) -> None:
    """One more confirmation arriving late for an old day, marked as ``record_event`` marks."""
    with db.session() as session:
        play = session.scalar(
            select(PlannedPlay)
            .where(
                PlannedPlay.ward_code == ward,
                PlannedPlay.planned_start >= datetime(day.year, day.month, day.day, tzinfo=UTC),
            )
            .order_by(PlannedPlay.planned_start)
            .limit(1)
        )
        assert play is not None
        session.add(
            PlaybackEvidence(
                device_id=play.device_id, ward_code=ward, group_code=play.group_code,
                event_id=f"late-{time.time_ns()}", seq=10_000_000 + time.time_ns() % 1_000_000,
                prev_hash="", digest="late", item_id=f"late-{time.time_ns()}", broadcast_id="late",
                trigger="manual", priority="normal", source_level="commune",
                planned_start=play.planned_start, planned_duration_s=10.0,
                actual_start=play.planned_start, played_duration_s=10.0, outcome="completed",
                recorded_at=play.planned_start, received_at=received,
                signed="{}", sig="late",
            )
        )  # fmt: skip
        session.flush()
        mark(session, ward, play.planned_start)


def _forget_rollups(db: Database) -> None:
    """Empty the rollups of a reused database: as if it had just been imported."""
    with db.session() as session:
        tables = (*DEVICE_LEVEL, *WARD_LEVEL, ReportRollupDay, ReportRollupState, ReportRollupDirty)
        for table in tables:
            session.execute(delete(table))


def _backfill(db: Database, now: datetime) -> int:
    """The backfill job, as ``ControllerRuntime.backfill_rollups`` runs it."""
    summed = 0
    with db.session() as session:
        for done in backfill(session, now, RollupRules()):
            session.commit()
            summed += done
    return summed


def drop_cached(paths: list[Path]) -> None:
    """Ask the kernel to forget these files' cached pages (only theirs: POSIX_FADV_DONTNEED)."""
    for path in paths:
        try:
            fd = os.open(path, os.O_RDONLY)
        except OSError:
            continue
        try:
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)


def run_on(
    name: str,
    url: str,
    spec: Spec,
    loader: Callable[[Database, list[Place], int], tuple[int, int]] | None,
    restart: Callable[[], None],
    repeats: int,
) -> dict[str, float]:
    """Generate (unless ``loader`` is None: reuse), load and time the reports; the figures."""
    db = Database(url)
    db.migrate()
    figures: dict[str, float] = {}
    t0 = time.perf_counter()
    if loader is None:
        _forget_rollups(db)
        _, devices = places(spec)
        with db.session() as session:
            planned = session.scalar(select(func.count()).select_from(PlannedPlay)) or 0
            evidence = session.scalar(select(func.count()).select_from(PlaybackEvidence)) or 0
        print(f"[{name}] reusing {planned:,} planned plays, {evidence:,} evidence rows")
    else:
        devices = reference_data(db, spec)
        planned, evidence = loader(db, devices, spec.seed)
        figures["generate_s"] = time.perf_counter() - t0
        print(
            f"[{name}] generated {planned:,} planned plays, {evidence:,} evidence rows, "
            f"{len(devices):,} devices in {spec.wards} wards: {figures['generate_s']:.1f} s"
        )
    figures["evidence_rows"] = evidence
    ward = devices[0].ward_code
    now = datetime.now(UTC)
    took, summed = _timed(lambda: _backfill(db, now))
    figures["backfill_s"] = took
    print(
        f"[{name}] backfill job (at start, after the import): {summed:,} ward-days in {took:.1f} s"
    )
    db.dispose()
    for scope in _scopes(ward):
        # A controller restart: a new process; the machine's caches as they are.
        first = first_call(url, scope.label, ward, now, baseline=False)
        _, report = _report(db, scope.request, now)
        later = _median_of(lambda s=scope: _report(db, s.request, now), repeats)  # type: ignore[misc]
        db.dispose()
        restart()  # as after a reboot: the database's caches emptied too
        cold = first_call(url, scope.label, ward, now, baseline=False)
        base_first = first_call(url, scope.label, ward, now, baseline=True)
        _, (base_planned, _) = _baseline(db, scope, ward)
        base_later = _median_of(lambda s=scope: _baseline(db, s, ward), repeats)  # type: ignore[misc]
        db.dispose()
        restart()
        base_cold = first_call(url, scope.label, ward, now, baseline=True)
        assert base_planned > 0, "the baseline found nothing: the scopes do not match the data"
        figures.update(
            {
                f"{scope.label}_first_s": first,
                f"{scope.label}_median_s": later,
                f"{scope.label}_cold_cache_s": cold,
                f"{scope.label}_baseline_first_s": base_first,
                f"{scope.label}_baseline_median_s": base_later,
                f"{scope.label}_baseline_cold_cache_s": base_cold,
            }
        )
        print(
            f"[{name}] {scope.label:15s} first call after a restart {first * 1000:6.0f} ms, "
            f"median of {repeats} later {later * 1000:6.0f} ms, first with the caches dropped "
            f"{cold * 1000:6.0f} ms ({report.plays.planned:,} plays planned, "
            f"{report.plays.missed:,} missed, {len(report.devices):,} devices)\n"
            f"[{name}] {'':15s} baseline (plain SQL): first {base_first * 1000:6.0f} ms, "
            f"median {base_later * 1000:6.0f} ms, caches dropped {base_cold * 1000:6.0f} ms"
        )
    _late_evidence(db, ward, date(YEAR, 11, 10), now + timedelta(minutes=1))

    def job() -> int:
        with db.session() as session:
            return keep_current(session, now + timedelta(minutes=2), RollupRules())

    t_job, days = _timed(job)
    figures["job_after_late_evidence_s"] = t_job
    ward_year = _scopes(ward)[0].request
    late, _ = _report(db, ward_year, now + timedelta(minutes=5))
    figures["ward_year_after_late_evidence_s"] = late
    print(
        f"[{name}] late evidence for an old day: the job re-summed {days} ward-day(s) in "
        f"{t_job * 1000:.0f} ms; the next ward-year report {late * 1000:.0f} ms"
    )
    with db.session() as session:
        rollup_rows = session.scalar(select(func.count()).select_from(ReportPlaysRollup))
    print(f"[{name}] rollup rows (plays): {rollup_rows:,}; peak RSS {peak_rss_mib():.0f} MiB")
    db.dispose()
    return figures


def key_values(figures: dict[str, dict[str, float]]) -> str:
    """The last line: per database, first call, median and ratio to the baseline's first."""
    pairs: list[str] = []
    for name, f in figures.items():
        pairs.append(f"{name}_evidence_rows={f['evidence_rows']:.0f}")
        for label in ("ward_year", "province_month"):
            first, base = f[f"{label}_first_s"], f[f"{label}_baseline_first_s"]
            cold, base_cold = f[f"{label}_cold_cache_s"], f[f"{label}_baseline_cold_cache_s"]
            pairs += [
                f"{name}_{label}_first_s={first:.3f}",
                f"{name}_{label}_median_s={f[f'{label}_median_s']:.3f}",
                f"{name}_{label}_baseline_first_s={base:.3f}",
                f"{name}_{label}_baseline_median_s={f[f'{label}_baseline_median_s']:.3f}",
                f"{name}_{label}_ratio={first / base:.2f}",
                f"{name}_{label}_cold_cache_s={cold:.3f}",
                f"{name}_{label}_baseline_cold_cache_s={base_cold:.3f}",
                f"{name}_{label}_cold_cache_ratio={cold / base_cold:.2f}",
            ]
        pairs.append(f"{name}_backfill_s={f['backfill_s']:.1f}")
    pairs.append(f"peak_rss_mib={peak_rss_mib():.0f}")
    return " ".join(pairs)


def main() -> None:
    """Parse arguments, run on the chosen databases, print the figures."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=10_000_000, help="Evidence rows wanted.")
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--tiny", action="store_true", help="~10,000 rows: the test suite's run.")
    parser.add_argument("--repeats", type=int, default=5, help="Later calls, for the median.")
    parser.add_argument("--workdir", type=Path, default=None, help="Where the SQLite file goes.")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="Time again on data already generated (same --rows): the bench.db in --workdir, "
        "or the database at --postgres-url.",
    )
    parser.add_argument(
        "--postgres-url",
        default=None,
        help="Use this PostgreSQL database instead of starting a throwaway cluster "
        "(it is not restarted: its first calls are then warm).",
    )
    # The child of first_call: one call in a process of its own.
    parser.add_argument("--first-call", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--ward", help=argparse.SUPPRESS)
    parser.add_argument("--now", help=argparse.SUPPRESS)
    parser.add_argument("--baseline", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.first_call:
        now = datetime.fromisoformat(args.now)
        _first_call_here(args.url, args.first_call, args.ward, now, args.baseline)
        return
    if args.tiny:
        args.rows, args.repeats = 10_000, 3
    spec = spec_for(args.rows)
    print(
        f"province-year {YEAR}: ~{args.rows:,} evidence rows wanted -> "
        f"{spec.devices:,} devices, {spec.wards} wards"
    )
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="wardcast-bench-"))
    figures: dict[str, dict[str, float]] = {}
    try:
        if args.db in ("sqlite", "both"):
            path = workdir / "bench.db"
            reuse = args.reuse and path.exists()
            if not reuse:
                path.unlink(missing_ok=True)
            files = [path, path.with_name(path.name + "-wal")]
            figures["sqlite"] = run_on(
                "sqlite",
                f"sqlite:///{path}",
                spec,
                None if reuse else load_sqlite,
                lambda: drop_cached(files),
                args.repeats,
            )
        if args.db in ("postgresql", "both") and args.postgres_url:
            loader = None if args.reuse else load_postgres
            figures["postgresql"] = run_on(
                "postgresql", args.postgres_url, spec, loader, lambda: None, args.repeats
            )
        elif args.db in ("postgresql", "both"):
            with LocalPostgres() as cluster:
                url = cluster.create_database("wardcast_bench")

                def restart() -> None:
                    cluster.restart()
                    drop_cached([f for f in (cluster.root / "data").rglob("*") if f.is_file()])

                figures["postgresql"] = run_on(
                    "postgresql", url, spec, load_postgres, restart, args.repeats
                )
    finally:
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)
    print(key_values(figures))


if __name__ == "__main__":
    main()
