"""An ingest batch is run again after a transient database error, never after a data error.

The policy alone (which errors, how many runs, the pauses, the log and the metric) on
fakes; then the batch store on the SQLite harness with its evidence path made to fail:
a deadlock once is retried and stores every event once with one ack; a deadlock every
time ends in the one-by-one fallback, as before retries; a forked event (a bad event)
is not retried and is refused alone, its batch-mates stored.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg.errors
import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import DataError, IntegrityError, OperationalError

from controller.db.models import DeviceChain, PlaybackEvidence, RejectedMessageLog
from controller.domain.errors import DomainError
from controller.domain.evidence import batch as evidence_batch
from controller.messaging.batch import BatchFailed
from controller.messaging.ingest_worker import _FORWARDED
from controller.messaging.store_retry import RetryPolicy, transient_cause
from controller.metrics import registry as metrics
from controller.metrics.registry import PROCESS
from tests.unit.controller_support import Harness, make_harness
from tests.unit.test_evidence_batch import START, WARDS, _acks, _fork, _message, _setup
from wardcast_protocol.envelope import seal_signed, signed_digest
from wardcast_protocol.messages import Kind
from wardcast_protocol.signing import SigningKey
from wardcast_protocol.subscriptions import ReceivedMessage


def _db_error(
    kind: type[OperationalError] | type[IntegrityError] | type[DataError], orig: Any
) -> Any:
    return kind("INSERT ...", {}, orig)


DEADLOCK = _db_error(OperationalError, psycopg.errors.DeadlockDetected("deadlock detected"))


@pytest.mark.parametrize(
    ("error", "cause"),
    [
        (DEADLOCK, "deadlock"),
        (_db_error(OperationalError, psycopg.errors.SerializationFailure("x")), "serialization"),
        (_db_error(OperationalError, psycopg.errors.ConnectionFailure("x")), "connection"),
        (_db_error(OperationalError, psycopg.errors.AdminShutdown("x")), "connection"),
        (_db_error(OperationalError, psycopg.OperationalError("server closed")), "connection"),
        (_db_error(OperationalError, sqlite3.OperationalError("database is locked")), "locked"),
        (_db_error(IntegrityError, psycopg.errors.UniqueViolation("dup")), None),
        (_db_error(DataError, psycopg.errors.NumericValueOutOfRange("x")), None),
        (_db_error(OperationalError, sqlite3.OperationalError("no such table: x")), None),
        (DomainError("a fork"), None),
        (ValueError("a bug"), None),
    ],
)
def test_which_errors_are_transient(error: BaseException, cause: str | None) -> None:
    assert transient_cause(error) == cause
    wrapped = BatchFailed()
    wrapped.__cause__ = error  # what the batch path raises: BatchFailed from the error
    assert transient_cause(wrapped) == cause


def test_a_connection_sqlalchemy_found_invalidated_is_transient() -> None:
    error = OperationalError("SELECT 1", {}, ValueError("?"), connection_invalidated=True)
    assert transient_cause(error) == "connection"


def _retries(cause: str) -> float:
    labels = {"cause": cause}
    return PROCESS.get_sample_value("wardcast_ingest_batch_retries_total", labels) or 0.0


class Flaky:
    """Fails with ``errors`` in turn, then returns "stored"; records each run's ``final``."""

    def __init__(self, *errors: BaseException) -> None:
        self.errors = list(errors)
        self.finals: list[bool] = []

    def __call__(self, final: bool) -> str:
        self.finals.append(final)
        if self.errors:
            raise self.errors.pop(0)
        return "stored"


def _policy(pauses: list[float]) -> RetryPolicy:
    return RetryPolicy(attempts=4, base_s=0.02, cap_s=0.05, sleep=pauses.append, jitter=lambda: 1.0)


def test_a_transient_error_is_retried_with_growing_pauses_then_stored(
    caplog: pytest.LogCaptureFixture,
) -> None:
    pauses: list[float] = []
    attempt = Flaky(DEADLOCK, DEADLOCK)
    before = _retries("deadlock")
    with caplog.at_level(logging.WARNING, logger="controller.messaging.bridge"):
        assert _policy(pauses).run(attempt, "storing a batch of 3 messages") == "stored"
    assert attempt.finals == [False, False, False]
    assert pauses == pytest.approx([0.02, 0.04])
    assert _retries("deadlock") == before + 2
    said = [r.getMessage() for r in caplog.records]
    assert said[0] == (
        "storing a batch of 3 messages failed (deadlock: deadlock detected); retry 1 of 3 in 20 ms"
    )
    assert len(said) == 2


def test_retries_are_bounded_and_the_last_run_is_told_it_is_the_last() -> None:
    pauses: list[float] = []
    attempt = Flaky(*[DEADLOCK] * 5)
    with pytest.raises(OperationalError):
        _policy(pauses).run(attempt, "a batch")
    assert attempt.finals == [False, False, False, True]
    assert pauses == pytest.approx([0.02, 0.04, 0.05])  # capped


def test_a_data_error_is_not_retried() -> None:
    pauses: list[float] = []
    attempt = Flaky(_db_error(IntegrityError, psycopg.errors.UniqueViolation("dup")))
    with pytest.raises(IntegrityError):
        _policy(pauses).run(attempt, "a batch")
    assert attempt.finals == [False]
    assert pauses == []


def test_the_pause_is_half_fixed_half_random() -> None:
    low = RetryPolicy(base_s=0.1, jitter=lambda: 0.0)
    assert [low.delay(n) for n in (1, 2, 3)] == pytest.approx([0.05, 0.1, 0.2])
    assert RetryPolicy(base_s=0.1, cap_s=0.3, jitter=lambda: 0.999).delay(5) < 0.3


