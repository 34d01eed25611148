"""Server-sent events for the console's live views (emergency and broadcast progress).

A stream re-reads a fragment every ``interval_s`` and sends it when it changed, as an
``event: progress`` whose data is the fragment's HTML; it sends ``event: end`` and stops
once the thing it shows is final. It is **bounded**: after ``max_polls`` reads it stops
and the browser's EventSource reconnects by itself (``retry:``), so a stream never holds
a connection, a thread or a database session for long. Each read opens its own short
session (the route's session is gone once the response started).

The loop is :mod:`controller.api.sse`'s, shared with the API's streams: the wait
between reads is ``sleep`` (``asyncio.sleep`` by default, awaited: no thread held),
and tests hand a no-op and drive the clock themselves, so no test sleeps. Whether
something changed is the snapshot's ``key`` (the domain's fingerprint of the
progress), not its HTML, which also carries the time of the read.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

from fastapi.responses import StreamingResponse

from controller.api import sse
from controller.api.sse import HEARTBEAT, Sleep, StreamRules, sse_event

__all__ = ["RULES", "Read", "Sleep", "Snapshot", "StreamRules", "event_stream", "sse_event"]


@dataclass(frozen=True)
class Snapshot:
    """One read: what decides whether it changed (``key``), the fragment, and finality."""

    key: object  # e.g. the domain's fingerprint: the clock alone is not a change
    html: str
    final: bool  # nothing more will change: the stream ends


Read = Callable[[], Snapshot]

RULES = StreamRules()


async def progress_events(
    read: Read, rules: StreamRules = RULES, sleep: Sleep = asyncio.sleep
) -> AsyncIterator[str]:
    """The stream: a fragment when it changed, ``end`` when final; ``max_polls`` reads at most.

    The pacing is :func:`controller.api.sse.changes` (the API's streams share it): reads
    run in a worker thread, the waits between them are awaited, so an open page holds
    no thread while it waits.
    """
    yield f"retry: {rules.retry_ms}\n\n"
    found = sse.changes(read, lambda s: s.key, lambda s: s.final, rules, sleep)
    async for snapshot in found:
        if snapshot is None:
            yield HEARTBEAT
            continue
        yield sse_event("progress", snapshot.html)
        if snapshot.final:
            yield sse_event("end", "")


def event_stream(
    read: Read, rules: StreamRules = RULES, sleep: Sleep = asyncio.sleep
) -> StreamingResponse:
    """The response of an SSE route: never cached, never buffered by a proxy."""
    return sse.event_stream(progress_events(read, rules, sleep))
