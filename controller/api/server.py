"""uvicorn in a background thread: for the smoke run, benchmarks and tests."""

from __future__ import annotations

import threading
import time

import uvicorn
from fastapi import FastAPI


class BackgroundServer:
    """Serve an app on host:port from a daemon thread; ``start`` waits until it listens."""

    def __init__(self, app: FastAPI, host: str, port: int) -> None:
        config = uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="on")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name="uvicorn", daemon=True)
        self.base_url = f"http://{host}:{port}"

    def start(self, timeout_s: float = 15.0) -> BackgroundServer:
        """Start serving; raise RuntimeError if it is not up within ``timeout_s``."""
        self.thread.start()
        deadline = time.monotonic() + timeout_s
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError(f"the API server did not start on {self.base_url}")
            time.sleep(0.05)
        return self

    def stop(self) -> None:
        """Ask uvicorn to finish and wait for it."""
        self.server.should_exit = True
        self.thread.join(10)
