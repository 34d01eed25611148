"""The controller's process-wide metrics, counted where things happen.

One ``CollectorRegistry`` per process (``PROCESS``), not prometheus-client's global one,
so that nothing a library registers leaks onto ``/metrics``. The HTTP middleware, the
bridge, the outbound publisher and the scheduler listener call the small functions
below; what is read from the database at scrape time (devices online, acknowledgements
pending) is a collector of its own (``controller.metrics.fleet``).

Labels are bounded on purpose: routes by their template (``/api/v1/wards/{code}``),
never the concrete path; channels and rejection reasons from fixed sets.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram, disable_created_metrics
from prometheus_client.process_collector import ProcessCollector

# No ``*_created`` series beside every counter: Prometheus does not need them, and they
# double what a scrape carries. (A process-wide switch; the controller owns its process.)
disable_created_metrics()  # type: ignore[no-untyped-call]
PROCESS = CollectorRegistry(auto_describe=True)
ProcessCollector(registry=PROCESS)

UNMATCHED_ROUTE = "<unmatched>"  # 404s: the concrete path would be unbounded
UNKNOWN_CHANNEL = "<unknown>"  # a topic outside the protocol's tree

HTTP_LATENCY = Histogram(
    "wardcast_http_request_duration_seconds",
    "Time to answer an HTTP request, by method, route template and status.",
    ("method", "route", "status"),
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0),
    registry=PROCESS,
)
MQTT_MESSAGES = Counter(
    "wardcast_mqtt_messages",
    "MQTT messages received from devices (in) and published to them (out), by channel.",
    ("direction", "channel"),
    registry=PROCESS,
)
EVIDENCE_STORED = Counter(
    "wardcast_evidence_stored",
    "Playback events stored as new evidence rows (duplicates not counted), by outcome.",
    ("outcome",),
    registry=PROCESS,
)
REJECTED = Counter(
    "wardcast_rejected_messages",
    "Messages from devices refused before or while being stored, by reason.",
    ("reason",),
    registry=PROCESS,
)
INGEST_RETRIES = Counter(
    "wardcast_ingest_batch_retries",
    "Ingest batches run again after a transient database error, by cause "
    "(deadlock, serialization, connection, locked).",
    ("cause",),
    registry=PROCESS,
)
SCHEDULER_LAG = Histogram(
    "wardcast_scheduler_lag_seconds",
    "How late a maintenance job started after its scheduled time, by job.",
    ("job",),
    buckets=(0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 15.0, 60.0, 300.0, 1800.0),
    registry=PROCESS,
)
SCHEDULER_RUNS = Counter(
    "wardcast_scheduler_runs",
    "Maintenance job runs by job and result (ok, error, missed).",
    ("job", "result"),
    registry=PROCESS,
)
SCHEDULER_DURATION = Histogram(
    "wardcast_scheduler_job_duration_seconds",
    "How long a maintenance job ran, by job.",
    ("job",),
    buckets=(0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 15.0, 60.0, 300.0),
    registry=PROCESS,
)


def observe_http(method: str, route: str, status: int, seconds: float) -> None:
    """One answered HTTP request."""
    HTTP_LATENCY.labels(method, route, str(status)).observe(seconds)


def mqtt_received(channel: str | None) -> None:
    """One message arrived from a device (``None``: its topic named no channel)."""
    MQTT_MESSAGES.labels("in", channel or UNKNOWN_CHANNEL).inc()


def mqtt_sent(channel: str) -> None:
    """One message published to a device."""
    MQTT_MESSAGES.labels("out", channel).inc()


def evidence_stored(outcome: str) -> None:
    """A new evidence row was committed."""
    EVIDENCE_STORED.labels(outcome).inc()


def ingest_retried(cause: str) -> None:
    """An ingest batch's transaction failed for a passing reason and is run again."""
    INGEST_RETRIES.labels(cause).inc()


def rejected(reason: str) -> None:
    """A device's message was refused (the reason is the bridge's short word)."""
    REJECTED.labels(reason).inc()
