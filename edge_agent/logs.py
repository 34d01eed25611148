"""Logging for ``wardcast-agent``: JSON lines under systemd, readable lines on a terminal.

The same record as the controller's, built from the same pieces
(``wardcast_protocol/logs.py``, the package both sides may import): ``time`` (UTC, ISO
8601), ``level``, ``logger``, ``message``, then the context ids in force — here
``message_id`` while an MQTT message from the controller is handled (the command id,
else the topic). ``WARDCAST_AGENT_LOG_FORMAT`` is ``auto`` (JSON unless standard
error is a terminal), ``json`` or ``text``.

What is the agent's own is here: its context (a ``ContextVar`` of its own, so that in the
demo an agent's ids never label the controller's records), the filter that carries those
ids onto records for a handler that is not ours, its handler's name and its format setting.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import TextIO

from wardcast_protocol import logs as shared
from wardcast_protocol.logs import LogContext

FORMAT_ENV = "WARDCAST_AGENT_LOG_FORMAT"

_context = LogContext("wardcast_agent_log_context")

# The agent's context, under the names its modules import.
log_context = _context.scope
bind_log_context = _context.bind


class ContextFilter(logging.Filter):
    """Copies the agent's context ids onto each record, for a handler that is not ours.

    The demo runs agents beside the controller and logs through the controller's
    handler, which knows only its own context; with this filter the agents' ids ride
    on the records themselves.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        """Add the ids (never replacing an attribute the record has); keep the record."""
        for key, value in _context.current().items():
            if not hasattr(record, key):
                setattr(record, key, value)
        return True


class JsonFormatter(shared.JsonFormatter):
    """One JSON object per line: time, level, logger, message, context ids, extras."""

    def __init__(self) -> None:
        super().__init__(_context)


class TextFormatter(shared.TextFormatter):
    """``12:04:31 INFO    edge_agent.core: message [message_id=…]`` for a terminal."""

    def __init__(self) -> None:
        super().__init__(_context)


def configure_logging(
    level: str = "INFO", fmt: str | None = None, *, stream: TextIO | None = None
) -> logging.Handler:
    """Records at ``level`` and above to standard error; ``fmt`` defaults to the env's.

    Replaces a handler installed here before; leaves other root handlers alone.
    """
    target = stream if stream is not None else sys.stderr
    chosen = (fmt or os.environ.get(FORMAT_ENV) or "auto").strip().lower()
    if chosen not in ("auto", "json", "text"):
        raise ValueError(f"{FORMAT_ENV} is auto, json or text, not {chosen!r}")
    text = chosen == "text" or (chosen == "auto" and shared.is_terminal(target))
    formatter = TextFormatter() if text else JsonFormatter()
    return shared.install_handler(
        "wardcast-agent", formatter, level, stream=stream, noisy=("httpx", "httpcore")
    )
