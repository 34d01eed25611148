"""``GET /metrics``: what an HTTP call and a device's messages leave there, and who may read it.

Counters are process-wide (one controller per process), so each check compares a
scrape before with a scrape after, never an absolute count.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from apscheduler.events import EVENT_JOB_EXECUTED, EVENT_JOB_MISSED, EVENT_JOB_SUBMITTED
from apscheduler.schedulers.background import BackgroundScheduler
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr

from controller.api.app import create_app
from controller.metrics.exporter import MetricsExporter
from controller.metrics.fleet import FleetCollector, FleetFigures
from controller.metrics.registry import PROCESS
from controller.metrics.scheduler import SchedulerWatch, watch_scheduler
from tests.support.auth import auth_headers
from tests.unit.controller_support import Harness, make_harness
from wardcast_protocol.messages import Availability, DeviceState, Kind
from wardcast_protocol.topics import DeviceChannel, device_topic

METRICS_TOKEN = "scrape-token-0123456789"
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


@pytest.fixture
def h(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Harness]:
    harness = make_harness(tmp_path)
    monkeypatch.setattr(harness.runtime.settings, "metrics_token", SecretStr(METRICS_TOKEN))
    monkeypatch.setattr(MetricsExporter, "CACHE_S", 0.0)  # every scrape reads the devices
    harness.plan("to-1")
    yield harness
    harness.runtime.stop()


@pytest.fixture
def api(h: Harness) -> Iterator[TestClient]:
    with TestClient(create_app(runtime=h.runtime)) as client:
        yield client


def scrape(api: TestClient) -> Samples:
    """Every sample of one scrape, keyed by name and labels."""
    response = api.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(response.text)
        for s in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    """One sample's value; 0 when the series does not exist (yet)."""
    return samples.get((name, frozenset(labels.items())), 0.0)


def test_a_scrape_after_an_http_call_and_device_messages_has_every_series(
    h: Harness, api: TestClient
) -> None:
    before = scrape(api)
    assert api.get("/api/v1/health").status_code == 200
    assert api.get("/api/v1/wards/nowhere", headers=auth_headers(h.runtime)).status_code == 404
    h.device_sends(
        "to-1", DeviceChannel.AVAILABILITY, Kind.AVAILABILITY, Availability(state="online")
    )
    state = DeviceState(device_time=h.clock.now(), pending_events=3)
    h.device_sends("to-1", DeviceChannel.STATE, Kind.STATE, state)
    h.device_sends("to-1", DeviceChannel.EVENT, Kind.EVENT, h.event("to-1"))
    h.broker.route("to-2", device_topic("to-2", DeviceChannel.EVENT), b"not json", False, None)
    after = scrape(api)

    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    latency = "wardcast_http_request_duration_seconds_count"
    assert grew(latency, method="GET", route="/api/v1/health", status="200") == 1
    # By template, never by the concrete path: the ward's code is not a label.
    assert grew(latency, method="GET", route="/api/v1/wards/{code}", status="404") == 1
    assert value(after, "wardcast_http_request_duration_seconds_sum", method="GET",
                 route="/api/v1/health", status="200") > 0  # fmt: skip
    assert grew("wardcast_mqtt_messages_total", direction="in", channel="event") == 2
    assert grew("wardcast_mqtt_messages_total", direction="in", channel="availability") == 1
    assert grew("wardcast_mqtt_messages_total", direction="out", channel="ack") == 1
    assert grew("wardcast_evidence_stored_total", outcome="completed") == 1
    assert grew("wardcast_rejected_messages_total", reason="malformed") == 1
    # Read from the database at scrape time: to-1 is online, to-2 never spoke.
    assert value(after, "wardcast_devices", ward="", state="online") == 1
    assert value(after, "wardcast_devices", ward="", state="offline") == 1
    assert value(after, "wardcast_pending_acknowledgements") == 3
    assert value(after, "process_resident_memory_bytes") > 0


