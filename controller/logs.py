"""Logging for the controller's processes: JSON lines for machines, readable lines for people.

``configure_logging(level, fmt)`` installs one handler on standard error. ``fmt="auto"``
(``WARDCAST_LOG_FORMAT``) writes JSON when standard error is not a terminal (systemd,
docker, a log shipper) and text when a person is watching. Every JSON record carries
``time`` (UTC, ISO 8601), ``level``, ``logger``, ``message`` and the context ids in
force when it was logged: ``request_id`` while an HTTP request is served (the API's
middleware, echoed in the ``X-Request-ID`` header), ``message_id`` while an MQTT message
is handled (the bridge: the event or report id, else the topic).

The context lives in a ``ContextVar``, so it follows a request into FastAPI's
threadpool and never leaks into another request or message. The record shape, the
formatters and the handler are shared with the edge agent (``wardcast_protocol/logs.py``,
the package both sides may import); what is the controller's own is here: its context,
its handler's name, its format setting and the libraries it quietens.
"""

from __future__ import annotations

import logging
import sys
from typing import Literal, TextIO

from wardcast_protocol import logs as shared
from wardcast_protocol.logs import LogContext

LogFormat = Literal["auto", "json", "text"]

_context = LogContext("wardcast_log_context")

# Ids an agent's filter may put on a record in the demo (edge_agent.logs.ContextFilter).
_CARRIED_IDS = ("request_id", "message_id")
_NOISY = ("httpx", "httpcore", "uvicorn.access", "alembic", "pydub.converter", "apscheduler")

# The controller's context, under the names its modules import.
log_context = _context.scope
bind_log_context = _context.bind
current_log_context = _context.current


class JsonFormatter(shared.JsonFormatter):
    """One JSON object per line: time, level, logger, message, context ids, extras."""

    def __init__(self) -> None:
        super().__init__(_context)


class TextFormatter(shared.TextFormatter):
    """``12:04:31 INFO    controller.x: message [request_id=…]`` for a terminal."""

    def __init__(self) -> None:
        super().__init__(_context, _CARRIED_IDS)


def resolve_format(fmt: str, stream: TextIO) -> Literal["json", "text"]:
    """``auto`` is JSON unless ``stream`` is a terminal; anything else is taken as given."""
    if fmt == "json":
        return "json"
    if fmt == "text":
        return "text"
    if fmt != "auto":
        raise ValueError(f"log format is auto, json or text, not {fmt!r}")
    return "text" if shared.is_terminal(stream) else "json"


def configure_logging(
    level: str = "INFO", fmt: str = "auto", *, stream: TextIO | None = None
) -> logging.Handler:
    """Send records at ``level`` and above to standard error as JSON or text; returns the handler.

    Replaces a handler this function installed before (so it can be called again) and
    leaves any other root handler alone (pytest's, for one). Chatty libraries are
    held to warnings.
    """
    target = stream if stream is not None else sys.stderr
    json_records = resolve_format(fmt, target) == "json"
    formatter = JsonFormatter() if json_records else TextFormatter()
    return shared.install_handler("wardcast", formatter, level, stream=stream, noisy=_NOISY)
