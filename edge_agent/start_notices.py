"""The starts an agent remembers, and whoever waits for one (``EdgeAgent.wait_for_start``).

An item's actual start is remembered, so a waiter that comes after the sound started
gets it at once instead of waiting for ever; only the last ``_REMEMBERED_STARTS`` are
kept, so a device that plays for months does not grow. Apart from ``core`` because it
is bookkeeping for those who watch the agent (tests, the simulator), not part of
playing: nothing here is on the timing path, the agent notes a start after it sounds.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from datetime import datetime

_REMEMBERED_STARTS = 1000


class StartNotices:
    """Actual starts by item id (the last ones), and the futures waiting for others."""

    def __init__(self) -> None:
        """Nothing started, nobody waiting."""
        self._starts: OrderedDict[str, datetime] = OrderedDict()
        self._start_waiters: dict[str, list[asyncio.Future[datetime]]] = {}

    def note(self, item_id: str, at: datetime) -> None:
        """``item_id`` started sounding ``at``: remember it and wake its waiters."""
        self._starts[item_id] = at
        while len(self._starts) > _REMEMBERED_STARTS:
            self._starts.popitem(last=False)
        for future in self._start_waiters.pop(item_id, []):
            if not future.done():
                future.set_result(at)

    async def wait_for(self, item_id: str) -> datetime:
        """Wait until ``item_id`` starts sounding; its actual start (at once if it did)."""
        if item_id in self._starts:
            return self._starts[item_id]
        future: asyncio.Future[datetime] = asyncio.get_running_loop().create_future()
        self._start_waiters.setdefault(item_id, []).append(future)
        return await future
