"""A progress line on standard error, drawn only for a person watching a terminal.

Standard library only, so that the offline bundle verifier can use it on an evaluator's
laptop. Nothing is written unless the stream is a terminal: piped or redirected output
(a script, a cron job, ``> report.csv``) stays exactly what it was. ``WARDCAST_PROGRESS``
overrides: ``always`` draws even off a terminal (tests, ``script`` recordings), ``never``
draws nothing.

Two shapes: :class:`Progress` when the amount of work is known (rows checked, of how
many), :class:`Waiting` when it is not (a controller building a report): a spinner
with the seconds elapsed, redrawn by a daemon thread. Both erase their line when done,
so the command's own output starts on a clean line.
"""

from __future__ import annotations

import os
import shutil
import sys
import threading
import time
from types import TracebackType
from typing import TextIO

ENV = "WARDCAST_PROGRESS"
FIRST_DRAW_S = 0.5  # a spinner appears only for waits longer than this: no flicker
_SPINNER = "|/-\\"


def wanted(stream: TextIO) -> bool:
    """Whether to draw on ``stream``: a terminal, unless ``WARDCAST_PROGRESS`` says."""
    forced = os.environ.get(ENV, "").strip().lower()
    if forced in ("always", "1", "yes", "on"):
        return True
    if forced in ("never", "0", "no", "off"):
        return False
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except ValueError:  # a closed stream
        return False


def _fit(text: str) -> str:
    width = shutil.get_terminal_size((80, 24)).columns
    return text if len(text) < width else text[: max(0, width - 2)] + "…"


class _Line:
    """One line redrawn in place with ``\\r``; throttled; erased at the end."""

    def __init__(self, stream: TextIO | None, enabled: bool | None) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = wanted(self.stream) if enabled is None else enabled
        self.started = time.monotonic()
        self._drawn = 0
        self._last = 0.0

    def draw(self, text: str, *, force: bool = False) -> None:
        now = time.monotonic()
        if not self.enabled or (not force and now - self._last < 0.1):
            return
        self._last = now
        text = _fit(text)
        self.stream.write("\r" + text + " " * max(0, self._drawn - len(text)))
        self.stream.flush()
        self._drawn = len(text)

    def erase(self) -> None:
        if self.enabled and self._drawn:
            self.stream.write("\r" + " " * self._drawn + "\r")
            self.stream.flush()
            self._drawn = 0

    def elapsed(self) -> str:
        return f"{time.monotonic() - self.started:.0f} s"


class Progress:
    """``label [#####.....]  42%  4,200/10,000 rows  3 s``, for work of a known size."""

    def __init__(
        self,
        label: str,
        total: int,
        *,
        unit: str = "",
        stream: TextIO | None = None,
        enabled: bool | None = None,
    ) -> None:
        self.label = label
        self.total = max(0, total)
        self.unit = unit
        self.done = 0
        self._line = _Line(stream, enabled)

    @property
    def enabled(self) -> bool:
        """Whether anything is drawn at all."""
        return self._line.enabled

    def update(self, done: int, *, note: str = "") -> None:
        """Set how much is done (clamped to the total) and redraw, at most ten times a second."""
        self.done = min(max(0, done), self.total)
        share = self.done / self.total if self.total else 1.0
        bar = "#" * int(share * 20)
        unit = f" {self.unit}" if self.unit else ""
        text = (
            f"{self.label} [{bar:.<20}] {share:4.0%}  {self.done:,}/{self.total:,}{unit}"
            f"  {self._line.elapsed()}"
        )
        self._line.draw(text + (f"  {note}" if note else ""), force=self.done == self.total)

    def advance(self, amount: int = 1, *, note: str = "") -> None:
        """Count ``amount`` more done."""
        self.update(self.done + amount, note=note)

    def close(self) -> None:
        """Erase the line."""
        self._line.erase()

    def __enter__(self) -> Progress:
        self.update(0)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class Waiting:
    """``label |  12 s``: a spinner while something of unknown length runs elsewhere.

    Drawn from ``FIRST_DRAW_S`` on, so a quick answer shows nothing at all.
    """

    def __init__(
        self,
        label: str,
        *,
        stream: TextIO | None = None,
        enabled: bool | None = None,
        interval_s: float = 0.2,
    ) -> None:
        self.label = label
        self._line = _Line(stream, enabled)
        self._interval_s = interval_s
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    @property
    def enabled(self) -> bool:
        """Whether anything is drawn at all."""
        return self._line.enabled

    def _spin(self) -> None:
        turn = 0
        if self._stop.wait(FIRST_DRAW_S):
            return
        while True:
            with self._lock:
                if self._stop.is_set():
                    return
                mark = _SPINNER[turn % len(_SPINNER)]
                self._line.draw(f"{self.label} {mark}  {self._line.elapsed()}", force=True)
            turn += 1
            if self._stop.wait(self._interval_s):
                return

    def __enter__(self) -> Waiting:
        if self.enabled:
            self._thread = threading.Thread(target=self._spin, name="progress", daemon=True)
            self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        with self._lock:  # no redraw may land after the erase
            self._stop.set()
            self._line.erase()
        if self._thread is not None:
            self._thread.join(1.0)
