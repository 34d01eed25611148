"""An embedded Mosquitto broker for the default, laptop-sized set-up.

When no broker URL is configured the controller starts Debian's ``mosquitto`` on a
free loopback port and stops it on exit. The same class starts the real broker for
the integration tests, so tests and the demo share one tested code path.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType

log = logging.getLogger(__name__)

_SEARCH = ("/usr/sbin/mosquitto", "/usr/bin/mosquitto", "/usr/local/sbin/mosquitto")


class BrokerUnavailable(RuntimeError):
    """Mosquitto is not installed or would not start."""


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that is free on ``host`` right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def find_mosquitto() -> str:
    """Path of the mosquitto binary, or raise ``BrokerUnavailable`` saying how to get it."""
    found = shutil.which("mosquitto")
    if found:
        return found
    for candidate in _SEARCH:
        if os.access(candidate, os.X_OK):
            return candidate
    raise BrokerUnavailable("mosquitto is not installed: run `make install` (apt: mosquitto)")


class EmbeddedBroker:
    """A mosquitto process on loopback; use as a context manager or start()/stop().

    ``persistence`` keeps sessions and retained messages across a broker restart
    (in ``state_dir``), which the restart tests need.
    """

    def __init__(
        self,
        port: int | None = None,
        *,
        host: str = "127.0.0.1",
        state_dir: Path | None = None,
        persistence: bool = False,
    ) -> None:
        self.host = host
        self.port = port or free_port(host)
        self._own_dir = state_dir is None
        self.state_dir = state_dir or Path(tempfile.mkdtemp(prefix="wardcast-broker-"))
        self.persistence = persistence
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """The broker URL for clients."""
        return f"mqtt://{self.host}:{self.port}"

    def _write_config(self) -> Path:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        # Started as root, mosquitto drops to user "mosquitto": its files must be
        # readable (and the persistence dir writable) by that user.
        os.chmod(self.state_dir, 0o755)
        if os.geteuid() == 0:
            with contextlib.suppress(LookupError, OSError):
                shutil.chown(self.state_dir, user="mosquitto")
        conf = self.state_dir / "mosquitto.conf"
        lines = [
            f"listener {self.port} {self.host}",
            "allow_anonymous true",
            f"persistence {'true' if self.persistence else 'false'}",
            "log_dest stderr",
            "log_type error",
            "log_type warning",
            "max_queued_messages 100000",
            "set_tcp_nodelay true",
        ]
        if self.persistence:
            lines += [f"persistence_location {self.state_dir}/", "autosave_interval 1"]
        conf.write_text("\n".join(lines) + "\n", encoding="utf-8")
        os.chmod(conf, 0o644)
        return conf

    def start(self, timeout_s: float = 10.0) -> EmbeddedBroker:
        """Start mosquitto and wait until it accepts connections."""
        conf = self._write_config()
        log_path = self.state_dir / "mosquitto.log"
        with open(log_path, "ab") as log_file:
            self._proc = subprocess.Popen(
                [find_mosquitto(), "-c", str(conf)],
                stdout=log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                text = log_path.read_text(errors="replace")[-2000:]
                raise BrokerUnavailable(f"mosquitto exited at start: {text}")
            with (
                contextlib.suppress(OSError),
                socket.create_connection((self.host, self.port), 0.2),
            ):
                log.info("embedded mosquitto listening on %s", self.url)
                return self
            time.sleep(0.02)
        self.stop()
        raise BrokerUnavailable(f"mosquitto did not listen on {self.url} within {timeout_s}s")

    def stop(self) -> None:
        """Stop mosquitto (SIGTERM, then SIGKILL if it lingers)."""
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)

    def cleanup(self) -> None:
        """Stop, and remove the state directory if this object created it."""
        self.stop()
        if self._own_dir:
            shutil.rmtree(self.state_dir, ignore_errors=True)

    @property
    def running(self) -> bool:
        """True while the process is alive."""
        return self._proc is not None and self._proc.poll() is None

    def __enter__(self) -> EmbeddedBroker:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.cleanup()
