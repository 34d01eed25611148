"""Where a simulated fleet's loop spends its time around the starts (bench only).

``bench.start_precision --trace FILE`` installs a ``LoopTrace`` on the fleet's loop for
the session and writes what it saw to FILE (JSON), then prints, item by item, what
was happening when the starts were due:

- every loop iteration that ran callbacks for more than ``LONG_S`` (its wall time,
  the thread's CPU time in it, how many callbacks), and every ``select`` that came
  back more than ``LONG_S`` after its timeout (the process was not scheduled: the
  machine, not the loop);
- each callback's time, summed by name (a task's outer coroutine) in 10 ms windows;
- the collector's passes (``gc.callbacks``: generation, duration);
- the start board's slot callbacks (how late each fired, how many starts it held);
- the agents' journal and outbox writes (when each item was prepared, how long each
  SQLite commit took).

All times are monotonic (the loop's clock). It patches asyncio's ``Handle._run`` for
the process while installed: a few hundred nanoseconds a callback.
"""

from __future__ import annotations

import asyncio
import functools
import gc
import json
import time
from collections import defaultdict
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from edge_agent.outbox import Outbox
from edge_agent.timing import SPIN_S, StartBoard

LONG_S = 0.003  # iterations, selects and callbacks longer than this are listed one by one
WINDOW_S = 0.01  # callbacks' time is summed per name in windows this long
_OUTBOX_OPS = ("journal_start", "journal_end", "journal_sounding", "journal_progress", "append")


def _handle_name(handle: asyncio.Handle) -> str:
    callback = handle._callback  # type: ignore[attr-defined]
    owner = getattr(callback, "__self__", None)
    if isinstance(owner, asyncio.Task):
        coro = owner.get_coro()
        return f"task:{getattr(coro, '__qualname__', repr(coro))}"
    callback = getattr(callback, "func", callback)  # a functools.partial
    name = getattr(callback, "__qualname__", None)
    return str(name) if name is not None else type(callback).__name__


