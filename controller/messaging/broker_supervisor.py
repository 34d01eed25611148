"""Keeps the embedded broker alive: adopt or start it, watch it, bring it back.

``start`` reuses a healthy broker this controller left running (a kill -9 leaves it
serving the agents), or replaces it cleanly; then a watchdog thread checks it every
``interval_s``. A broker that died (or stopped accepting connections for a few checks
in a row) is started again on the same port over the same persistence files, with
backoff (1 s doubling to 30 s) while it keeps failing, so agents reconnect to the
address they know and find their sessions and retained plans where they left them.
"""

from __future__ import annotations

import logging
import threading
import time

from controller.messaging.broker import EmbeddedBroker
from controller.messaging.broker_host import BrokerUnavailable

log = logging.getLogger(__name__)

UNRESPONSIVE_CHECKS = 5  # a live process refusing connections this many checks in a row
MAX_BACKOFF_S = 30.0


class BrokerSupervisor:
    """Owns the embedded broker's lifetime for the controller."""

    def __init__(self, broker: EmbeddedBroker, *, interval_s: float = 1.0) -> None:
        self.broker = broker
        self.interval_s = interval_s
        self.restarts = 0
        self.adopted = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def start(self) -> None:
        """Adopt or start the broker, then watch it from a daemon thread."""
        with self._lock:
            self.adopted = self.broker.adopt_or_start()
        self._stop.clear()
        self._thread = threading.Thread(target=self._watch, name="broker-watchdog", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop watching, then stop the broker (a clean stop leaves no broker behind)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)
            self._thread = None
        with self._lock:
            self.broker.stop()

    def reload(self) -> bool:
        """Make the broker re-read its password and ACL files (see ``EmbeddedBroker``)."""
        with self._lock:
            return self.broker.reload()

    @property
    def running(self) -> bool:
        """Whether the broker process is alive now."""
        return self.broker.running

    def _watch(self) -> None:
        unresponsive = 0
        backoff = 1.0
        while not self._stop.wait(self.interval_s):
            if self.broker.running:
                unresponsive = 0 if self.broker.accepts_connections(1.0) else unresponsive + 1
                if unresponsive < UNRESPONSIVE_CHECKS:
                    backoff = 1.0
                    continue
                log.error("embedded broker is alive but refuses connections; restarting it")
            else:
                log.error("embedded broker (port %d) is gone; starting it again", self.broker.port)
            if self._restart():
                unresponsive = 0
                backoff = 1.0
            else:
                # Wait out the backoff, but wake at once if the controller is stopping.
                if self._stop.wait(backoff):
                    return
                backoff = min(backoff * 2, MAX_BACKOFF_S)

    def _restart(self) -> bool:
        with self._lock:
            if self._stop.is_set():
                return False
            started = time.monotonic()
            try:
                self.broker.stop()
                self.broker.start()
            except (BrokerUnavailable, OSError) as exc:
                log.error("could not restart the embedded broker: %s", exc)
                return False
            self.restarts += 1
            log.warning(
                "embedded broker restarted in %.2f s (restart %d)",
                time.monotonic() - started,
                self.restarts,
            )
            return True
