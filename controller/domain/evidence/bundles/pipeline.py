"""Rows read on one thread, their signatures checked on the others, judged in file order.

Standard library only (and ``checks``, ``signatures``): part of the offline verifier. Ed25519
verification is three quarters of a verifier's work, and ``cryptography`` releases the
GIL while it verifies, so worker threads check signatures on every core while the
main thread reads and parses the next rows. Measured on the development machine
(2 vCPU): threads scale as processes do, without pickling every row across a pipe.

The invariant: each device's rows are fed to its ``DeviceCheck`` in file order, one
batch after the other, whatever thread checked their signatures — so the faults and
their order are exactly those of checking each row on the spot. At most ``depth``
batches are in flight, which bounds the memory the rows take on their way.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from types import TracebackType

from controller.domain.evidence.bundles.checks import DeviceCheck
from controller.domain.evidence.bundles.signatures import RowWork, check_signatures


def default_workers() -> int:
    """One signature thread per core."""
    return os.cpu_count() or 1


class SignaturePipeline:
    """Batches of rows in, judged in order; signatures checked on ``workers`` threads."""

    def __init__(
        self, workers: int | None = None, on_checked: Callable[[int], None] | None = None
    ) -> None:
        self.workers = max(1, workers if workers is not None else default_workers())
        # One thread needs no pool: the rows are checked on the spot.
        self._pool = ThreadPoolExecutor(self.workers) if self.workers > 1 else None
        self._depth = 2 * self.workers
        self._pending: deque[tuple[DeviceCheck, list[RowWork], Future[None] | None]] = deque()
        self._on_checked = on_checked

    def put(self, check: DeviceCheck, works: list[RowWork]) -> None:
        """Queue a batch of ``check``'s next rows; judge the oldest batches past the depth."""
        if not works:
            return
        if self._pool is None:
            check_signatures(check.key, works)
            self._pending.append((check, works, None))
        else:
            self._pending.append(
                (check, works, self._pool.submit(check_signatures, check.key, works))
            )
        while len(self._pending) > self._depth:
            self._settle()

    def _settle(self) -> None:
        check, works, future = self._pending.popleft()
        if future is not None:
            future.result()
        for work in works:
            check.feed(work)
        if self._on_checked is not None:
            self._on_checked(len(works))

    def drain(self) -> None:
        """Judge every batch still in flight."""
        while self._pending:
            self._settle()

    def close(self) -> None:
        """Stop the threads (batches not yet judged are dropped)."""
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
