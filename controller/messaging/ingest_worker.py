"""One ingest worker process: the bridge's verify-then-store, for the events it is given.

Started by ``IngestWorkers`` (controller/messaging/ingest_workers.py) with the
controller's database, key and downlink. It runs the very code ``wardcast serve``
runs in-process (``ControllerBridge``'s batch check and store, ``IngestQueue``'s two
stages), on its own connection and its own GIL. Nothing is published from here: the
acks the bridge seals after each commit are recorded and sent back with the batch's
counts and metrics, and the parent publishes them.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, cast

from controller.db.session import Database
from controller.logs import configure_logging
from controller.messaging.bridge import ControllerBridge
from controller.messaging.downlink import Downlink, ProvinceDirectory
from controller.messaging.ingest import IngestQueue, Rest
from controller.messaging.outbound import MqttOutbound
from controller.metrics import registry as metrics
from wardcast_protocol.clock import SystemClock
from wardcast_protocol.signing import SigningKey
from wardcast_protocol.subscriptions import ReceivedMessage
from wardcast_protocol.transport import Transport

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WorkerSpec:
    """What a worker needs to verify, store and acknowledge as this controller does."""

    database_url: str
    key_path: str
    province_downlink: bool = False
    log_level: str = "WARNING"
    log_format: str = "auto"


@dataclass
class Tally:
    """What a worker reports after a batch: acks to publish, counts, metrics."""

    done: int = 0  # messages finished (stored, refused or failed)
    publishes: list[tuple[str, bytes]] = field(default_factory=list)
    stored: int = 0
    refused: int = 0
    rejected: int = 0
    metric_calls: Counter[tuple[str, tuple[Any, ...]]] = field(default_factory=Counter)


_FORWARDED = ("mqtt_received", "evidence_stored", "rejected", "ingest_retried")
"""The bridge's metrics, counted here and added to the parent's registry."""


class _Reporter:
    """Collects what the bridge publishes and counts; sends it to the parent per batch."""

    def __init__(self, outbox: Connection) -> None:
        self._outbox = outbox
        self._lock = threading.Lock()
        self._tally = Tally()
        self.last = (0, 0, 0)  # the bridge's counters when last reported

    # the bits of ``Transport`` the outbound uses to send an ack
    def publish(
        self, topic: str, payload: bytes, *, retain: bool = False, expiry_s: int | None = None
    ) -> None:
        """Record an ack the bridge sends after its commit."""
        with self._lock:
            self._tally.publishes.append((topic, payload))

    def counted(self, name: str) -> Callable[..., None]:
        """A stand-in for a metrics function: the call is forwarded to the parent."""

        def count(*args: Any) -> None:
            with self._lock:
                self._tally.metric_calls[(name, args)] += 1

        return count

    def done(self, count: int, counters: tuple[int, int, int]) -> None:
        """``count`` messages finished: send what they produced."""
        with self._lock:
            tally, self._tally = self._tally, Tally()
            tally.done = count
            tally.stored = counters[0] - self.last[0]
            tally.refused = counters[1] - self.last[1]
            tally.rejected = counters[2] - self.last[2]
            self.last = counters
            self._outbox.send(tally)


def run(spec: WorkerSpec, inbox: Connection, outbox: Connection, max_batch: int) -> None:
    """The worker's life: take lists of messages until ``None``, store them, report."""
    configure_logging(spec.log_level, spec.log_format)
    reporter = _Reporter(outbox)
    for name in _FORWARDED:
        setattr(metrics, name, reporter.counted(name))
    db = Database(spec.database_url)
    clock = SystemClock()
    key = SigningKey.load_or_create(Path(spec.key_path))
    transport = cast(Transport, reporter)
    downlink = Downlink(ProvinceDirectory(db) if spec.province_downlink else None)
    outbound = MqttOutbound(transport, key, clock, downlink=downlink)
    # Events only: no state or availability reaches here, so no hook is given.
    bridge = ControllerBridge(transport, db, outbound, clock)

    def counters() -> tuple[int, int, int]:
        return bridge.stored_events, bridge.refused_events, bridge.rejected

    def check(batch: list[ReceivedMessage]) -> Rest | None:
        try:
            rest = bridge._check_batch(batch)  # the bridge's own first stage
        except BaseException:
            reporter.done(len(batch), counters())  # not stored, not acked: resent
            raise

        def store() -> None:
            try:
                rest()
            finally:
                reporter.done(len(batch), counters())

        return store

    queue = IngestQueue(check, max_pending=1_000_000, max_batch=max_batch)
    queue.start()
    try:
        while True:
            try:
                part = inbox.recv()
            except EOFError:
                break  # the parent is gone
            if part is None:
                break
            for item in part:
                if isinstance(item, str):
                    bridge.forget_key(item)  # re-registered: read its key again
                else:
                    queue.submit(ReceivedMessage(*item))
    finally:
        queue.stop(timeout_s=60)
        outbox.close()
        db.dispose()
