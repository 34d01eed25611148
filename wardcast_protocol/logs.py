"""The log record both sides write: JSON lines for machines, readable lines for people.

Every JSON record carries ``time`` (UTC, ISO 8601), ``level``, ``logger``, ``message``,
the context ids in force when it was logged, then any ``extra=`` fields. The controller
(``controller/logs.py``) and the edge agent (``edge_agent/logs.py``) each build their
handler from these pieces with their own :class:`LogContext`, their own handler name and
their own way of choosing the format; the record itself is defined once, here, because
an operator's log shipper reads both and ``docs/operations.md`` lists one set of fields.

Each side keeps its own ``ContextVar`` on purpose: in the demo the agents run beside the
controller in one process, and an agent's ``message_id`` must not label the controller's
records (it rides on the record instead: ``edge_agent.logs.ContextFilter``).
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
from typing import TextIO

# Attributes every LogRecord has: anything else on a record came from ``extra=``.
_STANDARD = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "taskName"}


class LogContext:
    """The ids (request, message) that label every record logged in a block of one side.

    Lives in a ``ContextVar``, so it follows a request into FastAPI's threadpool or a
    message into its asyncio task, and never leaks into another.
    """

    __slots__ = ("_var",)

    def __init__(self, name: str) -> None:
        self._var: ContextVar[Mapping[str, str]] = ContextVar(name, default=MappingProxyType({}))

    @contextmanager
    def scope(self, **ids: str) -> Iterator[None]:
        """Label every record logged inside the block (this thread or task) with ``ids``."""
        token = self._var.set({**self._var.get(), **ids})
        try:
            yield
        finally:
            self._var.reset(token)

    def bind(self, **ids: str) -> None:
        """Add or replace ids for the rest of the enclosing :meth:`scope` block."""
        self._var.set({**self._var.get(), **ids})

    def current(self) -> Mapping[str, str]:
        """The ids in force here (empty outside any request or message)."""
        return self._var.get()


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, context ids, extras."""

    def __init__(self, context: LogContext) -> None:
        super().__init__()
        self._context = context

    def format(self, record: logging.LogRecord) -> str:
        """The record as a single line of JSON."""
        doc: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        doc.update(self._context.current())
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_") and key not in doc:
                doc[key] = value if isinstance(value, str | int | float | bool) else str(value)
        if record.exc_info:
            doc["exception"] = self.formatException(record.exc_info)
        return json.dumps(doc, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """``12:04:31 INFO    edge_agent.core: message [message_id=…]`` for a terminal.

    ``carried`` names ids that may ride on the record itself (put there by another
    side's filter, as in the demo); the context's own ids win over them.
    """

    def __init__(self, context: LogContext, carried: tuple[str, ...] = ()) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s: %(message)s", "%H:%M:%S")
        self._context = context
        self._carried = carried

    def format(self, record: logging.LogRecord) -> str:
        """The classic line, with the context ids appended when there are any."""
        line = super().format(record)
        ids = self._context.current()
        if self._carried:  # only then a new dict: the agent's records build none
            on_record = {k: str(record.__dict__[k]) for k in self._carried if k in record.__dict__}
            ids = {**on_record, **ids}
        if not ids:
            return line
        head, sep, tail = line.partition("\n")  # keep a traceback below the ids
        return head + " [" + " ".join(f"{k}={v}" for k, v in ids.items()) + "]" + sep + tail


def is_terminal(stream: TextIO) -> bool:
    """Whether a person is watching ``stream`` (``auto`` then means text, else JSON)."""
    isatty = getattr(stream, "isatty", None)
    return isatty is not None and bool(isatty())


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


def install_handler(
    name: str,
    formatter: logging.Formatter,
    level: str,
    *,
    stream: TextIO | None,
    noisy: tuple[str, ...],
) -> logging.Handler:
    """Put one root handler called ``name`` in place, writing to ``stream`` or standard error.

    Replaces a handler of that name installed before (so a side may configure again) and
    leaves any other root handler alone (pytest's, for one). The ``noisy`` libraries are
    held to warnings. Returns the handler.
    """
    handler = logging.StreamHandler(stream) if stream is not None else _StandardError()
    handler.setFormatter(formatter)
    handler.set_name(name)
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == name]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    for library in noisy:
        logging.getLogger(library).setLevel(logging.WARNING)
    return handler
