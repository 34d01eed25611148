"""Rows read in this process, their signatures checked in others, judged in file order.

Standard library only (and ``checks``, ``signatures``, ``ed25519``): part of the offline
verifier. Ed25519 verification is most of a verifier's work. It used to run on threads,
since ``cryptography`` releases the GIL while it verifies; but between two signatures a
thread needs the GIL back, and the reading thread, parsing JSON, holds it for up to the
switch interval (5 ms): on the 2-core development machine a ward-year took 5.0–5.5 s
on threads and 3.1–3.4 s on worker processes, which need no GIL and are sent only the
bytes to check (``signatures.signed_parts``), a few hundred rows a batch.

Processes are forked, and only from a single-threaded verifier on Linux (the command);
a threaded caller, such as the controller archiving a period, gets threads
(``_start_pool``). A small bundle is checked on the spot: the workers start once
``POOL_AFTER_ROWS`` rows have been read. If a worker dies (out of memory, killed), the
rows are checked here instead: how a signature is checked never changes the verdict.

The invariant: each device's rows are fed to its ``DeviceCheck`` in file order, one
batch after the other, wherever their signatures were checked — so the faults and their
order are exactly those of checking each row on the spot. At most ``depth`` batches are
in flight, which bounds the memory the rows take on their way.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from types import TracebackType

from controller.domain.evidence.bundles.checks import DeviceCheck
from controller.domain.evidence.bundles.ed25519 import signatures_valid
from controller.domain.evidence.bundles.signatures import (
    RowWork,
    check_signatures,
    set_verdicts,
    signed_parts,
)

# About 0.3 s of signatures on one core: below it, the processes cost more than they save.
POOL_AFTER_ROWS = 4_000


def _start_pool(workers: int) -> Executor:
    """Worker processes, forked, for a single-threaded verifier on Linux (the command:
    instant, nothing imported twice); threads for anyone else.

    A forked copy of another thread's held lock never unlocks, so a threaded caller
    (the controller archiving a period) is never forked; and spawned workers would
    import the caller's main module again (the whole controller, for ``wardcast
    serve``). Threads still check signatures while the caller reads, only more slowly.
    """
    if threading.active_count() == 1 and sys.platform.startswith("linux"):
        return ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork"))
    return ThreadPoolExecutor(workers)


def default_workers() -> int:
    """One signature process per core."""
    return os.cpu_count() or 1


class SignaturePipeline:
    """Batches of rows in, judged in order; signatures checked in ``workers`` processes."""

    def __init__(
        self,
        workers: int | None = None,
        on_checked: Callable[[int], None] | None = None,
        *,
        pool_after_rows: int | None = None,
    ) -> None:
        self.workers = max(1, workers if workers is not None else default_workers())
        self._pool_after = POOL_AFTER_ROWS if pool_after_rows is None else pool_after_rows
        self._pool: Executor | None = None
        self._pool_failed = False
        self._rows = 0
        # Enough batches in flight to keep every worker busy while this process reads.
        self._depth = 4 * self.workers
        self._pending: deque[tuple[DeviceCheck, list[RowWork], Future[list[bool]] | None]] = deque()
        self._on_checked = on_checked

    @property
    def pooled(self) -> bool:
        """Whether workers were started (the tests read it)."""
        return self._pool is not None

    def put(self, check: DeviceCheck, works: list[RowWork]) -> None:
        """Queue a batch of ``check``'s next rows; judge the oldest batches past the depth."""
        if not works:
            return
        self._rows += len(works)
        pool = self._pool_for_now()
        future: Future[list[bool]] | None = None
        if pool is not None:
            try:
                future = pool.submit(signatures_valid, check.key, signed_parts(works))
            except BrokenProcessPool:
                self._give_up_pool()
        if future is None:
            check_signatures(check.key, works)
        self._pending.append((check, works, future))
        while len(self._pending) > self._depth:
            self._settle()

    def _pool_for_now(self) -> Executor | None:
        idle = self._pool is None and not self._pool_failed and self.workers > 1
        if idle and self._rows > self._pool_after:
            self._pool = _start_pool(self.workers)
        return self._pool

    def _give_up_pool(self) -> None:
        self._pool_failed = True
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None

    def _settle(self) -> None:
        check, works, future = self._pending.popleft()
        if future is not None:
            try:
                set_verdicts(works, future.result())
            except BrokenProcessPool:
                self._give_up_pool()
                check_signatures(check.key, works)
        for work in works:
            check.feed(work)
        if self._on_checked is not None:
            self._on_checked(len(works))

    def drain(self) -> None:
        """Judge every batch still in flight."""
        while self._pending:
            self._settle()

    def close(self) -> None:
        """Stop the workers (batches not yet judged are dropped)."""
        self._pending.clear()
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> SignaturePipeline:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
