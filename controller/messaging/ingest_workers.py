"""Ingest workers: device events verified and stored by processes, each device by one.

One process has one GIL: paho's receive, the Ed25519 checks (``cryptography`` holds
the GIL while it verifies) and the store's own CPU all take turns on it, so one
controller ingests about as fast on PostgreSQL as on SQLite (docs/scale.md). A
PostgreSQL store takes several writers at once; SQLite has one. So on PostgreSQL
``wardcast serve`` hands device events to ``WARDCAST_INGEST_WORKERS`` processes
(``controller.settings``; default 2 on PostgreSQL, none on SQLite), each running the
bridge's own two-stage ingest (``IngestQueue``: verify a batch while the last one is
stored) on its own connection. This process keeps paho's network thread, hands each
event on, and publishes the acknowledgements the workers sealed.

Invariants a reader must not break:

- **A device's events go to one worker** (its id hashed), in the order they came:
  two workers never lock one device's chain row, so none waits for another or sees
  the other's events as gaps (replicas, which the broker feeds at random, can).
- **Acknowledged only after the commit**: a worker seals a device's ack after its
  batch committed, and this process publishes it. A worker that dies takes its
  unstored events with it, unacknowledged: the devices resend them (their outbox,
  ``resend_interval_s``); it is started again.
- **Back-pressure loses nothing**: past ``max_pending`` events on their way, an event
  is refused (not acknowledged) and its device resends it.
- Everything else (availability, state, security reports) stays on this process's
  ingest queue, beside the hooks it drives.
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import threading
import zlib
from collections import deque
from collections.abc import Callable
from multiprocessing.connection import Connection, wait
from typing import TYPE_CHECKING, Any

from controller.messaging.ingest_worker import Tally, WorkerSpec, run
from controller.metrics import registry as metrics
from wardcast_protocol.subscriptions import ReceivedMessage
from wardcast_protocol.topics import DeviceChannel, parse

if TYPE_CHECKING:
    from controller.messaging.bridge import ControllerBridge
    from controller.settings import Settings
    from wardcast_protocol.transport import Transport

log = logging.getLogger(__name__)

Wire = tuple[str, bytes, bool]
"""A received message as sent to a worker: topic, payload, retained."""

Item = Wire | str
"""What a worker is sent: a message, or (a device id) a key to forget."""


def worker_of(device_id: str, workers: int) -> int:
    """The worker a device's events always go to (stable across processes and runs)."""
    return zlib.crc32(device_id.encode("utf-8")) % workers


