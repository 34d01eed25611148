"""One asyncio helper the play loop and the relay share: wait for the first of several things."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any


async def wait_any(keep: list[asyncio.Future[Any]], *helpers: Awaitable[Any]) -> None:
    """Wait until one of ``keep`` or ``helpers`` finishes; cancel helpers, never ``keep``.

    ``keep`` holds the caller's own work (a play, a read) that must outlive this wait;
    ``helpers`` are timers and events created for it, cleaned up on the way out.
    """
    tasks = [asyncio.ensure_future(h) for h in helpers]
    try:
        await asyncio.wait([*keep, *tasks], return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
