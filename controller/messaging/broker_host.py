"""The host around the embedded Mosquitto: its binary, its port, and its files' owner.

What ``EmbeddedBroker`` (``broker``) needs from the machine before a broker can run:
the ``mosquitto`` binary (``find_mosquitto``), a port that stays the same across
restarts so agents outside the process reconnect to the same address (``stable_port``,
``free_port``, ``port_is_free``), and files the broker can reach once, started as
root, it drops to user "mosquitto" (``hand_to_broker``, ``let_broker_reach``). Only
the search bit is ever added to a directory above the broker's files: nothing becomes
listable or readable.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import socket
from pathlib import Path

log = logging.getLogger(__name__)

_SEARCH = ("/usr/sbin/mosquitto", "/usr/bin/mosquitto", "/usr/local/sbin/mosquitto")
DEFAULT_TLS_PORT = 8883
BROKER_USER = "mosquitto"


class BrokerUnavailable(RuntimeError):
    """Mosquitto is not installed or would not start."""


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that is free on ``host`` right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    """True when nothing listens on ``host:port`` and we could bind it."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # As mosquitto binds: connections of a broker just stopped (TIME_WAIT) do not
        # make the port look taken; a live listener still does.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def find_mosquitto() -> str:
    """Path of the mosquitto binary, or raise ``BrokerUnavailable`` saying how to get it."""
    found = shutil.which("mosquitto")
    if found:
        return found
    for candidate in _SEARCH:
        if os.access(candidate, os.X_OK):
            return candidate
    raise BrokerUnavailable("mosquitto is not installed: run `make install` (apt: mosquitto)")


def hand_to_broker(path: Path, mode: int = 0o600) -> None:
    """Make ``path`` readable by the broker only (and us).

    Started as root, mosquitto drops to user "mosquitto": what it reads (and, for a
    directory, writes) must belong to that user. Otherwise it runs as us.
    """
    os.chmod(path, mode)
    if os.geteuid() == 0:
        with contextlib.suppress(LookupError, OSError):
            shutil.chown(path, user=BROKER_USER)


def let_broker_reach(path: Path) -> None:
    """Let the broker's user walk down to ``path``: run as root, mosquitto drops to user
    "mosquitto" before it opens its password, ACL and persistence files, so every
    directory above them needs the search (x) bit for others. Only that bit is added
    (nothing becomes listable or readable), and only where it is missing."""
    if os.geteuid() != 0:
        return
    for parent in reversed(path.resolve().parents):
        mode = parent.stat().st_mode
        if not mode & 0o001:
            log.warning(
                "adding o+x to %s so the broker (user mosquitto) can reach its files", parent
            )
            os.chmod(parent, mode | 0o001)


def stable_port(state_dir: Path, configured: int | None, host: str = "127.0.0.1") -> int:
    """The broker's port: the configured one, else the one remembered in ``state_dir``,
    else 8883 when free (or any free port), remembered from then on.

    A stable port lets agents outside the process reconnect to the same address after
    the controller (or the broker) restarts.
    """
    if configured is not None:
        return configured
    remembered = state_dir / "port"
    with contextlib.suppress(OSError, ValueError):
        return int(remembered.read_text(encoding="ascii").strip())
    port = DEFAULT_TLS_PORT if port_is_free(DEFAULT_TLS_PORT, host) else free_port(host)
    state_dir.mkdir(parents=True, exist_ok=True)
    remembered.write_text(f"{port}\n", encoding="ascii")
    return port