class IngestWorkers:
    """Device events to worker processes, each device to one; their acks published here."""

    def __init__(
        self,
        spec: WorkerSpec,
        count: int,
        publish: Callable[[str, bytes], None],
        on_tally: Callable[[Tally], None],
        *,
        max_pending: int = 20_000,
        max_batch: int = 500,
    ) -> None:
        self._spec, self.count = spec, count
        self._publish, self._on_tally = publish, on_tally
        self.max_pending, self.max_batch = max_pending, max_batch
        self._ctx = mp.get_context("spawn")  # this process runs threads: never fork it
        self._lock = threading.Condition()
        self._queues: list[deque[Item]] = [deque() for _ in range(count)]
        self._pending = [0] * count  # events handed to a worker and not yet finished
        self._inboxes: list[Connection | None] = [None] * count
        self._outboxes: list[Connection | None] = [None] * count
        self._procs: list[Any] = [None] * count
        self._threads: list[threading.Thread] = []
        self._stopping = False
        self.refused = 0
        self.restarts = 0
        self.batches = 0  # batches the workers stored (or failed), as the ingest queue counts
        self.largest_batch = 0

    def submit(self, message: ReceivedMessage) -> bool:
        """Hand an event to its device's worker; False when too many are on their way.

        Runs on paho's network thread: never blocks, never pickles (the sender does).
        """
        parsed = parse(message.topic)
        index = worker_of(parsed.device_id if parsed is not None else "", self.count)
        with self._lock:
            if sum(self._pending) >= self.max_pending:
                self.refused += 1
                return False
            self._queues[index].append((message.topic, message.payload, message.retained))
            self._pending[index] += 1
            self._lock.notify_all()
        return True

    def forget_key(self, device_id: str) -> None:
        """A device's key changed (re-registered): its worker reads it again."""
        with self._lock:
            self._queues[worker_of(device_id, self.count)].append(device_id)
            self._lock.notify_all()

    @property
    def started(self) -> bool:
        """True once the workers run (events then go to them)."""
        return bool(self._threads)

    @property
    def pending(self) -> int:
        """Events handed on and not yet stored (or failed)."""
        with self._lock:
            return sum(self._pending)

    def start(self) -> None:
        """Start the worker processes, and the threads sending to and reading from them."""
        for index in range(self.count):
            self._spawn(index)
        self._threads = [
            threading.Thread(target=self._send_work, name="wardcast-ingest-send", daemon=True),
            threading.Thread(target=self._read_work, name="wardcast-ingest-acks", daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    def _spawn(self, index: int) -> None:
        inbox_read, inbox_write = self._ctx.Pipe(duplex=False)
        outbox_read, outbox_write = self._ctx.Pipe(duplex=False)
        proc = self._ctx.Process(
            target=run,
            args=(self._spec, inbox_read, outbox_write, self.max_batch),
            name=f"wardcast-ingest-{index}",
            daemon=True,
        )
        proc.start()
        inbox_read.close()
        outbox_write.close()
        self._inboxes[index], self._outboxes[index], self._procs[index] = (
            inbox_write,
            outbox_read,
            proc,
        )

    def stop(self, timeout_s: float = 30.0) -> None:
        """Let the workers store what they were given, then stop them."""
        if not self._threads:
            return
        with self._lock:
            self._stopping = True
            self._lock.notify_all()
        for thread in self._threads:
            thread.join(timeout_s)
        for proc in self._procs:
            if proc is not None:
                proc.join(timeout_s)
                if proc.is_alive():
                    proc.kill()
        self._threads = []

    def wait_idle(self, timeout_s: float) -> bool:
        """Until every event handed on is finished (tests, benches)."""
        with self._lock:
            return self._lock.wait_for(lambda: not any(self._pending), timeout_s)

    def _send_work(self) -> None:
        """Send each worker what gathered for it, as lists (one pickle, one write each)."""
        while True:
            with self._lock:
                self._lock.wait_for(lambda: any(self._queues) or self._stopping)
                parts = [
                    [q.popleft() for _ in range(min(len(q), self.max_batch))] for q in self._queues
                ]
                sent = [sum(1 for i in part if not isinstance(i, str)) for part in parts]
                stopping = self._stopping and not any(self._queues)
            for index, part in enumerate(parts):
                inbox = self._inboxes[index]
                if part and inbox is not None:
                    try:
                        inbox.send(part)
                    except OSError:
                        self._lost(index, sent[index])  # it died: its devices resend
            if stopping:
                for inbox in self._inboxes:
                    if inbox is not None:
                        inbox.send(None)  # store what you have, then exit
                return

    def _read_work(self) -> None:
        """Publish the acks the workers sealed; start again a worker that died."""
        while True:
            live = [c for c in self._outboxes if c is not None]
            if not live:
                return
            for connection in wait(live):
                assert isinstance(connection, Connection)
                index = self._outboxes.index(connection)
                try:
                    tally: Tally = connection.recv()
                except (EOFError, OSError):
                    self._ended(index)
                    continue
                for topic, payload in tally.publishes:
                    self._publish(topic, payload)
                    metrics.mqtt_sent(DeviceChannel.ACK)
                self._on_tally(tally)
                for (name, args), times in tally.metric_calls.items():
                    for _ in range(times):
                        getattr(metrics, name)(*args)
                with self._lock:
                    self.batches += 1
                    self.largest_batch = max(self.largest_batch, tally.done)
                    self._pending[index] -= tally.done
                    self._lock.notify_all()

    def _ended(self, index: int) -> None:
        """A worker's pipe closed: it stopped when asked, or died (then replaced)."""
        outbox = self._outboxes[index]
        if outbox is not None:
            outbox.close()
        self._outboxes[index] = None
        with self._lock:
            stopping = self._stopping
            lost, self._pending[index] = self._pending[index], 0
            self._lock.notify_all()
        if stopping and not lost:
            return
        log.error(
            "ingest worker %d ended with %d events not stored; their devices will resend them",
            index,
            lost,
        )
        if not stopping:
            self.restarts += 1
            self._spawn(index)

    def _lost(self, index: int, count: int) -> None:
        with self._lock:
            self._pending[index] = max(0, self._pending[index] - count)
            self._lock.notify_all()


def ingest_workers_for(
    settings: Settings, transport: Transport, bridge: ControllerBridge
) -> IngestWorkers | None:
    """The workers ``settings`` ask for (none on SQLite), counting into ``bridge``."""
    count = settings.resolved_ingest_workers
    if count == 0:
        return None
    spec = WorkerSpec(
        settings.resolved_database_url,
        str(settings.resolved_controller_key_path),
        settings.province_downlink,
        logging.getLevelName(logging.getLogger().getEffectiveLevel()),  # as this process logs
        settings.log_format,
    )

    def publish(topic: str, payload: bytes) -> None:
        transport.publish(topic, payload)

    def count_in(tally: Tally) -> None:
        bridge.stored_events += tally.stored
        bridge.refused_events += tally.refused
        bridge.rejected += tally.rejected

    return IngestWorkers(spec, count, publish, count_in)
