"""Many edge agents in one process: the simulator, the demo and the benchmarks.

``AgentFleet`` runs N ``EdgeAgent``s in ONE asyncio loop on a background thread,
each with its own MQTT connection, data directory and device key, and the agent's
own media download (``StreamingHttpFetcher``, as ``wardcast-agent run`` has), a
bounded number of them in flight for the whole fleet. Callers stay synchronous:
``start``, ``wait_ready``, ``stop``; ``run`` executes a coroutine on the fleet's loop
(agents are not thread-safe, so read their state through it).

Hooks are called on the fleet's thread with the device id first, so a benchmark can
time "API call → playback start" across hundreds of agents without polling.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable, Coroutine, Sequence
from datetime import datetime
from typing import Any, TypeVar

from edge_agent.config import AgentConfig
from edge_agent.core import EdgeAgent
from edge_agent.http_fetch import StreamingHttpFetcher
from edge_agent.inbox import WardOpenings
from edge_agent.lock import DataDirLock, lock_data_dir
from edge_agent.media_cache import BoundedFetcher, MediaFetcher
from edge_agent.wiring import build_agent
from wardcast_protocol.clock import Clock
from wardcast_protocol.messages import PlaybackEvent

log = logging.getLogger(__name__)

T = TypeVar("T")

# Downloads in flight for the whole fleet: each is a socket of this process, which
# already holds one MQTT connection per agent (a process's descriptors are bounded).
_FLEET_DOWNLOADS = 32

FleetStartedHook = Callable[[str, str, datetime], None]
"""(device_id, item_id, actual_start)"""
FleetAckedHook = Callable[[str, str], None]
"""(device_id, event_id)"""
FleetRecordedHook = Callable[[str, PlaybackEvent], None]
"""(device_id, event)"""
AgentFactory = Callable[[AgentConfig, MediaFetcher], EdgeAgent]
"""Builds one agent (default: ``wiring.build_agent`` on a real MQTT link)."""


class AgentFleet:
    """N agents, one loop, one background thread."""

    def __init__(
        self,
        configs: Sequence[AgentConfig],
        *,
        on_playback_started: FleetStartedHook | None = None,
        on_event_acked: FleetAckedHook | None = None,
        on_event_recorded: FleetRecordedHook | None = None,
        clock: Clock | None = None,
        factory: AgentFactory | None = None,
    ) -> None:
        ids = [c.device_id for c in configs]
        if len(set(ids)) != len(ids):
            raise ValueError("device ids in a fleet must be unique")
        self.configs = list(configs)
        self.on_playback_started = on_playback_started
        self.on_event_acked = on_event_acked
        self.on_event_recorded = on_event_recorded
        self._clock = clock
        self._factory = factory
        self._agents: dict[str, EdgeAgent] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._locks: list[DataDirLock] = []
        self._ward_openings = WardOpenings()

    @property
    def agents(self) -> dict[str, EdgeAgent]:
        """The running agents by device id (touch their state only through ``run``)."""
        return dict(self._agents)

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        """The fleet's event loop (after ``start``)."""
        if self._loop is None:
            raise RuntimeError("fleet not started")
        return self._loop

    def start(self, timeout_s: float = 60.0) -> AgentFleet:
        """Start the loop thread and every agent; returns once all are started."""
        if self._loop is not None:
            raise RuntimeError("fleet already started")
        loop = self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=loop.run_forever, name="agent-fleet", daemon=True)
        self._thread.start()
        try:
            self.run(self._start_agents(), timeout_s)
        except BaseException:
            self.stop()
            raise
        log.info("fleet: %d agents started", len(self._agents))
        return self

    def wait_ready(self, timeout: float) -> bool:
        """Block until every agent is connected (and announced itself), or ``timeout``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.run(self._all_connected(), timeout):
                return True
            time.sleep(0.02)
        return False

    def stop(self, timeout_s: float = 30.0) -> None:
        """Stop every agent cleanly, then the loop and its thread."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        if loop.is_running():
            try:
                self.run(self._stop_agents(), timeout_s)
            except Exception:
                log.exception("fleet: stopping agents failed")
            loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout_s)
        loop.close()
        self._loop = self._thread = None

    def run(self, coro: Coroutine[Any, Any, T], timeout_s: float | None = 30.0) -> T:
        """Run ``coro`` on the fleet's loop and return its result (from any other thread)."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout_s)

    def call(self, fn: Callable[[], T], timeout_s: float | None = 30.0) -> T:
        """Call ``fn`` on the fleet's loop (to read agent state safely)."""

        async def invoke() -> T:
            return fn()

        return self.run(invoke(), timeout_s)

    # on the loop -----------------------------------------------------------------

    async def _start_agents(self) -> None:
        # One bound for the whole fleet: a new plan makes every agent prefetch at once.
        # The agent's own fetcher, not httpx: a new emergency's clip to 1,000 agents
        # cost the fleet ~7 ms of CPU a download through httpx, ~2 ms through this,
        # so the bench timed the simulator's HTTP client more than the product.
        slots = asyncio.Semaphore(_FLEET_DOWNLOADS)
        for config in self.configs:
            # Before the agent opens anything there: one agent per data folder.
            self._locks.append(lock_data_dir(config.data_dir))
            fetcher = BoundedFetcher(StreamingHttpFetcher(config.media_fetch_timeout_s), slots)
            if self._factory is not None:
                agent = self._factory(config, fetcher)
            else:
                agent = build_agent(config, fetcher, clock=self._clock)
            self._hook(agent)
            self._agents[config.device_id] = agent
            await agent.start()

    def _hook(self, agent: EdgeAgent) -> None:
        device_id = agent.device_id
        # A ward's command is opened once for the fleet, as each device would open it
        # for itself; each agent still decides whether it is for it (inbox.WardOpenings).
        agent.ward_openings = self._ward_openings
        if self.on_playback_started is not None:
            started = self.on_playback_started
            agent.on_playback_started = lambda item_id, at: started(device_id, item_id, at)
        if self.on_event_acked is not None:
            acked = self.on_event_acked
            agent.on_event_acked = lambda event_id: acked(device_id, event_id)
        if self.on_event_recorded is not None:
            recorded = self.on_event_recorded
            agent.on_event_recorded = lambda event: recorded(device_id, event)

    async def _all_connected(self) -> bool:
        return all(a.connected.is_set() for a in self._agents.values())

    async def _stop_agents(self) -> None:
        results = await asyncio.gather(
            *(a.stop() for a in self._agents.values()), return_exceptions=True
        )
        for agent, result in zip(self._agents.values(), results, strict=True):
            if isinstance(result, BaseException):
                log.error("fleet: %s did not stop cleanly: %s", agent.device_id, result)
        for lock in self._locks:
            lock.release()
        self._locks.clear()