# The batch store on the SQLite harness, its evidence batch path made to fail.


@pytest.fixture
def h(tmp_path: Path) -> Iterator[tuple[Harness, dict[str, SigningKey]]]:
    keys = {d: SigningKey.generate() for d in WARDS}
    harness = make_harness(tmp_path, START)
    _setup(harness, keys)
    pauses: list[float] = []
    harness.runtime.bridge.store.retry = RetryPolicy(sleep=pauses.append)  # no real pause
    yield harness, keys
    harness.runtime.stop()


def _events(h: Harness, keys: dict[str, SigningKey], count: int) -> list[ReceivedMessage]:
    out = []
    for device_id, key in keys.items():
        prev = ""
        for seq in range(1, count + 1):
            event = h.event(device_id, f"ev-{seq}", seq, prev_hash=prev, item_id=f"it-{seq}")
            wire, signed = seal_signed(Kind.EVENT, event, device_id, key, START)
            prev = signed_digest(signed)
            out.append(_message(device_id, wire))
    return out


def _failing(monkeypatch: pytest.MonkeyPatch, times: int) -> list[int]:
    """The evidence batch path raises a deadlock its first ``times`` calls."""
    real, calls = evidence_batch.record_events, [0]

    def record_events(*args: Any, **kwargs: Any) -> Any:
        calls[0] += 1
        if calls[0] <= times:
            raise DEADLOCK
        return real(*args, **kwargs)

    monkeypatch.setattr(evidence_batch, "record_events", record_events)
    return calls


def _stored(h: Harness) -> int:
    with h.runtime.db.session() as session:
        return session.scalar(select(func.count()).select_from(PlaybackEvidence)) or 0


def test_a_batch_that_deadlocked_once_is_stored_whole_and_acked_once(
    h: tuple[Harness, dict[str, SigningKey]], monkeypatch: pytest.MonkeyPatch
) -> None:
    harness, keys = h
    calls = _failing(monkeypatch, times=1)
    before = _retries("deadlock")
    harness.runtime.bridge._store_batch(_events(harness, keys, 3))
    assert calls == [2]  # the batch path again, not one by one
    assert _retries("deadlock") == before + 1
    assert _stored(harness) == 6
    assert harness.runtime.bridge.stored_events == 6
    every = ("ev-1", "ev-2", "ev-3", "|")
    assert _acks(harness) == {"to-1": [every], "to-2": [every]}


def test_a_batch_that_always_deadlocks_ends_one_by_one_as_before(
    h: tuple[Harness, dict[str, SigningKey]], monkeypatch: pytest.MonkeyPatch
) -> None:
    harness, keys = h
    calls = _failing(monkeypatch, times=99)
    harness.runtime.bridge._store_batch(_events(harness, keys, 2))
    assert calls == [4]  # every run tried the batch path
    assert _stored(harness) == 4  # the last run: one by one (record_event)
    assert harness.runtime.bridge.stored_events == 4


def test_a_bad_event_is_not_retried_and_refused_alone(
    h: tuple[Harness, dict[str, SigningKey]], monkeypatch: pytest.MonkeyPatch
) -> None:
    harness, keys = h
    calls = _failing(monkeypatch, times=0)  # counted, never failing
    before = _retries("deadlock") + _retries("connection")
    messages = _events(harness, keys, 3)
    harness.runtime.bridge._store_batch([*messages, _fork(harness, keys)])
    assert calls == [1]  # the batch path once, then one by one: no second run
    assert _retries("deadlock") + _retries("connection") == before
    assert _stored(harness) == 6  # the fork refused, its batch-mates stored
    every = ("ev-1", "ev-2", "ev-3", "|")
    assert _acks(harness) == {"to-1": [every], "to-2": [every]}  # the fork: not acked
    with harness.runtime.db.session() as session:
        refused = session.execute(select(RejectedMessageLog.reason, RejectedMessageLog.detail))
        assert [(r, "ev-fork would fork" in d) for r, d in refused] == [("refused", True)]


def test_the_one_by_one_pass_creates_chain_rows_first_and_drops_those_unmoved(
    h: tuple[Harness, dict[str, SigningKey]],
) -> None:
    """A failed batch's second pass creates and locks its chain rows before any event
    (as the batch path does: replicas then lock them in one order); the row of a device
    whose only event was refused is dropped again, as record_event would not create it."""
    harness, keys = h
    good = _events(harness, {"to-1": keys["to-1"]}, 1)[0]
    # to-2 signs an event naming to-1: refused (InvalidInput), so the batch fails whole.
    event = harness.event("to-1", "ev-x", 1, item_id="it-1")
    bad = _message("to-2", seal_signed(Kind.EVENT, event, "to-2", keys["to-2"], START)[0])
    harness.runtime.bridge._store_batch([good, bad])
    with harness.runtime.db.session() as session:
        chains = session.execute(select(DeviceChain.device_id, DeviceChain.highest_seq))
        assert sorted(chains) == [("to-1", 1)]
        refused = session.scalars(select(RejectedMessageLog.device_id))
        assert list(refused) == ["to-2"]
    assert _acks(harness) == {"to-1": [("ev-1", "|")]}


def test_a_retry_in_an_ingest_worker_is_counted_in_the_controller(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A worker process swaps the forwarded metrics for its reporter's stand-ins; the
    retry count is one of them, looked up at each retry, so it reaches the parent."""
    assert "ingest_retried" in _FORWARDED
    calls: list[str] = []
    monkeypatch.setattr(metrics, "ingest_retried", calls.append)  # as ingest_worker.run does
    _policy([]).run(Flaky(DEADLOCK), "a batch")
    assert calls == ["deadlock"]
