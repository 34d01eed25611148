"""Two replicas storing one device's events at once, on a real PostgreSQL.

Replicas sharing the ingest (docs/scale.md) may each hold a batch with events of the
same devices: the broker hands a device's back-to-back events to either. Here two
transactions store batches for the same two devices, the second started while the
first is still open, and the first committed only once the second waits for it:

- neither has the devices' chain rows yet (their first events): the second used to
  insert them too and fail its batch (then stored one by one, where it could deadlock
  with the other replica); now it waits, finds them, and stores its events after;
- the later events first: the first transaction opens a gap the second then closes.

Both batches store; the chains end whole, with no gap left open.
"""

from __future__ import annotations

import threading
import time

from sqlalchemy import func, select, text

from controller.db.models import DeviceChain, EvidenceGap, PlaybackEvidence
from controller.domain.evidence import batch as evidence_batch
from controller.domain.evidence.batch_store import Arrival
from controller.domain.evidence.service import Stored
from tests.unit.controller_support import Harness
from tests.unit.test_evidence_batch import START, WARDS
from wardcast_protocol.envelope import open_envelope, seal_signed, signed_digest
from wardcast_protocol.messages import Kind, PlaybackEvent
from wardcast_protocol.signing import SigningKey


def _chains(h: Harness, keys: dict[str, SigningKey]) -> list[list[Arrival]]:
    """Each device's events 1 and 2, chained and verified: [[1s], [2s]]."""
    rounds: list[list[Arrival]] = [[], []]
    for device_id, key in keys.items():
        prev = ""
        for seq in (1, 2):
            event = h.event(device_id, f"ev-{seq}", seq, prev_hash=prev, item_id=f"it-{seq}")
            wire, signed = seal_signed(Kind.EVENT, event, device_id, key, START)
            prev = signed_digest(signed)
            verified = open_envelope(wire, Kind.EVENT, lambda d: keys[d].public_key_b64, device_id)
            assert isinstance(verified.body, PlaybackEvent)
            rounds[seq - 1].append((verified, device_id))  # type: ignore[arg-type]
    return rounds


def _race(h: Harness, first: list[Arrival], second: list[Arrival]) -> list[Stored]:
    """Store ``first`` in a transaction held open until ``second``'s waits on it."""
    db = h.runtime.db
    results: list[Stored] = []
    failed: list[BaseException] = []

    def store_second() -> None:
        try:
            with db.session() as session:
                results.extend(evidence_batch.record_events(session, second, h.clock.now()))
        except BaseException as exc:
            failed.append(exc)

    with db.session() as session:
        results.extend(evidence_batch.record_events(session, first, h.clock.now()))
        thread = threading.Thread(target=store_second)
        thread.start()
        _until_one_waits(h)
    thread.join(30)
    assert not thread.is_alive()
    assert not failed, failed
    return results


def _until_one_waits(h: Harness) -> None:
    """Until a session of this database waits for a lock (the second transaction)."""
    waiting = text(
        "SELECT count(*) FROM pg_stat_activity "
        "WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        with h.runtime.db.engine.connect() as connection:
            if connection.scalar(waiting):
                return
        time.sleep(0.02)
    raise AssertionError("the second transaction never waited for the first")


def _assert_whole(h: Harness) -> None:
    with h.runtime.db.session() as session:
        assert session.scalar(select(func.count()).select_from(PlaybackEvidence)) == 4
        chains = session.execute(select(DeviceChain.device_id, DeviceChain.contiguous_seq))
        assert {d: n for d, n in chains} == dict.fromkeys(WARDS, 2)
        assert not session.scalars(
            select(EvidenceGap).where(EvidenceGap.resolved_at.is_(None))
        ).all()


def test_two_replicas_creating_a_devices_first_chain_row_both_store(
    batch_on_postgres: tuple[Harness, dict[str, SigningKey]],
) -> None:
    h, keys = batch_on_postgres
    ones, twos = _chains(h, keys)
    assert _race(h, ones, twos) == [Stored.NEW] * 4
    _assert_whole(h)


def test_a_devices_later_event_first_opens_a_gap_the_other_replica_closes(
    batch_on_postgres: tuple[Harness, dict[str, SigningKey]],
) -> None:
    h, keys = batch_on_postgres
    ones, twos = _chains(h, keys)
    assert _race(h, twos, ones) == [Stored.NEW] * 4
    with h.runtime.db.session() as session:
        gaps = session.execute(select(EvidenceGap.device_id, EvidenceGap.from_seq))
        assert sorted((d, n) for d, n in gaps) == [(d, 1) for d in sorted(WARDS)]
    _assert_whole(h)
