"""One agent's share of its event loop: callbacks hopped onto it and guarded, tasks kept.

All of an agent's state is touched on its loop alone. A threaded transport calls back
on its own thread, so a callback only hops onto the loop (``call_soon_threadsafe``)
and runs there; whatever it does, the agent must keep playing, so it runs guarded (an
exception is logged, never raised into the loop). The agent's tasks are kept here, so
a task that dies is logged and every one is cancelled at the agent's end.

Apart from ``core`` because this is the one rule every collaborator leans on (they get
``spawn``, ``later`` and ``guarded`` from here), not a step of the agent's lifecycle.
Many agents (a fleet) share one event loop, each with its own ``AgentLoop``.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Awaitable, Callable
from typing import Any

log = logging.getLogger(__name__)


class AgentLoop:
    """The loop one agent runs on, from ``open`` (its start) to ``cancel_tasks`` (its end)."""

    def __init__(self, device_id: str) -> None:
        """Bound to no loop yet: until ``open``, callbacks are dropped."""
        self.device_id = device_id
        self.running = False
        self._tasks: set[asyncio.Task[Any]] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread: int | None = None

    def open(self) -> None:
        """Bind to the running loop and its thread (call on the loop); callbacks act now."""
        self._loop = asyncio.get_running_loop()
        self._loop_thread = threading.get_ident()
        self.running = True

    def call_soon(self, fn: Callable[..., None], *args: object) -> None:
        """Run ``fn(*args)`` guarded on the loop, from any thread; dropped when not running."""
        loop = self._loop
        if loop is None or loop.is_closed() or not self.running:
            return
        if threading.get_ident() == self._loop_thread:
            # An asyncio transport calls back on the loop already: no wake-up pipe needed.
            loop.call_soon(self.guarded, fn, *args)
        else:
            loop.call_soon_threadsafe(self.guarded, fn, *args)

    def guarded(self, fn: Callable[..., None], *args: object) -> None:
        """Run ``fn(*args)`` now if running; an exception is logged, not raised."""
        # Whatever a message does, the agent must keep playing: log and carry on.
        if not self.running:
            return
        try:
            fn(*args)
        except Exception:
            log.exception("%s: handling %s failed", self.device_id, fn.__name__)

    def spawn(self, coro: Awaitable[Any], name: str) -> asyncio.Task[Any]:
        """Run ``coro`` as one of the agent's tasks, named after the device."""
        task = asyncio.ensure_future(coro)
        task.set_name(f"{self.device_id}-{name}")
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def later(self, delay_s: float, fn: Callable[[], None]) -> None:
        """Run ``fn`` guarded on the loop in ``delay_s`` seconds (nothing before ``open``)."""
        if self._loop is not None:
            self._loop.call_later(delay_s, self.guarded, fn)

    async def cancel_tasks(self) -> None:
        """Cancel every task still running and wait until each has ended."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def call_hook(self, hook: Callable[..., None] | None, *args: object) -> None:
        """Call an observer's hook, if set; its exception is logged, not the agent's."""
        if hook is None:
            return
        try:
            hook(*args)
        except Exception:
            log.exception("%s: hook %r failed", self.device_id, hook)

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error(
                "%s: task %s failed", self.device_id, task.get_name(), exc_info=task.exception()
            )
