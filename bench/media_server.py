"""The audio a bench's agents fetch: sox tone clips, served over HTTP from a process of its own.

Both ``bench.start_precision`` (a fleet in one process) and ``bench.agent_footprint``
(one real agent process) need what the controller would give a device: clips with
their sha256 and size, at a URL. That is staging, not measurement, so it lives apart
from either bench; and the server is another process, not a thread, for the reason
``MediaProcess`` gives: the benches measure the agents, not a contended GIL.
"""

from __future__ import annotations

import contextlib
import hashlib
import socket
import subprocess
import sys
import time
from pathlib import Path

from controller.messaging.broker_host import free_port
from wardcast_protocol.messages import MediaRef


class MediaProcess:
    """Serves a directory over HTTP from a separate process, as the controller would.

    Not a thread of this process: hundreds of request threads would contend for the
    GIL with the agents' loop, and the benchmark would measure that instead.
    """

    def __init__(self, directory: Path) -> None:
        self.port = free_port()
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "http.server", str(self.port), "--bind", "127.0.0.1"],
            cwd=directory,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port)):
                return
            time.sleep(0.05)
        self.stop()
        raise SystemExit("the media server did not start")

    def stop(self) -> None:
        """Stop the server process."""
        self._proc.terminate()
        self._proc.wait(5)


def tone_clips(media_dir: Path, count: int, seconds: float, port: int) -> list[MediaRef]:
    """``count`` distinct sox tones in ``media_dir``, as the references plans carry."""
    refs = []
    for n in range(count):
        wav = media_dir / f"clip{n}.wav"
        freq = str(440 + 110 * n)
        subprocess.run(
            ["sox", "-n", "-r", "16000", "-c", "1", str(wav), "synth", str(seconds), "sine", freq],
            check=True,
        )
        data = wav.read_bytes()
        refs.append(
            MediaRef(
                sha256=hashlib.sha256(data).hexdigest(),
                url=f"http://127.0.0.1:{port}/clip{n}.wav",
                duration_s=seconds,
                size_bytes=len(data),
                content_type="audio/wav",
            )
        )
    return refs
