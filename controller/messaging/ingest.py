"""Ingest: incoming device traffic, off paho's network thread, stored in batches.

paho delivers every message on its one network thread, and that thread also writes
every outgoing publish. So the bridge's handler does nothing there but hand the
message to this bounded queue; a worker takes what has gathered (up to
``max_batch``), verifies it, stores it in one transaction, and only after the commit
are acknowledgements published. Outgoing commands therefore never wait behind
incoming evidence, and a thousand confirmations cost a few fsyncs, not a thousand.

Two stages, two threads: a batch handler may return the rest of its work (the bridge
verifies signatures, then returns "store and acknowledge"); that rest runs on a second
thread, in batch order, while the first verifies the next batch. Ed25519 checks hold
the GIL, but the store mostly waits on the database (psycopg's socket, sqlite3's
``step`` and fsync, all outside the GIL), so the two overlap: a batch costs about the
larger of the two, not their sum. At most one verified batch waits for the store;
meanwhile new messages gather in the queue and make the next batch bigger.

Invariants a reader must not break:

- **Acknowledged only after the commit.** The batch callback stores, commits, then
  acks; if the commit fails nothing is acked and the devices resend.
- **In order.** Batches are taken, verified and stored in arrival order, one at a
  time per stage: a device's messages are stored in the order they came.
- **Back-pressure loses nothing.** When ``max_pending`` events wait, a new one is
  refused (``submit`` returns False) and not acknowledged: the agent keeps it in its
  outbox and resends it (every ``resend_interval_s``, and on reconnect).
- **A device's present is not refused for events.** Availability and state (the
  retained channels, ``essential``) are still queued when events are refused, up to a
  hard cap: a lost "online" would show a live device offline until it reconnects.
  Every message is still looked at and counted (nothing is silently coalesced).

With ``start`` never called (unit tests on the fake transport), ``submit`` processes
the message at once on the caller's thread: a batch of one, the same code path.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable
from typing import Protocol

from wardcast_protocol.subscriptions import ReceivedMessage

log = logging.getLogger(__name__)

Rest = Callable[[], None]
"""What is left of a batch after its first stage: stored on the second thread."""

BatchHandler = Callable[[list[ReceivedMessage]], Rest | None]
"""Takes a batch; returns the rest of its work (run next, on the storing thread), or None."""


class EventWorkers(Protocol):
    """Where device events go instead of this queue: worker processes (ingest_workers.py)."""

    @property
    def started(self) -> bool:
        """True once events go to them."""

    def start(self) -> None:
        """Start them."""

    def stop(self) -> None:
        """Let them store what they were given, then stop them."""

    def submit(self, message: ReceivedMessage) -> bool:
        """Hand an event on; False when it was refused (too many on their way)."""

    def forget_key(self, device_id: str) -> None:
        """A device's key changed: read it again."""


class IngestQueue:
    """A bounded hand-off from the network thread to a verifying then a storing worker."""

    def __init__(
        self, handle_batch: BatchHandler, *, max_pending: int = 20_000, max_batch: int = 500
    ) -> None:
        self._handle_batch = handle_batch
        self.max_pending = max_pending
        self.max_batch = max_batch
        self._queue: deque[ReceivedMessage] = deque()
        self.hard_cap = 4 * max_pending  # even state is refused beyond this (a flood)
        self._lock = threading.Lock()
        self._ready = threading.Condition(self._lock)
        self._rests: deque[Rest] = deque()  # verified batches waiting for the store
        self._busy = 0  # batches being verified or stored
        self._threads: list[threading.Thread] = []
        self._stopping = False
        self._verifying = False  # the first stage still runs (the store waits for it)
        self.refused = 0  # messages turned away because the queue was full
        self.batches = 0
        self.largest_batch = 0

    @property
    def pending(self) -> int:
        """Messages waiting for the worker."""
        with self._lock:
            return len(self._queue)

    def submit(self, message: ReceivedMessage, *, essential: bool = False) -> bool:
        """Queue ``message``; False when it was refused because the queue is full.

        ``essential`` (a device's availability or state) is refused only at the hard
        cap. Never blocks: it runs on the network thread, which sends every publish.
        """
        if not self._threads:
            self._run_batch([message])  # not started: inline, a batch of one
            return True
        with self._ready:
            limit = self.hard_cap if essential else self.max_pending
            if len(self._queue) >= limit:
                self.refused += 1
                return False
            self._queue.append(message)
            self._ready.notify_all()
        return True

    def start(self) -> None:
        """Start the worker threads (verifying, storing)."""
        if self._threads:
            return
        self._stopping = False
        self._verifying = True
        self._threads = [
            threading.Thread(target=self._verify_work, name="wardcast-ingest", daemon=True),
            threading.Thread(target=self._store_work, name="wardcast-ingest-store", daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    def stop(self, timeout_s: float = 10.0) -> None:
        """Store what is queued, then stop the workers."""
        if not self._threads:
            return
        with self._ready:
            self._stopping = True
            self._ready.notify_all()
        for thread in self._threads:
            thread.join(timeout_s)
        self._threads = []

    def wait_idle(self, timeout_s: float) -> bool:
        """Block until nothing is queued nor being stored (tests, benches, shutdown)."""
        with self._ready:
            return self._ready.wait_for(
                lambda: not self._queue and not self._rests and not self._busy, timeout_s
            )

    def _take(self) -> list[ReceivedMessage]:
        count = min(len(self._queue), self.max_batch)
        return [self._queue.popleft() for _ in range(count)]

    def _verify_work(self) -> None:
        try:
            while True:
                with self._ready:
                    # One verified batch waiting is enough: meanwhile the next one grows.
                    self._ready.wait_for(
                        lambda: (bool(self._queue) and not self._rests) or self._stopping
                    )
                    if self._stopping and not self._queue:
                        return
                    if self._rests:
                        self._ready.wait_for(lambda: not self._rests)
                    batch = self._take()
                    self._busy += 1
                rest = self._first_stage(batch)
                with self._ready:
                    if rest is not None:
                        self._rests.append(rest)
                        self._busy += 1  # counted until stored
                    self._busy -= 1
                    self._ready.notify_all()
        finally:
            with self._ready:
                self._verifying = False
                self._ready.notify_all()

    def _store_work(self) -> None:
        while True:
            with self._ready:
                self._ready.wait_for(lambda: bool(self._rests) or not self._verifying)
                if not self._rests:
                    return  # the first stage has stopped and everything is stored
                rest = self._rests.popleft()
                self._ready.notify_all()  # the first stage may take the next batch
            try:
                self._second_stage(rest)
            finally:
                with self._ready:
                    self._busy -= 1
                    self._ready.notify_all()

    def _run_batch(self, batch: list[ReceivedMessage]) -> None:
        rest = self._first_stage(batch)
        if rest is not None:
            self._second_stage(rest)

    def _first_stage(self, batch: list[ReceivedMessage]) -> Rest | None:
        self.batches += 1
        self.largest_batch = max(self.largest_batch, len(batch))
        try:
            return self._handle_batch(batch)
        except Exception:
            # Nothing of this batch was acknowledged: the devices send it again.
            log.exception("could not store a batch of %d messages; devices will resend", len(batch))
            return None

    def _second_stage(self, rest: Rest) -> None:
        try:
            rest()
        except Exception:
            log.exception("could not store a batch; devices will resend")
