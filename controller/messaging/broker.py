"""An embedded Mosquitto broker: one process the controller starts, finds again, and stops.

When no broker URL is configured the controller runs Debian's ``mosquitto`` itself.
Two configurations share this class:

- **closed** (``security`` given; what the controller runs): TLS on the listener with
  the controller's CA, anonymous clients refused, a password file and an ACL file the
  controller regenerates from its database and makes the broker re-read (SIGHUP);
- **plain** (no ``security``): anonymous, no TLS, on loopback; for integration tests
  whose subject is something else, and benchmarks.

The broker outlives a controller killed with -9 (it runs in its own session), so a
restarted controller must find it again rather than start a second one over the
same persistence files: ``start`` writes ``mosquitto.pid`` beside the config, and
``adopt_or_start`` reuses a live broker of ours whose config is unchanged, or stops
it and starts afresh. "Ours" means: the pid in our pid file runs mosquitto with our
config file (read from /proc), so a recycled pid is never signalled.

What the host must provide (the binary, a stable port, files the broker's user can
reach) is in ``broker_host``; telling a pid left in the pid file from a recycled one,
and stopping a broker that is not our child, in ``broker_process``.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from controller.messaging.broker_host import (
    BrokerUnavailable,
    find_mosquitto,
    free_port,
    hand_to_broker,
    let_broker_reach,
    port_is_free,
)
from controller.messaging.broker_process import cmdline, fingerprint, pid_alive, terminate
from controller.messaging.broker_tls import BrokerTls

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class BrokerSecurity:
    """The closed configuration: who may log in, what each may do, and the TLS files."""

    password_file: Path
    acl_file: Path
    tls: BrokerTls


class EmbeddedBroker:
    """A mosquitto process; use as a context manager or start()/stop().

    ``persistence`` keeps sessions and retained messages across a broker restart
    (in ``state_dir``), which the restart tests and the controller need.
    """

    def __init__(
        self,
        port: int | None = None,
        *,
        host: str = "127.0.0.1",
        state_dir: Path | None = None,
        persistence: bool = False,
        security: BrokerSecurity | None = None,
    ) -> None:
        self.host = host
        self.port = port or free_port(host)
        self._own_dir = state_dir is None
        self.state_dir = state_dir or Path(tempfile.mkdtemp(prefix="wardcast-broker-"))
        self.persistence = persistence
        self.security = security
        self._proc: subprocess.Popen[bytes] | None = None
        self._adopted: int | None = None

    @property
    def url(self) -> str:
        """The broker URL for clients on this host."""
        connect = "127.0.0.1" if self.host in ("0.0.0.0", "") else self.host
        connect = "::1" if connect == "::" else connect
        return f"{'mqtts' if self.security else 'mqtt'}://{connect}:{self.port}"

    @property
    def conf_path(self) -> Path:
        """The config file mosquitto runs with (its path identifies our broker)."""
        return self.state_dir / "mosquitto.conf"

    @property
    def pid_file(self) -> Path:
        """Where the running broker's pid is kept, for the next controller to find."""
        return self.state_dir / "mosquitto.pid"

    @property
    def log_path(self) -> Path:
        """mosquitto's own log."""
        return self.state_dir / "mosquitto.log"

    @property
    def pid(self) -> int | None:
        """The broker's pid while it runs (started or adopted), else None."""
        if self._proc is not None:
            return self._proc.pid if self._proc.poll() is None else None
        if self._adopted is not None and pid_alive(self._adopted):
            return self._adopted
        return None

    def config_text(self) -> str:
        """The config this broker runs with (compared to decide whether to reuse one)."""
        lines = [f"listener {self.port} {self.host}"]
        if self.security is None:
            lines += ["allow_anonymous true"]
        else:
            tls, sec = self.security.tls, self.security
            lines += [
                "allow_anonymous false",
                f"password_file {sec.password_file}",
                f"acl_file {sec.acl_file}",
                f"cafile {tls.ca_cert}",
                f"certfile {tls.server_cert}",
                f"keyfile {tls.server_key}",
                "tls_version tlsv1.2",
                # The certificate is read only at start: a new one means a new broker.
                f"# server certificate {fingerprint(tls.server_cert)}",
            ]
        lines += [
            f"persistence {'true' if self.persistence else 'false'}",
            "log_dest stderr",
            "log_type error",
            "log_type warning",
            "log_type notice",
            "max_queued_messages 100000",
            "set_tcp_nodelay true",
        ]
        if self.persistence:
            lines += [f"persistence_location {self.state_dir}/", "autosave_interval 1"]
        return "\n".join(lines) + "\n"

    def _prepare(self) -> Path:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        let_broker_reach(self.state_dir)
        hand_to_broker(self.state_dir, 0o755)
        if self.security is not None:
            let_broker_reach(self.security.tls.directory)
            for path in (self.security.password_file, self.security.acl_file):
                if not path.exists():
                    path.write_text("", encoding="utf-8")
                hand_to_broker(path)
            hand_to_broker(self.security.tls.server_key)
        self.conf_path.write_text(self.config_text(), encoding="utf-8")
        os.chmod(self.conf_path, 0o644)
        return self.conf_path

    def start(self, timeout_s: float = 10.0) -> EmbeddedBroker:
        """Start mosquitto and wait until it accepts connections."""
        conf = self._prepare()
        with open(self.log_path, "ab") as log_file:
            self._proc = subprocess.Popen(
                [find_mosquitto(), "-c", str(conf)],
                stdout=log_file,
                stderr=subprocess.STDOUT,
                # Its own session: a Ctrl-C meant for the controller does not reach it,
                # and it survives a controller killed with -9 (to be adopted later).
                start_new_session=True,
            )
        self._adopted = None
        self.pid_file.write_text(f"{self._proc.pid}\n", encoding="ascii")
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                text = self.log_path.read_text(errors="replace")[-2000:]
                self.pid_file.unlink(missing_ok=True)
                raise BrokerUnavailable(f"mosquitto exited at start: {text}")
            if self.accepts_connections(0.2):
                log.info("embedded mosquitto listening on %s (pid %d)", self.url, self._proc.pid)
                return self
            time.sleep(0.02)
        self.stop()
        raise BrokerUnavailable(f"mosquitto did not listen on {self.url} within {timeout_s}s")

    def accepts_connections(self, timeout_s: float = 1.0) -> bool:
        """True when a TCP connection to the listener succeeds now."""
        host = "127.0.0.1" if self.host in ("0.0.0.0", "") else self.host
        try:
            with socket.create_connection((host, self.port), timeout_s):
                return True
        except OSError:
            return False

    def previous_pid(self) -> int | None:
        """The pid of a broker of ours still running from an earlier start, if any."""
        try:
            pid = int(self.pid_file.read_text(encoding="ascii").strip())
        except (OSError, ValueError):
            return None
        if not pid_alive(pid):
            return None
        argv = cmdline(pid)
        ours = bool(argv) and Path(argv[0]).name == "mosquitto" and str(self.conf_path) in argv
        return pid if ours else None

    def adopt_or_start(self, timeout_s: float = 10.0) -> bool:
        """Reuse our broker from an earlier run if it is healthy and its config is the
        same (then make it re-read its password and ACL files); otherwise stop it and
        start a new one. Returns True when an existing broker was adopted."""
        pid = self.previous_pid()
        if pid is not None:
            same = self.conf_path.exists() and self.conf_path.read_text() == self.config_text()
            if same and self.accepts_connections():
                self._adopted, self._proc = pid, None
                log.info("reusing the embedded mosquitto left running (pid %d)", pid)
                self.reload()
                return True
            log.info("replacing the embedded mosquitto left running (pid %d)", pid)
            self._adopted = pid
            self.stop()
        if not port_is_free(self.port, "127.0.0.1" if self.host in ("0.0.0.0", "") else self.host):
            raise BrokerUnavailable(
                f"port {self.port} is taken by another process: stop it, or set "
                "WARDCAST_BROKER_PORT to another port"
            )
        self.start(timeout_s)
        return False

    def reload(self) -> bool:
        """Make mosquitto re-read its password and ACL files (SIGHUP).

        It then disconnects every client whose login is no longer in the password file.
        Returns False when no broker is running.
        """
        pid = self.pid
        if pid is None:
            return False
        os.kill(pid, signal.SIGHUP)
        return True

    def stop(self, timeout_s: float = 5.0) -> None:
        """Stop mosquitto (SIGTERM, then SIGKILL if it lingers), started or adopted."""
        proc, self._proc = self._proc, None
        adopted, self._adopted = self._adopted, None
        stopped = proc.pid if proc is not None else adopted
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout_s)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout_s)
        elif proc is None and adopted is not None and pid_alive(adopted):
            terminate(adopted, timeout_s)
        with contextlib.suppress(OSError, ValueError):
            if stopped is not None and int(self.pid_file.read_text(encoding="ascii")) == stopped:
                self.pid_file.unlink()

    def cleanup(self) -> None:
        """Stop, and remove the state directory if this object created it."""
        self.stop()
        if self._own_dir:
            shutil.rmtree(self.state_dir, ignore_errors=True)

    @property
    def running(self) -> bool:
        """True while the process is alive."""
        return self.pid is not None

    def __enter__(self) -> EmbeddedBroker:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.cleanup()
