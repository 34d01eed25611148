"""Relays of a real HTTP audio stream through ffmpeg: cut mid-window, dead URL, not a stream.

Each test serves an MP3 stream from this process, slowly, in real time (as a radio
station's server does), runs one agent on the real broker, and reads the relay's
signed evidence back through a controller stand-in.
"""

from __future__ import annotations

import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TypedDict, Unpack

import pytest

from controller.messaging.broker import EmbeddedBroker
from controller.messaging.broker_host import free_port
from edge_agent.controller_stand_in import ControllerStandIn, relay_item
from tests.integration.test_agent_fleet import MediaServer, controller_link, make_fleet, tone
from wardcast_protocol.messages import MediaRef, Outcome, PlaybackEvent

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="needs ffmpeg"),
]

BYTES_PER_S = 4000  # a 32 kbit/s MP3, like a low-rate provincial stream


class StreamServer:
    """Streams an MP3 tone in real time; can cut the connection and refuse reconnects."""

    def __init__(self, mp3: bytes) -> None:
        self.cut_at: float | None = None  # time.monotonic() at which to hang up
        self.connections = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path == "/page.html":
                    body = b"<html><body>Not a stream</body></html>" * 50
                    self.send_response(200)
                    self.send_header("Content-Type", "text/html")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                    return
                server.connections += 1
                if server.cut_at is not None and time.monotonic() >= server.cut_at:
                    self.send_error(503, "station off the air")
                    return
                self.send_response(200)
                self.send_header("Content-Type", "audio/mpeg")
                self.end_headers()
                began, step = time.monotonic(), BYTES_PER_S // 10
                try:
                    for offset in range(0, len(mp3), step):
                        if server.cut_at is not None and time.monotonic() >= server.cut_at:
                            return  # the station's link drops: connection closed mid-stream
                        self.wfile.write(mp3[offset : offset + step])
                        pause = began + (offset + step) / BYTES_PER_S - time.monotonic()
                        time.sleep(max(0.0, pause))
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the agent hung up (its window ended)

            def log_message(self, *args: object) -> None:
                pass

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.http.daemon_threads = True
        self.thread = threading.Thread(target=self.http.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str = "/live.mp3") -> str:
        return f"http://127.0.0.1:{self.http.server_address[1]}{path}"

    def close(self) -> None:
        self.http.shutdown()
        self.http.server_close()


@pytest.fixture(scope="module")
def mp3(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    path = tmp_path_factory.mktemp("stream") / "tone.mp3"
    subprocess.run(
        [
            "ffmpeg", "-nostdin", "-loglevel", "error", "-f", "lavfi",
            "-i", "sine=frequency=440:duration=60", "-ac", "1", "-ar", "22050",
            "-b:a", "32k", str(path),
        ],
        check=True,
    )  # fmt: skip
    return path.read_bytes()


@pytest.fixture
def station(mp3: bytes) -> Iterator[StreamServer]:
    server = StreamServer(mp3)
    yield server
    server.close()


@pytest.fixture
def media() -> Iterator[MediaServer]:
    server = MediaServer()
    yield server
    server.close()


class Timing(TypedDict, total=False):
    """The relay item's timing options a test may set (``relay_item``'s keyword defaults)."""

    window_s: float
    prebuffer_s: float
    dead_after_s: float
    silence_db: float


def relay_once(
    tmp_path: Path, broker: EmbeddedBroker, fallback: MediaRef, url: str, **spec: Unpack[Timing]
) -> tuple[PlaybackEvent, datetime]:
    """One agent relays ``url`` for a window starting 3 s from now; its evidence."""
    link = controller_link(broker.url)
    controller = ControllerStandIn(link)
    link.start()
    assert link.wait_connected(5)
    fleet, _ = make_fleet(tmp_path, broker.url, controller, 1)
    fleet.start()
    try:
        assert fleet.wait_ready(10)
        [device_id] = fleet.agents
        planned = datetime.now(UTC) + timedelta(seconds=3)
        item = relay_item("relay-1", fallback, planned, url, **spec)
        controller.send_plan(device_id, [item], version=1)
        window = spec.get("window_s", 20.0)
        [event] = controller.wait_events(1, timeout_s=window + 15)
        return event, planned
    finally:
        fleet.stop()
        link.stop()


def fallback_clip(media: MediaServer, tmp_path: Path) -> MediaRef:
    return media.add("fallback.wav", tone(tmp_path / "fallback.wav", 1.0), duration_s=30.0)


def test_a_stream_cut_mid_window_falls_back_and_the_evidence_says_so(
    tmp_path: Path, broker: EmbeddedBroker, media: MediaServer, station: StreamServer
) -> None:
    fallback = fallback_clip(media, tmp_path)
    # Hang up 3 s into the window (which starts 3 s from now) and refuse from then on.
    station.cut_at = time.monotonic() + 6.0
    event, planned = relay_once(
        tmp_path,
        broker,
        fallback,
        station.url(),
        window_s=7,
        prebuffer_s=2,
        dead_after_s=1.5,
    )
    stats = event.relay
    assert stats is not None
    print(f"relay cut at +3 s of 7: {stats} / {event.reason}")
    assert event.outcome is Outcome.PARTIAL
    assert event.actual_start is not None
    assert abs((event.actual_start - planned).total_seconds()) < 0.3
    assert 2.0 <= stats.relayed_s <= 4.0  # the part before the cut
    assert stats.gap_count >= 1 and stats.gap_s >= 3.0
    assert stats.fallback_used and stats.fallback_s >= 1.5
    assert stats.reconnects >= 1 and station.connections >= 2
    assert stats.stream_url == station.url()
    assert event.planned_duration_s == 7
    assert event.media_sha256 == fallback.sha256
    assert event.reason is not None and "Server returned 5XX" in event.reason


def test_a_dead_url_plays_the_fallback_for_the_whole_window(
    tmp_path: Path, broker: EmbeddedBroker, media: MediaServer
) -> None:
    fallback = fallback_clip(media, tmp_path)
    closed = f"http://127.0.0.1:{free_port()}/live.mp3"  # nothing listens there
    event, planned = relay_once(
        tmp_path, broker, fallback, closed, window_s=4, prebuffer_s=2, dead_after_s=1.5
    )
    stats = event.relay
    assert stats is not None
    print(f"dead URL: {stats} / {event.reason}")
    assert event.outcome is Outcome.PARTIAL
    assert event.actual_start is not None
    assert abs((event.actual_start - planned).total_seconds()) < 0.3
    assert stats.relayed_s == 0
    assert stats.fallback_used and stats.fallback_s == pytest.approx(4, abs=0.3)
    assert event.reason is not None and "Connection refused" in event.reason


def test_a_page_that_is_not_a_stream_plays_the_fallback_with_a_clear_reason(
    tmp_path: Path, broker: EmbeddedBroker, media: MediaServer, station: StreamServer
) -> None:
    fallback = fallback_clip(media, tmp_path)
    event, _ = relay_once(
        tmp_path,
        broker,
        fallback,
        station.url("/page.html"),
        window_s=4,
        prebuffer_s=2,
        dead_after_s=1.5,
    )
    stats = event.relay
    assert stats is not None
    print(f"not a stream: {stats} / {event.reason}")
    assert event.outcome is Outcome.PARTIAL
    assert stats.relayed_s == 0 and stats.fallback_used
    assert event.reason is not None and "Invalid data" in event.reason
