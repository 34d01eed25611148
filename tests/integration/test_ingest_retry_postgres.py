"""Deadlocks between replicas on a real PostgreSQL: one retried, one that no longer happens.

A batch aborted by a real deadlock is run again, stored once, acked once:

Another replica's transaction (here a plain connection) holds one device's chain row
while the batch locks its chain rows in device order: the batch takes the first and
waits for the second; the other transaction then asks for the first. PostgreSQL finds
the cycle and aborts the batch (40P01: the batch waited first, so its deadlock check
runs first; the other transaction's check is put off to make sure). The other commits;
the batch, retried, stores every event once and acknowledges each device once.

The deadlock ``bench.ingest --replicas 2`` met (one event of the first device lost
early in a run): an event stored one by one (``record_event``) took its broadcast's
row (the "playing" note) before its device's chain row, while the other replica's
batch held that chain row and wanted the broadcast's. The note now waits for the end
of the batch; here the other replica's steps are played by hand in between.
"""

from __future__ import annotations

import logging
import threading
import time

import pytest
from sqlalchemy import Connection, func, select, text

from controller.db.models import PlaybackEvidence, RejectedMessageLog
from controller.messaging.store_retry import RetryPolicy
from controller.metrics.registry import PROCESS
from tests.unit.controller_support import Harness
from tests.unit.test_evidence_batch import START, WARDS, _acks, _message
from wardcast_protocol.envelope import seal_signed, signed_digest
from wardcast_protocol.messages import Kind
from wardcast_protocol.signing import SigningKey
from wardcast_protocol.subscriptions import ReceivedMessage


def _chains(h: Harness, keys: dict[str, SigningKey]) -> tuple[list[ReceivedMessage], ...]:
    """Each device's events 1 (stored first: its chain row exists) and 2, 3 (the batch)."""
    first: list[ReceivedMessage] = []
    batch: list[ReceivedMessage] = []
    for device_id, key in keys.items():
        prev = ""
        for seq in (1, 2, 3):
            event = h.event(device_id, f"ev-{seq}", seq, prev_hash=prev, item_id=f"it-{seq}")
            wire, signed = seal_signed(Kind.EVENT, event, device_id, key, START)
            prev = signed_digest(signed)
            (first if seq == 1 else batch).append(_message(device_id, wire))
    return first, batch


def _lock_chain(other: Connection, device_id: str) -> None:
    other.execute(
        text("SELECT 1 FROM device_chains WHERE device_id = :d FOR UPDATE"), {"d": device_id}
    )


def _until_one_waits(h: Harness) -> None:
    """Until a session of this database waits for a lock (the batch, on the second row)."""
    waiting = text(
        "SELECT count(*) FROM pg_stat_activity "
        "WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    deadline = time.monotonic() + 20
    with h.runtime.db.engine.connect() as connection:
        while time.monotonic() < deadline:
            if connection.scalar(waiting):
                return
            # pg_stat_activity is read once per transaction: a new one for a new look.
            connection.rollback()
            time.sleep(0.01)
    raise AssertionError("the batch never waited for the other transaction")


def test_a_batch_aborted_by_a_deadlock_is_retried_and_stored_once(
    batch_on_postgres: tuple[Harness, dict[str, SigningKey]], caplog: pytest.LogCaptureFixture
) -> None:
    h, keys = batch_on_postgres
    first, batch = _chains(h, keys)
    bridge = h.runtime.bridge
    bridge._store_batch(first)  # the chain rows exist: the batch only locks them
    pauses: list[float] = []

    def pause(seconds: float) -> None:
        pauses.append(seconds)
        time.sleep(seconds)

    bridge.store.retry = RetryPolicy(sleep=pause)
    labels = {"cause": "deadlock"}
    before = PROCESS.get_sample_value("wardcast_ingest_batch_retries_total", labels) or 0.0
    failed: list[BaseException] = []

    def store() -> None:
        try:
            bridge._store_batch(batch)
        except BaseException as exc:
            failed.append(exc)

    low, high = sorted(WARDS)  # the batch locks ``low`` then ``high``
    with h.runtime.db.engine.connect() as other:
        # The batch is to be the one PostgreSQL aborts: this side checks late.
        other.execute(text("SET deadlock_timeout = '20s'"))
        _lock_chain(other, high)
        thread = threading.Thread(target=store)
        with caplog.at_level(logging.WARNING, logger="controller.messaging.bridge"):
            thread.start()
            _until_one_waits(h)  # the batch holds ``low`` and waits for ``high``
            _lock_chain(other, low)  # the cycle: returns once the batch is aborted
            other.commit()
            thread.join(30)
    assert not thread.is_alive()
    assert not failed, failed
    after = PROCESS.get_sample_value("wardcast_ingest_batch_retries_total", labels) or 0.0
    assert after == before + 1
    assert len(pauses) == 1
    retried = [r.getMessage() for r in caplog.records if "retry 1 of 3" in r.getMessage()]
    assert len(retried) == 1 and "(deadlock: deadlock detected)" in retried[0]
    with h.runtime.db.session() as session:
        rows = session.execute(select(PlaybackEvidence.device_id, PlaybackEvidence.event_id))
        assert sorted(rows) == sorted((d, f"ev-{n}") for d in WARDS for n in (1, 2, 3))
        assert session.scalar(select(func.count()).select_from(RejectedMessageLog)) == 0
    assert bridge.stored_events == 6
    # One ack per device for the first event, one for the batch: nothing twice.
    assert _acks(h) == {d: [("ev-1", "|"), ("ev-2", "ev-3", "|")] for d in WARDS}


def test_an_event_stored_one_by_one_takes_its_broadcast_after_its_chain(
    batch_on_postgres: tuple[Harness, dict[str, SigningKey]],
) -> None:
    h, keys = batch_on_postgres
    first, _ = _chains(h, keys)
    device, event = min(WARDS), first[0]  # the first event of the first device
    bridge = h.runtime.bridge
    labels = {"cause": "deadlock"}
    before = PROCESS.get_sample_value("wardcast_ingest_batch_retries_total", labels) or 0.0
    failed: list[BaseException] = []

    def store() -> None:
        try:
            bridge._store_batch([event])  # a batch of one: stored by record_event
        except BaseException as exc:
            failed.append(exc)

    with h.runtime.db.engine.connect() as other:
        other.execute(text("SET deadlock_timeout = '20s'"))  # if any, the batch is aborted
        # The other replica's batch: it creates the device's chain row first ...
        other.execute(
            text(
                "INSERT INTO device_chains (device_id, contiguous_seq, contiguous_digest,"
                " highest_seq, updated_at) VALUES (:d, 0, '', 0, now())"
            ),
            {"d": device},
        )
        thread = threading.Thread(target=store)
        thread.start()
        _until_one_waits(h)  # the event waits for the chain row
        # ... and notes its broadcast "playing": the row must be free.
        other.execute(
            text(
                "UPDATE broadcasts SET status = 'playing'"
                " WHERE id = 'bc-1' AND status IN ('scheduled', 'sent')"
            )
        )
        other.commit()
        thread.join(30)
    assert not thread.is_alive()
    assert not failed, failed
    after = PROCESS.get_sample_value("wardcast_ingest_batch_retries_total", labels) or 0.0
    assert after == before  # no deadlock, so nothing to retry
    with h.runtime.db.session() as session:
        rows = session.execute(select(PlaybackEvidence.device_id, PlaybackEvidence.event_id))
        assert list(rows) == [(device, "ev-1")]
        assert session.scalar(select(func.count()).select_from(RejectedMessageLog)) == 0
    assert _acks(h) == {device: [("ev-1", "|")]}
