"""Logging for the controller's processes: JSON lines for machines, readable lines for people.

``configure_logging(level, fmt)`` installs one handler on standard error. ``fmt="auto"``
(``WARDCAST_LOG_FORMAT``) writes JSON when standard error is not a terminal (systemd,
docker, a log shipper) and text when a person is watching. Every JSON record carries
``time`` (UTC, ISO 8601), ``level``, ``logger``, ``message`` and the context ids in
force when it was logged: ``request_id`` while an HTTP request is served (the API's
middleware, echoed in the ``X-Request-ID`` header), ``message_id`` while an MQTT message
is handled (the bridge: the event or report id, else the topic).

The context lives in a ``ContextVar``, so it follows a request into FastAPI's
threadpool and never leaks into another request or message. The edge agent keeps its
own copy of the formatter (``edge_agent/logs.py``): it may not import the controller,
and a test holds the two record shapes the same.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Literal, TextIO

LogFormat = Literal["auto", "json", "text"]

_context: ContextVar[Mapping[str, str]] = ContextVar(
    "wardcast_log_context", default=MappingProxyType({})
)

# Attributes every LogRecord has: anything else on a record came from ``extra=``.
_STANDARD = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "taskName"}
_CARRIED_IDS = ("request_id", "message_id")
_NOISY = ("httpx", "httpcore", "uvicorn.access", "alembic", "pydub.converter", "apscheduler")


@contextmanager
def log_context(**ids: str) -> Iterator[None]:
    """Label every record logged inside the block (this thread or task) with ``ids``."""
    token = _context.set({**_context.get(), **ids})
    try:
        yield
    finally:
        _context.reset(token)


def bind_log_context(**ids: str) -> None:
    """Add or replace ids for the rest of the enclosing :func:`log_context` block."""
    _context.set({**_context.get(), **ids})


def current_log_context() -> Mapping[str, str]:
    """The ids in force here (empty outside any request or message)."""
    return _context.get()


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, context ids, extras."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as a single line of JSON."""
        doc: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        doc.update(_context.get())
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_") and key not in doc:
                doc[key] = value if isinstance(value, str | int | float | bool) else str(value)
        if record.exc_info:
            doc["exception"] = self.formatException(record.exc_info)
        return json.dumps(doc, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """``12:04:31 INFO    controller.x: message [request_id=…]`` for a terminal."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s: %(message)s", "%H:%M:%S")

    def format(self, record: logging.LogRecord) -> str:
        """The classic line, with the context ids appended when there are any."""
        line = super().format(record)
        # Ids carried on the record itself (the agents' in the demo: edge_agent.logs).
        carried = {k: str(record.__dict__[k]) for k in _CARRIED_IDS if k in record.__dict__}
        ids = {**carried, **_context.get()}
        if not ids:
            return line
        head, sep, tail = line.partition("\n")  # keep a traceback below the ids
        return head + " [" + " ".join(f"{k}={v}" for k, v in ids.items()) + "]" + sep + tail


def resolve_format(fmt: str, stream: TextIO) -> Literal["json", "text"]:
    """``auto`` is JSON unless ``stream`` is a terminal; anything else is taken as given."""
    if fmt == "json":
        return "json"
    if fmt == "text":
        return "text"
    if fmt != "auto":
        raise ValueError(f"log format is auto, json or text, not {fmt!r}")
    isatty = getattr(stream, "isatty", None)
    return "text" if isatty is not None and isatty() else "json"


class _StandardError(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is when a record comes, not when it was made.

    A command run in-process (a test's CliRunner) swaps ``sys.stderr`` for a while and
    closes its stand-in afterwards; a handler holding the stand-in would then fail on
    every record.
    """

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self) -> TextIO:
        """The current standard error."""
        return sys.stderr

    @stream.setter
    def stream(self, value: TextIO) -> None:
        """Ignored: the stream is always the current standard error."""


def configure_logging(
    level: str = "INFO", fmt: str = "auto", *, stream: TextIO | None = None
) -> logging.Handler:
    """Send records at ``level`` and above to standard error as JSON or text; returns the handler.

    Replaces a handler this function installed before (so it can be called again) and
    leaves any other root handler alone (pytest's, for one). Chatty libraries are
    held to warnings.
    """
    target = stream if stream is not None else sys.stderr
    handler = logging.StreamHandler(target) if stream is not None else _StandardError()
    handler.setFormatter(
        JsonFormatter() if resolve_format(fmt, target) == "json" else TextFormatter()
    )
    handler.set_name("wardcast")
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == "wardcast"]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    for noisy in _NOISY:
        logging.getLogger(noisy).setLevel(logging.WARNING)
    return handler
