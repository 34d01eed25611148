"""Server-sent event streams that hold no worker thread while they wait.

One loop for every live stream, the API's (``/api/v1/emergencies/{id}/events``) and
the console's (:mod:`controller.console.live`): read, send what changed, wait, again.
Only the read runs in a worker thread (it uses the database, which blocks); the wait
between reads is ``await``-ed on the event loop. A stream that slept in a worker
thread would hold one for as long as it is open, and Starlette's threadpool has 40:
forty officers following a flood at 5 a.m. would leave none for any other request.

A stream is **bounded**: it sends a snapshot when the read's ``key`` changed (the
first at once), a heartbeat when nothing did for ``heartbeat_s`` (so proxies keep the
line), and stops when the snapshot is final or after ``max_polls`` reads. ``sleep``
is injected (``asyncio.sleep`` by default), so a test runs a whole stream without
waiting. This module knows neither the domain nor the page: callers say what a
snapshot's key is, when it is final, and how it is written.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

import anyio.to_thread
from fastapi.responses import StreamingResponse

Sleep = Callable[[float], Awaitable[None]]
S = TypeVar("S")

HEARTBEAT = ": heartbeat\n\n"


@dataclass(frozen=True)
class StreamRules:
    """How often a stream reads, how long it lives, when the browser reconnects."""

    interval_s: float = 2.0
    max_polls: int = 60  # about two minutes, then the EventSource reconnects
    retry_ms: int = 3000
    heartbeat_s: float = 15.0  # a comment when nothing changed, so proxies keep the line

    @classmethod
    def lasting(
        cls, max_s: float, interval_s: float, heartbeat_s: float = 15.0, retry_ms: int = 3000
    ) -> StreamRules:
        """Rules for a stream that reads every ``interval_s`` for ``max_s`` of waits."""
        return cls(interval_s, int(max_s // interval_s) + 1, retry_ms, heartbeat_s)


def sse_event(event: str, data: str, event_id: int | None = None) -> str:
    """One SSE message; every line of ``data`` gets its own ``data:`` field."""
    lines = data.splitlines() or [""]
    head = f"id: {event_id}\n" if event_id is not None else ""
    return head + f"event: {event}\n" + "".join(f"data: {line}\n" for line in lines) + "\n"


async def changes(
    read: Callable[[], S],
    key: Callable[[S], object],
    final: Callable[[S], bool],
    rules: StreamRules,
    sleep: Sleep = asyncio.sleep,
) -> AsyncIterator[S | None]:
    """Snapshots as they change (the first at once), ``None`` as a heartbeat.

    Ends after a final snapshot (always yielded) or after ``rules.max_polls`` reads.
    Each read runs in a worker thread, and only the read: the waits are awaited.
    """
    last: object = None
    quiet_s = 0.0
    for poll in range(rules.max_polls):
        found = await anyio.to_thread.run_sync(read)
        done = final(found)
        if poll == 0 or key(found) != last or done:
            yield found
            last, quiet_s = key(found), 0.0
        elif quiet_s >= rules.heartbeat_s:
            yield None
            quiet_s = 0.0
        if done:
            return
        if poll + 1 < rules.max_polls:
            await sleep(rules.interval_s)
            quiet_s += rules.interval_s


async def numbered_events(
    snapshots: AsyncIterator[S | None],
    render: Callable[[S], str],
    retry_ms: int,
    end_data: str = "",
) -> AsyncIterator[str]:
    """Snapshots as numbered ``progress`` events, heartbeats as comments, then ``end``.

    The ``end`` comes however the snapshots stopped (final or at their maximum): an API
    client is told the stream is over and reconnects if it still cares.
    """
    yield f"retry: {retry_ms}\n\n"
    number = 0
    async for snapshot in snapshots:
        if snapshot is None:
            yield HEARTBEAT
            continue
        number += 1
        yield sse_event("progress", render(snapshot), number)
    yield sse_event("end", end_data)


def event_stream(events: AsyncIterator[str]) -> StreamingResponse:
    """The response of an SSE route: never cached, never buffered by a proxy."""
    return StreamingResponse(
        events,
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
