"""Ingest: incoming device traffic, off paho's network thread, stored in batches.

paho delivers every message on its one network thread, and that thread also writes
every outgoing publish. So the bridge's handler does nothing there but hand the
message to this bounded queue; one worker thread takes what has gathered (up to
``max_batch``), verifies and stores it in one transaction, and only after the commit
are acknowledgements published. Outgoing commands therefore never wait behind
incoming evidence, and a thousand confirmations cost a few fsyncs, not a thousand.

Invariants a reader must not break:

- **Acknowledged only after the commit.** The batch callback stores, commits, then
  acks; if the commit fails nothing is acked and the devices resend.
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

from wardcast_protocol.transport import ReceivedMessage

log = logging.getLogger(__name__)

BatchHandler = Callable[[list[ReceivedMessage]], None]


class IngestQueue:
    """A bounded hand-off from the network thread to one storing worker."""

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
        self._busy = False
        self._thread: threading.Thread | None = None
        self._stopping = False
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
        if self._thread is None:
            self._run_batch([message])  # not started: inline, a batch of one
            return True
        with self._ready:
            limit = self.hard_cap if essential else self.max_pending
            if len(self._queue) >= limit:
                self.refused += 1
                return False
            self._queue.append(message)
            self._ready.notify()
        return True

    def start(self) -> None:
        """Start the worker thread."""
        if self._thread is not None:
            return
        self._stopping = False
        self._thread = threading.Thread(target=self._work, name="wardcast-ingest", daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 10.0) -> None:
        """Store what is queued, then stop the worker."""
        thread = self._thread
        if thread is None:
            return
        with self._ready:
            self._stopping = True
            self._ready.notify_all()
        thread.join(timeout_s)
        self._thread = None

    def wait_idle(self, timeout_s: float) -> bool:
        """Block until nothing is queued nor being stored (tests, benches, shutdown)."""
        with self._ready:
            return self._ready.wait_for(lambda: not self._queue and not self._busy, timeout_s)

    def _take(self) -> list[ReceivedMessage]:
        count = min(len(self._queue), self.max_batch)
        return [self._queue.popleft() for _ in range(count)]

    def _work(self) -> None:
        while True:
            with self._ready:
                self._ready.wait_for(lambda: bool(self._queue) or self._stopping)
                if self._stopping and not self._queue:
                    return
                batch = self._take()
                self._busy = True
            try:
                self._run_batch(batch)
            finally:
                with self._ready:
                    self._busy = False
                    self._ready.notify_all()

    def _run_batch(self, batch: list[ReceivedMessage]) -> None:
        self.batches += 1
        self.largest_batch = max(self.largest_batch, len(batch))
        try:
            self._handle_batch(batch)
        except Exception:
            # Nothing of this batch was acknowledged: the devices send it again.
            log.exception("could not store a batch of %d messages; devices will resend", len(batch))
