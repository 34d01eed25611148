"""One scrape: the process's counters and the fleet read from the database, as text."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import Metric

from controller.db.session import Database
from controller.metrics.fleet import FleetCollector, read_fleet
from controller.metrics.registry import PROCESS
from wardcast_protocol.clock import Clock

# The classic text format every Prometheus reads (2.x and 3.x alike).
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class _Process:
    """The process-wide registry, seen as one collector of a per-app registry."""

    def describe(self) -> Iterable[Metric]:
        return ()

    def collect(self) -> Iterable[Metric]:
        return PROCESS.collect()


class MetricsExporter:
    """Renders ``/metrics`` for one controller: its database's fleet, the process's counts."""

    CACHE_S = 5.0  # a scrape every 15 s reads the devices once; several scrapers too

    def __init__(
        self, db: Database, clock: Clock, offline_after_s: float, *, cache_s: float | None = None
    ) -> None:
        offline_after = timedelta(seconds=offline_after_s)
        self.fleet = FleetCollector(
            lambda: read_fleet(db, clock, offline_after),
            cache_s=self.CACHE_S if cache_s is None else cache_s,
        )
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(_Process())
        self.registry.register(self.fleet)

    def render(self) -> bytes:
        """The exposition text (``CONTENT_TYPE``)."""
        return generate_latest(self.registry)
