"""``wardcast serve``: the controller as a long-running process that stops cleanly.

SIGTERM (systemd, docker stop) and Ctrl-C end it with status 0 after a graceful
stop: HTTP requests finish, the MQTT link says goodbye, the embedded broker is
stopped, the database is closed. The runtime is started and stopped here, around
uvicorn, so even a failure to open the HTTP port (or a signal during start-up)
never leaves a broker behind. Only a kill -9 does, and the next start adopts it.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
from collections.abc import Iterator
from types import FrameType

import uvicorn

from controller.api.app import create_app
from controller.composition import ControllerRuntime
from controller.heap import freeze_start_up_heap
from controller.settings import Settings

log = logging.getLogger(__name__)

_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class _CleanExitServer(uvicorn.Server):
    """uvicorn's server, except that a stop signal ends it normally.

    uvicorn re-raises the signal after its graceful shutdown, so the process dies of
    it (status -15) and whatever the caller meant to do afterwards never runs.
    """

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        """Handle SIGINT/SIGTERM as a request to shut down; restore handlers after."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        previous = {sig: signal.signal(sig, self.handle_exit) for sig in _STOP_SIGNALS}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


def serve(settings: Settings, log_level: str) -> int:
    """Start the runtime, serve HTTP until a stop signal, stop everything; exit status."""
    stopping = threading.Event()

    def early_stop(sig: int, frame: FrameType | None) -> None:
        log.warning("signal %d during start-up: stopping once started", sig)
        stopping.set()

    previous = {sig: signal.signal(sig, early_stop) for sig in _STOP_SIGNALS}
    runtime = ControllerRuntime(settings)
    try:
        runtime.start()
        freeze_start_up_heap()  # full collections no longer stall a "now" (controller/heap.py)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if stopping.is_set():
            return 0
        server = _CleanExitServer(
            uvicorn.Config(
                create_app(runtime=runtime),
                host=settings.http_host,
                port=settings.http_port,
                log_level=log_level.lower(),
                # Ours, not uvicorn's: its records go through controller.logs (JSON or text).
                log_config=None,
            )
        )
        server.run()
        return 0 if server.started else 1
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        # Ignore further signals while stopping: a second SIGTERM must not cut the
        # broker's stop in half.
        for sig in _STOP_SIGNALS:
            signal.signal(sig, signal.SIG_IGN)
        try:
            runtime.stop()
        finally:
            for sig in _STOP_SIGNALS:
                signal.signal(sig, signal.SIG_DFL)
        log.info("controller stopped")
