"""One agent per data folder: an exclusive lock taken before anything in it is opened.

Two agents on one folder both ran: they shared the device key, fought over the broker
session (same client id) and numbered events from the same outbox, forking the
device's evidence chain — after which the controller refused the real play for good.
So an agent takes ``agent.lock`` in its data folder with ``fcntl.flock`` before it
opens its key, outbox or plan, and a second one refuses to start, naming the folder
and the pid that holds it.

``flock`` belongs to the open file: the kernel drops it when the process dies, however
it dies (kill -9, power cut), so a crash never leaves a stale lock behind. The pid
written inside is only for the message.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from types import TracebackType
from typing import IO

LOCK_NAME = "agent.lock"


class DataDirLocked(RuntimeError):
    """Another agent holds this data folder."""

    def __init__(self, data_dir: Path, holder: str) -> None:
        who = f"pid {holder}" if holder else "another process"
        super().__init__(
            f"another agent ({who}) is already running on {data_dir}; stop it first "
            "(two agents on one data folder would fork its evidence chain)"
        )
        self.data_dir = data_dir
        self.holder = holder


class DataDirLock:
    """The exclusive lock on one agent data folder; release it when the agent stops."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.path = data_dir / LOCK_NAME
        self._file: IO[str] | None = None

    @property
    def held(self) -> bool:
        """Whether this object holds the lock now."""
        return self._file is not None

    def acquire(self) -> DataDirLock:
        """Take the lock, or raise :class:`DataDirLocked` at once (never waits)."""
        if self._file is not None:
            return self
        self.data_dir.mkdir(parents=True, exist_ok=True)
        handle = self.path.open("a+", encoding="utf-8")
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            handle.seek(0)
            holder = handle.read().strip()[:20]
            handle.close()
            raise DataDirLocked(self.data_dir, holder) from exc
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        self._file = handle
        return self

    def release(self) -> None:
        """Let the folder go (closing the file drops the lock)."""
        handle, self._file = self._file, None
        if handle is not None:
            handle.close()

    def __enter__(self) -> DataDirLock:
        return self.acquire()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()


def lock_data_dir(data_dir: Path) -> DataDirLock:
    """The data folder's lock, taken: raises :class:`DataDirLocked` if another holds it.

    Keep the returned object for as long as the agent runs: the lock lives as long as
    its open file, and a dropped object closes it.
    """
    return DataDirLock(data_dir).acquire()