def test_metrics_need_the_metrics_token_or_an_administrator(h: Harness, api: TestClient) -> None:
    assert api.get("/metrics").status_code == 401
    wrong = {"Authorization": "Bearer not-the-token-0123456789"}
    assert api.get("/metrics", headers=wrong).status_code == 401
    evaluator = auth_headers(h.runtime, "evaluator", all_wards=True)
    assert api.get("/metrics", headers=evaluator).status_code == 403
    assert api.get("/metrics", headers=auth_headers(h.runtime)).status_code == 200


def test_without_a_metrics_token_only_an_administrator_scrapes(
    h: Harness, api: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(h.runtime.settings, "metrics_token", None)
    assert (
        api.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}).status_code == 401
    )
    assert api.get("/metrics", headers=auth_headers(h.runtime)).status_code == 200


def test_the_fleet_is_read_once_per_cache_period() -> None:
    reads: list[int] = []
    clock = [0.0]

    def read() -> FleetFigures:
        reads.append(1)
        return FleetFigures()

    collector = FleetCollector(read, cache_s=5.0, monotonic=lambda: clock[0])
    list(collector.collect())
    clock[0] = 4.9
    list(collector.collect())
    assert len(reads) == 1
    clock[0] = 5.0
    list(collector.collect())
    assert len(reads) == 2


def test_a_failing_database_keeps_the_last_figures(caplog: pytest.LogCaptureFixture) -> None:
    answers: list[FleetFigures | Exception] = [FleetFigures(pending_events=2), OSError("gone")]

    def read() -> FleetFigures:
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    clock = [0.0]
    collector = FleetCollector(read, cache_s=1.0, monotonic=lambda: clock[0])
    assert collector.figures() == FleetFigures(pending_events=2)
    clock[0] = 2.0
    assert collector.figures() == FleetFigures(pending_events=2)
    assert "could not read the devices" in caplog.text


def test_scheduler_lag_duration_and_misses_are_observed() -> None:
    scheduled = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
    now = [scheduled + timedelta(seconds=2)]
    watch = SchedulerWatch(now=lambda: now[0])
    job = "test-job-lag"

    def sample(name: str, **labels: str) -> float:
        return PROCESS.get_sample_value(name, {"job": job, **labels}) or 0.0

    watch(SimpleNamespace(code=EVENT_JOB_SUBMITTED, job_id=job, scheduled_run_times=[scheduled]))
    now[0] += timedelta(seconds=3)
    watch(SimpleNamespace(code=EVENT_JOB_EXECUTED, job_id=job))
    watch(SimpleNamespace(code=EVENT_JOB_MISSED, job_id=job))
    assert sample("wardcast_scheduler_lag_seconds_sum") == pytest.approx(2.0)
    assert sample("wardcast_scheduler_job_duration_seconds_sum") == pytest.approx(3.0)
    assert sample("wardcast_scheduler_runs_total", result="ok") == 1
    assert sample("wardcast_scheduler_runs_total", result="missed") == 1


def test_a_real_scheduler_reports_its_lag() -> None:
    job = "test-job-real"
    scheduler = BackgroundScheduler(timezone="UTC")
    watch_scheduler(scheduler)
    scheduler.start()
    try:
        done = threading.Event()
        scheduler.add_job(done.set, "date", run_date=datetime.now(UTC), id=job)
        assert done.wait(5)
        for _ in range(50):
            if PROCESS.get_sample_value(
                "wardcast_scheduler_runs_total", {"job": job, "result": "ok"}
            ):
                break
            time.sleep(0.05)
    finally:
        scheduler.shutdown(wait=True)
    assert PROCESS.get_sample_value("wardcast_scheduler_lag_seconds_count", {"job": job}) == 1
    assert (
        PROCESS.get_sample_value("wardcast_scheduler_runs_total", {"job": job, "result": "ok"}) == 1
    )
