"""One agent as a service: what ``wardcast-agent run`` does, without the CLI framework.

The ``wardcast-agent`` console script (``edge_agent.__main__``) sends ``run`` as systemd
starts it (``run`` and at most ``--log-level``) straight to ``run_service``; everything
else, ``run --help`` included, goes to the typer application in ``edge_agent.cli``.
Typer and its click are 1.7 MiB of a process a Pi Zero 2 W keeps for weeks, and a
running agent parses two words once (issue 10.8: ``bench/agent_footprint.py``).
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Sequence

from pydantic import ValidationError

from edge_agent.config import AgentConfig
from edge_agent.http_fetch import StreamingHttpFetcher
from edge_agent.lock import DataDirLocked, lock_data_dir
from edge_agent.logs import configure_logging
from edge_agent.wiring import build_agent
from firmware_stubs.systemd import notify

log = logging.getLogger(__name__)
_LEVELS = {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}


def plain_run(args: Sequence[str]) -> str | None:
    """The log level if ``args`` is ``run [--log-level LEVEL]``, else None (typer's)."""
    if not args or args[0] != "run":
        return None
    rest = list(args[1:])
    if not rest:
        return "INFO"
    if len(rest) == 1 and rest[0].startswith("--log-level="):
        rest = ["--log-level", rest[0].split("=", 1)[1]]
    if len(rest) == 2 and rest[0] == "--log-level" and rest[1].upper() in _LEVELS:
        return rest[1]
    return None


def run_service(log_level: str) -> int:
    """Run one agent until SIGTERM or Ctrl-C; the exit status (2: bad settings, 1: its
    data folder is held by another agent). Messages go to the log (the journal)."""
    # JSON lines under systemd, text on a terminal (WARDCAST_AGENT_LOG_FORMAT overrides).
    configure_logging(log_level)
    try:
        config = AgentConfig()  # fields come from the environment and the enrolment
    except ValidationError as exc:
        log.error("invalid agent settings (WARDCAST_AGENT_*):\n%s", exc)
        return 2
    try:
        asyncio.run(run_one(config))
    except DataDirLocked as exc:
        log.error("cannot start: %s", exc)
        return 1
    return 0


async def run_one(config: AgentConfig) -> None:
    """One agent on a real MQTT link until SIGINT or SIGTERM; then a clean stop."""
    # Before the key, outbox or plan is opened: a second agent here would fork the chain.
    lock = lock_data_dir(config.data_dir)
    # Not httpx: one device's few downloads do not need 4 MiB of it (edge_agent/http_fetch.py).
    fetcher = StreamingHttpFetcher(timeout_s=config.media_fetch_timeout_s)
    agent = build_agent(config, fetcher)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await agent.start()
    log.info("agent %s running (broker %s); Ctrl-C stops", config.device_id, config.broker_url)
    notify("READY=1")  # systemd's Type=notify unit: started (deploy/systemd/)
    try:
        await stop.wait()
    finally:
        notify("STOPPING=1")
        await agent.stop()
        await fetcher.aclose()
        lock.release()
