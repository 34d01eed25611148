"""Logging for ``wardcast-agent``: JSON lines under systemd, readable lines on a terminal.

The same record shape as the controller's (``controller/logs.py``): ``time`` (UTC, ISO
8601), ``level``, ``logger``, ``message``, then the context ids in force — here
``message_id`` while an MQTT message from the controller is handled (the command id,
else the topic). ``WARDCAST_AGENT_LOG_FORMAT`` is ``auto`` (JSON unless standard
error is a terminal), ``json`` or ``text``.

A copy, not an import, on purpose: the agent may not import the controller, and a
~40-line formatter does not earn a package of its own (the protocol package stays
about the protocol, firmware_stubs about hardware). ``tests/unit/test_logs.py`` holds
the two copies to the same fields.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from types import MappingProxyType
from typing import TextIO

FORMAT_ENV = "WARDCAST_AGENT_LOG_FORMAT"

_context: ContextVar[Mapping[str, str]] = ContextVar(
    "wardcast_agent_log_context", default=MappingProxyType({})
)
_STANDARD = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "taskName"}


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


class ContextFilter(logging.Filter):
    """Copies the agent's context ids onto each record, for a handler that is not ours.

    The demo runs agents beside the controller and logs through the controller's
    handler, which knows only its own context; with this filter the agents' ids ride
    on the records themselves.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        """Add the ids (never replacing an attribute the record has); keep the record."""
        for key, value in _context.get().items():
            if not hasattr(record, key):
                setattr(record, key, value)
        return True


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
    """``12:04:31 INFO    edge_agent.core: message [message_id=…]`` for a terminal."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s: %(message)s", "%H:%M:%S")

    def format(self, record: logging.LogRecord) -> str:
        """The classic line, with the context ids appended when there are any."""
        line = super().format(record)
        ids = _context.get()
        if not ids:
            return line
        head, sep, tail = line.partition("\n")
        return head + " [" + " ".join(f"{k}={v}" for k, v in ids.items()) + "]" + sep + tail


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
    level: str = "INFO", fmt: str | None = None, *, stream: TextIO | None = None
) -> logging.Handler:
    """Records at ``level`` and above to standard error; ``fmt`` defaults to the env's.

    Replaces a handler installed here before; leaves other root handlers alone.
    """
    target = stream if stream is not None else sys.stderr
    chosen = (fmt or os.environ.get(FORMAT_ENV) or "auto").strip().lower()
    if chosen not in ("auto", "json", "text"):
        raise ValueError(f"{FORMAT_ENV} is auto, json or text, not {chosen!r}")
    isatty = getattr(target, "isatty", None)
    text = chosen == "text" or (chosen == "auto" and isatty is not None and isatty())
    handler = logging.StreamHandler(target) if stream is not None else _StandardError()
    handler.setFormatter(TextFormatter() if text else JsonFormatter())
    handler.set_name("wardcast-agent")
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == "wardcast-agent"]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    for noisy in ("httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    return handler
