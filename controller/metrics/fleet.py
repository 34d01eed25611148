"""What is read from the database when Prometheus scrapes: devices online, acks pending.

Computed at scrape time, not counted as messages arrive, because "online" is a judgement
of time (``devices.service.is_online``: its last availability said so *and* it was heard
from recently) that changes with nobody sending anything. One small query per scrape,
remembered for ``cache_s`` so that several scrapers (or a reload) cost one query.

"Pending acknowledgements" are the events waiting in devices' outboxes for the
controller's ack, as each device last reported them (``DeviceState.pending_events``):
the controller acks right after each commit, so anything still pending is on the
device's side — a device that cannot reach the controller, or one whose events are
refused as not yet storable. Revoked devices are left out of both.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import timedelta

from prometheus_client.core import GaugeMetricFamily, Metric
from sqlalchemy import select

from controller.db.models import Device, DeviceEnrolment
from controller.db.session import Database
from controller.domain.devices.service import is_online
from wardcast_protocol.clock import Clock

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FleetFigures:
    """Devices per (ward, online?) and the sum of their reported pending events."""

    devices: Counter[tuple[str, bool]] = field(default_factory=Counter)
    pending_events: int = 0


def read_fleet(db: Database, clock: Clock, offline_after: timedelta) -> FleetFigures:
    """One query over the devices that are not revoked."""
    now = clock.now()
    devices: Counter[tuple[str, bool]] = Counter()
    pending = 0
    with db.session() as session:
        rows = session.execute(
            select(Device)
            .outerjoin(DeviceEnrolment, DeviceEnrolment.device_id == Device.id)
            .where(DeviceEnrolment.revoked_at.is_(None))
        ).scalars()
        for device in rows:
            devices[(device.ward_code or "", is_online(device, now, offline_after))] += 1
            pending += device.pending_events or 0
    return FleetFigures(devices, pending)


class FleetCollector:
    """A prometheus-client collector over :func:`read_fleet`, cached for ``cache_s``."""

    def __init__(
        self,
        read: Callable[[], FleetFigures],
        *,
        cache_s: float = 5.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._read = read
        self._cache_s = cache_s
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._figures: FleetFigures | None = None
        self._read_at = 0.0

    def describe(self) -> Iterable[Metric]:
        """Nothing at registration: describing must not query the database."""
        return ()

    def figures(self) -> FleetFigures | None:
        """The cached figures, refreshed when older than ``cache_s``; None if never read."""
        with self._lock:
            now = self._monotonic()
            if self._figures is None or now - self._read_at >= self._cache_s:
                try:
                    self._figures, self._read_at = self._read(), now
                except Exception:
                    # A scrape must not fail with the database: the last figures stand.
                    log.exception("could not read the devices for /metrics")
            return self._figures

    def collect(self) -> Iterable[Metric]:
        """``wardcast_devices{ward,state}`` and ``wardcast_pending_acknowledgements``."""
        figures = self.figures()
        if figures is None:
            return
        devices = GaugeMetricFamily(
            "wardcast_devices",
            "Devices (not revoked) by ward and state, judged online as the API judges it.",
            labels=("ward", "state"),
        )
        wards = sorted({ward for ward, _ in figures.devices})
        for ward in wards:
            for online, state in ((True, "online"), (False, "offline")):
                devices.add_metric((ward, state), figures.devices[(ward, online)])
        yield devices
        yield GaugeMetricFamily(
            "wardcast_pending_acknowledgements",
            "Events waiting in devices' outboxes for the controller's ack, as last reported.",
            value=figures.pending_events,
        )