class LoopTrace:
    """Records one loop's iterations, callbacks, collections, slots and writes."""

    def __init__(self) -> None:
        self.iterations: list[tuple[float, float, float, int]] = []  # t, wall, cpu, handles
        self.overshoots: list[tuple[float, float, float]] = []  # t, timeout, late by
        self.slow: list[tuple[float, float, str]] = []  # t, duration, callback
        self.windows: dict[int, dict[str, list[float]]] = defaultdict(dict)
        self.collections: list[tuple[float, int, float]] = []  # t, generation, duration
        self.slots: list[tuple[float, float, int, float]] = []  # fired, deadline, n, spun
        self.writes: list[tuple[float, float, str, str]] = []  # t, duration, op, item id
        self._undo: list[Callable[[], None]] = []
        self._gc_began = 0.0
        self._handles = 0

    # installing -----------------------------------------------------------------

    def install(self, loop: asyncio.AbstractEventLoop) -> None:
        """Start recording (call on ``loop``'s thread, between two iterations)."""
        self._patch_loop(loop)
        self._patch_handles()
        self._patch_board()
        self._patch_outbox()
        gc.callbacks.append(self._on_gc)
        self._undo.append(lambda: gc.callbacks.remove(self._on_gc))

    def uninstall(self) -> None:
        """Stop recording and put everything back."""
        while self._undo:
            self._undo.pop()()

    def _patch_loop(self, loop: asyncio.AbstractEventLoop) -> None:
        base: Any = loop
        run_once = base._run_once
        selector = base._selector
        select = selector.select
        mark = [0.0, 0.0]  # monotonic and thread CPU time when select returned

        def timed_select(timeout: float | None = None) -> Any:
            began = time.monotonic()
            try:
                return select(timeout)
            finally:
                now = mark[0] = time.monotonic()
                mark[1] = time.thread_time()
                if timeout is not None and now - began - timeout > LONG_S:
                    self.overshoots.append((began, timeout, now - began - timeout))

        def timed_run_once() -> None:
            before = self._handles
            run_once()
            wall = time.monotonic() - mark[0]
            if wall > LONG_S:
                cpu = time.thread_time() - mark[1]
                self.iterations.append((mark[0], wall, cpu, self._handles - before))

        base._run_once = timed_run_once
        selector.select = timed_select

        def undo() -> None:
            del base._run_once
            del selector.select

        self._undo.append(undo)

    def _patch_handles(self) -> None:
        run = asyncio.Handle._run
        trace = self

        def timed_run(handle: asyncio.Handle) -> None:
            began = time.monotonic()
            try:
                run(handle)
            finally:
                took = time.monotonic() - began
                trace._handles += 1
                name = _handle_name(handle)
                cell = trace.windows[int(began / WINDOW_S)].setdefault(name, [0, 0.0])
                cell[0] += 1
                cell[1] += took
                if took > LONG_S:
                    trace.slow.append((began, took, name))

        setattr(asyncio.Handle, "_run", timed_run)  # noqa: B010 (a method, patched)
        self._undo.append(lambda: setattr(asyncio.Handle, "_run", run))

    def _patch_board(self) -> None:
        release = StartBoard._release
        trace = self

        def timed_release(board: StartBoard, slot: int) -> None:
            group = board._groups.get(slot)
            armed = len(board._slot_of)
            fired = time.monotonic()
            release(board, slot)
            if group is not None:
                spun = time.monotonic() - fired
                # Released: this slot's starts and those of the slots taken with it.
                trace.slots.append((fired, group.deadline, armed - len(board._slot_of), spun))

        setattr(StartBoard, "_release", timed_release)  # noqa: B010 (a method, patched)
        self._undo.append(lambda: setattr(StartBoard, "_release", release))

    def _patch_outbox(self) -> None:
        for op in _OUTBOX_OPS:
            original = getattr(Outbox, op)
            setattr(Outbox, op, self._timed(op, original))
            self._undo.append(functools.partial(setattr, Outbox, op, original))

    def _timed(self, op: str, original: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(original)
        def timed(outbox: Outbox, *args: Any, **kwargs: Any) -> Any:
            began = time.monotonic()
            try:
                return original(outbox, *args, **kwargs)
            finally:
                item_id = args[1] if op == "append" and len(args) > 1 else args[0]
                self.writes.append((began, time.monotonic() - began, op, str(item_id)))

        return timed

    def _on_gc(self, phase: str, info: dict[str, int]) -> None:
        now = time.monotonic()
        if phase == "start":
            self._gc_began = now
        else:
            self.collections.append((self._gc_began, info["generation"], now - self._gc_began))

    # reading --------------------------------------------------------------------

    def dump(self, path: Path, extra: dict[str, Any]) -> None:
        """Everything recorded, as JSON (with ``extra``: the planned instants, starts)."""
        windows = {str(k): v for k, v in self.windows.items()}
        data = {
            "iterations": self.iterations,
            "overshoots": self.overshoots,
            "slow": self.slow,
            "windows": windows,
            "collections": self.collections,
            "slots": self.slots,
            "writes": self.writes,
            **extra,
        }
        path.write_text(json.dumps(data))

    def report(self, planned: dict[str, datetime], late: dict[str, list[float]]) -> list[str]:
        """Per item: what the loop did from its preparation to its last start."""
        offset = time.time() - time.monotonic()
        lines = []
        for item_id, at in sorted(planned.items(), key=lambda kv: kv[1]):
            due = at.timestamp() - offset
            lateness = sorted(late.get(item_id, [0.0]))
            worst = lateness[-1]
            lines.append(self._item_line(item_id, due, worst, lateness))
            lines.extend(self._around(due, worst))
        return lines

    def _item_line(self, item_id: str, due: float, worst: float, lateness: list[float]) -> str:
        prepared = [
            t - due for t, _, op, i in self.writes if op == "journal_start" and i == item_id
        ]
        slots = [(f - (d - SPIN_S), n) for f, d, n, _ in self.slots if abs(d - due) < 0.2]
        over = sum(1 for x in lateness if x > 0.010)
        text = (
            f"{item_id}: starts late max {worst * 1000:.1f} ms, >10 ms: {over}/{len(lateness)}; "
            f"prepared {len(prepared)}"
        )
        if prepared:
            text += f" from {min(prepared):+.3f} to {max(prepared):+.3f} s of its instant"
        if slots:
            fired = ", ".join(f"{n} fired {late * 1000:+.1f} ms late" for late, n in slots)
            text += f"; {len(slots)} slot(s): {fired}"
        return text

    def _around(self, due: float, worst: float) -> list[str]:
        begin, end = due - 0.6, due + max(worst, 0.0) + 0.005
        lines = []
        for t, wall, cpu, n in self.iterations:
            if t + wall > due - 0.05 and t < end and wall > 0.005:
                lines.append(
                    f"    iteration at {t - due:+.3f} s: {wall * 1000:.1f} ms "
                    f"(thread CPU {cpu * 1000:.1f} ms), {n} callbacks"
                )
        for t, _, by in self.overshoots:
            if begin < t < end:
                lines.append(f"    select at {t - due:+.3f} s woke {by * 1000:.1f} ms late")
        for t, gen, took in self.collections:
            if begin < t < end:
                lines.append(f"    gc gen{gen} at {t - due:+.3f} s: {took * 1000:.1f} ms")
        for t, took, name in self.slow:
            if t + took > due - 0.05 and t < end and took > 0.005:
                lines.append(f"    callback {name} at {t - due:+.3f} s: {took * 1000:.1f} ms")
        by_name: dict[str, list[float]] = {}
        for window in range(int((due - 0.1) / WINDOW_S), int(due / WINDOW_S) + 1):
            for name, (count, total) in self.windows.get(window, {}).items():
                cell = by_name.setdefault(name, [0, 0.0])
                cell[0] += count
                cell[1] += total
        top = sorted(by_name.items(), key=lambda kv: -kv[1][1])[:4]
        if top:
            lines.append(
                "    last 100 ms before it: "
                + ", ".join(f"{name} {n:.0f}x {s * 1000:.1f} ms" for name, (n, s) in top)
            )
        writes: dict[str, list[float]] = {}
        for t, took, op, _ in self.writes:
            if due - 0.6 < t < due:
                cell = writes.setdefault(op, [0, 0.0])
                cell[0] += 1
                cell[1] += took
        if writes:
            lines.append(
                "    writes in the 0.6 s before it: "
                + ", ".join(f"{op} {n:.0f}x {s * 1000:.0f} ms" for op, (n, s) in writes.items())
            )
        return lines
