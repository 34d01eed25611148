"""A throwaway PostgreSQL cluster on loopback, for integration tests and benchmarks.

Debian's PostgreSQL refuses to run as root, so when we are root the cluster is
created and started as the ``postgres`` user (``runuser``); its directories must be
reachable by that user.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from types import TracebackType

from controller.messaging.broker_host import free_port


class PostgresUnavailable(RuntimeError):
    """PostgreSQL's server binaries are not installed, or the cluster would not start."""


def _bin_dir() -> Path:
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True)
    if not candidates:
        raise PostgresUnavailable("PostgreSQL server is not installed (apt: postgresql)")
    return Path(candidates[0]).parent


class LocalPostgres:
    """initdb + pg_ctl start on a free port; ``url`` is ready for SQLAlchemy (psycopg 3)."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.root = Path(tempfile.mkdtemp(prefix="wardcast-pg-"))
        self._bin = _bin_dir()
        self._as_root = os.geteuid() == 0

    def _run(self, *args: str) -> None:
        cmd = list(args)
        if self._as_root:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            raise PostgresUnavailable(f"{args[0]} failed: {done.stderr[-1500:]}")

    def start(self) -> LocalPostgres:
        """Create the cluster and start it; returns self."""
        data, sock, logs = self.root / "data", self.root / "sock", self.root / "logs"
        for path in (data, sock, logs):
            path.mkdir()
        os.chmod(self.root, 0o755)
        if self._as_root:
            for path in (data, sock, logs):
                shutil.chown(path, user="postgres", group="postgres")
        self._run(
            str(self._bin / "initdb"), "-D", str(data), "-U", "postgres",
            "--auth=trust", "-E", "UTF8", "--no-locale",
        )  # fmt: skip
        options = (
            f"-c listen_addresses=127.0.0.1 -p {self.port} -k {sock} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        self._run(
            str(self._bin / "pg_ctl"), "-D", str(data), "-l", str(logs / "server.log"),
            "-o", options, "-w", "start",
        )  # fmt: skip
        return self

    def create_database(self, name: str) -> str:
        """Create a database and return its SQLAlchemy URL."""
        self._run(
            str(self._bin.parent / "bin" / "createdb"), "-h", "127.0.0.1",
            "-p", str(self.port), "-U", "postgres", name,
        )  # fmt: skip
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{name}"

    def restart(self) -> None:
        """Stop and start the server on the same files (its buffer cache starts empty)."""
        self._run(
            str(self._bin / "pg_ctl"), "-D", str(self.root / "data"),
            "-l", str(self.root / "logs" / "server.log"), "-m", "fast", "-w", "restart",
        )  # fmt: skip

    def stop(self) -> None:
        """Stop the server and remove its files."""
        data = self.root / "data"
        if (data / "postmaster.pid").exists():
            with contextlib.suppress(PostgresUnavailable):
                self._run(str(self._bin / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop")
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> LocalPostgres:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
