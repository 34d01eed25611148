"""Server-sent events for the console's live views (emergency and broadcast progress).

A stream re-reads a fragment every ``interval_s`` and sends it when it changed, as an
``event: progress`` whose data is the fragment's HTML; it sends ``event: end`` and stops
once the thing it shows is final. It is **bounded**: after ``max_polls`` reads it stops
and the browser's EventSource reconnects by itself (``retry:``), so a stream never holds
a connection, a thread or a database session for long. Each read opens its own short
session (the route's session is gone once the response started).

The wait between reads is ``sleep`` (``asyncio.sleep`` by default): tests hand a no-op
and drive the clock themselves, so no test sleeps. Whether something changed is the
snapshot's ``key`` (the domain's fingerprint of the progress), not its HTML, which also
carries the time of the read.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True)
class Snapshot:
    """One read: what decides whether it changed (``key``), the fragment, and finality."""

    key: object  # e.g. the domain's fingerprint: the clock alone is not a change
    html: str
    final: bool  # nothing more will change: the stream ends


Read = Callable[[], Snapshot]


@dataclass(frozen=True)
class StreamRules:
    """How often a stream reads, how long it lives, when the browser reconnects."""

    interval_s: float = 2.0
    max_polls: int = 60  # about two minutes, then the EventSource reconnects
    retry_ms: int = 3000
    heartbeat_s: float = 15.0  # a comment when nothing changed, so proxies keep the line


RULES = StreamRules()


def sse_event(event: str, data: str) -> str:
    """One SSE message; every line of ``data`` gets its own ``data:`` field."""
    lines = data.splitlines() or [""]
    return f"event: {event}\n" + "".join(f"data: {line}\n" for line in lines) + "\n"


async def progress_events(
    read: Read, rules: StreamRules = RULES, sleep: Sleep = asyncio.sleep
) -> AsyncIterator[str]:
    """The stream: a fragment when it changed, ``end`` when final; ``max_polls`` reads at most.

    Reads run in the threadpool (they use the database); the waits between them are
    ``await``-ed, so an open stream holds no thread while it waits.
    """
    yield f"retry: {rules.retry_ms}\n\n"
    last: object = None
    quiet_s = 0.0
    for poll in range(rules.max_polls):
        found = await run_in_threadpool(read)
        if poll == 0 or found.key != last:
            yield sse_event("progress", found.html)
            last, quiet_s = found.key, 0.0
        elif quiet_s >= rules.heartbeat_s:
            yield ": heartbeat\n\n"
            quiet_s = 0.0
        if found.final:
            yield sse_event("end", "")
            return
        if poll + 1 < rules.max_polls:
            await sleep(rules.interval_s)
            quiet_s += rules.interval_s


def event_stream(
    read: Read, rules: StreamRules = RULES, sleep: Sleep = asyncio.sleep
) -> StreamingResponse:
    """The response of an SSE route: never cached, never buffered by a proxy."""
    return StreamingResponse(
        progress_events(read, rules, sleep),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
