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

The parts: ``bench.reports_data`` makes the rows, ``bench.reports_province`` and
``bench.reports_import`` put them in, ``bench.reports_calls`` times a report and the
baseline, ``bench.reports_restart`` times a first call in a new process (this module
run with ``--first-call``) and drops the caches, ``bench.reports_jobs`` plays the jobs.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select

from bench.figures import peak_rss_mib
from bench.reports_calls import median_of, scopes, timed, timed_baseline, timed_report
from bench.reports_data import YEAR, Place, Spec, places, spec_for
from bench.reports_import import load_postgres, load_sqlite
from bench.reports_jobs import backfill_job, forget_rollups, late_evidence
from bench.reports_province import reference_data
from bench.reports_restart import drop_cached, first_call, first_call_here
from controller.db.models import PlannedPlay, PlaybackEvidence
from controller.db.models.rollups import ReportPlaysRollup
from controller.db.session import Database
from controller.domain.reports.rollups import RollupRules, keep_current
from tests.support.local_postgres import LocalPostgres


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
        forget_rollups(db)
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
    took, summed = timed(lambda: backfill_job(db, now))
    figures["backfill_s"] = took
    print(
        f"[{name}] backfill job (at start, after the import): {summed:,} ward-days in {took:.1f} s"
    )
    db.dispose()
    for scope in scopes(ward):
        # A controller restart: a new process; the machine's caches as they are.
        first = first_call(url, scope.label, ward, now, baseline=False)
        _, report = timed_report(db, scope.request, now)
        later = median_of(lambda s=scope: timed_report(db, s.request, now), repeats)  # type: ignore[misc]
        db.dispose()
        restart()  # as after a reboot: the database's caches emptied too
        cold = first_call(url, scope.label, ward, now, baseline=False)
        base_first = first_call(url, scope.label, ward, now, baseline=True)
        _, (base_planned, _) = timed_baseline(db, scope, ward)
        base_later = median_of(lambda s=scope: timed_baseline(db, s, ward), repeats)  # type: ignore[misc]
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
    late_evidence(db, ward, date(YEAR, 11, 10), now + timedelta(minutes=1))

    def job() -> int:
        with db.session() as session:
            return keep_current(session, now + timedelta(minutes=2), RollupRules())

    t_job, days = timed(job)
    figures["job_after_late_evidence_s"] = t_job
    ward_year = scopes(ward)[0].request
    late, _ = timed_report(db, ward_year, now + timedelta(minutes=5))
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
        first_call_here(args.url, args.first_call, args.ward, now, args.baseline)
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
