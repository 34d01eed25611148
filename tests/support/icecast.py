"""A real Icecast 2 stream server for the integration tier, fed by ffmpeg.

``IcecastServer`` runs Debian's ``icecast2`` (installed by scripts/install.sh) on a
free loopback port with its configuration in a temporary directory; ``feed`` starts
an ffmpeg source that encodes a tone (or digital silence) in real time to a mount,
as a radio station's encoder does. The failure modes a relay must survive are a
method each: ``kill`` (the server dies), ``pause``/``resume`` (SIGSTOP: every socket
stays open and nothing is sent), ``StreamSource.stop`` (the station's encoder dies:
the mount disappears, listeners are dropped, reconnects get 404).

Icecast refuses to run as root unless told to drop privileges, so as root (a CI
container) the configuration has ``<changeowner>`` to nobody; as anyone else it
runs as that user. Its log goes to stderr, kept in ``icecast.log`` for a failing
test to show.
"""

from __future__ import annotations

import contextlib
import grp
import http.client
import os
import pwd
import secrets
import shutil
import signal
import subprocess
import time
from pathlib import Path
from typing import Literal
from xml.sax.saxutils import escape

from controller.messaging.broker_host import free_port

Codec = Literal["mp3", "opus"]


def icecast_binary() -> str | None:
    """Debian's icecast2, if installed."""
    found = shutil.which("icecast2")
    if found:
        return found
    return "/usr/bin/icecast2" if os.access("/usr/bin/icecast2", os.X_OK) else None


def _config(port: int, password: str, owner: tuple[str, str] | None) -> str:
    web = "/usr/share/icecast2"
    change_owner = (
        f"<changeowner><user>{escape(owner[0])}</user><group>{escape(owner[1])}</group>"
        "</changeowner>"
        if owner
        else ""
    )
    return f"""<icecast>
  <location>wardcast tests</location>
  <admin>tests@localhost</admin>
  <limits>
    <clients>100</clients>
    <sources>20</sources>
    <queue-size>524288</queue-size>
    <client-timeout>30</client-timeout>
    <header-timeout>5</header-timeout>
    <source-timeout>5</source-timeout>
    <burst-on-connect>1</burst-on-connect>
    <burst-size>65535</burst-size>
  </limits>
  <authentication>
    <source-password>{password}</source-password>
    <relay-password>{password}</relay-password>
    <admin-user>admin</admin-user>
    <admin-password>{password}</admin-password>
  </authentication>
  <hostname>127.0.0.1</hostname>
  <listen-socket><port>{port}</port><bind-address>127.0.0.1</bind-address></listen-socket>
  <fileserve>1</fileserve>
  <paths>
    <basedir>{web}</basedir>
    <logdir>/tmp</logdir>
    <webroot>{web}/web</webroot>
    <adminroot>{web}/admin</adminroot>
  </paths>
  <logging>
    <accesslog>-</accesslog>
    <errorlog>-</errorlog>
    <loglevel>3</loglevel>
  </logging>
  <security><chroot>0</chroot>{change_owner}</security>
</icecast>
"""


def _owner() -> tuple[str, str] | None:
    """Who icecast drops to when started as root (it refuses to run as root)."""
    if os.geteuid() != 0:
        return None
    nobody = pwd.getpwnam("nobody")
    return nobody.pw_name, grp.getgrgid(nobody.pw_gid).gr_name


class StreamSource:
    """An ffmpeg encoder feeding one mount in real time."""

    def __init__(self, proc: subprocess.Popen[bytes], mount: str) -> None:
        self.proc = proc
        self.mount = mount

    def stop(self) -> None:
        """The encoder dies (SIGKILL): the mount goes away, its listeners are dropped."""
        with contextlib.suppress(ProcessLookupError):
            self.proc.kill()
        self.proc.wait(5)


class IcecastServer:
    """One icecast2 process on a free loopback port, and the sources feeding it."""

    def __init__(self, workdir: Path) -> None:
        binary = icecast_binary()
        if binary is None:
            raise RuntimeError("icecast2 is not installed (scripts/install.sh installs it)")
        self._binary = binary
        self.workdir = workdir
        workdir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.password = secrets.token_hex(8)
        self.config = workdir / "icecast.xml"
        self.config.write_text(_config(self.port, self.password, _owner()), encoding="utf-8")
        self.log = workdir / "icecast.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.sources: list[StreamSource] = []

    def start(self, timeout_s: float = 10.0) -> None:
        """Start the server and wait until it answers."""
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                [self._binary, "-c", str(self.config)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout_s
        while self._status("/status.xsl") != 200:
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"icecast2 did not start:\n{self.log_tail()}")
            time.sleep(0.05)

    def url(self, mount: str) -> str:
        """The listeners' URL of ``mount`` ("/live.mp3")."""
        return f"http://127.0.0.1:{self.port}{mount}"

    def feed(
        self, mount: str, *, codec: Codec = "mp3", silent: bool = False, timeout_s: float = 10.0
    ) -> StreamSource:
        """Start an encoder on ``mount`` (a 440 Hz tone, or digital silence) and wait
        until listeners can have it."""
        audio = "anullsrc=r=22050:cl=mono" if silent else "sine=frequency=440:sample_rate=22050"
        encode = (
            ["-c:a", "libmp3lame", "-b:a", "32k", "-content_type", "audio/mpeg", "-f", "mp3"]
            if codec == "mp3"
            else ["-c:a", "libopus", "-b:a", "32k", "-content_type", "application/ogg", "-f", "ogg"]
        )
        proc = subprocess.Popen(
            [
                "ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-re",
                "-f", "lavfi", "-i", audio, "-ac", "1", *encode,
                f"icecast://source:{self.password}@127.0.0.1:{self.port}{mount}",
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        source = StreamSource(proc, mount)
        self.sources.append(source)
        deadline = time.monotonic() + timeout_s
        while self._status(mount) != 200:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"source {mount} did not come up:\n{self.log_tail()}")
            time.sleep(0.05)
        return source

    def kill(self) -> None:
        """The server dies (SIGKILL): connections reset, new ones refused."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)

    def pause(self) -> None:
        """SIGSTOP: sockets stay open, nothing is sent, new connections hang."""
        if self.proc is not None:
            self.proc.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        """SIGCONT after ``pause``."""
        if self.proc is not None:
            self.proc.send_signal(signal.SIGCONT)

    def close(self) -> None:
        """Stop every source and the server."""
        for source in self.sources:
            source.stop()
        self.kill()  # SIGKILL ends a paused server too

    def log_tail(self, chars: int = 2000) -> str:
        """The end of icecast's log."""
        try:
            return self.log.read_text(encoding="utf-8", errors="replace")[-chars:]
        except OSError:
            return "(no log)"

    def _status(self, path: str) -> int | None:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=1.0)
        try:
            connection.request("GET", path)
            return connection.getresponse().status
        except OSError:
            return None
        finally:
            connection.close()
