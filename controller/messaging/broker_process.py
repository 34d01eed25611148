"""Process bookkeeping for a broker found again after the controller was killed with -9.

The broker outlives a controller killed with -9, so the next controller must tell
whether the pid in ``mosquitto.pid`` is still *our* broker before it adopts or
signals it: ``pid_alive`` (a zombie counts as dead), ``cmdline`` (read from /proc, so
a recycled pid running something else is never signalled), ``terminate`` (for a
process that is not our child: SIGTERM, then SIGKILL if it lingers) and
``fingerprint`` (of the server certificate, written into the config so a new
certificate means a new broker rather than an adopted one).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import signal
import time
from pathlib import Path


def pid_alive(pid: int) -> bool:
    """True when ``pid`` runs (or is not ours to signal); a zombie counts as dead."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie still answers kill(0); it is dead for our purposes.
    with contextlib.suppress(OSError, IndexError):
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.rsplit(")", 1)[1].split()[0] != "Z"
    return True


def cmdline(pid: int) -> list[str]:
    """The command line of ``pid`` read from /proc, or [] when it cannot be read."""
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return []
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part]


def terminate(pid: int, timeout_s: float) -> None:
    """SIGTERM a process that is not our child, then SIGKILL it if it lingers."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not pid_alive(pid):
            return
        time.sleep(0.02)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


def fingerprint(path: Path) -> str:
    """A short sha256 of the file at ``path`` ("none" when it cannot be read)."""
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    except OSError:
        return "none"
