"""Retrying an ingest batch whose transaction failed for a passing reason.

Replicas sharing the ingest on one PostgreSQL (docs/scale.md, "Replicas") lock devices'
chain rows in device order, but a batch also writes rows every batch shares (report
rollup marks, a broadcast's progress note), and a connection can drop. PostgreSQL then
aborts one of the transactions with a deadlock (40P01) or a serialization failure
(40001), or the driver loses its connection. Nothing is wrong with the batch: the same
transaction run again a moment later commits. Without a retry its events waited for
their devices' resend (30 s), and a bench that sends each event once ended one short.

What is retried is decided by the error alone, never by the data: a bad event (a
unique violation, a value out of range, a domain refusal) fails the same way every
time, so it is not retried; the batch path isolates it as before (one by one, each in
its savepoint), so it is refused alone and its batch-mates are stored.
"""

from __future__ import annotations

import logging
import random
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from sqlalchemy.exc import DBAPIError

from controller.metrics import registry as metrics

log = logging.getLogger("controller.messaging.bridge")

T = TypeVar("T")

_SQLSTATES = {
    "40P01": "deadlock",  # deadlock_detected: PostgreSQL chose this transaction to abort
    "40001": "serialization",  # serialization_failure: run it again, says PostgreSQL
    "57P01": "connection",  # admin_shutdown: the server is restarting (a failover)
    "57P02": "connection",  # crash_shutdown
    "57P03": "connection",  # cannot_connect_now: the server is starting
}


def transient_cause(exc: BaseException) -> str | None:
    """Why ``exc`` is worth a retry (deadlock, serialization, connection, locked), or None.

    Follows the exception's causes (``BatchFailed`` wraps what the batch hit); the first
    database error found decides: a data error or a bug is not transient.
    """
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, DBAPIError):
            if current.connection_invalidated:
                return "connection"
            return _of_driver(current.orig)
        cause = _of_driver(current)
        if cause is not None:
            return cause
        current = current.__cause__ or (
            None if current.__suppress_context__ else current.__context__
        )
    return None


def _of_driver(error: BaseException | None) -> str | None:
    """The driver's own error: by its SQLSTATE on PostgreSQL, by its kind on SQLite."""
    if error is None:
        return None
    sqlstate = getattr(error, "sqlstate", None)  # psycopg 3
    if isinstance(sqlstate, str):
        # Class 08: connection exceptions (the link to the server failed).
        return _SQLSTATES.get(sqlstate) or ("connection" if sqlstate.startswith("08") else None)
    if type(error).__name__ == "OperationalError" and type(error).__module__.startswith("psycopg"):
        return "connection"  # psycopg's OperationalError without a SQLSTATE: the link went
    if isinstance(error, sqlite3.OperationalError) and "locked" in str(error):
        return "locked"  # another writer past the busy timeout (a CLI command, a backup)
    return None


@dataclass(frozen=True)
class RetryPolicy:
    """At most ``attempts`` runs of a batch, a short jittered pause between them."""

    attempts: int = 4  # the first run and three retries
    base_s: float = 0.02
    cap_s: float = 0.5
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False)
    jitter: Callable[[], float] = field(default=random.random, repr=False)  # in [0, 1)

    def delay(self, retry: int) -> float:
        """The pause before retry ``retry`` (1, 2, …): doubling, capped, half of it random.

        Random so that two replicas aborted by one deadlock do not meet again at the
        same instant; at least half the step, so that the winner has time to commit.
        """
        step = min(self.cap_s, self.base_s * 2.0 ** (retry - 1))
        return step / 2 + step / 2 * self.jitter()

    def run(self, attempt: Callable[[bool], T], what: str) -> T:
        """``attempt(final)`` until it returns; retried only on a transient error.

        ``final`` is True on the last run: the caller then does what it did before
        retries existed (store one by one, leave what still fails to the resend).
        """
        for n in range(1, self.attempts + 1):
            final = n == self.attempts
            try:
                return attempt(final)
            except Exception as exc:
                cause = transient_cause(exc)
                if final or cause is None:
                    raise
                pause = self.delay(n)
                metrics.ingest_retried(cause)
                log.warning(
                    "%s failed (%s: %s); retry %d of %d in %.0f ms",
                    what,
                    cause,
                    _first_line(exc),
                    n,
                    self.attempts - 1,
                    pause * 1000,
                )
                self.sleep(pause)
        raise AssertionError("unreachable: the last attempt returns or raises")


def _first_line(exc: BaseException) -> str:
    """The driver's message, not SQLAlchemy's SQL and link: what an operator reads."""
    inner = exc.__cause__ or exc
    orig = inner.orig if isinstance(inner, DBAPIError) else inner
    return (str(orig).strip().splitlines() or [type(orig).__name__])[0][:200]
