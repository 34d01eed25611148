"""systemd's service protocol: readiness and the watchdog, over ``$NOTIFY_SOCKET``.

The unit (deploy/systemd/wardcast-agent.service) is ``Type=notify`` with
``WatchdogSec=``: systemd waits for ``READY=1`` before it calls the agent started, and
restarts it when no ``WATCHDOG=1`` came for that long (an event loop that hangs stops
kicking; the agent's housekeeping loop kicks, see ``EdgeAgent``). This is
``sd_notify(3)`` in a dozen lines of the standard library: no libsystemd binding.
"""

from __future__ import annotations

import logging
import os
import socket

log = logging.getLogger(__name__)


def notify(message: str, *, environ: dict[str, str] | None = None) -> bool:
    """Send ``message`` (e.g. "READY=1") to systemd; False when not run by systemd."""
    env = os.environ if environ is None else environ
    address = env.get("NOTIFY_SOCKET", "")
    if not address or address[0] not in "/@":
        return False
    # A leading "@" names a socket in the abstract namespace.
    target = "\0" + address[1:] if address[0] == "@" else address
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
            sock.sendto(message.encode("utf-8"), target)
    except OSError:
        return False
    return True


class SystemdWatchdog:
    """A ``Watchdog`` that is systemd's: each kick sends ``WATCHDOG=1``.

    ``timeout_s`` is the unit's ``WatchdogSec`` (``$WATCHDOG_USEC``); the agent kicks
    at a third of it.
    """

    def __init__(self, timeout_s: float, environ: dict[str, str] | None = None) -> None:
        if timeout_s <= 0:
            raise ValueError(f"watchdog timeout must be > 0, got {timeout_s}")
        self._timeout_s = timeout_s
        self._environ = environ
        self.kicks = 0
        self.failures = 0

    @classmethod
    def from_environment(cls, environ: dict[str, str] | None = None) -> SystemdWatchdog | None:
        """The watchdog systemd set up for this process, or None (not under a unit
        with ``WatchdogSec``, or the variables are meant for another process)."""
        env = dict(os.environ if environ is None else environ)
        usec, pid = env.get("WATCHDOG_USEC", ""), env.get("WATCHDOG_PID", "")
        if not usec.isdigit() or int(usec) == 0 or not env.get("NOTIFY_SOCKET"):
            return None
        if pid and pid != str(os.getpid()):  # inherited by a child: not ours to kick
            return None
        return cls(int(usec) / 1_000_000, env)

    @property
    def timeout_s(self) -> float:
        """systemd's ``WatchdogSec``, in seconds."""
        return self._timeout_s

    def kick(self) -> None:
        """Tell systemd the agent is alive.

        Never raises: the kick runs in the agent's housekeeping loop, which must go on
        resending evidence whatever happens to systemd's socket (systemd will restart
        the agent if the kicks really stop arriving).
        """
        if notify("WATCHDOG=1", environ=self._environ):
            self.kicks += 1
            self.failures = 0
            return
        self.failures += 1
        if self.failures == 1:
            log.warning("systemd's notify socket did not take WATCHDOG=1")
