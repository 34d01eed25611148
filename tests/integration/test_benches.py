"""Benchmarks that cannot rot: each bench's tiny mode runs here, so a bench broken by a
later change fails ``make test``.

Every bench prints its figures and, on its last line, ``key=value`` pairs: the
project's figure, the baseline measured in the same run, their ratio. To add a bench,
add one test: ``figures = run_bench("bench.NAME", "--tiny")`` and assert the keys its
last line must carry (the values are timings on a shared machine: not asserted).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run_bench(module: str, *args: str, timeout_s: float = 300) -> dict[str, str]:
    """Run ``python -m module args``; its last line's ``key=value`` pairs."""
    done = subprocess.run(
        [sys.executable, "-m", module, *args],
        capture_output=True,
        text=True,
        timeout=timeout_s,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    last = done.stdout.strip().splitlines()[-1]
    pairs = [pair.split("=", 1) for pair in last.split()]
    assert all(len(pair) == 2 for pair in pairs), last
    return dict(pairs)


def test_verify_bench_tiny() -> None:
    figures = run_bench("bench.verify", "--tiny", "--with-build")
    assert figures["events"] == "500"
    assert float(figures["build_s"]) > 0  # built from a database of events and plans
    keys = {"verify_s", "raw_ed25519_s", "ratio", "verify_cpu_s", "peak_rss_mib", "tree_pss_mib"}
    assert keys <= set(figures)
    assert float(figures["tree_pss_mib"]) > 0  # the verifier's memory was sampled


def test_reports_bench_tiny() -> None:
    figures = run_bench("bench.reports", "--tiny")
    for db in ("sqlite", "postgresql"):
        assert float(figures[f"{db}_evidence_rows"]) > 0
        for report in ("ward_year", "province_month"):
            for figure in ("first_s", "median_s", "baseline_first_s", "ratio"):
                assert f"{db}_{report}_{figure}" in figures


def test_start_precision_bench_tiny(tmp_path: Path) -> None:
    # Traced (bench.loop_trace), with the instants near a start board slot's edge.
    trace = tmp_path / "trace.json"
    figures = run_bench(
        "bench.start_precision", "--tiny", "--trace", str(trace), "--slot-phase-ms", "4"
    )
    assert figures["agents"] == "5"
    assert figures["started"] == "5/5"
    for key in ("p50_ms", "p99_ms", "baseline_p50_ms", "baseline_p99_ms", "ratio_p99", "load_avg"):
        assert key in figures
    recorded = json.loads(trace.read_text())
    assert len(recorded["planned"]) == 3 and recorded["slots"]
    assert {op for _, _, op, _ in recorded["writes"]} >= {"journal_start", "journal_end"}


def test_agent_footprint_bench_tiny() -> None:
    figures = run_bench("bench.agent_footprint", "--tiny")
    assert figures["played"] == "completed"
    keys = {"rss_mib", "peak_rss_mib", "idle_cpu_pct", "baseline_rss_mib", "ratio"}
    assert keys <= set(figures)
    assert float(figures["rss_mib"]) > float(figures["baseline_rss_mib"]) > 0


def test_fanout_bench_tiny() -> None:
    figures = run_bench("bench.fanout", "--tiny")
    assert figures["agents"] == "5" and figures["processes"] == "2"
    for key in ("p50_ms", "p99_ms", "raw_p50_ms", "raw_p99_ms", "ratio_p99", "api_p50_ms"):
        assert float(figures[key]) > 0, key
    # The split of call -> start at the publish: the controller's part, then the broker's
    # and the fleet's. One round: its one publish time plus the fleet's p99 is the whole
    # p99 (each rounded to 0.1 ms); and an agent starts only after the publish.
    publish, fleet = float(figures["publish_p50_ms"]), float(figures["fleet_p99_ms"])
    assert publish > 0 and fleet > 0
    assert abs(publish + fleet - float(figures["p99_ms"])) <= 0.21
    assert float(figures["fleet_ratio_p99"]) > 0
    # Each worker's CPU between the publish and its last start or receipt was sampled.
    assert float(figures["fleet_cpu_ms"]) > 0 and float(figures["raw_cpu_ms"]) >= 0
    assert figures["cpu_ratio"] != "nan" or float(figures["raw_cpu_ms"]) == 0
    # What else shared the cores meanwhile: the controller's process and the broker.
    assert float(figures["controller_cpu_ms"]) > 0
    assert 0 <= float(figures["start_spread_ms"]) <= float(figures["fleet_p99_ms"])
    assert float(figures["broker_cpu_ms"]) >= 0 and float(figures["raw_broker_cpu_ms"]) >= 0
    assert figures["missed_starts"] == "0"
    assert figures["confirmed"] == "5/5"
    assert figures["on_ward_channel"] == "5"  # one command for the ward, not one per agent
    assert figures["sample"] == "0" and figures["heard_p99_ms"] == "nan"  # all are agents


def test_fanout_bench_tiny_sampled() -> None:
    # Two of the five devices run as agents; the other three only listen to the ward's
    # channel, and still hear the one command the controller addressed to all five.
    figures = run_bench("bench.fanout", "--tiny", "--sample", "2")
    assert figures["agents"] == "5" and figures["sample"] == "2"
    assert figures["on_ward_channel"] == "5"
    assert float(figures["heard_p99_ms"]) > 0  # every listener heard this round's command
    assert float(figures["p99_ms"]) > float(figures["publish_p50_ms"]) > 0
    assert figures["missed_starts"] == "0" and figures["confirmed"] == "2/2"
    # The raw baseline laid out alike: its 2 sampled subscribers in a process of their own.
    assert float(figures["raw_p99_ms"]) > 0
    assert figures["cpu_ratio"] != "nan" or float(figures["raw_cpu_ms"]) == 0


def test_fanout_bench_tiny_with_a_fresh_clip() -> None:
    # Each round a clip no agent has cached (another tone, so another sha256), as a new
    # emergency's speech: an agent plays only a file it has downloaded and verified, so
    # every start and confirmation below comes after every agent's download of it.
    figures = run_bench("bench.fanout", "--tiny", "--fresh-clip")
    assert figures["fresh_clip"] == "1" and figures["agents"] == "5"
    assert figures["missed_starts"] == "0" and figures["confirmed"] == "5/5"
    assert float(figures["p99_ms"]) > float(figures["publish_p50_ms"]) > 0


@pytest.mark.parametrize("closed", [False, True])
def test_reconnect_bench_tiny(closed: bool) -> None:
    # Closed: TLS and a login per link, as the controller runs its broker.
    figures = run_bench("bench.reconnect", "--tiny", *(["--closed"] if closed else []))
    assert figures["links"] == "20" and figures["down_s"] == "1.0"
    assert figures["closed"] == str(int(closed))
    for key in ("back_p50_ms", "back_max_ms", "plain_back_p50_ms", "plain_back_max_ms"):
        assert float(figures[key]) > 0, key  # every link came back, after the broker
    peak, plain_peak = int(figures["peak_per_100ms"]), int(figures["plain_peak_per_100ms"])
    assert 1 <= peak <= 20 and 1 <= plain_peak <= 20
    assert float(figures["peak_ratio"]) == round(peak / plain_peak, 2)


def test_plans_bench_tiny() -> None:
    figures = run_bench("bench.plans", "--tiny", "--history", "3")
    assert figures["devices"] == "5" and figures["db"] == "sqlite"
    assert figures["history"] == "3"
    # The example programme's sessions and the broadcasts scheduled: plans are not empty.
    assert int(figures["plan_items"]) >= 2 and int(figures["plan_bytes"]) > 0
    timed = ("schedule_p50_ms", "raw_p50_ms", "queue_ms", "recompile_p50_ms", "republish_ms")
    nows = ("now_p50_ms", "now_in_republish_p50_ms", "now_in_schedule_p50_ms")
    for key in (*timed, *nows):
        assert float(figures[key]) > 0
    ratio = float(figures["schedule_p50_ms"]) / float(figures["raw_p50_ms"])
    assert float(figures["ratio"]) == pytest.approx(ratio, rel=0.05)


def test_ingest_bench_tiny() -> None:
    figures = run_bench("bench.ingest", "--tiny")
    assert figures["db"] == "sqlite" and figures["ingest_workers"] == "0"
    assert figures["events"] == figures["stored"] == "100"
    for key in ("stored_per_s", "raw_per_s", "ratio", "lag_after_last_sent_s", "load1"):
        assert key in figures
    assert float(figures["stored_per_s"]) > 0 and float(figures["raw_per_s"]) > 0


def test_ingest_bench_tiny_on_postgres() -> None:
    # ~14 s with the throwaway cluster's initdb and start (load 1.3)
    figures = run_bench("bench.ingest", "--tiny", "--postgres")
    assert figures["db"] == "postgres"
    assert figures["ingest_workers"] == "2"  # WARDCAST_INGEST_WORKERS' default on PostgreSQL
    assert figures["events"] == figures["stored"] == "100"
    assert float(figures["stored_per_s"]) > 0 and float(figures["raw_per_s"]) > 0


def test_ingest_bench_tiny_with_two_replicas() -> None:
    # Two controllers (this one and a `wardcast serve`) share the ingest on one PostgreSQL;
    # the devices confirm round by round, as a broadcast's confirmations come.
    args = ("--tiny", "--postgres", "--replicas", "2", "--order", "round")
    figures = run_bench("bench.ingest", *args)
    assert figures["db"] == "postgres" and figures["replicas"] == "2"
    assert figures["order"] == "round"
    assert figures["events"] == figures["stored"] == "100"  # each stored once, by either
    assert float(figures["stored_per_s"]) > 0


@pytest.mark.parametrize("store", ["sqlite", "postgresql"])
def test_ingest_read_bench_tiny(store: str) -> None:
    figures = run_bench(
        "bench.ingest_read", "--tiny", *(["--postgres"] if store != "sqlite" else [])
    )
    assert figures["store"] == store
    assert figures["devices"] == "5" and figures["history"] == "20"
    assert all(float(figures[key]) > 0 for key in ("new_p50_ms", "aged_p50_ms", "ratio"))


@pytest.mark.parametrize("store", ["sqlite", "postgresql"])
def test_compile_ahead_bench_tiny(store: str) -> None:
    args = ("--tiny", *(["--postgres"] if store != "sqlite" else []))
    figures = run_bench("bench.compile_ahead", *args)
    assert figures["store"] == store
    assert figures["devices"] == "5" and figures["wards"] == "3"
    assert all(float(figures[key]) > 0 for key in ("alone_p50_ms", "among_p50_ms", "ratio"))
