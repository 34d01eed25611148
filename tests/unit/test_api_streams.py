"""Open event streams hold no worker thread: more streams than threads, and the API answers.

The app is driven as the server drives it (ASGI, one event loop) with a threadpool of
two threads: five officers follow an emergency on ``/api/v1/emergencies/{id}/events``,
and a sixth request that needs a worker thread (``/progress``, a ``def`` route) still
answers at once. A stream that slept in a worker thread between its reads would hold
both threads, and the sixth request would wait for a heartbeat or the stream's end.
The stream stays bounded as before: numbered snapshots, heartbeats, ``end`` at its
maximum (its sleep replaced, so the test does not wait).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio.to_thread
import pytest
from fastapi.testclient import TestClient

from controller.api.app import create_app
from controller.api.routes import emergencies as emergencies_route
from controller.api.sse import StreamRules
from controller.domain.actors import SYSTEM
from controller.domain.emergencies.service import EmergencyMessage
from tests.support.auth import auth_headers
from tests.unit.controller_support import Harness, make_harness, speak_without_tts

THREADS = 2
STREAMS = 5  # more than the threads
Message = dict[str, Any]


@pytest.fixture
def h(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Harness]:
    harness = make_harness(tmp_path)
    speak_without_tts(harness.runtime, monkeypatch)
    yield harness
    harness.runtime.stop()


class Call:
    """One HTTP request through the ASGI app, its response messages as they come."""

    def __init__(self, app: Any, path: str, headers: dict[str, str]) -> None:
        self.status: int | None = None
        self.body = b""
        self.has_progress = asyncio.Event()
        self.done = asyncio.Event()
        self._left = asyncio.Event()  # the client "disconnects" when set
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": b"",
            "root_path": "",
            "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
            "client": ("127.0.0.1", 5000),
            "server": ("127.0.0.1", 80),
        }
        self.task = asyncio.create_task(self._run(app, scope))

    async def _run(self, app: Any, scope: Message) -> None:
        sent_request = False

        async def receive() -> Message:
            nonlocal sent_request
            if not sent_request:
                sent_request = True
                return {"type": "http.request", "body": b"", "more_body": False}
            await self._left.wait()
            return {"type": "http.disconnect"}

        async def send(message: Message) -> None:
            if message["type"] == "http.response.start":
                self.status = message["status"]
            elif message["type"] == "http.response.body":
                self.body += message.get("body", b"")
                if b"event: progress" in self.body:
                    self.has_progress.set()

        try:
            await app(scope, receive, send)
        finally:
            self.done.set()

    async def close(self) -> None:
        """Leave, as a closed browser tab does, and let the app finish."""
        self._left.set()
        self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)


async def test_more_open_streams_than_threads_and_another_request_still_answers(
    h: Harness,
) -> None:
    anyio.to_thread.current_default_thread_limiter().total_tokens = THREADS
    app = create_app(runtime=h.runtime)
    flood = EmergencyMessage(
        "cap-flood", "ubnd", h.clock.now(), description="Nước lên.", device_ids=("to-1",)
    )
    record, _ = h.runtime.emergencies.receive(flood, SYSTEM)
    leader = auth_headers(h.runtime, "approver", all_wards=True)
    base = f"/api/v1/emergencies/{record.id}"
    streams = [Call(app, f"{base}/events", leader) for _ in range(STREAMS)]
    try:
        for stream in streams:
            await asyncio.wait_for(stream.has_progress.wait(), 20)
        assert all(s.status == 200 and not s.done.is_set() for s in streams)
        # Every stream is open and waiting for its next read; the threads are free.
        other = Call(app, f"{base}/progress", leader)
        await asyncio.wait_for(other.done.wait(), 5)
        assert other.status == 200, other.body
        assert b'"over":false' in other.body
        assert all(not s.done.is_set() for s in streams)  # still open
    finally:
        for stream in streams:
            await stream.close()


def test_the_api_stream_keeps_the_line_alive_and_ends_at_its_maximum(
    h: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    waits: list[float] = []

    async def no_wait(seconds: float) -> None:
        waits.append(seconds)

    monkeypatch.setattr(emergencies_route, "sleep", no_wait)
    monkeypatch.setattr(emergencies_route, "RULES", StreamRules(1.0, 10, 500, heartbeat_s=3.0))
    flood = EmergencyMessage(
        "cap-flood", "ubnd", h.clock.now(), description="Nước lên.", device_ids=("to-1",)
    )
    record, _ = h.runtime.emergencies.receive(flood, SYSTEM)
    leader = auth_headers(h.runtime, "approver", all_wards=True)
    with TestClient(create_app(runtime=h.runtime)) as client:
        body = client.get(f"/api/v1/emergencies/{record.id}/events", headers=leader).text
    assert body.startswith("retry: 500\n\n")
    assert body.count("event: progress") == 1 and "id: 1\nevent: progress" in body
    assert body.count(": heartbeat") == 3  # after 3, 6 and 9 quiet seconds
    assert body.rstrip().endswith("event: end\ndata: {}")  # told it is over: reconnect
    assert waits == [1.0] * 9  # ten reads, nine waits, no thread held for any
